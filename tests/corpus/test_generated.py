"""generated/ is the golden record of `cnnspec compile specs/*.yaml`.

When a test here fails, regenerate with `cnnspec compile specs/*.yaml` and review the diff."""

from __future__ import annotations

import difflib
import subprocess
import sys
from pathlib import Path

import pytest

from cnnspec import load
from cnnspec.backends.diagram import svg_is_current
from cnnspec.cli import outputs_for

ROOT = Path(__file__).resolve().parents[2]
SPECS = sorted((ROOT / "specs").glob("*.yaml"))


@pytest.fixture(autouse=True)
def _at_root(monkeypatch):
    monkeypatch.chdir(ROOT)  # headers name the spec relative to the working directory


@pytest.mark.parametrize("spec", SPECS, ids=lambda p: p.stem)
def test_generated_files_are_current(spec):
    net = load(spec.relative_to(ROOT))
    for name, data in outputs_for(net, spec.stem).items():
        assert data is not None, "Graphviz's dot is needed to render the SVG"
        committed = ROOT / "generated" / name
        assert committed.exists(), f"{committed} is missing: run `cnnspec compile specs/*.yaml`"
        old = committed.read_bytes()
        if name.endswith(".svg"):
            # an SVG is current when it was drawn from this DOT text, by any Graphviz
            dot = outputs_for(net, spec.stem)[f"{spec.stem}.dot"]
            assert svg_is_current(old, dot.decode()), (
                f"generated/{name} was not drawn from the current DOT; run "
                "`cnnspec compile specs/*.yaml`"
            )
            continue
        if old != data:
            diff = "".join(
                difflib.unified_diff(
                    old.decode(errors="replace").splitlines(keepends=True),
                    data.decode(errors="replace").splitlines(keepends=True),
                    f"generated/{name} (committed)",
                    f"generated/{name} (fresh)",
                    n=2,
                )
            )
            pytest.fail(f"generated/{name} is stale; run `cnnspec compile specs/*.yaml`\n{diff}")


def test_generated_holds_nothing_else():
    expected = {f"{s.stem}.{ext}" for s in SPECS for ext in ("py", "dot", "svg")}
    assert {p.name for p in (ROOT / "generated").iterdir()} == expected


def test_compile_check_agrees():
    out = subprocess.run(
        [sys.executable, "-m", "cnnspec", "compile", "--check", *map(str, SPECS)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout == ""


def test_generated_modules_pass_ruff():
    files = sorted(str(p) for p in (ROOT / "generated").glob("*.py"))
    for args in (["check", "--isolated", "--select", "E,F,W,I,B,UP"], ["format", "--check"]):
        out = subprocess.run(
            [sys.executable, "-m", "ruff", *args, "--line-length", "100", *files],
            capture_output=True,
            text=True,
        )
        assert out.returncode == 0, out.stdout + out.stderr
