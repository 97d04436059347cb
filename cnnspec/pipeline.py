"""The front half of the compiler, end to end: text → Document → Spec → Network."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from .diagnostics import Diagnostic, Pos, SpecError
from .ir import Network
from .load import MAX_FILE_BYTES, Document, decode, load_text, too_large


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
    problems = include(doc, source)
    if problems:
        raise SpecError(problems, source)
    spec, problems = validate(doc)
    if spec is None:
        raise SpecError(problems, source)
    return check(spec, doc, source=source, strict=strict)


#: Most files a spec may include.
MAX_INCLUDES = 16


def include(doc: Document, source: str) -> list[Diagnostic]:
    """Merge the blocks of the files a spec's ``include:`` names into its ``blocks``.

    Paths are relative to the spec's own file. An included file holds ``blocks:``
    only; diagnostics inside it name that file. A block defined twice is an error."""
    data = doc.data
    if not isinstance(data, dict) or "include" not in data:
        return []
    names = data["include"]
    where = doc.pos(("include",))
    if isinstance(names, str):
        names = [names]
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        return [Diagnostic("error", "'include': expected a file name or a list", "type", where)]
    if len(names) > MAX_INCLUDES:
        return [
            Diagnostic("error", f"'include': more than {MAX_INCLUDES} files", "too-large", where)
        ]
    base = Path(source).parent if not source.startswith("<") else Path.cwd()
    problems: list[Diagnostic] = []
    blocks = data.setdefault("blocks", {})
    if not isinstance(blocks, dict):
        return []  # the schema reports it
    for i, name in enumerate(names):
        at = doc.pos(("include", i)) if isinstance(data["include"], list) else where
        path = base / name
        shown = display_path(path)
        try:
            if not path.is_file():
                raise OSError("no such file")
            raw = path.read_bytes()[: MAX_FILE_BYTES + 1]
        except OSError as exc:
            problems.append(
                Diagnostic("error", f"cannot include {shown}: {exc.strerror or exc}", "include", at)
            )
            continue
        if len(raw) > MAX_FILE_BYTES:
            problems.append(too_large(len(raw)))
            continue
        text, found = decode(raw)
        inc = None
        if text is not None:
            inc, found = load_text(text)
        if inc is None:
            problems += [_moved(d, shown) for d in found]
            continue
        if not isinstance(inc.data, dict) or set(inc.data) != {"blocks"}:
            problems.append(
                Diagnostic(
                    "error",
                    f"an included file holds `blocks:` and nothing else ({shown})",
                    "include",
                    at,
                )
            )
            continue
        inc_blocks = inc.data["blocks"]
        if not isinstance(inc_blocks, dict):
            problems.append(
                Diagnostic(
                    "error", "'blocks': expected a mapping", "type", _pos(inc, ("blocks",), shown)
                )
            )
            continue
        for bname, block in inc_blocks.items():
            if bname in blocks:
                problems.append(
                    Diagnostic(
                        "error",
                        f"block '{bname}' is defined twice (here and in {shown})",
                        "duplicate-block",
                        doc.pos(("blocks", bname), key=True)
                        if ("blocks", bname) in doc.key_pos
                        else at,
                    )
                )
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
    from dataclasses import replace

    pos = d.pos or Pos(1, 1)
    return replace(d, pos=Pos(pos.line, pos.col, shown))


def display_path(path: str | os.PathLike) -> str:
    """The path as a person would type it: relative to the working directory when inside it."""
    p = Path(path)
    try:
        return p.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return p.as_posix()


class NotARegularFile(OSError):
    """The path names a FIFO, a device, a socket or a directory, not a spec file."""


def _kind(mode: int) -> str:
    for test, what in (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a FIFO (named pipe)"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
    ):
        if test(mode):
            return what
    return "not a regular file"


def read_spec_bytes(path: str | os.PathLike) -> tuple[bytes | None, int]:
    """The bytes of a spec file (None when it is over the size limit), and its size.

    Only a regular file is read. The file is opened without blocking, so a FIFO with
    no writer is refused at once instead of waiting forever; ``fstat`` on the open
    descriptor decides, so the answer is about the file that is read."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    fd = os.open(path, flags)
    with os.fdopen(fd, "rb") as f:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            what = _kind(info.st_mode)
            raise NotARegularFile(errno.EINVAL, f"it is {what}, not a regular file", str(path))
        if info.st_size > MAX_FILE_BYTES:
            return None, info.st_size
        data = f.read(MAX_FILE_BYTES + 1)
    return data, len(data)


def load(path: str | os.PathLike, *, strict: bool = False) -> Network:
    """Read and check a spec file.

    Raises :class:`SpecError` for an invalid spec and ``OSError`` for an unreadable file
    (:class:`NotARegularFile` for a FIFO, a device or a directory)."""
    source = display_path(path)
    data, size = read_spec_bytes(path)
    if data is None:
        raise SpecError([too_large(size)], source)
    return loads(data, source=source, strict=strict)


__all__ = ["Diagnostic", "NotARegularFile", "SpecError", "display_path", "load", "loads"]
