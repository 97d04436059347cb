"""Reading a spec file: only a regular file, never blocking, never more than the limit."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from .load import MAX_FILE_BYTES


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
