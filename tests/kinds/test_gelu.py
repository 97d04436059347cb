"""`gelu` rows (nn.GELU, exact or tanh-approximated) and the `activation: gelu` shorthand."""

from __future__ import annotations

import pytest
import torch

import cnnspec

SPEC = """\
name: Gelu
input: {maps: 3, size: 8x8}
layers:
  - {type: conv, maps: 4, kernel: 3, padding: 1, activation: gelu}
  - {type: gelu, approximate: tanh}
  - {type: gelu}
  - {type: fc, size: 5, activation: GELU}
"""


def test_approximate_reaches_the_module_and_the_source():
    net = cnnspec.loads(SPEC)
    source = cnnspec.torch_source(net)
    assert source.count("nn.GELU()") == 3 and source.count('nn.GELU(approximate="tanh")') == 1
    model = cnnspec.build(net)
    modes = [m.approximate for m in model.modules() if isinstance(m, torch.nn.GELU)]
    assert modes == ["none", "tanh", "none", "none"]
    assert [n.params for n in net.nodes if n.kind == "gelu"] == [0, 0, 0, 0]
    assert [n.macs for n in net.nodes if n.kind == "gelu"] == [0, 0, 0, 0]


def test_the_module_is_the_gaussian_error_linear_unit():
    """By hand: x·Φ(x) with Φ the normal CDF, and the tanh formula."""
    net = cnnspec.loads(SPEC.replace("  - {type: fc, size: 5, activation: GELU}\n", ""))
    model = cnnspec.build(net).eval()
    torch.manual_seed(0)
    x = torch.randn(2, 3, 8, 8)
    with torch.no_grad():
        conv = model.features[0](x)
        exact = conv * 0.5 * (1 + torch.erf(conv / 2**0.5))
        t = exact
        tanh = 0.5 * t * (1 + torch.tanh((2 / torch.pi) ** 0.5 * (t + 0.044715 * t**3)))
        want = tanh * 0.5 * (1 + torch.erf(tanh / 2**0.5))
        torch.testing.assert_close(model(x), want)


@pytest.mark.parametrize("value", ["erf", "TANH", "true"])
def test_approximate_is_none_or_tanh(value):
    with pytest.raises(cnnspec.SpecError) as info:
        cnnspec.loads(SPEC.replace("approximate: tanh", f"approximate: {value}"))
    [d] = info.value.errors
    assert d.pos.line == 5 and d.code in ("value", "type") and "approximate" in d.message
