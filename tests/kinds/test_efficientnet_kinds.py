"""The vocabulary EfficientNet needs: `silu`, `stochastic_depth`, and expression
functions over float block params (`make_divisible`, `ceil`, `floor`, `round`, `min`,
`max`), each checked against something independent of cnnspec's own arithmetic."""

from __future__ import annotations

import math

import pytest
import torch

import cnnspec
from cnnspec import expr as ex

# torchvision's EfficientNet-B0…B7 (printed with torchvision 0.29.1): the stem, the seven
# stages' and the head's widths, the stages' depths. Base widths 32, 16, 24, 40, 80, 112,
# 192, 320 scaled by the width multiplier; depths 1, 2, 2, 3, 3, 4, 1 by the depth one.
TORCHVISION = {
    (1.0, 1.0): ([32, 16, 24, 40, 80, 112, 192, 320, 1280], [1, 2, 2, 3, 3, 4, 1]),
    (1.0, 1.1): ([32, 16, 24, 40, 80, 112, 192, 320, 1280], [2, 3, 3, 4, 4, 5, 2]),
    (1.1, 1.2): ([32, 16, 24, 48, 88, 120, 208, 352, 1408], [2, 3, 3, 4, 4, 5, 2]),
    (1.2, 1.4): ([40, 24, 32, 48, 96, 136, 232, 384, 1536], [2, 3, 3, 5, 5, 6, 2]),
    (1.4, 1.8): ([48, 24, 32, 56, 112, 160, 272, 448, 1792], [2, 4, 4, 6, 6, 8, 2]),
    (1.6, 2.2): ([48, 24, 40, 64, 128, 176, 304, 512, 2048], [3, 5, 5, 7, 7, 9, 3]),
    (1.8, 2.6): ([56, 32, 40, 72, 144, 200, 344, 576, 2304], [3, 6, 6, 8, 8, 11, 3]),
    (2.0, 3.1): ([64, 32, 48, 80, 160, 224, 384, 640, 2560], [4, 7, 7, 10, 10, 13, 4]),
}
BASE_WIDTHS = [32, 16, 24, 40, 80, 112, 192, 320]
BASE_DEPTHS = [1, 2, 2, 3, 3, 4, 1]


@pytest.mark.parametrize(("width", "depth"), list(TORCHVISION))
def test_make_divisible_and_ceil_give_torchvisions_efficientnet_figures(width, depth):
    widths, depths = TORCHVISION[width, depth]
    env = {"c": 0, "w": width, "n": 0, "d": depth}
    scaled = [ex.parse("make_divisible($c * $w, 8)").evaluate({**env, "c": c}) for c in BASE_WIDTHS]
    head = ex.parse("4 * make_divisible($c * $w, 8)").evaluate({**env, "c": 320})
    assert [*scaled, head] == widths
    assert [ex.parse("ceil($n * $d)").evaluate({**env, "n": n}) for n in BASE_DEPTHS] == depths


def test_make_divisible_keeps_90_percent_and_a_minimum():
    md = ex.parse("make_divisible($v, 8)")
    # MobileNetV3-small's 0.75 width: 16 * 0.75 = 12 rounds to 16 (8 would lose 33%)
    assert md.evaluate({"v": 12.0}) == 16
    assert md.evaluate({"v": 3.0}) == 8  # never below the divisor
    assert ex.parse("make_divisible($v, 8, 16)").evaluate({"v": 3.0}) == 16
    assert ex.parse("make_divisible(35.2, 8)").evaluate({}) == 32
    assert ex.parse("make_divisible(36, 8)").evaluate({}) == 40  # a half rounds up


def test_the_generated_helper_is_the_evaluators_arithmetic():
    namespace: dict = {}
    exec(ex.MAKE_DIVISIBLE_SOURCE, namespace)
    helper = namespace["make_divisible"]
    for i in range(1, 2000):
        v = i * 0.37
        for d in (1, 4, 8, 16):
            assert helper(v, d) == ex.make_divisible(v, d)
            assert helper(v, d, 3 * d) == ex.make_divisible(v, d, 3 * d)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("ceil(2.1)", 3),
        ("floor(2.9)", 2),
        ("round(2.5)", 2),  # Python's round: a half to the even neighbour
        ("round(3.5)", 4),
        ("min(3, 2.5)", 2.5),
        ("max($n, 4)", 5),
        ("max(1, 2) / 2", 1),
        ("$w * 2", 3.0),
        ("$w / 2", 0.75),
        ("ceil($n * $w)", 8),
        ("$n / 5", 1),
    ],
)
def test_functions_and_floats(text, value):
    out = ex.parse(text).evaluate({"n": 5, "w": 1.5})
    assert out == value and type(out) is type(value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("sqrt(4)", "'sqrt' is not a function an expression may call"),
        ("ceil(1, 2)", "ceil() takes 1 argument, not 2"),
        ("min(1)", "min() takes 2 to 8 arguments, not 1"),
        ("round(x=1)", "round() takes its arguments by position"),
        ("$n(2)", "'$n' is not a function"),
        ("ceil + 1", "unknown name 'ceil'"),
        ("make_divisible(10, 2.5)", "make_divisible's divisor is a whole number"),
        ("1e999", "only numbers and true/false may appear"),
        ("$n / 2", "$n / 2 = 5/2 is not a whole number"),
    ],
)
def test_what_an_expression_may_not_do(text, message):
    with pytest.raises(ex.ExprError) as info:
        ex.parse(text).evaluate({"n": 5})
    assert message in str(info.value)


def test_python_source_keeps_a_float_division_true():
    e = ex.parse("$c / $w + $c / 2")
    assert e.python({"c": 4, "w": 2.0}) == "c / w + c // 2"
    assert e.python({"c": 4, "w": 2}) == "c // w + c // 2"
    assert ex.parse("ceil($n * $d)").python() == "math.ceil(n * d)"
    assert ex.parse("$c * $w").explain({"c": 32, "w": 1.1}) == "32 * 1.1 = 35.2"


BLOCKS = """\
name: Scaled
input: {maps: 3, size: 16x16}
blocks:
  Stage:
    params:
      c: int
      n: int
      width: {type: float, default: 1}
      depth: {type: float, default: 1}
    layers:
      - {type: Unit, c: "make_divisible($c * $width, 8)", repeat: ceil($n * $depth)}
  Unit:
    params: {c: int}
    children: indexed
    layers:
      - {type: conv, maps: $c, kernel: 3, padding: 1, bias: false, activation: silu}
      - {type: stochastic_depth, p: 0.2}
layers:
  - {type: Stage, c: 24, n: 2, width: 1.1, depth: 1.2}
  - {type: Stage, c: 40, n: 3, width: 1.1, depth: 1.2}
  - {type: stochastic_depth, p: 0.5, mode: batch}
"""


def test_a_scaled_network_builds_and_matches_plain_torch():
    net = cnnspec.loads(BLOCKS)
    source = cnnspec.torch_source(net)
    assert "import math" in source and "def make_divisible(" in source
    assert "for _ in range(1, math.ceil(n * depth)):" in source
    assert "Unit(in_maps, make_divisible(c * width, 8))" in source
    assert "class StochasticDepth(nn.Module):" in source and "torchvision" not in source
    model = cnnspec.build(net)
    # by hand: make_divisible(24 * 1.1, 8) = 24, ceil(2 * 1.2) = 3 units; 40 * 1.1 → 48, 4
    widths = [(3, 24), (24, 24), (24, 24), (24, 48), (48, 48), (48, 48), (48, 48)]
    convs = [m for m in model.modules() if isinstance(m, torch.nn.Conv2d)]
    assert [(c.in_channels, c.out_channels) for c in convs] == widths
    assert net.params == sum(p.numel() for p in model.parameters())
    assert net.params == sum(i * o * 9 for i, o in widths)
    assert net.macs == sum(i * o * 9 * 16 * 16 for i, o in widths)
    assert net.output_shape == (48, 16, 16)
    assert not any("stochastic" in k.lower() for k in model.state_dict())
    assert [type(m).__name__ for m in model.modules()].count("SiLU") == 7


def test_stochastic_depth_is_the_identity_in_eval_and_drops_in_training():
    model = cnnspec.build(cnnspec.loads(BLOCKS))
    drops = [m for m in model.modules() if type(m).__name__ == "StochasticDepth"]
    assert [(m.p, m.mode) for m in drops] == [(0.2, "row")] * 7 + [(0.5, "batch")]
    x = torch.randn(64, 5, 2, 2)
    row, batch = drops[0], drops[-1]
    assert torch.equal(row.eval()(x), x)
    torch.manual_seed(0)
    y = row.train()(x)
    kept = [bool(torch.allclose(y[i], x[i] / 0.8)) for i in range(64)]
    dropped = [bool(torch.equal(y[i], torch.zeros_like(x[i]))) for i in range(64)]
    assert all(k or d for k, d in zip(kept, dropped)) and any(kept) and any(dropped)
    y = batch.train()(x)
    assert torch.allclose(y, x * 2) or torch.equal(y, torch.zeros_like(x))
    assert "StochasticDepth(p=0.2, mode=row)" in repr(row)


def test_silu_is_torchs():
    net = cnnspec.loads(BLOCKS)
    model = cnnspec.build(net).eval()
    silu = next(m for m in model.modules() if type(m).__name__ == "SiLU")
    x = torch.linspace(-4, 4, 9)
    assert torch.allclose(silu(x), x * torch.sigmoid(x))


def test_a_float_where_a_whole_number_is_needed_shows_the_arithmetic():
    bad = BLOCKS.replace('c: "make_divisible($c * $width, 8)"', "c: $c * $width")
    with pytest.raises(cnnspec.SpecError) as info:
        cnnspec.loads(bad)
    [d] = info.value.errors
    assert "param 'c' of block 'Unit' is an int, got $c * $width = 24 * 1.1 = 26.4" in d.message
    bad = BLOCKS.replace("repeat: ceil($n * $depth)", "repeat: $n * $depth")
    with pytest.raises(cnnspec.SpecError) as info:
        cnnspec.loads(bad)
    [d] = info.value.errors
    assert d.code == "expr-int" and d.pos.line == 11
    assert "'repeat' needs a whole number, but $n * $depth = 2 * 1.2 = 2.4" in d.message
    assert math.isclose(2 * 1.2, 2.4)
