"""`leaky_relu` rows take `negative_slope`; the `activation:` shorthand keeps PyTorch's."""

from __future__ import annotations

import pytest

import cnnspec

SPEC = """\
name: Leaky
input: {maps: 3, size: 8x8}
blocks:
  B:
    params: {s: {type: float, default: 0.2}}
    layers:
      - {type: conv, maps: 4, kernel: 3, padding: 1}
      - {type: leaky_relu, negative_slope: $s}
layers:
  - {type: conv, maps: 4, kernel: 3, padding: 1, activation: leaky_relu}
  - {type: leaky_relu, negative_slope: 0.2}
  - {type: leaky_relu}
  - {type: B}
  - {type: B, s: -0.5}
"""


def test_negative_slope_reaches_the_module_and_the_source():
    net = cnnspec.loads(SPEC)
    source = cnnspec.torch_source(net)
    assert "self.leaky_relu2 = nn.LeakyReLU(negative_slope=0.2)" in source
    assert "self.leaky_relu1 = nn.LeakyReLU()" in source  # the shorthand: PyTorch's default
    assert "nn.LeakyReLU(negative_slope=s)" in source  # the block class passes its param
    slopes = {
        name: m.negative_slope
        for name, m in cnnspec.build(net).named_modules()
        if type(m).__name__ == "LeakyReLU"
    }
    assert slopes == {
        "leaky_relu1": 0.01,
        "leaky_relu2": 0.2,
        "leaky_relu3": 0.01,
        "b1.leaky_relu1": 0.2,
        "b2.leaky_relu1": -0.5,
    }
    namespace: dict = {}
    exec(compile(source, "<generated>", "exec"), namespace)
    built = namespace["Leaky"]()
    assert built.b2.leaky_relu1.negative_slope == -0.5 and built.leaky_relu2.negative_slope == 0.2


@pytest.mark.parametrize("value", [".inf", ".nan", '"0.2"', "true"])
def test_negative_slope_is_a_finite_number(value):
    spec = SPEC.replace("negative_slope: 0.2}", f"negative_slope: {value}}}")
    with pytest.raises(cnnspec.SpecError) as info:
        cnnspec.loads(spec)
    [d] = info.value.errors
    assert d.pos.line == 11 and "negative_slope" in d.message
