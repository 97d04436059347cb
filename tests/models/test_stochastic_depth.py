"""Stochastic depth's ramp: every block's drop probability in the EfficientNet and
ConvNeXt zoo specs equals torchvision's (tests/reference/torchvision_stochastic_depth.json,
written by tools/dump_stochastic_depth.py), block by block. torchvision puts one in every
block; the specs only where a residual add reads it, so the spec's are matched by path.

EfficientNet-B0…B7 are not among them yet: their blocks share one probability
(specs/blocks/efficientnet.yaml), because the ramp over a depth-scaled network, written
as one expression per stage, gives generated argument lines past the 100 columns the
generated code keeps to."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import cnnspec

ROOT = Path(__file__).resolve().parents[2]
REF = json.loads((ROOT / "tests/reference/torchvision_stochastic_depth.json").read_text())


RAMPED = sorted(n for n in REF["models"] if not n.startswith("efficientnet_b"))


def test_the_ramped_specs_are_the_recorded_ones_but_the_b_series():
    assert len(RAMPED) == len(REF["models"]) - 8 and "convnext_tiny" in RAMPED


@pytest.mark.parametrize("name", RAMPED)
def test_each_blocks_probability_is_torchvisions(name, monkeypatch):
    monkeypatch.chdir(ROOT)
    net = cnnspec.load(f"specs/zoo/{name}.yaml")
    got = {n.path: n.p for n in net.layers if n.kind == "stochastic_depth"}
    want = dict(map(tuple, REF["models"][name]))
    assert got, name
    assert set(got) <= set(want)
    assert {p: want[p] for p in got} == got  # exactly: the same float arithmetic
