"""A block library: a file of `blocks:` only, which specs share through `include:`.

Its schema is checked here: the document's keys (a library may hold `blocks`, `title`
and `include`), every block's params, types, defaults and names as in a full spec, and
every row's type. What else does not depend on an input is checked by
:mod:`cnnspec.elaborate.library`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from ..diagnostics import Diagnostic
from ..frontend.load import Document
from .errors import drop_explained, located
from .models import Library
from .validate import block_checks, block_tables, unknown_types

#: the keys a library document may have; a spec's network keys make it a spec
LIBRARY_KEYS = frozenset({"blocks", "title", "include"})


@dataclass(frozen=True)
class CheckedLibrary:
    """A library that checked: its blocks, in order, and its warnings."""

    blocks: tuple[str, ...]
    warnings: tuple[Diagnostic, ...] = ()
    source: str = "<spec>"


def is_library(data: Any) -> bool:
    """Whether the document is a block library: `blocks:` and no network keys."""
    return isinstance(data, dict) and "blocks" in data and set(data) <= LIBRARY_KEYS


def validate_library(doc: Document) -> tuple[Library | None, list[Diagnostic]]:
    """The library's schema, its rows' types, expressions and block arguments."""
    data = doc.data
    problems, done = block_tables(doc)
    if not done:
        return None, problems
    names = [b for b in data["blocks"] if isinstance(b, str)] if isinstance(data, dict) else []
    unknown = problems + unknown_types(doc, names)
    try:
        lib = Library.model_validate(data)
    except ValidationError as exc:
        found = [located(doc, err) for err in exc.errors(include_url=False)]
        return None, drop_explained(found) + unknown
    problems = unknown + block_checks(doc, lib)
    return (None, problems) if problems else (lib, [])
