"""What a network returns: its last row, or the rows its top-level `outputs:` names.

`outputs:` is a list of row names (``forward`` returns a tuple in that order) or a
mapping key → row name (a dict with those keys, in that order). Each name is resolved by
:func:`resolve`; a path into a container (``body.layer2``) is read by the walk first, as
a `from:` path is, and then stands in the scope's values.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..diagnostics import Pos
from ..frontend.load import Document
from ..spec.models import Spec
from .scope import Scope, Value


@dataclass(frozen=True)
class Entry:
    """One `outputs:` entry as written."""

    key: str | None  # the dict key; None in a list
    row: str  # the row it names
    pos: Pos  # where the name is written


def entries(spec: Spec, doc: Document) -> tuple[Entry, ...]:
    """The `outputs:` entries in order (none without the key)."""
    outputs = spec.outputs
    if outputs is None:
        return ()
    if isinstance(outputs, dict):
        return tuple(Entry(k, v, doc.pos(("outputs", k))) for k, v in outputs.items())
    return tuple(Entry(None, v, doc.pos(("outputs", i))) for i, v in enumerate(outputs))


def resolve(top: Scope, name: str) -> Value | str:
    """The value an output name stands for in the network's scope, or why there is none:
    a top-level row's, or a container's row by its path (``body.layer2``, read by the
    walk as a `from:` path is)."""
    if name in top.absent:
        return f"'{name}' is absent (its `if:` is false), so there is nothing to return"
    value = top.values.get(name)
    if value is None:
        known = ", ".join(n for n in top.values if "." not in n) or "none"
        return f"'{name}' is not a row of the network's `layers`; its rows: {known}"
    return value


def check(walker, top: Scope, written: tuple[Entry, ...]) -> list[tuple[Entry, Value]]:
    """Each output resolved, each problem reported at its entry; the resolved ones."""
    out = []
    seen: set[str] = set()
    for entry in written:
        if "." in entry.row and entry.row not in top.values:
            continue  # a path into a container the walk could not read: reported there
        value = resolve(top, entry.row)
        if isinstance(value, str):
            walker.error(value, "output", entry.pos, None)
        elif entry.row in seen:
            walker.error(f"'{entry.row}' is listed twice", "output", entry.pos, None)
        else:
            out.append((entry, value))
        seen.add(entry.row)
    return out


def check_keys(walker, spec: Spec, training: tuple[str, ...]) -> None:
    """In training, a dict of outputs holds each training output under its row's name: no
    training output may be named like one of the dict's keys."""
    if not isinstance(spec.outputs, dict):
        return
    for i, name in enumerate(training):
        if name in spec.outputs:
            walker.error(
                f"'{name}' is also a key of `outputs`; in training the dict holds each "
                "training output under its row's name",
                "training-output",
                walker.doc.pos(("training_outputs", i)),
                None,
            )
