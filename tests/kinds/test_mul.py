"""`mul`: the element-wise product of two or more inputs, broadcast as torch broadcasts
(one rank, each dimension equal or 1) — squeeze-and-excitation's C×1×1 gate times its
C×H×W map. Its figures (shape, params, MACs) and its generated code, against plain torch
built by hand and torchinfo."""

from __future__ import annotations

import pytest
import torch
import torchinfo
from torch import nn

import cnnspec
from cnnspec.backends.diagram import render_dot
from cnnspec.diagnostics import SpecError
from cnnspec.kinds.merge import broadcast

SE = """\
name: SENet
input: {maps: 3, size: 12x12}
blocks:
  SqueezeExcitation:
    params:
      squeeze: {type: int}
    layers:
      - {name: avgpool, type: adaptive_avgpool, size: 1}
      - {name: fc1, type: conv, maps: $squeeze, kernel: 1}
      - {name: activation, type: relu}
      - {name: fc2, type: conv, maps: in_maps, kernel: 1}
      - {name: scale_activation, type: hardsigmoid}
      - {name: scale, type: mul, from: [scale_activation, input], maps: in_maps}
  SpatialGate:
    layers:
      - {name: gate, type: conv, maps: 1, kernel: 3, padding: 1, activation: sigmoid}
      - {name: scale, type: mul, from: [gate, input]}
      - {name: conv, type: conv, maps: 2 * in_maps, kernel: 1}
layers:
  - {name: stem, type: conv, maps: 16, kernel: 3, padding: 1}
  - {name: se, type: SqueezeExcitation, squeeze: 4}
  - {name: spatial, type: SpatialGate}
  - {name: pool, type: adaptive_avgpool, size: 1}
  - {name: head, type: fc, size: 10}
"""


class HandSE(nn.Module):
    """The same network, written by hand."""

    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Conv2d(3, 16, 3, padding=1)
        self.fc1 = nn.Conv2d(16, 4, 1)
        self.fc2 = nn.Conv2d(4, 16, 1)
        self.gate = nn.Conv2d(16, 1, 3, padding=1)
        self.conv = nn.Conv2d(16, 32, 1)
        self.head = nn.Linear(32, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(x)
        s = nn.functional.adaptive_avg_pool2d(x, 1)
        s = nn.functional.hardsigmoid(self.fc2(torch.relu(self.fc1(s))))
        x = s * x
        x = torch.sigmoid(self.gate(x)) * x
        x = self.conv(x)
        return self.head(torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1))


def test_broadcast_is_torchs_for_one_rank():
    for shapes in ([(16, 1, 1), (16, 7, 7)], [(1, 7, 7), (16, 1, 1)], [(8,), (8,)], [(1, 5, 1)]):
        want = torch.broadcast_shapes(*shapes)
        assert broadcast(shapes) == tuple(want)
    assert broadcast([(4, 1, 1), (16, 7, 7)]) is None
    assert broadcast([(16, 7, 7), (16, 7, 6)]) is None
    assert broadcast([(16,), (16, 1, 1)]) is None  # torch would broadcast; the format refuses


def test_the_products_shape_params_and_macs():
    net = cnnspec.loads(SE)
    scale, spatial = (n for n in net.nodes if n.kind == "mul")
    assert scale.input_shapes == ((16, 1, 1), (16, 12, 12))
    assert scale.output_shape == spatial.output_shape == (16, 12, 12)
    assert spatial.input_shapes == ((1, 12, 12), (16, 12, 12))
    assert scale.params == scale.macs == spatial.params == spatial.macs == 0
    hand = HandSE()
    assert net.params == sum(p.numel() for p in hand.parameters())
    model = cnnspec.build(net).eval()
    stats = torchinfo.summary(model, input_size=(1, 3, 12, 12), verbose=0)
    # torchinfo counts modules only: the module-less product counts 0, as cnnspec counts it
    assert stats.total_mult_adds == net.macs
    assert (
        stats.total_mult_adds == torchinfo.summary(hand, (1, 3, 12, 12), verbose=0).total_mult_adds
    )


def test_the_generated_module_multiplies_as_the_hand_written_one():
    net = cnnspec.loads(SE)
    source = cnnspec.torch_source(net)
    assert "out = out * x" in source  # the gate times the block's input
    model = cnnspec.build(net).eval()
    hand = HandSE().eval()
    mine = dict(model.named_parameters())
    names = {"stem": "stem", "fc1": "se.fc1", "fc2": "se.fc2", "gate": "spatial.gate"}
    names |= {"conv": "spatial.conv", "head": "head"}
    with torch.no_grad():
        for theirs, ours in names.items():
            for p in ("weight", "bias"):
                mine[f"{ours}.{p}"].copy_(getattr(getattr(hand, theirs), p))
        x = torch.randn(2, 3, 12, 12)
        assert torch.allclose(model(x), hand(x), atol=1e-5)


def test_a_block_class_takes_the_maps_of_the_wider_input():
    """The spatial gate has 1 map and the block's input in_maps: the product has in_maps,
    which the class's next conv reads — built here for other maps than the spec's."""
    source = cnnspec.torch_source(cnnspec.loads(SE))
    assert "nn.Conv2d(in_maps, 2 * in_maps, kernel_size=1)" in source
    namespace: dict = {}
    exec(compile(source, "<generated>", "exec"), namespace)
    block = namespace["SpatialGate"](5)
    with torch.no_grad():
        assert tuple(block(torch.randn(1, 5, 6, 6)).shape) == (1, 10, 6, 6)


def test_the_diagram_draws_a_times_circle():
    dot = render_dot(cnnspec.loads(SE))
    assert 'label="×"' in dot and "shape=circle" in dot


def _diagnostics(text: str) -> list[tuple[str, str]]:
    with pytest.raises(SpecError) as info:
        cnnspec.loads(text, source="t.yaml")
    return [(d.code, d.message) for d in info.value.diagnostics]


def test_shapes_that_do_not_broadcast_are_refused_with_both_shapes():
    bad = SE.replace("{name: fc2, type: conv, maps: in_maps", "{name: fc2, type: conv, maps: 4")
    bad = bad.replace(", maps: in_maps}", "}")
    (error,) = _diagnostics(bad)
    assert error == (
        "mul-shape",
        "mul needs inputs that broadcast (of one rank, each dimension equal or 1): "
        "'scale_activation' is 4×1×1, 'input' is 16×12×12",
    )


def test_a_mul_of_one_input_is_refused():
    bad = SE.replace("from: [gate, input]", "from: [gate]")
    assert [code for code, _ in _diagnostics(bad)] == ["merge-inputs"]
