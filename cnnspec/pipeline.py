"""The front half of the compiler, end to end: text → Document → Spec → Network."""

from __future__ import annotations

import os
from pathlib import Path

from .diagnostics import Diagnostic, SpecError
from .ir import Network
from .load import MAX_FILE_BYTES, decode, load_text, too_large


def loads(text: str | bytes, *, source: str = "<spec>", strict: bool = False) -> Network:
    """Check spec text; return the IR or raise :class:`SpecError` with every problem."""
    from .check import check
    from .schema import validate

    if isinstance(text, bytes):
        decoded, problems = decode(text)
        if decoded is None:
            raise SpecError(problems, source)
        text = decoded
    doc, problems = load_text(text)
    if doc is None:
        raise SpecError(problems, source)
    spec, problems = validate(doc)
    if spec is None:
        raise SpecError(problems, source)
    return check(spec, doc, source=source, strict=strict)


def display_path(path: str | os.PathLike) -> str:
    """The path as a person would type it: relative to the working directory when inside it."""
    p = Path(path)
    try:
        return p.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return p.as_posix()


def load(path: str | os.PathLike, *, strict: bool = False) -> Network:
    """Read and check a spec file.

    Raises :class:`SpecError` for an invalid spec and ``OSError`` for an unreadable file."""
    source = display_path(path)
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        if size > MAX_FILE_BYTES:
            raise SpecError([too_large(size)], source)
        data = f.read(MAX_FILE_BYTES + 1)
    return loads(data, source=source, strict=strict)


__all__ = ["Diagnostic", "SpecError", "load", "loads", "display_path"]
