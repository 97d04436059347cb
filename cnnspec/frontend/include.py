"""``include:``: the blocks of other files, merged into the spec's own ``blocks``.

The policy, under which a spec from anywhere can be checked (docs/spec-format.md,
"Includes"): an include names a regular YAML file by a path relative to the including
spec; the path must resolve, symbolic links followed, inside the include root (by
default the nearest folder, from the spec's own upward, holding ``.git`` or
``pyproject.toml``, else the spec's folder); the file is ``stat``-ed, and refused
unless it is a regular file within the size limit, before a byte of it is read.
Every refusal is an ``[include]`` error at the ``include:`` entry that names the file.
"""

from __future__ import annotations

import errno
import os
import stat
from dataclasses import replace
from pathlib import Path

from ..diagnostics import Diagnostic, Pos
from .files import (
    MAX_FILE_BYTES,
    ROOT_MARKERS,
    default_root,
    display_path,
    file_kind,
    read_regular,
    record_read,
)
from .load import Document, clip, decode, load_text

#: Most files a spec may include.
MAX_INCLUDES = 16

__all__ = ["MAX_INCLUDES", "ROOT_MARKERS", "default_root", "include"]


def include(doc: Document, source: str, root: str | os.PathLike | None = None) -> list[Diagnostic]:
    """Merge the blocks of the files a spec's ``include:`` names into its ``blocks``.

    Paths are relative to the spec's own file (``source``; the working directory for
    ``<spec>``) and must resolve inside ``root`` (by default :func:`default_root` of the
    spec's folder). An included file holds ``blocks:`` only; diagnostics inside it name
    that file. A block defined twice is an error."""
    data = doc.data
    if not isinstance(data, dict) or "include" not in data:
        return []
    names, problems = _names(doc)
    if problems:
        return problems
    base = Path(source).parent if not source.startswith("<") else Path.cwd()
    blocks = data.setdefault("blocks", {})
    if not isinstance(blocks, dict):
        return []  # the schema reports it
    inside = Path(os.path.realpath(root)) if root is not None else default_root(base)
    for i, name in enumerate(names):
        at = doc.pos(("include", i)) if isinstance(data["include"], list) else doc.pos(("include",))
        path = base / name
        inc, found = _read(path, inside, at)
        problems += found
        if inc is not None:
            problems += _merge(doc, inc, blocks, display_path(path), at)
    return problems


def _names(doc: Document) -> tuple[list[str], list[Diagnostic]]:
    """The file names ``include:`` gives, or the diagnostic saying why it gives none."""
    names = doc.data["include"]  # type: ignore[index]
    where = doc.pos(("include",))
    if isinstance(names, str):
        names = [names]
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        return [], [Diagnostic("error", "'include': expected a file name or a list", "type", where)]
    if len(names) > MAX_INCLUDES:
        return [], [
            Diagnostic("error", f"'include': more than {MAX_INCLUDES} files", "too-large", where)
        ]
    return names, []


class _Refused(Exception):
    """Why a file named by ``include:`` is not read."""


def _read(path: Path, root: Path, at: Pos) -> tuple[Document | None, list[Diagnostic]]:
    """The included file loaded, or the diagnostics that say why it is not."""
    raw: bytes | None = None
    try:
        raw = read_regular(*_admit(path, root))
        if len(raw) > MAX_FILE_BYTES:  # it grew after it was admitted
            raise _Refused(f"the file is over the limit of {MAX_FILE_BYTES:,} bytes")
    except _Refused as exc:
        return None, [_refusal(path, str(exc), at)]
    except OSError as exc:
        return None, [_refusal(path, _reason(exc), at)]
    finally:
        record_read(path, raw)
    shown = display_path(path)
    text, found = decode(raw)
    inc = None
    if text is not None:
        inc, found = load_text(text)
    if inc is None:
        return None, [_moved(d, shown) for d in found]
    if not isinstance(inc.data, dict) or set(inc.data) != {"blocks"}:
        message = f"an included file holds `blocks:` and nothing else ({shown})"
        return None, [Diagnostic("error", message, "include", at)]
    if not isinstance(inc.data["blocks"], dict):
        where = _pos(inc, ("blocks",), shown)
        return None, [Diagnostic("error", "'blocks': expected a mapping", "type", where)]
    return inc, []


def _admit(path: Path, root: Path) -> tuple[str, os.stat_result]:
    """The real path of an included file and its ``stat``, once it has passed every rule
    that can be decided without reading it; else :class:`_Refused` (or ``OSError``)."""
    if "\0" in str(path):
        raise _Refused("a file name cannot hold a NUL character")
    real = os.path.realpath(path)
    if not Path(real).is_relative_to(root):
        widen = "; --include-root widens it"
        if Path(os.path.abspath(path)).is_relative_to(root) or os.path.islink(path):
            shown = display_path(real)
            raise _Refused(
                f"it leads through a symbolic link to {shown}, outside the include root "
                f"{root}{widen}"
            )
        raise _Refused(f"it is outside the include root {root}{widen}")
    info = os.stat(real)
    if not stat.S_ISREG(info.st_mode):
        what = file_kind(info.st_mode)
        raise _Refused(
            "it is a directory" if what == "a directory" else f"it is not a regular file ({what})"
        )
    if info.st_size > MAX_FILE_BYTES:
        raise _Refused(
            f"the file is {info.st_size:,} bytes; specs and the files they include are "
            f"limited to {MAX_FILE_BYTES:,} bytes"
        )
    return real, info


def _reason(exc: OSError) -> str:
    if exc.errno == errno.ELOOP:
        return "it is a loop of symbolic links"
    if exc.errno in (errno.ENOENT, errno.ENOTDIR):
        return "no such file"
    text = exc.strerror or str(exc)
    return text[:1].lower() + text[1:]


def _refusal(path: Path, reason: str, at: Pos) -> Diagnostic:
    """``cannot include PATH: REASON [include]`` at the ``include:`` entry; the path as
    written (relative to the working directory when inside it), links not followed."""
    lexical = Path(os.path.abspath(path))
    try:
        shown = lexical.relative_to(os.getcwd()).as_posix()
    except ValueError:
        shown = lexical.as_posix()
    return Diagnostic("error", f"cannot include {clip(shown, 1000)}: {reason}", "include", at)


def _merge(doc: Document, inc: Document, blocks: dict, shown: str, at: Pos) -> list[Diagnostic]:
    """Add the included file's blocks, and their positions, to the spec's."""
    problems: list[Diagnostic] = []
    for bname, block in inc.data["blocks"].items():  # type: ignore[index]
        if bname in blocks:
            where = doc.pos(("blocks", bname), key=True) if ("blocks", bname) in doc.key_pos else at
            message = f"block '{bname}' is defined twice (here and in {shown})"
            problems.append(Diagnostic("error", message, "duplicate-block", where))
            continue
        blocks[bname] = block
    for table, target in ((inc.value_pos, doc.value_pos), (inc.key_pos, doc.key_pos)):
        for p, pos in table.items():
            if p[:1] == ("blocks",) and len(p) > 1 and p not in target:
                target[p] = Pos(pos.line, pos.col, shown)
    for p, r in inc.raw.items():
        if p[:1] == ("blocks",) and p not in doc.raw:
            doc.raw[p] = r
    return problems


def _pos(doc: Document, path: tuple, shown: str) -> Pos:
    pos = doc.pos(path)
    return Pos(pos.line, pos.col, shown)


def _moved(d: Diagnostic, shown: str) -> Diagnostic:
    pos = d.pos or Pos(1, 1)
    return replace(d, pos=Pos(pos.line, pos.col, shown))
