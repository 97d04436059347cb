"""`scale`: a learned per-channel scale (ConvNeXt's layer scale), an nn.Parameter of
maps×1×1 on the module holding the row, not a module of its own."""

from __future__ import annotations

import pytest
import torch
import torchinfo

import cnnspec

SPEC = """\
name: Scaled
input: {maps: 3, size: 8x8}
blocks:
  Res:
    params: {ls: {type: float, default: 0.000001}}
    layers:
      - {name: conv, type: conv, maps: in_maps, kernel: 3, padding: 1}
      - {name: layer_scale, type: scale, init: $ls}
      - {name: add, type: add, from: [layer_scale, input]}
layers:
  - {name: stem, type: conv, maps: 4, kernel: 1}
  - {name: b1, type: Res}
  - {name: b2, type: Res, ls: 0.5}
  - {name: gamma, type: scale}
"""


def test_the_parameter_its_key_and_its_counts():
    net = cnnspec.loads(SPEC)
    model = cnnspec.build(net)
    assert list(model.state_dict()) == [
        "gamma",
        "stem.weight",
        "stem.bias",
        "b1.layer_scale",
        "b1.conv.weight",
        "b1.conv.bias",
        "b2.layer_scale",
        "b2.conv.weight",
        "b2.conv.bias",
    ]
    assert tuple(model.b1.layer_scale.shape) == (4, 1, 1)
    assert torch.all(model.b1.layer_scale == 1e-6) and torch.all(model.b2.layer_scale == 0.5)
    assert torch.all(model.gamma == 1.0)
    scales = [n for n in net.nodes if n.kind == "scale"]
    assert [(n.state, n.path, n.params, n.macs) for n in scales] == [
        ("b1.layer_scale", None, 4, 4),
        ("b2.layer_scale", None, 4, 4),
        ("gamma", None, 4, 4),
    ]
    assert net.params == sum(p.numel() for p in model.parameters()) == 324
    stats = torchinfo.summary(model, input_size=(1, 3, 8, 8), verbose=0)
    assert stats.total_params == net.params
    assert stats.total_mult_adds == net.macs - 12  # torchinfo counts no MAC for a scale


def test_forward_multiplies_by_it():
    model = cnnspec.build(cnnspec.loads(SPEC)).eval()
    for p in model.parameters():
        torch.nn.init.normal_(p)
    x = torch.randn(2, 3, 8, 8)
    with torch.no_grad():
        y = model.stem(x)
        for b in (model.b1, model.b2):
            y = b.layer_scale * b.conv(y) + y
        torch.testing.assert_close(model(x), model.gamma * y)


@pytest.mark.parametrize(
    "layers",
    [
        "  - {type: conv, maps: 4, kernel: 1}\n  - {type: scale}\n",  # a chain
        "  - name: seq\n    type: sequential\n    layers:\n"
        "      - {type: conv, maps: 4, kernel: 1}\n      - {type: scale}\n",
    ],
)
def test_it_needs_a_module_with_named_rows(layers):
    text = f"name: Bad\ninput: {{maps: 3, size: 8x8}}\nlayers:\n{layers}"
    with pytest.raises(cnnspec.SpecError) as info:
        cnnspec.loads(text)
    [d] = info.value.errors
    assert d.code == "parameter-position" and d.pos.line == text.count("\n")
