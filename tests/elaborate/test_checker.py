"""Stage 3, the checker: shapes, paddings, counts and the rules of DESIGN.md."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

import cnnspec
from cnnspec.diagnostics import SpecError
from cnnspec.kinds.window import Axis

ROOT = Path(__file__).resolve().parents[2]
SPECS = ROOT / "specs"


def spec(*rows: str, input: str = "{maps: 3, size: 32x32}", head: str = "") -> str:
    return f"{head}name: Net\ninput: {input}\nlayers:\n" + "".join(f"  - {r}\n" for r in rows)


def net_of(*rows: str, **kw) -> cnnspec.Network:
    return cnnspec.loads(spec(*rows, **kw))


def errors_of(*rows: str, strict: bool = False, **kw) -> list[str]:
    with pytest.raises(SpecError) as info:
        cnnspec.loads(spec(*rows, **kw), source="t.yaml", strict=strict)
    return info.value.report().splitlines()


def node(net: cnnspec.Network, name: str):
    return next(n for n in net.layers if n.name == name)


# --------------------------------------------------------------------------- the seed networks


@pytest.mark.parametrize(
    "stem, params, flatten_from",
    [
        ("lenet5", 61_026, (16, 5, 5)),
        ("alexnet", 62_378_344, (256, 6, 6)),
        ("vgg16", 138_357_544, (512, 7, 7)),
        ("lenet_code611", 46_038_242, (32, 53, 53)),
    ],
)
def test_seed_figures(stem, params, flatten_from):
    net = cnnspec.load(SPECS / f"{stem}.yaml")
    assert net.params == params
    assert net.flatten.input_shape == flatten_from
    assert net.warnings == ()


def test_vgg16_macs_in_torchinfo_convention():
    assert cnnspec.load(SPECS / "vgg16.yaml").macs == 15_483_821_032


def test_code_6_11_fc1_in_features_is_computed():
    net = cnnspec.load(SPECS / "lenet_code611.yaml")
    assert net.flatten.output_shape[0] == 89_888 == 32 * 53 * 53
    assert node(net, "fc1").in_maps == 89_888


def test_table_6_2_paddings_are_inferred():
    net = cnnspec.load(SPECS / "alexnet.yaml")
    convs = [n for n in net.layers if n.kind == "conv"]
    assert [n.padding for n in convs] == [(0, 0), (2, 2), (1, 1), (1, 1), (1, 1)]
    assert all(n.padding_inferred for n in convs)
    assert net.flatten.output_shape[0] == 9216


# --------------------------------------------------------------------------- arithmetic


def test_padding_inference_takes_the_smallest_padding():
    # kernel 2, stride 4 from 32: padding 1 and padding 2 both give 9
    net = net_of("{type: conv, maps: 4, size: 9, kernel: 2, stride: 4}")
    assert node(net, "conv1").padding == (1, 1)
    assert node(net, "conv1").padding_inferred


def test_padding_inference_per_axis_and_non_square_everything():
    net = net_of(
        "{type: conv, maps: 8, size: 16x24, kernel: 5x3, stride: 2x1}",
        "{type: maxpool, size: 8x12, kernel: 2x3, stride: 2x2}",
        "{type: avgpool, size: 4x4, kernel: [2, 3], stride: [2, 3], padding: [0, 0]}",
        "{type: fc, size: 10}",
        input="{maps: 3, size: 32x24}",
    )
    conv, mp, ap = node(net, "conv1"), node(net, "maxpool1"), node(net, "avgpool1")
    # height (32 + 2·2 − 5)/2 + 1 = 16.5 → 16 with padding 2 (1 gives 15); width 24 with 1
    assert (conv.padding, conv.output_shape) == ((2, 1), (8, 16, 24))
    assert (mp.padding, mp.output_shape) == ((0, 1), (8, 8, 12))
    assert ap.output_shape == (8, 4, 4)
    assert net.flatten.output_shape[0] == 8 * 4 * 4
    assert conv.params == 8 * 3 * 5 * 3 + 8


def test_dilation():
    net = net_of(
        "{type: conv, maps: 4, kernel: 3, dilation: 2, size: 32}",
        "{type: conv, maps: 4, kernel: 3, dilation: [1, 3], padding: same}",
        "{type: conv, maps: 4, kernel: 3, dilation: 4}",
    )
    assert node(net, "conv1").padding == (2, 2)
    assert node(net, "conv2").padding == (1, 3)
    assert node(net, "conv2").output_shape == (4, 32, 32)
    assert node(net, "conv3").output_shape == (4, 24, 24)  # 32 − 4·(3 − 1)
    [line] = errors_of("{type: conv, maps: 4, kernel: 5, dilation: 8}")
    assert "kernel 5×5 (dilated to 33×33) is larger than the input 32×32" in line


def test_groups():
    net = net_of("{type: conv, maps: 8, kernel: 3, groups: 4}", input="{maps: 4, size: 8x8}")
    assert node(net, "conv1").params == 8 * (4 // 4) * 3 * 3 + 8
    assert node(net, "conv1").groups == 4
    [line] = errors_of("{type: conv, maps: 6, kernel: 3, groups: 4}", input="{maps: 4, size: 8x8}")
    assert line.startswith("t.yaml:4:46: error: layer 1 'conv1' (conv): groups=4 must divide")


def _aten_pool_size(n: int, k: int, s: int, p: int, ceil: bool) -> int:
    """ATen's pooling_output_shape (aten/src/ATen/native/Pool.h), transcribed."""
    numerator = n + 2 * p - (k - 1) - 1 + (s - 1 if ceil else 0)
    out = numerator // s + 1  # div_rtn rounds toward −∞, as // does
    if ceil and (out - 1) * s >= n + p:
        out -= 1
    return out


GRID = [
    (n, k, s, p)
    for n, k, s in itertools.product(range(1, 12), range(1, 6), range(1, 5))
    for p in range(k // 2 + 1)
]


def test_ceil_mode_follows_pytorchs_rule():
    for (n, k, s, p), ceil in itertools.product(GRID, (False, True)):
        want = _aten_pool_size(n, k, s, p, ceil)
        got = Axis(n, k, s, p, 1, ceil).out
        assert got == (want if want >= 1 else None), (n, k, s, p, ceil)


def test_ceil_mode_agrees_with_torch():
    import torch

    for (n, k, s, p), ceil in itertools.product(GRID[::7], (False, True)):
        pool = torch.nn.MaxPool2d(k, s, p, ceil_mode=ceil)
        try:
            want = pool(torch.zeros(1, 1, n, n)).shape[-1]
        except RuntimeError:
            want = None
        assert Axis(n, k, s, p, 1, ceil).out == want, (n, k, s, p, ceil)


def test_ceil_mode_in_a_spec():
    # (14 − 3)/2 + 1 = 6.5: 7 with ceil_mode, 6 without
    net = net_of(
        "{type: maxpool, kernel: 3, stride: 2, ceil_mode: true, size: 7}",
        input="{maps: 1, size: 14x14}",
    )
    assert node(net, "maxpool1").output_shape == (1, 7, 7)
    assert node(net, "maxpool1").ceil_mode is True
    [line] = errors_of(
        "{type: maxpool, kernel: 3, stride: 2, padding: 0, size: 7}", input="{maps: 1, size: 14x14}"
    )
    assert line.endswith(
        "(14 − 3 + 2·0)/2 + 1 = 6.5, but the row declares 7×7 "
        "(PyTorch floors it to 6×6; ceil_mode: true gives 7×7) [size-mismatch]"
    )


def test_adaptive_pools():
    net = net_of(
        "{type: conv, maps: 4, kernel: 3}",
        "{type: adaptive_avgpool, size: 7}",
        "{type: adaptive_maxpool, maps: 4, size: 2x3}",
        "{type: fc, size: 2}",
    )
    assert node(net, "adaptive_avgpool1").output_shape == (4, 7, 7)
    assert node(net, "adaptive_maxpool1").target == (2, 3)
    assert net.flatten.output_shape[0] == 4 * 2 * 3
    [line] = errors_of("{type: adaptive_avgpool, maps: 5, size: 1}")
    assert "the row declares 5 maps, but its input has 3" in line


def test_batchnorm1d_after_the_flatten():
    net = net_of(
        "{type: conv, maps: 4, kernel: 3}",
        "{type: batchnorm, maps: 4}",
        "{type: fc, size: 10}",
        "{type: batchnorm, maps: 10}",
    )
    bn2d, bn1d = node(net, "batchnorm1"), node(net, "batchnorm2")
    assert (bn2d.torch_class, bn2d.params) == ("BatchNorm2d", 8)
    assert (bn1d.torch_class, bn1d.params, bn1d in net.classifier) == ("BatchNorm1d", 20, True)


# --------------------------------------------------------------------------- shorthands


def test_repeat_names_the_copies():
    net = net_of("{type: conv, name: block, maps: 4, kernel: 3, padding: 1, repeat: 3}")
    assert [n.name for n in net.layers] == ["block_1", "block_2", "block_3"]
    assert [n.origin for n in net.layers] == [(0, 1), (0, 2), (0, 3)]


def test_repeat_diagnostics_name_the_copy_and_point_at_the_row():
    lines = errors_of(
        "{type: relu}", "{type: conv, name: c, maps: 4, size: 30, kernel: 3, padding: 0, repeat: 3}"
    )
    assert lines == [
        "t.yaml:5:42: error: layer 3 'c_2' (conv): (30 − 3 + 2·0)/1 + 1 = 28, "
        "but the row declares 30×30 [size-mismatch]",
        # the walk goes on with what PyTorch computes, 28, not the declared 30
        "t.yaml:5:42: error: layer 4 'c_3' (conv): (28 − 3 + 2·0)/1 + 1 = 26, "
        "but the row declares 30×30 [size-mismatch]",
    ]


TABLE = """\
name: LeNet5
table: |
  type     maps  size   kernel  stride  activation
  image    1     32x32  -       -       -
  conv     6     28x28  5×5     1       relu
  maxpool  7     14x14  2x2     2       -
  fc       -     84     -       -       relu
  fc       -     2      -       -       sigmoid
"""


def test_table_diagnostics_point_at_the_cell():
    with pytest.raises(SpecError) as info:
        cnnspec.loads(TABLE, source="t.yaml")
    assert info.value.report().splitlines() == [
        "t.yaml:6:12: error: layer 2 'maxpool1' (maxpool): the row declares 7 maps, but its "
        "input has 6 (pooling keeps the number of maps) [maps-mismatch]"
    ]
    with pytest.raises(SpecError) as info:
        cnnspec.loads(TABLE.replace("28x28  5×5", "28x28  5×Q"), source="t.yaml")
    [d] = info.value.diagnostics
    assert (d.pos.line, d.pos.col) == (5, 25)  # the cell, counted in characters


def test_table_cells_past_non_ascii_are_located_by_character():
    text = TABLE.replace("maxpool  7", "maxpool  6").replace(
        "2      -       -       sigmoid", "2      -       -       softmax"
    )
    net = cnnspec.loads(text)
    assert net.params == 6 * 25 + 6 + 6 * 14 * 14 * 84 + 84 + 84 * 2 + 2


# --------------------------------------------------------------------------- reporting


def test_inexact_division_is_a_warning_and_strict_makes_it_an_error():
    rows = ("{type: conv, maps: 4, kernel: 4, stride: 3}", "{type: fc, size: 2}")
    net = net_of(*rows)
    [w] = net.warnings
    assert (w.severity, w.code, w.pos.line, w.pos.col) == ("warning", "inexact", 4, 46)
    assert "(32 − 4 + 2·0)/3 + 1 = 31/3 is not whole: PyTorch floors it to 10×10" in w.message
    [line] = errors_of(*rows, strict=True)
    assert line.startswith("t.yaml:4:46: error: layer 1 'conv1' (conv): ")
    assert line.endswith("(--strict) [inexact]")


def test_every_diagnostic_is_collected():
    lines = errors_of(
        "{type: conv, maps: 6, size: 30x30, kernel: 5, padding: 0}",
        "{type: maxpool, maps: 16, kernel: 2}",
        "{type: softmax}",
        "{type: fc, size: 10}",
    )
    assert [line.rsplit(" [", 1)[1] for line in lines] == [
        "size-mismatch]",
        "maps-mismatch]",
        "softmax-position]",
    ]


def test_diagnostics_are_sorted_by_position():
    # the softmax rule is checked after the walk, the size rule during it: the
    # report still reads top to bottom
    lines = errors_of(
        "{type: softmax}",
        "{type: relu}",
        "{type: conv, maps: 4, kernel: 3, size: 9, padding: 0}",
    )
    assert [line.split(": ")[0] for line in lines] == ["t.yaml:4:5", "t.yaml:6:44"]
    assert lines[0].endswith("[softmax-position]")
    assert lines[1].endswith("[size-mismatch]")


def test_schema_errors_are_all_reported_in_row_order():
    lines = errors_of("{type: conv, maps: '6', kernel: 5}", "{type: fc, size: 1.5}")
    assert [line.split(": ")[0] for line in lines] == ["t.yaml:4:24", "t.yaml:5:22"]


@pytest.mark.parametrize(
    "row, code",
    [
        ("{type: conv, maps: 6, size: 30x30, kernel: 5, padding: 0}", "size-mismatch"),
        ("{type: conv, maps: 6, size: 40, kernel: 3}", "no-padding"),
        ("{type: conv, maps: 6, kernel: 40}", "kernel-too-large"),
        ("{type: maxpool, kernel: 2, padding: 2}", "pool-padding"),
        ("{type: maxpool, maps: 4, kernel: 2}", "maps-mismatch"),
        ("{type: batchnorm, maps: 4}", "maps-mismatch"),
        ("{type: conv, maps: 4, kernel: 3, groups: 2}", "groups"),
        ("{type: conv, maps: 4, kernel: 3, stride: 2, padding: same}", "padding-same"),
    ],
)
def test_each_rule_has_its_code(row, code):
    [line] = errors_of(row)
    assert line.endswith(f"[{code}]")
    assert line.startswith("t.yaml:4:")


def test_huge_kernels_and_dilations_answer_at_once():
    import time

    start = time.perf_counter()
    [line] = errors_of(
        "{type: conv, maps: 6, kernel: 100000, dilation: 100000, size: 5}",
        input="{maps: 3, size: 100000x100000}",
    )
    assert time.perf_counter() - start < 1
    assert "[no-padding]" in line


# --------------------------------------------------------------------------- crashes found


@pytest.mark.parametrize(
    "text, code",
    [
        # int() refuses more than 4300 digits: a ValueError traceback, in three places
        (spec("{type: fc, size: " + "9" * 5000 + "}"), "yaml-number"),
        (spec("{type: conv, maps: 6, kernel: " + "9" * 5000 + "x5}"), "value"),
        (
            "name: N\ninput: {maps: 1, size: 8x8}\ntable: |\n  type maps kernel\n"
            "  conv " + "9" * 5000 + " 3\n",
            "yaml-number",
        ),
    ],
    ids=["loader", "pair", "table"],
)
def test_numbers_with_thousands_of_digits_are_diagnostics(text, code):
    with pytest.raises(SpecError) as info:
        cnnspec.loads(text)
    assert code in {d.code for d in info.value.diagnostics}


def test_text_in_a_message_cannot_break_the_line():
    with pytest.raises(SpecError) as info:
        cnnspec.loads(spec('{type: relu, "a\\nb": 1, name: "x\\u2028y"}'), source="t.yaml")
    lines = info.value.report().splitlines()
    assert len(lines) == 2
    assert "unknown key 'a\\nb'" in lines[0]
