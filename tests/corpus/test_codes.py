"""The registry of diagnostic codes (cnnspec/codes.py) is complete and documented.

Every code the compiler can emit is found by reading its source (calls that make a
diagnostic with a literal code), every code in the bad-input corpus is registered,
no registered code is dead, and docs/spec-format.md carries the generated list.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from cnnspec.codes import CODES, markdown

ROOT = Path(__file__).resolve().parents[2]
#: codes built at run time rather than written as one literal
COMPOSED = {"printed-params", "printed-macs"}
#: codes given through a variable or a keyword (spec/errors.py's `located`, a replace)
ASSIGNED = re.compile(r'code ?= ?"([a-z-]+)"')


def _emitted() -> set[str]:
    found: set[str] = set()
    for path in sorted((ROOT / "cnnspec").rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        found.update(ASSIGNED.findall(text))
        for node in ast.walk(ast.parse(text)):
            if not isinstance(node, ast.Call):
                continue
            f = node.func
            name = f.id if isinstance(f, ast.Name) else getattr(f, "attr", None)
            at = {"Diagnostic": 2, "error": 1, "warn": 1, "_error": 1}.get(name or "")
            if at is None or len(node.args) <= at:
                continue
            arg = node.args[at]
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                found.add(arg.value)
    found.discard("note")
    return found | COMPOSED


def test_every_emitted_code_is_registered_and_none_is_dead():
    emitted = _emitted()
    assert emitted - set(CODES) == set(), "unregistered codes"
    assert set(CODES) - emitted == set(), "registered but never emitted"


def test_every_code_in_the_bad_corpus_is_registered():
    seen = set()
    for path in (ROOT / "tests" / "bad").glob("*.expected"):
        seen.update(re.findall(r"\[([a-z-]+)\]$", path.read_text(encoding="utf-8"), re.M))
    assert seen - set(CODES) == set()


def test_the_docs_list_every_code():
    page = (ROOT / "docs" / "spec-format.md").read_text(encoding="utf-8")
    assert markdown() in page, "run: python -m cnnspec.codes"
    for code in CODES:
        assert f"| `{code}` |" in page
