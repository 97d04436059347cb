"""Every single conv and pool layer over small sizes, against what torch really does.

For each input size H, kernel k, stride s, padding p, dilation d (conv) and ceil_mode
(pools), the layer is run in torch and written as a one-row spec, and:

- cnnspec accepts the row exactly when torch runs the layer, and with torch's shape;
- cnnspec's `[inexact]` warning appears exactly when torch's last window leaves input
  pixels unseen (found by autograd: the trailing input pixels with a zero gradient
  for an all-ones kernel), more of them than the gap every window of a kernel narrower
  than its stride leaves anyway, and names how many;
- the same row written with the output `size` and no padding gets a padding that
  gives torch that size, and the smallest one that does (wherever inference looks:
  up to D·(k − 1) for a conv, k // 2 for a pool);
- `padding: same` is accepted exactly where torch's ``padding='same'`` runs, with
  its shape.

Nothing here uses cnnspec's formula: torch alone says what is right. The sweep is
exhaustive, and small enough to run everywhere (about 2,500 cases); ``CI=true``
widens it to H ≤ 12, k ≤ 5, p ≤ 4 (about 6,600 cases).
"""

from __future__ import annotations

import functools
import itertools
import os
import re

import pytest
import torch

F = torch.nn.functional

import cnnspec  # noqa: E402
from cnnspec.diagnostics import SpecError  # noqa: E402

CI = os.environ.get("CI") == "true"
SIZES = range(1, 13 if CI else 8)
KERNELS = range(1, 6 if CI else 5)
STRIDES = range(1, 4)
PADDINGS = range(0, 5 if CI else 4)
DILATIONS = range(1, 4)


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """Thousands of tiny layers: torch's threads only cost here."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _spec(row: str, h: int) -> str:
    return f"name: Sweep\ninput: {{maps: 1, size: {h}x{h}}}\nlayers:\n  - {row}\n"


def _check(row: str, h: int):
    """cnnspec's answer: (output shape, warnings) or (None, error codes)."""
    try:
        net = cnnspec.loads(_spec(row, h))
    except SpecError as exc:
        return None, [d.code for d in exc.errors]
    return net, list(net.warnings)


@functools.cache
def _torch_conv(h, k, s, p, d):
    """torch's output size and how many input rows at the end no window reaches, or None.

    The input is padded by hand, so that autograd sees the padding too: the gradient of
    the last output for an all-ones kernel marks the last window's taps, and whatever
    input lies past its last tap is never seen."""
    x = torch.zeros(1, 1, h, h)
    try:
        y = F.conv2d(x, torch.ones(1, 1, k, k), stride=s, padding=p, dilation=d)
    except RuntimeError:
        return None
    if y.numel() == 0:
        return None
    padded = F.pad(x, (p, p, p, p)).requires_grad_(True)
    last = F.conv2d(padded, torch.ones(1, 1, k, k), stride=s, dilation=d)[0, 0, -1, -1]
    last.backward()
    taps = padded.grad[0, 0].sum(dim=1).nonzero().flatten().tolist()
    tail = max(0, (p + h - 1) - taps[-1])
    return y.shape[-1], _beyond_gap(tail, k, s, d, y.shape[-1])


@functools.cache
def _torch_pool(kind, h, k, s, p, ceil):
    x = torch.zeros(1, 1, h, h)
    pool = F.max_pool2d if kind == "maxpool" else F.avg_pool2d
    try:
        y = pool(x, k, s, p, ceil_mode=ceil)
    except RuntimeError:
        return None
    if y.numel() == 0:
        return None
    # the input pixels the last window covers: the gradient of an average pool with the
    # same windows (max pooling's gradient goes to one pixel per window only)
    x.requires_grad_(True)
    twin = F.avg_pool2d(x, k, s, p, ceil_mode=ceil, count_include_pad=True)
    assert twin.shape == y.shape
    twin[0, 0, -1, -1].backward()
    covered = x.grad[0, 0].sum(dim=1).nonzero().flatten().tolist()
    assert covered, "a pool window always covers some input"
    return y.shape[-1], _beyond_gap(h - 1 - covered[-1], k, s, 1, y.shape[-1])


def _beyond_gap(tail: int, k: int, s: int, d: int, windows: int) -> int:
    """The unseen tail as a loss: a window narrower than the stride skips the pixels
    between windows anyway (a 1×1 stride-2 conv reads every other row), so a tail no
    longer than that gap is not the rounding's doing and is not reported."""
    gap = s - (d * (k - 1) + 1)
    return tail if windows < 2 or tail > gap else 0


def _lost_in_message(message: str) -> int:
    match = re.search(r"the last (?:(\d+) rows and columns|row and column) of the input", message)
    assert match, message
    return int(match[1] or 1)


def _compare(row: str, h: int, truth, stats: dict) -> None:
    net, said = _check(row, h)
    stats["cases"] += 1
    if truth is None:
        assert net is None, f"torch refuses {row} on {h}×{h}; cnnspec accepts it"
        stats["refused"] += 1
        return
    out, unseen = truth
    assert net is not None, f"torch runs {row} on {h}×{h} (→ {out}); cnnspec says {said}"
    assert net.output_shape == (1, out, out), (row, h, net.output_shape, out)
    inexact = [w for w in said if w.code == "inexact"]
    if unseen:
        assert len(inexact) == 1, f"{row} on {h}×{h} loses {unseen} input rows; no warning"
        assert _lost_in_message(inexact[0].message) == unseen, (row, h, inexact[0].message)
        stats["inexact"] += 1
    else:
        assert not inexact, f"{row} on {h}×{h} loses no input pixel: {inexact[0].message}"


def _inferred(row_without_padding: str, h: int, out: int, top: int, run) -> None:
    """Declared size, no padding: cnnspec must find the smallest padding ≤ top that gives
    ``out`` in torch (``run(p)`` is torch's output size for padding p, or None)."""
    fits = [q for q in range(top + 1) if run(q) == out]
    net, said = _check(row_without_padding.replace("}", f", size: {out}}}"), h)
    if not fits:
        assert net is None and "no-padding" in said, (row_without_padding, h, out, said)
        return
    assert net is not None, (row_without_padding, h, out, said)
    node = net.nodes[0]
    assert node.padding == (fits[0], fits[0]) and node.padding_inferred
    assert net.output_shape == (1, out, out)


def test_every_conv(sweep_stats):
    for h, k, s, p, d in itertools.product(SIZES, KERNELS, STRIDES, PADDINGS, DILATIONS):
        row = f"{{type: conv, maps: 1, kernel: {k}, stride: {s}, dilation: {d}, padding: {p}}}"
        truth = _torch_conv(h, k, s, p, d)
        _compare(row, h, truth, sweep_stats)
        if truth is not None and p <= d * (k - 1):
            bare = f"{{type: conv, maps: 1, kernel: {k}, stride: {s}, dilation: {d}}}"

            def run(q, h=h, k=k, s=s, d=d):
                got = _torch_conv(h, k, s, q, d)
                return got and got[0]

            _inferred(bare, h, truth[0], d * (k - 1), run)
            sweep_stats["inferred"] += 1


@pytest.mark.parametrize("kind", ["maxpool", "avgpool"])
def test_every_pool(kind, sweep_stats):
    for h, k, s, p, ceil in itertools.product(SIZES, KERNELS, STRIDES, PADDINGS, (False, True)):
        mode = ", ceil_mode: true" if ceil else ""
        row = f"{{type: {kind}, kernel: {k}, stride: {s}, padding: {p}{mode}}}"
        truth = _torch_pool(kind, h, k, s, p, ceil)
        _compare(row, h, truth, sweep_stats)
        if truth is not None:
            bare = f"{{type: {kind}, kernel: {k}, stride: {s}{mode}}}"

            def run(q, kind=kind, h=h, k=k, s=s, ceil=ceil):
                got = _torch_pool(kind, h, k, s, q, ceil)
                return got and got[0]

            _inferred(bare, h, truth[0], k // 2, run)
            sweep_stats["inferred"] += 1


def test_every_conv_with_padding_same(sweep_stats):
    """Even kernels included: torch pads the odd pixel on the right and bottom."""
    for h, k, s, d in itertools.product(SIZES, range(1, 6), (1, 2), DILATIONS):
        try:
            conv = torch.nn.Conv2d(1, 1, k, stride=s, dilation=d, padding="same")
        except ValueError:  # torch: padding='same' is not supported for strided convolutions
            out = None
        else:
            out = conv(torch.zeros(1, 1, h, h)).shape[-1]
        row = f"{{type: conv, maps: 1, kernel: {k}, stride: {s}, dilation: {d}, padding: same}}"
        net, said = _check(row, h)
        sweep_stats["cases"] += 1
        if out is None:
            assert net is None and said == ["padding-same"], (row, h, said)
            continue
        assert net is not None and net.output_shape == (1, out, out), (row, h, said)
        assert not said, (row, h, said)  # 'same' loses nothing


@pytest.fixture(scope="module")
def sweep_stats():
    stats = {"cases": 0, "refused": 0, "inexact": 0, "inferred": 0}
    yield stats
    print(
        f"\n[sweep] {stats['cases']:,} single-layer cases against torch "
        f"({stats['refused']:,} refused by both, {stats['inexact']:,} losing input pixels), "
        f"{stats['inferred']:,} padding inferences; 0 disagreements"
    )
