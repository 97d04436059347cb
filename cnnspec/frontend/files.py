"""Reading a spec file: only a regular file, never blocking, never more than the limit."""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

#: Largest spec file read, in bytes.
MAX_FILE_BYTES = 4 * 1024 * 1024
#: What marks the top of a project: the default include root.
ROOT_MARKERS = (".git", "pyproject.toml")

#: What a file that is not a regular file is, by the test on its mode.
_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
)
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)


def display_path(path: str | os.PathLike) -> str:
    """The path as a person would type it: relative to the working directory when inside it.

    Symbolic links are resolved (a loop of them stays as written)."""
    p = Path(path)
    try:
        real = Path(os.path.realpath(p))
        return real.relative_to(os.path.realpath(os.getcwd())).as_posix()
    except (ValueError, OSError):
        return p.as_posix()


def file_kind(mode: int) -> str:
    """What a file of this mode is, when it is not a regular file (``a FIFO``)."""
    for test, what in _KINDS:
        if test(mode):
            return what
    return "not a regular file"


class NotARegularFile(OSError):
    """The path names a FIFO, a device, a socket or a directory, not a spec file."""


def read_spec_bytes(path: str | os.PathLike) -> tuple[bytes | None, int]:
    """The bytes of a spec file (None when it is over the size limit), and its size.

    Only a regular file is read. The file is opened without blocking, so a FIFO with
    no writer is refused at once instead of waiting forever; ``fstat`` on the open
    descriptor decides, so the answer is about the file that is read."""
    fd = os.open(path, _OPEN_FLAGS)
    with os.fdopen(fd, "rb") as f:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            what = file_kind(info.st_mode)
            if what == "a FIFO":
                what += " (named pipe)"
            raise NotARegularFile(errno.EINVAL, f"it is {what}, not a regular file", str(path))
        if info.st_size > MAX_FILE_BYTES:
            return None, info.st_size
        data = f.read(MAX_FILE_BYTES + 1)
    return data, len(data)


def read_regular(path: str | os.PathLike, seen: os.stat_result) -> bytes:
    """The bytes of the regular file ``seen`` was taken of, at most the size limit and one.

    It is opened without blocking and checked again on the open descriptor, so a file
    swapped for a FIFO, a device or another file after ``seen`` is refused, not read."""
    fd = os.open(path, _OPEN_FLAGS)
    with os.fdopen(fd, "rb") as f:
        info = os.fstat(fd)
        if (info.st_dev, info.st_ino) != (seen.st_dev, seen.st_ino) or not stat.S_ISREG(
            info.st_mode
        ):
            raise NotARegularFile(errno.EINVAL, "it changed while it was read", str(path))
        return f.read(MAX_FILE_BYTES + 1)


def default_root(spec_dir: str | os.PathLike) -> Path:
    """The include root of a spec in ``spec_dir``: the nearest folder, from ``spec_dir``
    upward, that holds ``.git`` or ``pyproject.toml``; else ``spec_dir`` itself."""
    here = Path(os.path.realpath(spec_dir))
    for folder in (here, *here.parents):
        if any(os.path.lexists(folder / marker) for marker in ROOT_MARKERS):
            return folder
    return here


#: The included files read while a recording is active (:func:`recording`): the path as
#: joined, where it led, and the SHA-256 of its bytes (None: it could not be read).
Reads = list[tuple[str, str, str | None]]
_READS: ContextVar[Reads | None] = ContextVar("cnnspec_reads", default=None)


def record_read(path: str | os.PathLike, data: bytes | None) -> None:
    """Note an included file the front end read (``data`` None: it could not be), when a
    recording is active: a result cache keys on these (:mod:`cnnspec.cache`)."""
    reads = _READS.get()
    if reads is None:
        return
    import hashlib

    try:
        real = os.path.realpath(path)
    except (OSError, ValueError):
        real = ""
    reads.append((str(path), real, None if data is None else hashlib.sha256(data).hexdigest()))


@contextmanager
def recording() -> Iterator[Reads]:
    """Record the included files read inside the block."""
    reads: Reads = []
    token = _READS.set(reads)
    try:
        yield reads
    finally:
        _READS.reset(token)
