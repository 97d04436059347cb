"""A block library's checks beyond its schema: what does not depend on an input.

A library has no network, so nothing in it has a shape yet. Checked here, with every
problem located:

- every expression parses and names only its block's params (and `in_maps`);
- a row of a block type passes only that block's params, and every param the block has
  no default for (in the row or its `first:`);
- no block instantiates itself, directly or through others.

The rows' shapes are checked where a spec instantiates the block.
"""

from __future__ import annotations

from typing import Any

from .. import expr as ex
from ..diagnostics import Diagnostic
from ..frontend.load import Document
from ..spec.library import Library
from ..spec.models import BlockSpec
from ..spec.validate import BLOCK_ROW_KEYS
from .blocks import find_cycles
from .state import WalkState

#: row keys whose values are not expressions (names, and a block row's per-copy overrides)
_NOT_EXPR = frozenset({"type", "name", "names", "from", "layers"})


def check_library(doc: Document, lib: Library) -> list[Diagnostic]:
    """Every problem of the library's blocks that does not depend on an input."""
    problems: list[Diagnostic] = []
    for name, block in lib.blocks.items():
        params = {p: None for p in block.params}
        for path, row in _rows(block.layers or [], ("blocks", name, "layers")):
            problems += _expressions(doc, row, path, params)
            kind = row.get("type")
            if isinstance(kind, str) and kind in lib.blocks:
                problems += _arguments(doc, row, path, kind, lib.blocks[kind])
    state = WalkState(doc, graph=False)
    find_cycles(state, lib.blocks, set())
    return problems + state.diagnostics


def _rows(rows: list, path: tuple) -> list[tuple[tuple, dict]]:
    """Every row under ``path``, the rows of containers inside it included."""
    out: list[tuple[tuple, dict]] = []
    stack = [(path, rows)]
    while stack:
        where, items = stack.pop()
        for i, row in enumerate(items if isinstance(items, list) else []):
            if isinstance(row, dict):
                out.append((where + (i,), row))
                if isinstance(row.get("layers"), list):
                    stack.append((where + (i, "layers"), row["layers"]))
    return sorted(out)


def _expressions(doc: Document, row: dict, path: tuple, params: dict) -> list[Diagnostic]:
    out = []
    if "repeat" in row:  # a repeated row's expressions may read its copy's index
        params = {**params, ex.COPY: None}
    stack: list[tuple[tuple, Any]] = [
        (path + (k,), v) for k, v in row.items() if k not in _NOT_EXPR
    ]
    while stack:
        where, value = stack.pop()
        if isinstance(value, list):
            stack.extend((where + (j,), v) for j, v in enumerate(value))
        elif isinstance(value, dict):
            stack.extend((where + (k,), v) for k, v in value.items())
        elif ex.is_expr(value):
            try:
                ex.parse(value, params)
            except ex.ExprError as exc:
                key = next(p for p in reversed(where) if isinstance(p, str))
                out.append(Diagnostic("error", f"'{key}': {exc}", "expr", doc.pos(where)))
    return out


def _arguments(
    doc: Document, row: dict, path: tuple, name: str, block: BlockSpec
) -> list[Diagnostic]:
    """A row of block type ``name``: only its params, and each one without a default."""
    out = []
    for key in row:
        if key not in BLOCK_ROW_KEYS and key not in block.params:
            known = ", ".join(block.params) or "none"
            out.append(
                Diagnostic(
                    "error",
                    f"block '{name}' has no param '{key}'; its params: {known}",
                    "block-param",
                    doc.pos(path + (key,), key=True),
                )
            )
    given = row.get("first")
    first: dict = given if isinstance(given, dict) else {}
    for param, decl in block.params.items():
        if decl.default is None and param not in row and param not in first:
            out.append(
                Diagnostic(
                    "error",
                    f"block '{name}' needs '{param}' (it has no default)",
                    "missing",
                    doc.pos(path),
                )
            )
    return out
