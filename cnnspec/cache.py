"""A content-addressed cache of what ``cnnspec check`` and ``cnnspec summary`` print.

An unchanged spec costs a file read and a hash: a pre-commit run over a folder of specs
pays only for the specs (and included files) that changed. What is stored is the text the
command wrote to each stream and its exit status — never code, never pickle — as JSON.

- **Key**: a SHA-256 over the cache format, cnnspec's own version and the size and
  modification time of every file of the installed package (an edited cnnspec is a new
  cnnspec), the command and every option that changes its output, the spec's path as
  given and where it leads, the working directory (diagnostics show paths relative to
  it), the include root, and the spec's bytes.
- **Included files** are not known before a spec is read: an entry lists each one it read
  (the path, where the path led, and a SHA-256 of the bytes), and a hit is a hit only
  while every one of them is unchanged. A spec whose includes could not all be read is
  not stored (the reason it failed may be fixed by a file the entry cannot know of).
- **Where**: ``$CNNSPEC_CACHE_DIR``, else ``$XDG_CACHE_HOME/cnnspec``, else
  ``~/.cache/cnnspec``; a folder only its owner may read (mode 0700), refused (the
  command runs uncached) when it is a symbolic link, another user's, or open to others.
  Entries are written to a temporary and renamed into place, so a reader never sees half
  of one; a broken entry is a miss. ``--no-cache`` (or ``CNNSPEC_CACHE=0``) turns it off.

This module imports nothing of the compiler: a hit reads no YAML and builds no schema.
The front end records the included files it reads (:func:`~.frontend.files.recording`).
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from pathlib import Path

#: Bumped whenever an entry's layout changes.
FORMAT = 1
#: Entries older than this many days are removed when a new one is written.
MAX_AGE_DAYS = 30


def _package_stamp() -> str:
    """cnnspec's version and the (name, size, mtime) of each of its files."""
    from . import __version__

    root = Path(__file__).resolve().parent
    h = hashlib.sha256(f"{FORMAT}\0{__version__}".encode())
    stack = [root]
    while stack:
        folder = stack.pop()
        with os.scandir(folder) as entries:
            for e in sorted(entries, key=lambda e: e.name):
                if e.is_dir(follow_symlinks=False):
                    if e.name != "__pycache__":
                        stack.append(Path(e.path))
                elif e.name.endswith((".py", ".jinja", ".json")):
                    info = e.stat()
                    rel = os.path.relpath(e.path, root)
                    h.update(f"{rel}\0{info.st_size}\0{info.st_mtime_ns}\0".encode())
    return h.hexdigest()


def _folder() -> Path | None:
    """The cache folder, created private; None when there is none this user may trust."""
    if os.environ.get("CNNSPEC_CACHE", "").strip().lower() in ("0", "no", "off", "false"):
        return None
    given = os.environ.get("CNNSPEC_CACHE_DIR")
    if given:
        folder = Path(given)
    else:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        if not os.path.isabs(base):
            return None
        folder = Path(base) / "cnnspec"
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = os.lstat(folder)
    except OSError:
        return None
    if not stat.S_ISDIR(info.st_mode) or stat.S_IMODE(info.st_mode) & 0o077:
        return None
    if hasattr(os, "getuid") and info.st_uid != os.getuid():
        return None
    return folder


class Cache:
    """The cache of one command run (its package stamp is computed once)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.stamp = _package_stamp()
        self.pruned = False

    @classmethod
    def open(cls) -> Cache | None:
        folder = _folder()
        return cls(folder) if folder is not None else None

    def key(self, command: list, where: list[str], data: bytes) -> str:
        """The key of a run of ``command`` (its name and options) on a spec's ``data``;
        ``where``: the paths its output depends on."""
        head = json.dumps([FORMAT, self.stamp, command, where]).encode()
        return hashlib.sha256(head + b"\0" + data).hexdigest()

    def _path(self, key: str) -> Path:
        return self.folder / f"{key}.json"

    def get(self, key: str) -> dict | None:
        """The entry stored under ``key`` while every file it read is unchanged."""
        try:
            with open(self._path(key), "rb") as f:
                entry = json.loads(f.read())
            if entry.get("format") != FORMAT or not _unchanged(entry["reads"]):
                return None
            writes = [(str(s), str(t), bool(j)) for s, t, j in entry["writes"]]
            if any(s not in ("stdout", "stderr") for s, _, _ in writes):
                return None
            status = int(entry["status"])
            os.utime(self._path(key))  # used: kept by the pruning
        except (OSError, ValueError, KeyError, TypeError):
            return None
        return {"writes": writes, "status": status}

    def put(self, key: str, reads, writes: list[tuple[str, str, bool]], status: int) -> None:
        """Store an entry (an error here is not the command's: the entry is dropped)."""
        if any(digest is None for _, _, digest in reads):
            return
        entry = {"format": FORMAT, "reads": reads, "writes": writes, "status": status}
        tmp = self.folder / f".{key}.{os.getpid()}.tmp"
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(entry, f)
            os.replace(tmp, self._path(key))
        except OSError:
            try:
                os.unlink(tmp)
            except OSError:
                pass
        self._prune()

    def _prune(self) -> None:
        """Once per run: remove entries not used for :data:`MAX_AGE_DAYS` (a hit marks
        its entry used) and temporaries a killed run left."""
        if self.pruned:
            return
        self.pruned = True
        import time

        old = time.time() - MAX_AGE_DAYS * 86400
        try:
            with os.scandir(self.folder) as entries:
                for e in entries:
                    if e.name.endswith((".json", ".tmp")) and e.stat().st_mtime < old:
                        os.unlink(e.path)
        except OSError:
            pass


def _unchanged(reads) -> bool:
    for path, real, digest in reads:
        if os.path.realpath(path) != real:
            return False
        try:
            with open(real, "rb") as f:
                if hashlib.sha256(f.read()).hexdigest() != digest:
                    return False
        except OSError:
            return False
    return True
