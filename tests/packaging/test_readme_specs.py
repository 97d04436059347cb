"""The README's table of specs: every row that names one spec file and one exact
parameter count states what cnnspec computes for that spec, and every spec under
specs/ has a row."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import cnnspec

ROOT = Path(__file__).resolve().parents[2]
TABLE = ROOT.joinpath("README.md").read_text(encoding="utf-8").split("## The specs", 1)[1]
TABLE = TABLE.split("\n## ", 1)[0]
ROWS = [
    (m.group(1), int(m.group(2).replace(",", "")))
    for m in re.finditer(r"^\| `(specs/[\w/]+\.yaml)` \|[^\n]*\| ([\d,]+) \|$", TABLE, re.M)
]


def test_the_table_has_rows_to_check():
    assert len(ROWS) >= 20, ROWS


@pytest.mark.parametrize(("path", "params"), ROWS, ids=[p for p, _ in ROWS])
def test_a_rows_params_are_cnnspecs(path, params, monkeypatch):
    monkeypatch.chdir(ROOT)
    assert cnnspec.load(path).params == params


def test_every_paper_spec_has_a_row():
    named = set(re.findall(r"`(specs/[\w/]+\.yaml)`", TABLE))
    named |= {f"specs/{n}" for n in re.findall(r"`specs/[\w/]*?([\w]+\.yaml)`", TABLE)}
    missing = [
        f"specs/{p.name}"
        for p in sorted((ROOT / "specs").glob("*.yaml"))
        if f"specs/{p.name}" not in named and p.stem not in TABLE
    ]
    assert not missing
