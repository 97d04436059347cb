"""specs/mobilenet_v3_large.yaml, MobileNetV3-Large's Table 1 as printed, against
torchvision's variant (specs/zoo/mobilenet_v3_large.yaml, whose counts are torchvision's):
the two differ only in the squeeze widths, a quarter of exp exactly (section 5.3) or
torchvision's rounding to a multiple of 8."""

from __future__ import annotations

from pathlib import Path

import pytest
from zoo_expected import ZOO_PARAMS

import cnnspec
from cnnspec.diagnostics import SpecError

ROOT = Path(__file__).resolve().parents[2]
PAPER = ROOT / "specs" / "mobilenet_v3_large.yaml"

#: exp size of each SE line of Table 1, and torchvision's squeeze for it
SE_LINES = [
    (72, 24),
    (120, 32),
    (120, 32),
    (480, 120),
    (672, 168),
    (672, 168),
    (960, 240),
    (960, 240),
]


def test_the_paper_spec_is_torchvisions_but_for_the_squeeze_widths():
    net = cnnspec.load(PAPER)
    # fc1 (exp → squeeze, with bias) and fc2 (squeeze → exp, with bias): squeeze · (2·exp + 1)
    # + exp parameters, so each width torchvision rounds up costs (2·exp + 1) per map
    rounding = sum((tv - exp // 4) * (2 * exp + 1) for exp, tv in SE_LINES)
    assert rounding == 6 * 145 + 2 * 2 * 241
    assert net.params == ZOO_PARAMS["mobilenet_v3_large"] - rounding == 5_481_198
    squeezes = [n.out_maps for n in net.nodes if n.path and n.path.endswith(".fc1")]
    assert squeezes == [exp // 4 for exp, _ in SE_LINES]


def test_the_printed_input_sizes_are_the_outputs():
    net = cnnspec.load(PAPER)
    top = {n.path.split(".")[0]: n for n in net.layers}
    groups = {g.path: g for g in net.groups}
    printed = [112, 112, 56, 56, 28, 28, 28, 14, 14, 14, 14, 14, 14, 7, 7, 7]
    outs = [groups["conv1"]] + [groups[f"bneck{i}"] for i in range(1, 16)]
    assert [g.output_shape[1] for g in outs] == printed
    assert [g.output_shape[0] for g in outs[1:]] == [16, 24, 24, 40, 40, 40, 80, 80, 80, 80] + [
        112,
        112,
        160,
        160,
        160,
    ]
    assert top["conv4"].output_shape == (1000, 1, 1)


def test_a_wrong_printed_size_is_an_error_at_its_cell():
    text = PAPER.read_text(encoding="utf-8").replace(
        "true   2  -     -           7x7", "true   2  -     -           14x14"
    )
    with pytest.raises(SpecError) as info:
        cnnspec.loads(text, source=str(PAPER))
    assert [d.code for d in info.value.diagnostics] == ["size-mismatch"]
    assert "bneck13" in info.value.diagnostics[0].format("t.yaml")
