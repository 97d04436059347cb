"""The file-system side of ``cnnspec compile``: a spec's outputs written as one set.

A set (``net.py``, ``net.dot``, ``net.svg``) is written all or none, whatever happens:

- **Between processes**: every reader and writer of an output directory holds a lock on
  it (``flock`` on the directory itself: no lock file is left behind) while it compares
  or writes, so two compiles of different versions into one folder never interleave
  file by file; ``--check`` takes it shared.
- **An I/O error** (a full disk): every target is checked and every temporary written
  before the first rename; a failed rename puts back what was replaced.
- **SIGINT, SIGTERM, SIGHUP**: held (blocked) while a set is written and looked at
  between steps; one that arrived rolls the set back to its old contents, and only then
  is it let through (and ends the command).
- **SIGKILL, a crash, a power cut of the process**: before the first rename a journal
  (``.net.cnnspec-journal``) names every temporary and every copy of an old file set
  aside; the next compile into that folder, under the lock, finishes the set when every
  file had been renamed and otherwise restores the old one, then removes every
  temporary a killed run left (``.*.cnnspec-XXXXXXXX.tmp`` and ``.old``).

Durability after a power failure (fsync) is not promised; consistency after a killed
process is.
"""

from __future__ import annotations

import json
import os
import re
import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

#: What cnnspec's temporary files look like: ``.<name>.cnnspec-<8 random>.tmp|.old``.
TEMPORARY = re.compile(r"\..+\.cnnspec-[a-z0-9_]{8}\.(tmp|old)\Z")
#: A set's journal: ``.<stem>.cnnspec-journal``.
JOURNAL = re.compile(r"\.(.+)\.cnnspec-journal\Z")
_HELD = tuple(
    s for s in (getattr(signal, n, None) for n in ("SIGINT", "SIGTERM", "SIGHUP")) if s is not None
)


class Interrupted(BaseException):  # noqa: N818 - like KeyboardInterrupt
    """A signal ended the command (its number in ``signum``); the set it was writing
    was rolled back."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


class JournalError(OSError):
    """A journal file cnnspec cannot have written (edited, or another tool's)."""


# --------------------------------------------------------------------------- signals


def _fatal(signum: int) -> bool:
    """Whether ``signum`` would end the command: its handler is the default (which
    kills), Python's KeyboardInterrupt, or one that raises :class:`Interrupted`. An
    ignored signal, or a host's own handler, is left to do what it does."""
    handler = signal.getsignal(signum)
    return handler in (signal.SIG_DFL, signal.default_int_handler) or getattr(
        handler, "ends_cnnspec", False
    )


@contextmanager
def held_signals() -> Iterator[Callable[[], None]]:
    """Hold SIGINT, SIGTERM and SIGHUP while the block runs; it calls the function this
    yields between steps, which raises :class:`Interrupted` once one that would end the
    command has arrived. The signal itself is let through at the end of the block.

    Two holds: the signals are blocked in this thread, and (in the main thread) their
    handlers are swapped for one that only records them — a signal the kernel hands to
    another thread of the process would otherwise run its handler here at once."""
    if not hasattr(signal, "pthread_sigmask"):  # pragma: no cover - Windows

        def never() -> None:
            return None

        yield never
        return
    import threading

    # The mask before, read without changing it: a handler that raises inside the call
    # that blocks (it runs any signal already on its way) then leaks no blocked mask.
    old = signal.pthread_sigmask(signal.SIG_BLOCK, ())
    caught: list[int] = []
    saved: dict[int, object] = {}
    watched = [s for s in _HELD if s not in old and _fatal(s)]

    def check() -> None:
        if caught:
            raise Interrupted(caught[0])
        pending = signal.sigpending()
        for s in watched:
            if s in pending:
                raise Interrupted(s)

    try:
        signal.pthread_sigmask(signal.SIG_BLOCK, _HELD)
        if threading.current_thread() is threading.main_thread():
            for s in watched:  # what to put back is known before each swap
                saved[s] = signal.getsignal(s)
                signal.signal(s, lambda signum, frame: caught.append(signum))
        yield check
    finally:
        # Each restore runs whatever a handler raises on the way (a signal handed to
        # another thread runs the restored handler here): the mask is always put back.
        try:
            try:
                for s, handler in saved.items():
                    signal.signal(s, handler)  # type: ignore[arg-type]
            finally:
                signal.pthread_sigmask(signal.SIG_SETMASK, old)  # a pending one acts now
        finally:
            if caught:
                signal.raise_signal(caught[0])  # one that was recorded, as it would have


# --------------------------------------------------------------------------- the lock


@contextmanager
def locked(directory: Path, *, shared: bool = False) -> Iterator[None]:
    """Hold the lock of ``directory`` (exclusive to write, shared to compare)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: no lock
        yield
        return
    fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        fcntl.flock(fd, fcntl.LOCK_SH if shared else fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


# --------------------------------------------------------------------------- files


def _stage(path: Path, data: bytes) -> str:
    """Write ``data`` to a new temporary file beside ``path``; return its name."""
    import tempfile  # only compile writes: check and summary need not import it

    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.cnnspec-", suffix=".tmp", dir=path.parent)
    except OSError as exc:  # name the target, not the temporary
        raise type(exc)(exc.errno, exc.strerror, str(path)) from None
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o644)
    except OSError as exc:
        _unlink(tmp)
        raise type(exc)(exc.errno, exc.strerror, str(path)) from None
    except BaseException:
        _unlink(tmp)
        raise
    return tmp


def _unlink(path: str | Path) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def _set_aside(path: Path) -> str | None:
    """A copy of what is at ``path`` beside it, to restore it from; None if there is
    nothing there. The target itself stays in place until it is replaced.

    The copy is a hard link where the file system has them, else a copy of the bytes
    (or of the link, for a symlink)."""
    if not os.path.lexists(path):
        return None
    import tempfile

    fd, backup = tempfile.mkstemp(prefix=f".{path.name}.cnnspec-", suffix=".old", dir=path.parent)
    os.close(fd)
    try:
        os.unlink(backup)
        try:
            os.link(path, backup, follow_symlinks=False)
        except OSError:
            if os.path.islink(path):
                os.symlink(os.readlink(path), backup)
            else:
                os.replace(_stage(path, path.read_bytes()), backup)
    except BaseException:
        _unlink(backup)
        raise
    return backup


# --------------------------------------------------------------------------- one set


def write_set(directory: Path, stem: str, files: dict[str, bytes]) -> None:
    """Write ``files`` (name → bytes) into ``directory`` all or none; the caller holds
    the directory's lock (:func:`locked`) and has run :func:`recover`.

    Each file goes through a temporary and ``os.replace``: a reader never sees half a
    file, and a symlink at an output path is replaced, not followed."""
    if not files:
        return
    for name in files:
        path = directory / name
        if path.is_dir() and not path.is_symlink():
            raise IsADirectoryError(21, "it is a directory", str(path))
    with held_signals() as check:
        entries: list[dict[str, str | None]] = []
        journal: Path | None = None
        try:
            for name, data in files.items():
                entries.append({"target": name, "staged": _stage(directory / name, data)})
                check()
            for entry in entries:
                entry["backup"] = _set_aside(directory / str(entry["target"]))
                check()
            journal = _write_journal(directory, stem, entries)
            check()
            for entry in entries:
                target = directory / str(entry["target"])
                try:
                    os.replace(str(entry["staged"]), target)
                except OSError as exc:
                    raise type(exc)(exc.errno, exc.strerror, str(target)) from None
                check()
            os.unlink(journal)  # the set is written
        except BaseException:
            _roll_back(directory, entries)
            if journal is not None:
                _unlink(journal)
            raise
        for entry in entries:
            if entry["backup"] is not None:
                _unlink(str(entry["backup"]))


def _write_journal(directory: Path, stem: str, entries: list[dict[str, str | None]]) -> Path:
    path = directory / f".{stem}.cnnspec-journal"
    names = [
        {k: (os.path.basename(v) if v is not None else None) for k, v in e.items()} for e in entries
    ]
    data = json.dumps({"cnnspec-journal": 1, "files": names}, indent=1).encode()
    os.replace(_stage(path, data), path)
    return path


def _roll_back(directory: Path, entries: list[dict[str, str | None]]) -> None:
    """Put back the old contents of every target (remove those that had none), and
    remove the temporaries. Run with the signals held: nothing interrupts it."""
    for entry in entries:
        target = directory / str(entry["target"])
        staged, backup = entry.get("staged"), entry.get("backup", "unset")
        try:
            if backup not in (None, "unset"):
                os.replace(str(backup), target)
                _unlink(str(backup))  # a rename onto its own hard link does nothing
            elif backup is None and staged is not None and not os.path.lexists(staged):
                _unlink(target)  # it was new, and already renamed into place
            if staged is not None:
                _unlink(staged)
        except OSError:  # pragma: no cover - the roll-back itself failed
            pass


# --------------------------------------------------------------------------- recovery


def recover(directory: Path) -> list[str]:
    """Finish or undo every set a killed run left half-written in ``directory``, then
    remove every stale temporary; the caller holds the lock. The stems repaired."""
    try:
        names = os.listdir(directory)
    except FileNotFoundError:
        return []
    repaired = []
    with held_signals():  # a repair, once begun, is finished
        for name in sorted(names):
            found = JOURNAL.match(name)
            if found:
                _replay(directory, directory / name, found.group(1))
                repaired.append(found.group(1))
        for name in os.listdir(directory):
            if TEMPORARY.match(name):
                _unlink(directory / name)
    return repaired


def journals(directory: Path) -> list[Path]:
    """The journals of half-written sets in ``directory`` (what ``--check`` reports)."""
    try:
        return sorted(directory / n for n in os.listdir(directory) if JOURNAL.match(n))
    except FileNotFoundError:
        return []


def _replay(directory: Path, path: Path, stem: str) -> None:
    """One journal: when every temporary was renamed into place, the set is complete
    (its old copies go); otherwise each target gets its old contents back."""
    try:
        record = json.loads(path.read_bytes())
        entries = [_entry(e, stem) for e in record["files"]]
    except (ValueError, KeyError, TypeError):
        raise JournalError(
            0, "not a journal cnnspec wrote (remove it to compile into this folder)", str(path)
        ) from None
    full: list[dict[str, str | None]] = [
        {
            "target": e["target"],
            "staged": str(directory / str(e["staged"])),
            "backup": None if e["backup"] is None else str(directory / e["backup"]),
        }
        for e in entries
    ]
    if all(not os.path.lexists(str(e["staged"])) for e in full):
        for e in full:
            if e["backup"] is not None:
                _unlink(str(e["backup"]))
    else:
        _roll_back(directory, full)
    _unlink(path)


def _entry(raw: object, stem: str) -> dict[str, str | None]:
    """One journal entry, checked: plain names in this folder, of this set's files and
    cnnspec's temporaries only — an edited journal can touch nothing else."""
    if not isinstance(raw, dict) or set(raw) != {"target", "staged", "backup"}:
        raise ValueError(raw)
    target, staged, backup = raw["target"], raw["staged"], raw["backup"]
    if not (isinstance(target, str) and target.startswith(f"{stem}.") and "/" not in target):
        raise ValueError(target)
    for temp in (staged, backup):
        if temp is not None and not (isinstance(temp, str) and TEMPORARY.match(temp)):
            raise ValueError(temp)
        if isinstance(temp, str) and ("/" in temp or "\\" in temp):
            raise ValueError(temp)
    if staged is None:
        raise ValueError(raw)
    return {"target": target, "staged": staged, "backup": backup}
