"""`layernorm`, `groupnorm`, `permute` and an `fc` over channels-last data: each figure
(output shape, params, MACs) and each output against plain torch written by hand, and
torchinfo's counts (which miss an fc's positions on channels-last data)."""

from __future__ import annotations

import math

import pytest
import torch
import torchinfo

import cnnspec

#: ConvNeXt's motifs, in a chain: LayerNorm2d, a channels-last stretch, a group norm
CHAIN = """\
name: Modern
input: {maps: 3, size: 16x16}
layers:
  - {type: conv, maps: 8, kernel: 4, stride: 4}
  - {type: layernorm, eps: 0.000001}
  - {type: permute, dims: [0, 2, 3, 1]}
  - {type: layernorm}
  - {type: fc, size: 16}
  - {type: gelu}
  - {type: fc, size: 12, bias: false}
  - {type: permute, dims: [0, 3, 1, 2]}
  - {type: groupnorm, groups: 4}
  - {type: fc, size: 5}
"""


def _by_hand(model: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
    f = model.features
    y = f[0](x)  # the conv
    mean = y.mean(1, keepdim=True)
    var = y.var(1, unbiased=False, keepdim=True)
    y = (y - mean) / torch.sqrt(var + 1e-6) * f[1].weight.view(1, -1, 1, 1) + f[1].bias.view(
        1, -1, 1, 1
    )
    y = y.permute(0, 2, 3, 1)
    mean, var = y.mean(-1, keepdim=True), y.var(-1, unbiased=False, keepdim=True)
    y = (y - mean) / torch.sqrt(var + 1e-5) * f[3].weight + f[3].bias
    y = torch.einsum("nhwc,oc->nhwo", y, f[4].weight) + f[4].bias
    y = torch.nn.functional.gelu(y)
    y = torch.einsum("nhwc,oc->nhwo", y, f[6].weight)
    y = y.permute(0, 3, 1, 2)
    g = y.reshape(y.shape[0], 4, -1)
    g = (g - g.mean(-1, keepdim=True)) / torch.sqrt(g.var(-1, unbiased=False, keepdim=True) + 1e-5)
    y = g.reshape(y.shape) * f[8].weight.view(1, -1, 1, 1) + f[8].bias.view(1, -1, 1, 1)
    return model.classifier(torch.flatten(y, 1))


def test_the_outputs_are_the_operations_by_hand():
    net = cnnspec.loads(CHAIN)
    torch.manual_seed(0)
    model = cnnspec.build(net).eval()
    for p in model.parameters():  # not torch's initial ones and zeros
        torch.nn.init.normal_(p)
    x = torch.randn(2, 3, 16, 16)
    with torch.no_grad():
        torch.testing.assert_close(model(x), _by_hand(model, x), rtol=1e-4, atol=1e-4)


def test_shapes_params_and_macs():
    net = cnnspec.loads(CHAIN)
    rows = [(n.kind, n.output_shape, n.params, n.macs) for n in net.layers]
    assert rows == [
        ("conv", (8, 4, 4), 392, 392 * 16),
        ("layernorm", (8, 4, 4), 16, 16),
        ("permute", (4, 4, 8), 0, 0),
        ("layernorm", (4, 4, 8), 16, 16),
        ("fc", (4, 4, 16), 144, 144 * 16),  # at each of the 4×4 positions
        ("gelu", (4, 4, 16), 0, 0),
        ("fc", (4, 4, 12), 192, 192 * 16),
        ("permute", (12, 4, 4), 0, 0),
        ("groupnorm", (12, 4, 4), 24, 24),
        ("fc", (5,), 965, 965),
    ]
    model = cnnspec.build(net)
    assert [type(m).__name__ for m in model.features] == [
        "Conv2d",
        "LayerNorm2d",
        "Permute",
        "LayerNorm",
        "Linear",
        "GELU",
        "Linear",
        "Permute",
        "GroupNorm",
    ]
    assert list(model.state_dict())[2:4] == ["features.1.weight", "features.1.bias"]
    assert sum(p.numel() for p in model.parameters()) == net.params
    stats = torchinfo.summary(model, input_size=(1, *net.input_shape), verbose=0)
    missed = sum(
        n.params * (math.prod(n.input_shape[:-1]) - 1)
        for n in net.layers
        if n.kind == "fc" and len(n.input_shape) == 3
    )
    assert missed == (144 + 192) * 15
    assert (stats.total_params, stats.total_mult_adds) == (net.params, net.macs - missed)


def test_the_generated_module_needs_torch_alone():
    source = cnnspec.torch_source(cnnspec.loads(CHAIN))
    assert "torchvision" not in source
    assert "class Permute(nn.Module):" in source and "class LayerNorm2d(nn.LayerNorm):" in source
    assert "Permute([0, 2, 3, 1]),  # -> 4×4×8" in source
    assert "LayerNorm2d(8, eps=1e-06)," in source and "nn.GroupNorm(4, 12)," in source


BAD = "name: Bad\ninput: {maps: 3, size: 8x8}\nlayers:\n  - {type: conv, maps: 8, kernel: 1}\n"
TO_LAST = "  - {type: permute, dims: [0, 2, 3, 1]}\n"


@pytest.mark.parametrize(
    ("rows", "code"),
    [
        (TO_LAST + "  - {type: maxpool, kernel: 2}\n", "channels-last"),
        (TO_LAST + "  - {type: groupnorm, groups: 2}\n", "channels-last"),
        (TO_LAST + TO_LAST, "channels-last"),
        ("  - {type: groupnorm, groups: 3}\n", "norm-groups"),
        ("  - {type: layernorm, maps: 4}\n", "maps-mismatch"),
        ("  - {type: flatten}\n" + TO_LAST, "spatial-after-flatten"),
    ],
)
def test_located_errors(rows, code):
    """Each on the last row (line 4 is the conv)."""
    with pytest.raises(cnnspec.SpecError) as info:
        cnnspec.loads(BAD + rows)
    assert [(d.code, d.pos.line) for d in info.value.errors] == [(code, 4 + rows.count("\n"))]
