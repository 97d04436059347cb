"""ShuffleNet V2: the paper's Table 5 (specs/shufflenet_v2.yaml) and torchvision's four
widths (specs/zoo/shufflenet_v2_*.yaml), against figures computed here and the
hand-written reference (tests/reference/shufflenet_v2.py). The zoo specs against
torchvision itself: tests/backends/torch/test_graph_torch.py (the recorded fixture).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from reference import shufflenet_v2 as ref

import cnnspec

ROOT = Path(__file__).resolve().parents[2]
SPECS = ROOT / "specs"

#: torchvision's parameter counts and torchinfo's mult-adds for shufflenet_v2_<width>
TORCHVISION = {
    "x0_5": (1_366_792, 40_485_400),
    "x1_0": (2_278_604, 144_925_172),
    "x1_5": (3_503_624, 295_783_832),
    "x2_0": (7_393_996, 583_288_180),
}


def load(rel: str) -> cnnspec.Network:
    return cnnspec.load(SPECS / rel)


@pytest.mark.parametrize("width", sorted(TORCHVISION))
def test_a_zoo_width_has_the_references_params_and_torchvisions_counts(width):
    net = load(f"zoo/shufflenet_v2_{width}.yaml")
    reference = ref.shufflenet_v2(width)
    assert net.params == sum(p.numel() for p in reference.parameters())
    assert (net.params, net.macs) == TORCHVISION[width]
    assert net.output_shape == (1000,)


def test_the_widths_differ_only_in_their_channels():
    rows = {}
    for w, channels in ref.WIDTHS.items():
        text = (SPECS / "zoo" / f"shufflenet_v2_{w}.yaml").read_text(encoding="utf-8")
        layers = text.split("layers:\n", 1)[1]
        assert [int(c) for c in re.findall(r"channels: (\d+)", layers)] == list(channels)
        rows[w] = re.sub(r"channels: \d+", "channels: C", layers)
    assert len(set(rows.values())) == 1


def test_table_5_types_the_1x_column_and_is_torchvisions_x1_0():
    paper, zoo = load("shufflenet_v2.yaml"), load("zoo/shufflenet_v2_x1_0.yaml")
    assert (paper.params, paper.macs) == (zoo.params, zoo.macs)
    sizes = {g.path: g.output_shape for g in paper.groups if g.path.count(".") == 0}
    assert sizes == {
        "conv1": (24, 112, 112),
        "stage2": (116, 28, 28),
        "stage2b": (116, 28, 28),
        "stage3": (232, 14, 14),
        "stage3b": (232, 14, 14),
        "stage4": (464, 7, 7),
        "stage4b": (464, 7, 7),
        "conv5": (1024, 7, 7),
    }
    units = [g for g in paper.groups if g.block == "ShuffleUnit"]
    assert len(units) == 16  # 1 + 3, 1 + 7, 1 + 3 (Table 5's Repeat column)


def test_the_printed_weights_recompute_and_the_flops_are_flagged():
    net = load("shufflenet_v2.yaml")
    weighted = [n for n in net.layers if n.kind in ("conv", "fc")]
    weights = [
        n.out_maps * (n.in_maps // n.groups) * n.kernel[0] * n.kernel[1]
        if n.kind == "conv"
        else n.in_maps * n.out_maps
        for n in weighted
    ]
    assert sum(weights) == 2_261_424  # printed 2.3M
    sizes = [n.output_shape[1] * n.output_shape[2] if n.kind == "conv" else 1 for n in weighted]
    assert sum(w * hw for w, hw in zip(weights, sizes)) == 144_907_992  # printed 146M
    (warning,) = [d for d in net.warnings if d.code.startswith("printed-")]
    assert warning.code == "printed-macs"
    assert "the paper prints 146M MACs; cnnspec counts 144,907,992" in warning.message
