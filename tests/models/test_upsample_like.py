"""`upsample` with `like:` (specs/fpn_tiny.yaml): the output takes another row's H×W at
every input size. The generated module is compared, weights copied in, with a feature
pyramid written by hand in plain torch (F.interpolate to the lateral's size, as FPN's
top-down path does), at the spec's size and at sizes that do not halve cleanly."""

from __future__ import annotations

import re

import torch
import torch.nn.functional as F
from torch import nn

import cnnspec

SPEC = "specs/fpn_tiny.yaml"


class HandFPN(nn.Module):
    """The same network, written without cnnspec."""

    def __init__(self) -> None:
        super().__init__()
        self.c1 = nn.Conv2d(3, 16, 3, 2, 1)
        self.c2 = nn.Conv2d(16, 32, 3, 2, 1)
        self.c3 = nn.Conv2d(32, 64, 3, 2, 1)
        self.lat3 = nn.Conv2d(64, 32, 1)
        self.lat2 = nn.Conv2d(32, 32, 1)
        self.lat1 = nn.Conv2d(16, 32, 1)
        self.smooth = nn.Conv2d(32, 32, 3, padding=1)
        self.score = nn.Conv2d(32, 5, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        c1 = F.relu(self.c1(x))
        c2 = F.relu(self.c2(c1))
        c3 = F.relu(self.c3(c2))
        lat2 = self.lat2(c2)
        p2 = F.interpolate(self.lat3(c3), size=lat2.shape[-2:], mode="nearest") + lat2
        lat1 = self.lat1(c1)
        p1 = F.interpolate(p2, size=lat1.shape[-2:], mode="nearest") + lat1
        y = self.score(F.relu(self.smooth(p1)))
        return F.interpolate(y, size=x.shape[-2:], mode="bilinear", align_corners=False)


def test_fpn_tiny_equals_a_hand_written_pyramid_at_every_size():
    net = cnnspec.load(SPEC)
    model = cnnspec.build(net).eval()
    hand = HandFPN().eval()
    assert [k for k, _ in hand.state_dict().items()] == list(model.state_dict())
    assert net.params == sum(p.numel() for p in hand.parameters())
    torch.manual_seed(0)
    for p in hand.parameters():
        nn.init.normal_(p, std=0.2)
    model.load_state_dict(hand.state_dict())
    for size in [(64, 64), (50, 70), (33, 47), (7, 9)]:
        x = torch.randn(2, 3, *size)
        with torch.no_grad():
            got, want = model(x), hand(x)
        assert got.shape == (2, 5, *size)
        torch.testing.assert_close(got, want, rtol=0, atol=0)


def test_the_upsample_writes_the_laterals_size():
    source = cnnspec.torch_source(cnnspec.load(SPEC))
    assert "nn.functional.interpolate(lat3, size=lat2.shape[-2:])" in source
    assert 'size=x.shape[-2:], mode="bilinear", align_corners=False' in source


def test_a_scale_2_pyramid_fails_where_like_runs():
    """The same top-down step written with `scale: 2` checks at 64×64 but not at 50×70:
    a 13×18 map doubled is 26×36, and its lateral is 25×35."""
    text = open(SPEC, encoding="utf-8").read()
    text = text.replace("like: lat2, from: lat3", "scale: 2, from: lat3")
    assert cnnspec.loads(text).output_shape == (5, 64, 64)
    # the declared sizes are the 64×64 input's: leave them out, and check at 50×70
    odd = re.sub(r", size: \d+x\d+", "", text).replace("maps: 3}", "maps: 3, size: 50x70}")
    try:
        cnnspec.loads(odd)
    except cnnspec.SpecError as exc:
        assert [d.code for d in exc.diagnostics] == ["add-shape"]
    else:
        raise AssertionError("a scale-2 pyramid checked at 50×70")
