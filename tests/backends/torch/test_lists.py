"""Lists of parallel children (`type: list`) and `from:` into a container (`body.layer2`).

Each generated module is compared with a plain-torch module written here by hand (an
nn.ModuleList of Conv2d, an nn.Sequential read up to a row as IntermediateLayerGetter
reads it): the same state_dict keys and shapes in order, the same outputs with the same
weights, and cnnspec's shapes, params and MACs against torchinfo's. specs/aspp.yaml is
compared with torchvision's DeepLabV3 ASPP head as tests/reference/aspp_torchvision.json
records it (tools/dump_aspp_reference.py).
"""

from __future__ import annotations

import json
from collections import OrderedDict
from pathlib import Path

import pytest
import torch
import torchinfo
from fingerprint import compare, fingerprint
from torch import nn

import cnnspec

ROOT = Path(__file__).resolve().parents[3]

PYRAMID = """
name: Pyramid
input: {maps: 3, size: 32x32}
layers:
  - name: body
    type: sequential
    children: named
    layers:
      - {name: conv1, type: conv, maps: 8, kernel: 3, stride: 2, padding: 1}
      - {name: relu, type: relu}
      - {name: layer1, type: conv, maps: 16, kernel: 3, stride: 2, padding: 1}
      - {name: layer2, type: conv, maps: 32, kernel: 3, padding: 1}
      - {name: layer3, type: conv, maps: 32, kernel: 3, padding: 1}
  - name: inner_blocks
    type: list
    layers:
      - {type: conv, maps: 8, kernel: 1, from: body.layer1}
      - {type: conv, maps: 8, kernel: 1, from: body.layer2}
      - {type: conv, maps: 8, kernel: 1, from: body}
  - {name: sum, type: add, from: [inner_blocks.0, inner_blocks.1, inner_blocks.2]}
  - name: convs
    type: list
    layers:
      - {type: conv, maps: 4, kernel: 1}
      - type: sequential
        layers:
          - {type: conv, maps: 4, kernel: 3, padding: 2, dilation: 2, bias: false}
          - {type: batchnorm}
          - {type: relu}
  - {name: cat, type: concat, from: [convs.0, convs.1]}
"""


class HandPyramid(nn.Module):
    """PYRAMID in plain torch: a body read at two rows and at its end, two ModuleLists."""

    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Sequential(
            OrderedDict(
                conv1=nn.Conv2d(3, 8, 3, stride=2, padding=1),
                relu=nn.ReLU(),
                layer1=nn.Conv2d(8, 16, 3, stride=2, padding=1),
                layer2=nn.Conv2d(16, 32, 3, padding=1),
                layer3=nn.Conv2d(32, 32, 3, padding=1),
            )
        )
        self.inner_blocks = nn.ModuleList(nn.Conv2d(c, 8, 1) for c in (16, 32, 32))
        branch = nn.Sequential(nn.Conv2d(8, 4, 3, padding=2, dilation=2, bias=False))
        branch.append(nn.BatchNorm2d(4)).append(nn.ReLU())
        self.convs = nn.ModuleList([nn.Conv2d(8, 4, 1), branch])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        levels = []
        for name, module in self.body.named_children():
            x = module(x)
            if name in ("layer1", "layer2", "layer3"):
                levels.append(x)
        total = sum(m(v) for m, v in zip(self.inner_blocks, levels))
        return torch.cat([m(total) for m in self.convs], 1)


def _same_weights(model: nn.Module, hand: nn.Module) -> None:
    torch.manual_seed(0)
    for v in hand.state_dict().values():
        if v.is_floating_point():
            v.copy_(torch.rand_like(v) + 0.5)
    model.load_state_dict(hand.state_dict(), strict=True)


def test_keys_and_outputs_equal_a_hand_written_module():
    net = cnnspec.loads(PYRAMID)
    model, hand = cnnspec.build(net).eval(), HandPyramid().eval()
    got = [(k, tuple(v.shape)) for k, v in model.state_dict().items()]
    want = [(k, tuple(v.shape)) for k, v in hand.state_dict().items()]
    assert got == want
    assert "inner_blocks.2.weight" in dict(got) and "convs.1.1.running_var" in dict(got)
    _same_weights(model, hand)
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        y, expected = model(x), hand(x)
    assert y.shape == (2, *net.output_shape) == (2, 8, 8, 8)
    torch.testing.assert_close(y, expected)


def test_shapes_params_and_macs_equal_torchinfos():
    net = cnnspec.loads(PYRAMID)
    stats = torchinfo.summary(cnnspec.build(net).eval(), input_size=(1, 3, 32, 32), verbose=0)
    assert stats.total_params == net.params == sum(p.numel() for p in HandPyramid().parameters())
    assert stats.total_mult_adds == net.macs
    nodes = {n.path: n for n in net.layers}
    assert nodes["inner_blocks.0"].output_shape == (8, 8, 8)
    assert nodes["convs.1.0"].output_shape == (4, 8, 8)


def test_forward_reads_the_body_in_parts_and_the_lists_member_by_member():
    source = cnnspec.torch_source(cnnspec.loads(PYRAMID))
    assert "        body_layer1 = self.body[:3](x)  # -> 16×8×8\n" in source
    assert "        body_layer2 = self.body.layer2(body_layer1)  # -> 32×8×8\n" in source
    assert "self.body.layer3(body_layer2)" in source
    assert "        inner_blocks_0 = self.inner_blocks[0](body_layer1)  # -> 8×8×8\n" in source
    assert "self.inner_blocks = nn.ModuleList(\n" in source
    assert "self.convs[1](" in source


def test_aspp_is_torchvisions_head_key_for_key():
    recorded = json.loads((ROOT / "tests/reference/aspp_torchvision.json").read_text())
    net = cnnspec.load(ROOT / "specs" / "aspp.yaml")
    assert list(net.input_shape) == recorded["input_shape"]
    assert net.params == recorded["params"] == 15_535_104
    assert net.macs == recorded["total_mult_adds"]
    model = cnnspec.build(net)
    keys = [[k, list(v.shape)] for k, v in model.state_dict().items()]
    assert keys == recorded["state_dict"] and len(keys) == 36
    problem = compare(fingerprint(model, (1, *net.input_shape)), recorded["fingerprint"])
    assert problem is None, problem


def test_aspp_runs_at_other_input_sizes():
    model = cnnspec.build(cnnspec.load(ROOT / "specs" / "aspp.yaml")).eval()
    with torch.no_grad():
        assert model(torch.randn(1, 2048, 33, 17)).shape == (1, 256, 33, 17)


@pytest.mark.parametrize(
    ("tail", "code"),
    [
        ("  - {type: conv, maps: 4, kernel: 1}\n", "list-read"),
        ("  - {type: conv, maps: 4, kernel: 1, from: convs}\n", "list-read"),
        ("  - {type: conv, maps: 4, kernel: 1, from: convs.2}\n", "from-into"),
        ("  - {type: conv, maps: 4, kernel: 1, from: body.nothing}\n", "from-into"),
        ("  - {type: conv, maps: 4, kernel: 1, from: sum.x}\n", "from-into"),
        (
            "  - {type: conv, maps: 4, kernel: 1, from: later.x}\n  - {name: later, type: relu}\n",
            "used-before-defined",
        ),
    ],
)
def test_diagnostics_point_at_the_from(tail, code):
    text = PYRAMID.split("  - {name: cat,")[0] + tail  # the tail in place of the concat
    with pytest.raises(cnnspec.SpecError) as err:
        cnnspec.loads(text)
    errors = [d for d in err.value.diagnostics if d.severity == "error"]
    assert [d.code for d in errors] == [code], err.value
    assert errors[0].pos.line == text[: -len(tail)].count("\n") + 1  # the first row
