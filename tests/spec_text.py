"""Small specs written as YAML text, and the diagnostics of one that fails.

Shared by the tests of single rows (tests/kinds, tests/spec, tests/elaborate,
tests/backends/torch); importable from every test folder (pytest's ``pythonpath``).
"""

from __future__ import annotations

import pytest

import cnnspec
from cnnspec.diagnostics import SpecError


def spec(*rows: str, input: str = "{maps: 3, size: 5x5}", head: str = "name: Net\n") -> str:
    """A chain spec: the HEAD lines, INPUT, then one ``layers`` item per row."""
    return f"{head}input: {input}\nlayers:\n" + "".join(f"  - {r}\n" for r in rows)


def report(text: str, **kw) -> list[str]:
    """The diagnostics of an invalid spec, one line each (its source named t.yaml)."""
    with pytest.raises(SpecError) as info:
        cnnspec.loads(text, source="t.yaml", **kw)
    return info.value.report().splitlines()
