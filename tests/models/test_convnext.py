"""ConvNeXt: the paper's ConvNeXt-T (specs/convnext_tiny.yaml, its stage configuration as
printed) against torchvision's (specs/zoo/convnext_tiny.yaml, key for key with the
fixture in tests/backends/torch/test_graph_torch.py): the same function and counts."""

from __future__ import annotations

from pathlib import Path

import torch

import cnnspec

ROOT = Path(__file__).resolve().parents[2]


def _load(name: str) -> cnnspec.Network:
    return cnnspec.load(ROOT / "specs" / name)


def test_the_paper_spec_checks_its_printed_figures_without_a_warning():
    net = _load("convnext_tiny.yaml")
    assert net.warnings == ()
    assert (net.params, net.macs) == (28_589_128, 4_468_989_832)  # "28.6M", "4.5G"
    stages = {g.path: g.output_shape for g in net.groups if g.path.startswith("res")}
    assert {p: s for p, s in stages.items() if "." not in p} == {
        "res2": (96, 56, 56),
        "res3": (192, 28, 28),
        "res4": (384, 14, 14),
        "res5": (768, 7, 7),
    }
    assert [len([g for g in net.groups if g.path.count(".") == 1 and g.path.startswith(s)])
            for s in ("res2.", "res3.", "res4.", "res5.")] == [3, 3, 9, 3]  # fmt: skip


def test_the_paper_spec_is_torchvisions_function():
    paper, zoo = _load("convnext_tiny.yaml"), _load("zoo/convnext_tiny.yaml")
    assert (paper.params, paper.macs) == (zoo.params, zoo.macs)
    a, b = cnnspec.build(paper).eval(), cnnspec.build(zoo).eval()
    shapes = [tuple(t.shape) for t in a.state_dict().values()]
    assert shapes == [tuple(t.shape) for t in b.state_dict().values()]
    b.load_state_dict(dict(zip(b.state_dict(), a.state_dict().values())), strict=True)
    x = torch.randn(1, 3, 64, 64)  # the adaptive pool takes any size; small keeps it quick
    with torch.no_grad():
        torch.testing.assert_close(a(x), b(x))
