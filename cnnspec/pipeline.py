"""The compiler's stages in order, and the only place that runs them: text → Document
(:mod:`cnnspec.frontend`) → Spec (:mod:`cnnspec.spec`) → Network (:mod:`cnnspec.elaborate`,
then the lowering of a graph's classes, :mod:`cnnspec.backends.torch.lower`).

The stages after the front end are imported when a spec is first checked, so that
``import cnnspec`` stays cheap."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from .deep import deep_stack
from .diagnostics import Diagnostic, Pos, SpecError, SpecFileError, printable
from .frontend.files import NotARegularFile, display_path, read_spec_bytes
from .frontend.include import include
from .frontend.load import Document, decode, load_text, too_large
from .ir import Network

if TYPE_CHECKING:  # pragma: no cover
    from .spec.library import CheckedLibrary
    from .spec.models import Spec


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
    folder upward holding ``.git`` or ``pyproject.toml``, else the spec's own folder.
    A block library (a file of ``blocks:`` only) has no network: :func:`loads_any` checks
    it, and this raises a ``[library]`` error for it."""
    found = loads_any(text, source=source, strict=strict, include_root=include_root)
    if not isinstance(found, Network):
        message = (
            f"the file defines {_blocks_text(found.blocks)} and no network (a block library, "
            "which specs use through include:); a spec needs name, input and layers"
        )
        raise SpecError([Diagnostic("error", message, "library", Pos(1, 1))], source)
    return found


def _blocks_text(names: tuple[str, ...]) -> str:
    return f"{len(names)} block{'s' if len(names) != 1 else ''}"


def loads_any(
    text: str | bytes,
    *,
    source: str = "<spec>",
    strict: bool = False,
    include_root: str | os.PathLike | None = None,
) -> Network | CheckedLibrary:
    """Like :func:`loads`, but a block library is checked too: everything in it that does
    not depend on an input (its schema, rows' types, expressions, block arguments,
    recursion); the result lists its blocks."""
    from .spec.library import CheckedLibrary, is_library, validate_library
    from .spec.validate import validate

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
    if is_library(doc.data):
        from .elaborate.library import check_library

        lib, problems = validate_library(doc)
        if lib is not None:
            problems = check_library(doc, lib)
        if lib is None or any(d.severity == "error" for d in problems):
            raise SpecError(problems, source)
        return CheckedLibrary(tuple(lib.blocks), tuple(problems), source)
    spec, problems = validate(doc)
    if spec is None:
        raise SpecError(problems, source)
    return check(spec, doc, source=source, strict=strict)


@deep_stack
def check(spec: Spec, doc: Document, *, source: str = "<spec>", strict: bool = False) -> Network:
    """Stage 3: resolve and check every row; raise :class:`SpecError` listing every problem.

    The classes a graph network's PyTorch source is written from are lowered here (the
    lowering is pure and torch-free) because their merge reports ``[block-varies]``,
    which ``cnnspec check`` must show."""
    from .backends.torch.lower import lower
    from .elaborate.stage import elaborate

    done = elaborate(spec, doc)
    classes, problems = lower(done.trace) if done.trace is not None else ((), [])
    return done.network(classes, problems, source=source, strict=strict)


def load(
    path: str | os.PathLike,
    *,
    strict: bool = False,
    include_root: str | os.PathLike | None = None,
) -> Network:
    """Read and check a spec file (``include_root``: see :func:`loads`).

    Raises :class:`SpecError` for an invalid spec, and its subclass :class:`SpecFileError`
    (an ``OSError`` too) for a file that cannot be read: missing, not permitted, a FIFO,
    a device or a directory, or a path no file can have (a NUL, a lone surrogate).
    :func:`load_any` checks a block library too."""
    source, data = _read(path)
    return loads(data, source=source, strict=strict, include_root=include_root)


def load_any(
    path: str | os.PathLike,
    *,
    strict: bool = False,
    include_root: str | os.PathLike | None = None,
) -> Network | CheckedLibrary:
    """Read and check a spec file or a block library (see :func:`loads_any`)."""
    source, data = _read(path)
    return loads_any(data, source=source, strict=strict, include_root=include_root)


def _read(path: str | os.PathLike) -> tuple[str, bytes]:
    """The path as diagnostics show it, and the file's bytes."""
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
    return source, data


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
    "load_any",
    "loads",
    "loads_any",
]
