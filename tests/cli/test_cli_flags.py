"""Diagram flags that contradict each other are refused; those that combine are defined."""

from __future__ import annotations

from pathlib import Path

import pytest

import cnnspec
from cnnspec.cli import main

ROOT = Path(__file__).resolve().parents[2]


def test_collapse_with_expand_is_a_usage_error(tmp_path, capsys):
    code = main(
        [
            "compile",
            str(ROOT / "specs/resnet18.yaml"),
            "-o",
            str(tmp_path),
            "--collapse",
            "--expand",
        ]
    )
    err = capsys.readouterr().err
    assert code == 2
    assert err.splitlines() == [
        "cnnspec: error: --collapse folds repeated rows and --expand draws every one: "
        "give one of them"
    ]
    assert list(tmp_path.iterdir()) == []


def test_collapse_with_expand_is_refused_by_the_api():
    net = cnnspec.load(ROOT / "specs/resnet18.yaml")
    with pytest.raises(ValueError, match="give one of them"):
        cnnspec.diagram(net, collapse=True, expand=True)


def test_expand_with_depth_cuts_at_depth_and_never_folds():
    from cnnspec.backends.diagram.plan import graph_plan

    net = cnnspec.load(ROOT / "specs/zoo/resnet152.yaml")
    plan = graph_plan(net, expand=True, depth=2)
    assert (plan.depth, plan.folded) == (2, False)
    assert graph_plan(net, depth=2).folded is True  # alone, depth folds what passes a page
