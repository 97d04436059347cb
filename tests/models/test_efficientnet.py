"""The EfficientNet family: specs/efficientnet_b0.yaml (Table 1 as printed) against
torchvision's B0 (specs/zoo/efficientnet_b0.yaml, whose counts are torchvision's), and the
B-series' compound scaling — each stage's maps and length derived here, independently of
cnnspec's expressions, as torchvision derives them from its two multipliers."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from zoo_expected import ZOO_PARAMS

import cnnspec
from cnnspec.diagnostics import SpecError

ROOT = Path(__file__).resolve().parents[2]
PAPER = ROOT / "specs" / "efficientnet_b0.yaml"
ZOO = ROOT / "specs" / "zoo"

#: Table 1's stages 2-8: operator's expansion and kernel, #Channels, #Layers
STAGES = [(1, 3, 16, 1), (6, 3, 24, 2), (6, 5, 40, 2), (6, 3, 80, 3)]
STAGES += [(6, 5, 112, 3), (6, 5, 192, 4), (6, 3, 320, 1)]

#: torchvision's (width, depth) multipliers of efficientnet_b0 … b7
SCALING = [(1.0, 1.0), (1.0, 1.1), (1.1, 1.2), (1.2, 1.4)]
SCALING += [(1.4, 1.8), (1.6, 2.2), (1.8, 2.6), (2.0, 3.1)]


def rounded(v: float) -> int:
    """A width rounded to a multiple of 8 the way torchvision rounds it: to the nearest
    (a half up), at least 8, and one step more where that lost more than 10%."""
    near = max(8, int(v + 4) // 8 * 8)
    return near + 8 if near < 0.9 * v else near


def test_the_paper_spec_is_torchvisions_b0():
    paper, zoo = cnnspec.load(PAPER), cnnspec.load(ZOO / "efficientnet_b0.yaml")
    assert paper.params == zoo.params == ZOO_PARAMS["efficientnet_b0"] == 5_288_548
    assert paper.macs == zoo.macs == 385_867_108

    # layer for layer: the same modules with parameters, in the same order and shapes
    # (torchvision's Dropout before the Linear has none)
    def weighed(net):
        return [(n.kind, n.input_shape, n.output_shape, n.params) for n in net.nodes if n.params]

    assert weighed(paper) == weighed(zoo)


def test_the_printed_resolutions_and_channels():
    net = cnnspec.load(PAPER)
    groups = {g.path: g for g in net.groups}
    outs = [groups[f"stage{i}"] for i in range(1, 10)]
    # Resolution is each stage's input: stage i's output is stage i+1's printed figure
    printed = [224, 112, 112, 56, 28, 14, 14, 7, 7]
    assert [g.input_shape[1] for g in outs] == printed
    assert [g.output_shape[1] for g in outs[:-1]] == printed[1:]
    assert [g.output_shape[0] for g in outs] == [32] + [c for _, _, c, _ in STAGES] + [1280]
    copies = [
        len([p for p in groups if p.startswith(f"stage{i}.blocks.") and p.count(".") == 2])
        for i in range(2, 9)
    ]
    assert copies == [n for *_, n in STAGES]
    assert net.output_shape == (1000,)


def test_a_wrong_printed_resolution_is_an_error_at_its_cell():
    text = PAPER.read_text(encoding="utf-8").replace(
        "6  5       40    2  2  28x28", "6  5       40    2  2  56x56"
    )
    with pytest.raises(SpecError) as info:
        cnnspec.loads(text, source=str(PAPER))
    codes = [d.code for d in info.value.diagnostics]
    assert codes and set(codes) == {"size-mismatch"}
    assert "stage4" in info.value.diagnostics[0].format("t.yaml")


@pytest.mark.parametrize("b", range(8))
def test_the_b_series_is_b0_compound_scaled(b):
    width, depth = SCALING[b]
    net = cnnspec.load(ZOO / f"efficientnet_b{b}.yaml")
    groups = {g.path: g for g in net.groups}
    stem = rounded(32 * width)
    assert groups["features.0"].output_shape[0] == stem
    for i, (e, kernel, c, n) in enumerate(STAGES, start=1):
        copies = sorted(p for p in groups if p.count(".") == 2 and p.startswith(f"features.{i}."))
        assert len(copies) == math.ceil(n * depth), (b, i)
        assert groups[f"features.{i}"].output_shape[0] == rounded(c * width), (b, i)
        depthwise = [x for x in net.nodes if x.path == f"features.{i}.0.block.{int(e != 1)}.0"]
        assert depthwise[0].kernel == (kernel, kernel) and depthwise[0].groups == e * (
            stem if i == 1 else rounded(STAGES[i - 2][2] * width)
        )
    assert groups["features.8"].output_shape[0] == 4 * rounded(320 * width)
    bn = [x for x in net.nodes if x.kind == "batchnorm"]
    assert {(x.eps, x.momentum) for x in bn} == {(1e-3, 0.01) if b >= 5 else (1e-5, 0.1)}


def test_stochastic_depth_sits_on_every_residual_branch():
    for stem in ("efficientnet_b0", "efficientnet_v2_s"):
        net = cnnspec.load(ZOO / f"{stem}.yaml")
        adds = [x for x in net.nodes if x.kind == "add"]
        drops = [x for x in net.nodes if x.kind == "stochastic_depth"]
        assert len(adds) == len(drops) > 0
        assert [a.inputs[0] for a in adds] == [d.id for d in drops]
        assert {d.mode for d in drops} == {"row"}
        if stem == "efficientnet_b0":  # one probability (tests/models/test_stochastic_depth.py)
            assert {d.p for d in drops} == {0.1}
        else:  # V2's ramp, block by block torchvision's (test_stochastic_depth.py)
            ps = [d.p for d in drops]
            assert ps == sorted(ps) and 0 <= ps[0] < ps[-1] < 0.2
