"""`cnnspec check --sizes`: which input sizes a network accepts, against brute force in
plain torch — each small network written by hand with torch.nn, run at every size on the
meta device (shapes only), the sizes where it runs compared with cnnspec's walk."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import cnnspec
from cnnspec.sizes import accepted, describe, report

TOP = 140  # sizes tried in torch, 1 … TOP


class Pyramid(nn.Module):
    """A two-level top-down step: by a factor of 2 (``like`` False) or to the lateral."""

    def __init__(self, like: bool) -> None:
        super().__init__()
        self.like = like
        self.c1 = nn.Conv2d(3, 4, 3, 2, 1)
        self.c2 = nn.Conv2d(4, 4, 3, 2, 1)
        self.lat = nn.Conv2d(4, 4, 1)

    def forward(self, x):
        c1 = self.c1(x)
        top = self.c2(c1)
        size = c1.shape[-2:] if self.like else None
        up = F.interpolate(top, size=size, scale_factor=None if self.like else 2.0)
        lat = self.lat(c1)
        if up.shape != lat.shape:  # an add of one shape; torch would broadcast a 1 silently
            raise RuntimeError(f"add of {up.shape} and {lat.shape}")
        return up + lat


class PyramidNet(nn.Module):
    """A conv, a pyramid of 4×4, 2×2 and 1×1 max-pooled bins (refused, as cnnspec refuses
    it, on a map smaller than its largest level), an fc; then the fc's vector read as
    2×5×5."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, 2)
        self.fc = nn.Linear(4 * (16 + 4 + 1), 50)

    def forward(self, x):
        x = self.conv(x)
        if min(x.shape[-2:]) < 4:
            raise RuntimeError("a pyramid level larger than its input")
        bins = [F.adaptive_max_pool2d(x, n).flatten(1) for n in (4, 2, 1)]
        v = self.fc(torch.cat(bins, 1))
        return v.view(-1, 2, 5, 5)


PYRAMID = """
name: Pyramid
input: {maps: 3, size: 32x32}
layers:
  - {name: c1, type: conv, maps: 4, kernel: 3, stride: 2, padding: 1}
  - {name: c2, type: conv, maps: 4, kernel: 3, stride: 2, padding: 1}
  - {name: lat, type: conv, maps: 4, kernel: 1, from: c1}
  - {name: up, type: upsample, %s, from: c2}
  - {name: add, type: add, from: [up, lat]}
"""

CASES = {
    "chain": (
        """
name: Chain
input: {maps: 3, size: 64x64}
layers:
  - {type: conv, maps: 4, kernel: 7, stride: 2, padding: 3}
  - {type: maxpool, kernel: 3, stride: 2, ceil_mode: true}
  - {type: conv, maps: 4, kernel: 5, dilation: 2}
  - {type: avgpool, kernel: 2, stride: 2}
""",
        lambda: nn.Sequential(
            nn.Conv2d(3, 4, 7, 2, 3),
            nn.MaxPool2d(3, 2, ceil_mode=True),
            nn.Conv2d(4, 4, 5, dilation=2),
            nn.AvgPool2d(2, 2),
        ),
    ),
    "fixed_fc": (
        """
name: FixedFC
input: {maps: 1, size: 28x28}
layers:
  - {type: conv, maps: 2, kernel: 5}
  - {type: maxpool, kernel: 2}
  - {type: flatten}
  - {type: fc, size: 10}
""",
        lambda: nn.Sequential(
            nn.Conv2d(1, 2, 5), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(2 * 12 * 12, 10)
        ),
    ),
    "spp_reshape": (
        """
name: SPP
input: {maps: 3, size: 33x33}
layers:
  - {type: conv, maps: 4, kernel: 3, stride: 2}
  - {type: spp, levels: [4, 2, 1]}
  - {type: fc, size: 50}
  - {type: reshape, shape: [2, 5, 5]}
""",
        PyramidNet,
    ),
    "scale_2": (PYRAMID % "scale: 2", lambda: Pyramid(like=False)),
    "like": (PYRAMID % "like: lat", lambda: Pyramid(like=True)),
}


def _runs(model: nn.Module, h: int, w: int) -> bool:
    try:
        with torch.no_grad():
            model(torch.empty(1, model.maps, h, w, device="meta"))
    except RuntimeError:
        return False
    return True


@pytest.mark.parametrize("case", list(CASES))
def test_the_sizes_are_those_torch_runs(case: str):
    text, make = CASES[case]
    net = cnnspec.loads(text)
    model = make().to("meta").eval()
    model.maps = net.input_shape[0]
    _, h0, w0 = net.input_shape
    for axis in (0, 1):
        got = [n for n in accepted(net, axis).sizes if n <= TOP]
        want = [n for n in range(1, TOP + 1) if _runs(model, *((n, w0) if axis == 0 else (h0, n)))]
        assert got == want, (case, axis)
        # the generated module agrees: check says it runs there, and it does
        built = cnnspec.build(net).to("meta").eval()
        built.maps = net.input_shape[0]
        for n in want[:5] + want[-5:]:
            assert _runs(built, *((n, w0) if axis == 0 else (h0, n)))


def test_the_rules_read_as_a_person_writes_them():
    assert describe(tuple(range(32, 2049, 32)), 2048) == "H = 32k, k ≥ 1"
    assert describe(tuple(range(63, 2049, 2)), 2048) == "H ≥ 63 and odd"
    assert describe(tuple(range(1, 2049)), 2048) == "any H ≥ 1"
    assert describe((224,), 2048) == "only H = 224"
    assert describe((), 2048) == "no H in 1–2048"
    assert describe((5, 7, *range(20, 2049)), 2048) == "any H ≥ 20, or H = 5, 7"
    mixed = tuple(v for v in range(7, 2049) if v % 8 in (0, 7))
    assert describe(mixed, 2048) == "H = 8k or 8k + 7 (k ≥ 0), H ≥ 7"
    assert describe(tuple(range(224, 256)), 2048, "W") == "W in 224–255"


def test_an_fpn_with_like_runs_at_every_size_and_one_with_scale_does_not():
    like = report(cnnspec.load("specs/fpn_tiny.yaml"))
    assert like == ["input sizes: any H (and W) ≥ 1 (tried 1–2048, the other axis at 64)"]
    scale = cnnspec.loads(CASES["scale_2"][0])
    assert describe(accepted(scale, 0).sizes, 2048) == "H = 4k or 4k + 3 (k ≥ 0), H ≥ 3"


def test_a_fixed_fc_accepts_a_short_range_and_says_so():
    net = cnnspec.loads(CASES["fixed_fc"][0])
    assert report(net) == ["input sizes: H (and W) = 28, 29 (tried 1–2048, the other axis at 28)"]


def test_the_walk_is_fast_on_a_large_network():
    net = cnnspec.load("specs/zoo/resnet152.yaml")
    start = time.perf_counter()
    lines = report(net)
    assert time.perf_counter() - start < 2.0
    assert lines == ["input sizes: any H (and W) ≥ 1 (tried 1–2048, the other axis at 224)"]


def test_check_sizes_prints_the_rule_and_imports_no_torch():
    code = (
        "import sys; from cnnspec.cli import main; rc = main(['check', '--sizes', "
        "'specs/fpn_tiny.yaml']); assert 'torch' not in sys.modules; sys.exit(rc)"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines()[-1] == (
        "specs/fpn_tiny.yaml: input sizes: any H (and W) ≥ 1 (tried 1–2048, the other axis at 64)"
    )
