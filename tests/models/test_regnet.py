"""RegNet's stages recomputed from its design-space parameters.

Each RegNet spec types its per-stage depths, widths and group widths (derived in its
header). Here they are derived again, independently, from the parameters the paper
(Radosavovic et al. 2020, §3.3) and torchvision's builders give — d, w0, wa, wm, g,
b = 1 — and compared with the networks cnnspec builds from the specs: the widths of
every block's grouped 3×3 convolution, its groups, the number of blocks per stage, and
(RegNetY) the squeeze width of each block's squeeze-and-excitation. The paper's spec
and torchvision's regnet_y_400mf are one network. The zoo specs' keys, counts and
outputs against torchvision itself are tests/backends/torch/test_graph_torch.py's.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest

import cnnspec

ROOT = Path(__file__).resolve().parents[2]

#: builder -> (depth, w0, wa, wm, group width), as torchvision 0.29's builders pass them
DESIGN = {
    "regnet_x_400mf": (22, 24, 24.48, 2.54, 16),
    "regnet_x_800mf": (16, 56, 35.73, 2.28, 16),
    "regnet_x_1_6gf": (18, 80, 34.01, 2.25, 24),
    "regnet_x_3_2gf": (25, 88, 26.31, 2.25, 48),
    "regnet_x_8gf": (23, 80, 49.56, 2.88, 120),
    "regnet_x_16gf": (22, 216, 55.59, 2.1, 128),
    "regnet_x_32gf": (23, 320, 69.86, 2.0, 168),
    "regnet_y_400mf": (16, 48, 27.89, 2.09, 8),
    "regnet_y_800mf": (14, 56, 38.84, 2.4, 16),
    "regnet_y_1_6gf": (27, 48, 20.71, 2.65, 24),
    "regnet_y_3_2gf": (21, 80, 42.63, 2.66, 24),
    "regnet_y_8gf": (17, 192, 76.82, 2.19, 56),
    "regnet_y_16gf": (18, 200, 106.23, 2.48, 112),
    "regnet_y_32gf": (20, 232, 115.89, 2.53, 232),
    "regnet_y_128gf": (27, 456, 160.83, 2.52, 264),
}


def _divisible(v: int, d: int) -> int:
    """The multiple of d nearest v, never below 90% of v (the MobileNet rounding)."""
    out = max(d, (v + d // 2) // d * d)
    return out + d if out < 0.9 * v else out


def stages(depth: int, w0: int, wa: float, wm: float, g: int) -> list[tuple[int, int, int]]:
    """(blocks, width, group width) per stage: the quantized linear widths, grouped where
    they are equal, each made divisible by its group width (a stage narrower than g takes
    its own width as its group width)."""
    widths = []
    for j in range(depth):
        step = round(math.log((w0 + wa * j) / w0) / math.log(wm))
        widths.append(round(w0 * wm**step / 8) * 8)
    out = []
    for w in dict.fromkeys(widths):  # in order of first appearance
        gw = min(g, w)
        out.append((widths.count(w), _divisible(w, gw), gw))
    return out


def test_the_derivation_gives_the_papers_regnety_400mf():
    # the paper's appendix: d_i = 1, 3, 6, 6 and w_i = 48, 104, 208, 440
    assert stages(*DESIGN["regnet_y_400mf"]) == [(1, 48, 8), (3, 104, 8), (6, 208, 8), (6, 440, 8)]
    # a stage narrower than g: RegNetX-8GF's first (80 maps, g = 120) is one group
    assert stages(*DESIGN["regnet_x_8gf"])[0] == (2, 80, 80)


def built_stages(net: cnnspec.Network, pattern: str) -> list[tuple[int, int, int]]:
    """(blocks, width, group width) per stage, read off the grouped 3×3 convolutions."""
    found: dict[str, list] = {}
    for node in net.layers:
        m = re.fullmatch(pattern, node.path)
        if m is not None and node.kind == "conv":
            found.setdefault(m.group(1), []).append(node)
    out = []
    for convs in found.values():
        widths = {(n.out_maps, n.out_maps // n.groups) for n in convs}
        assert len(widths) == 1, widths
        [(width, group_width)] = widths
        out.append((len(convs), width, group_width))
    return out


@pytest.mark.parametrize("stem", sorted(DESIGN))
def test_zoo_stages_are_the_design_spaces(stem):
    net = cnnspec.load(ROOT / "specs" / "zoo" / f"{stem}.yaml")
    got = built_stages(net, r"trunk_output\.(block\d)\.block\d-\d+\.f\.b\.0")
    assert got == stages(*DESIGN[stem])
    squeezes = {n.path: n for n in net.layers if n.path.endswith(".f.se.fc1")}
    blocks = [n for n in net.layers if n.path.endswith(".f.a.0")]
    if stem.startswith("regnet_x"):
        assert not squeezes
        return
    # torchvision: the squeeze has round(0.25 × the block's input maps)
    assert len(squeezes) == len(blocks)
    for a in blocks:
        fc1 = squeezes[a.path.replace(".f.a.0", ".f.se.fc1")]
        assert fc1.out_maps == round(0.25 * a.in_maps), fc1.path


def test_the_paper_spec_is_torchvisions_regnet_y_400mf():
    paper = cnnspec.load(ROOT / "specs" / "regnet_y_400mf.yaml")
    zoo = cnnspec.load(ROOT / "specs" / "zoo" / "regnet_y_400mf.yaml")
    got = built_stages(paper, r"(stage\d)\.blocks\.\d+\.f\.b\.0")
    assert got == stages(*DESIGN["regnet_y_400mf"])
    assert (paper.params, paper.macs) == (zoo.params, zoo.macs) == (4_344_144, 401_876_208)
    assert [n.kind for n in paper.layers] == [n.kind for n in zoo.layers]


#: a stage's width and number of blocks from the design-space parameters and its index i
#: (block j has s_j <= i exactly when u_j < w0 * wm^(i + 1/2)), as block expressions
STAGE_WIDTH = "round($w0 * $wm ** $i / 8) * 8"
STAGE_BLOCKS = (
    "min($d, ceil($w0 * ($wm ** ($i + 0.5) - 1) / $wa))"
    " - max(0, min($d, ceil($w0 * ($wm ** ($i - 0.5) - 1) / $wa)))"
)


@pytest.mark.parametrize("stem", sorted(DESIGN))
def test_stage_expressions_give_every_variants_stages(stem):
    # the closed form per stage index i (N_i − N_(i−1) blocks of width
    # round(w0 · wm^i / 8) · 8), evaluated by cnnspec, against the derivation above
    from cnnspec import expr as ex

    width, repeat = ex.parse(STAGE_WIDTH), ex.parse(STAGE_BLOCKS)
    depth, w0, wa, wm, g = DESIGN[stem]
    want = stages(depth, w0, wa, wm, g)
    got = []
    for i in range(len(want)):
        env = {"i": i, "d": depth, "w0": w0, "wa": wa, "wm": wm, "g": g, "b": 1}
        w = width.evaluate(env)
        got.append((repeat.evaluate(env), _divisible(w, min(g, w)), min(g, w)))
    assert got == want
    env = {"i": len(want), "d": depth, "w0": w0, "wa": wa, "wm": wm, "g": g, "b": 1}
    assert repeat.evaluate(env) == 0  # no blocks beyond the last stage
