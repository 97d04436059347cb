"""The compiler's stages in order, and the only place that runs them:
text → Document (:mod:`cnnspec.frontend`) → Spec (:mod:`cnnspec.schema`) → Network
(:mod:`cnnspec.check`)."""

from __future__ import annotations

import os

from .diagnostics import Diagnostic, Pos, SpecError, SpecFileError, printable
from .frontend.files import NotARegularFile, display_path, read_spec_bytes
from .frontend.include import include
from .frontend.load import decode, load_text, too_large
from .ir import Network


def loads(
    text: str | bytes,
    *,
    source: str = "<spec>",
    strict: bool = False,
    include_root: str | os.PathLike | None = None,
) -> Network:
    """Check spec text; return the IR or raise :class:`SpecError` with every problem.

    The files an ``include:`` names are read relative to ``source``'s folder (the working
    directory for ``<spec>``), and only inside ``include_root``: by default the nearest
    folder upward holding ``.git`` or ``pyproject.toml``, else the spec's own folder."""
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
    problems = include(doc, source, include_root)
    if problems:
        raise SpecError(problems, source)
    spec, problems = validate(doc)
    if spec is None:
        raise SpecError(problems, source)
    return check(spec, doc, source=source, strict=strict)


def load(
    path: str | os.PathLike,
    *,
    strict: bool = False,
    include_root: str | os.PathLike | None = None,
) -> Network:
    """Read and check a spec file (``include_root``: see :func:`loads`).

    Raises :class:`SpecError` for an invalid spec, and its subclass :class:`SpecFileError`
    (an ``OSError`` too) for a file that cannot be read: missing, not permitted, a FIFO,
    a device or a directory, or a path no file can have (a NUL, a lone surrogate)."""
    source = display_path(path)
    try:
        data, size = read_spec_bytes(path)
    except OSError as exc:
        raise _unreadable(source, exc.strerror or str(exc), exc.errno) from None
    except ValueError as exc:  # a NUL in the path; a lone surrogate (UnicodeEncodeError)
        what = "a NUL character" if "null" in str(exc) else "a character no file name can hold"
        raise _unreadable(source, f"the path holds {what}", None) from None
    if data is None:
        raise SpecError([too_large(size)], source)
    return loads(data, source=source, strict=strict, include_root=include_root)


def _unreadable(source: str, reason: str, errno: int | None) -> SpecFileError:
    """The error of a spec file that cannot be read, with its one ``[unreadable]`` line."""
    shown = printable(source)
    reason = reason[:1].lower() + reason[1:]
    message = f"cannot read {shown}: {reason}"
    return SpecFileError(
        [Diagnostic("error", message, "unreadable", Pos(1, 1))], shown, errno, reason
    )


__all__ = [
    "Diagnostic",
    "NotARegularFile",
    "SpecError",
    "SpecFileError",
    "display_path",
    "load",
    "loads",
]
