"""Spatial pyramid pooling (`spp`) and `reshape`: shapes, params and MACs against plain
torch built by hand and torchinfo; the paper specs' printed figures (ZF-5's 12,800-d
pyramid at two input sizes, YOLOv1's 7×7×30 = 1,470)."""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest
import torch
import torchinfo
from torch import nn

import cnnspec
from cnnspec.backends.torch import build_module, render_torch

ROOT = Path(__file__).resolve().parents[2]

CHAIN = """\
name: Pyramid
input: {maps: 3, size: 13x13}
layers:
  - {type: conv, maps: 8, kernel: 3, padding: 1}
  - {type: spp, levels: [6, 3, 2, 1], pool: POOL, size: 400}
  - {type: fc, size: 10}
"""


def _bins(a: int, n: int) -> list[tuple[int, int]]:
    """Bin i of n over a side of a pixels, as the docs state torch's adaptive pooling
    takes it: [⌊i·a/n⌋, ⌈(i+1)·a/n⌉)."""
    return [(i * a // n, -(-(i + 1) * a // n)) for i in range(n)]


def _pyramid_by_hand(x: torch.Tensor, levels: list[int], pool: str) -> torch.Tensor:
    """Each level's bins pooled one by one (map by map, bins row by row), levels in order."""
    reduce = (lambda t: t.amax(dim=(-2, -1))) if pool == "max" else (lambda t: t.mean((-2, -1)))
    parts = []
    for n in levels:
        cells = [
            [reduce(x[:, :, r0:r1, c0:c1]) for c0, c1 in _bins(x.shape[3], n)]
            for r0, r1 in _bins(x.shape[2], n)
        ]
        grid = torch.stack([torch.stack(row, dim=-1) for row in cells], dim=-2)  # N×C×n×n
        parts.append(grid.flatten(1))
    return torch.cat(parts, dim=1)


class _HandPyramid(nn.Module):
    """conv → the four adaptive pools, flattened and concatenated → fc, in plain torch."""

    def __init__(self, pool: str) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        cls = nn.AdaptiveMaxPool2d if pool == "max" else nn.AdaptiveAvgPool2d
        self.levels = nn.ModuleList(cls(n) for n in (6, 3, 2, 1))
        self.fc = nn.Linear(400, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv(x)
        return self.fc(torch.cat([p(x).flatten(1) for p in self.levels], dim=1))


@pytest.mark.parametrize("pool", ["max", "avg"])
def test_spp_against_torch_by_hand_and_torchinfo(pool):
    net = cnnspec.loads(CHAIN.replace("POOL", pool), source="t.yaml")
    spp = next(n for n in net.nodes if n.kind == "spp")
    assert spp.output_shape == (8 * 50,) and spp.params == 0 and spp.macs == 0
    model = build_module(net).eval()
    torch.manual_seed(0)
    # the same module at several input sizes: the vector's length stays 400
    for size in (13, 10, 6, 17):
        x = torch.randn(2, 8, size, size)
        got, want = model.features[-1](x), _pyramid_by_hand(x, [6, 3, 2, 1], pool)
        # a max is exact; a mean may differ in its last bit (the order of the sum)
        assert got.shape == want.shape == (2, 400)
        assert torch.allclose(got, want, rtol=0, atol=1e-6 if pool == "avg" else 0)
        assert model(torch.randn(2, 3, size, size)).shape == (2, 10)
    # params and MACs against plain torch, and torchinfo's counts of the generated module
    hand = _HandPyramid(pool)
    assert net.params == sum(p.numel() for p in hand.parameters())
    assert net.params == sum(p.numel() for p in model.parameters())
    stats = torchinfo.summary(model, input_size=(1, 3, 13, 13), verbose=0)
    by_hand = torchinfo.summary(hand, input_size=(1, 3, 13, 13), verbose=0)
    assert net.macs == stats.total_mult_adds == by_hand.total_mult_adds


def test_spp_windows_as_the_docs_state_them():
    """docs/spec-format.md: torch's bins against the paper's window ⌈a/n⌉, stride ⌊a/n⌋ —
    the same at ZF-5's 13×13 for levels 6, 3, 2, 1; at 10×10 and n = 6 the paper's pool
    gives 9 bins, torch's 6 of 2 or 3 pixels."""

    def paper(a: int, n: int) -> list[tuple[int, int]]:
        win, stride = -(-a // n), a // n
        return [(s, s + win) for s in range(0, a - win + 1, stride)]

    assert all(paper(13, n) == _bins(13, n) for n in (6, 3, 2, 1))
    assert len(paper(10, 6)) == 9
    assert sorted({b - a for a, b in _bins(10, 6)}) == [2, 3]
    x = torch.arange(10.0).repeat(10, 1)[None, None]  # column index as the value
    maxima = nn.functional.adaptive_max_pool2d(x, 6)[0, 0, 0].tolist()
    assert maxima == [b - 1 for _, b in _bins(10, 6)]


RESHAPE = """\
name: Grid
input: {maps: 3, size: 8x8}
layers:
  - {type: conv, maps: 4, kernel: 3, padding: 1}
  - {type: fc, size: 1470}
  - {type: reshape, shape: [30, 7, 7]}
  - {type: sigmoid}
"""


def test_reshape_against_torch_by_hand_and_torchinfo():
    net = cnnspec.loads(RESHAPE, source="t.yaml")
    grid = next(n for n in net.nodes if n.kind == "reshape")
    assert grid.input_shape == (1470,) and grid.output_shape == (30, 7, 7)
    assert (grid.params, grid.macs) == (0, 0) and net.output_shape == (30, 7, 7)
    assert "nn.Unflatten(1, (30, 7, 7))" in render_torch(net)
    model = build_module(net).eval()
    torch.manual_seed(0)
    x = torch.randn(2, 3, 8, 8)
    fc = model.classifier[0](torch.flatten(model.features(x), 1))
    assert torch.equal(model(x), torch.sigmoid(fc.view(2, 30, 7, 7)))
    hand = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.Flatten(), nn.Linear(256, 1470))
    assert net.params == sum(p.numel() for p in hand.parameters())
    stats = torchinfo.summary(model, input_size=(1, 3, 8, 8), verbose=0)
    assert net.macs == stats.total_mult_adds
    assert net.macs == torchinfo.summary(hand, input_size=(1, 3, 8, 8), verbose=0).total_mult_adds


def test_a_block_writes_its_reshape_and_levels_from_its_params():
    text = """\
name: Head
input: {maps: 3, size: 12x12}
blocks:
  Pyramid:
    params: {top: int}
    layers:
      - {name: spp, type: spp, levels: [$top, 1], pool: avg}
  Grid:
    params: {S: int, D: int}
    layers:
      - {name: fc, type: fc, size: $S * $S * $D}
      - {name: grid, type: reshape, shape: [$D, $S, $S]}
layers:
  - {name: conv, type: conv, maps: 4, kernel: 3, padding: 1}
  - {name: pyramid, type: Pyramid, top: 4}
  - {name: head, type: Grid, S: 3, D: 5}
"""
    net = cnnspec.loads(text, source="t.yaml")
    assert net.node("pyramid.spp").output_shape == (4 * 17,)
    assert net.output_shape == (5, 3, 3)
    source = render_torch(net)
    assert 'PyramidPool2d([top, 1], pool="avg")' in source
    assert "nn.Unflatten(1, (D, S, S))" in source
    model = build_module(net).eval()
    assert model(torch.randn(2, 3, 12, 12)).shape == (2, 5, 3, 3)
    assert net.params == sum(p.numel() for p in model.parameters())


# --------------------------------------------------------------------------- the papers


def _strip_size_claims(text: str) -> str:
    """The spec's map-size claims (made at 224×224) removed, the pyramid's `size` kept."""
    return re.sub(r"(?<!maps: 3), size: \d+x\d+", "", text)


def test_sppnet_zf5_gives_12800_features_at_224_and_180():
    text = (ROOT / "specs/sppnet_zf5.yaml").read_text(encoding="utf-8")
    net = cnnspec.loads(text, source="sppnet_zf5.yaml")
    assert net.node("conv5").output_shape == (256, 13, 13)
    assert net.node("spp").output_shape == (12_800,) and net.output_shape == (1000,)
    assert net.node("fc6").in_maps == 256 * (36 + 9 + 4 + 1)
    small = _strip_size_claims(text).replace("size: 224x224", "size: 180x180")
    assert "size: 12800" in small
    net180 = cnnspec.loads(small, source="sppnet_zf5.yaml")
    assert net180.node("conv5").output_shape == (256, 10, 10)  # the paper's 10×10 at 180
    assert net180.node("spp").output_shape == (12_800,)
    assert net180.params == net.params  # one network, two input sizes
    # the same generated module runs at both sizes
    model = build_module(net).eval()
    with torch.no_grad():
        for size in (224, 180):
            assert model(torch.randn(1, 3, size, size)).shape == (1, 1000)
    assert net.params == sum(p.numel() for p in model.parameters())
    convs = [(3, 96, 7), (96, 256, 5), (256, 384, 3), (384, 384, 3), (384, 256, 3)]
    fcs = [(12_800, 4096), (4096, 4096), (4096, 1000)]
    by_hand = sum(i * o * k * k + o for i, o, k in convs) + sum(i * o + o for i, o in fcs)
    assert net.params == by_hand


def test_yolov1_recomputes_its_7x7x30_output():
    net = cnnspec.loads((ROOT / "specs/yolov1.yaml").read_text(encoding="utf-8"), source="y")
    convs = [n for n in net.nodes if n.kind == "conv"]
    assert len(convs) == 24 and len([n for n in net.nodes if n.kind == "fc"]) == 2
    leaky = [n for n in net.nodes if n.kind == "leaky_relu"]
    assert len(leaky) == 25 and {n.negative_slope for n in leaky} == {0.1}
    assert net.node("detection.fc").out_maps == 7 * 7 * (2 * 5 + 20) == 1470
    assert net.output_shape == (30, 7, 7) and net.input_shape == (3, 448, 448)
    assert convs[-1].output_shape == (1024, 7, 7)
    weights = sum(n.in_maps * n.out_maps * math.prod(n.kernel) + n.out_maps for n in convs)
    fcs = 1024 * 7 * 7 * 4096 + 4096 + 4096 * 1470 + 1470
    assert net.params == weights + fcs
    # a grid of another size: the block's params carry through to the check
    other = (ROOT / "specs/yolov1.yaml").read_text(encoding="utf-8").replace("C: 20", "C: 21")
    with pytest.raises(cnnspec.SpecError) as info:
        cnnspec.loads(other, source="y")
    assert [d.code for d in info.value.diagnostics] == ["maps-mismatch"]
