"""docs/spec-format.md's table of row keys says exactly what the kind registry takes:
every row type, and for every key the kinds that take it."""

from __future__ import annotations

import re
from pathlib import Path

from cnnspec.kinds import KINDS

DOC = Path(__file__).resolve().parents[2] / "docs" / "spec-format.md"
_TICKED = re.compile(r"`([a-z_0-9]+)`")


def _rows_table() -> list[list[str]]:
    text = DOC.read_text(encoding="utf-8")
    start = text.index("| key | rows | meaning |")
    lines = text[start:].split("\n\n", 1)[0].splitlines()[2:]
    return [[cell.strip() for cell in line.strip("|").split(" | ")] for line in lines]


def _registry() -> set[tuple[str, str]]:
    return {
        (name, f.alias or field)
        for name, k in KINDS.items()
        for field, f in k.model.model_fields.items()
    }


def _documented() -> set[tuple[str, str]]:
    pairs = set()
    for keys, rows, _meaning in _rows_table():
        kinds = list(KINDS) if rows == "all" else _TICKED.findall(rows)
        pairs |= {(kind, key) for key in _TICKED.findall(keys) for kind in kinds}
    return pairs


def test_every_row_key_of_every_kind_is_documented():
    missing = sorted(_registry() - _documented())
    assert missing == [], f"kinds' keys missing from {DOC.name}'s table: {missing}"


def test_the_docs_name_no_key_a_kind_does_not_take():
    stale = sorted(_documented() - _registry())
    assert stale == [], f"{DOC.name}'s table names keys its kinds do not take: {stale}"


def test_every_row_type_and_activation_is_listed():
    table = {row[0]: row for row in _rows_table()}
    assert _TICKED.findall(table["`type`"][2]) == list(KINDS)
    from cnnspec.kinds import ACTIVATIONS

    listed = _TICKED.findall(table["`activation`"][2])
    assert listed[: len(ACTIVATIONS) + 1] == [*ACTIVATIONS, "none"]
