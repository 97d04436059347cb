"""Located diagnostics: what every stage reports instead of raising.

A diagnostic is one line a person can act on::

    specs/alexnet.yaml:7:28: error: layer 3 'conv2' (conv): (27 − 5 + 2·0)/1 + 1 = 23, \
but the row declares 27×27 [size-mismatch]

Lines and columns are 1-based. Stages collect diagnostics in a list and the
pipeline raises :class:`SpecError` once, carrying all of them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Severity = Literal["error", "warning", "note"]


def printable(line: str, *, json: bool = False) -> str:
    """``line`` with every character a terminal would act on written as an escape.

    Control characters (ESC, CR, a newline), bidirectional overrides, lone surrogates
    and every other character :meth:`str.isprintable` refuses become Python's escapes
    (``\\x1b``, ``\\u202e``); with ``json``, JSON's (``\\u001b``), so JSON text stays JSON."""
    if line.isprintable():
        return line
    return "".join(ch if ch.isprintable() else _escape(ch, json) for ch in line)


def _escape(ch: str, json: bool) -> str:
    if not json:
        return repr(ch)[1:-1]
    code = ord(ch)
    if code > 0xFFFF:  # a surrogate pair, as JSON writes one
        code -= 0x10000
        return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"
    return f"\\u{code:04x}"


@dataclass(frozen=True, order=True)
class Pos:
    """A 1-based position in the spec file (or in a file it includes: ``file``)."""

    line: int = 1
    col: int = 1
    file: str | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Diagnostic:
    severity: Severity
    message: str
    code: str
    pos: Pos | None = None
    layer: str | None = None  # "layer 3 'conv2' (conv)", when the problem belongs to a row
    #: related places, printed after it as ``note:`` lines ("instantiated from layer2.0")
    notes: tuple[Diagnostic, ...] = field(default=(), compare=False)

    def format(self, filename: str = "<spec>") -> str:
        """One line (``note:`` lines have no code)."""
        if self.pos:
            where = f"{self.pos.file or filename}:{self.pos.line}:{self.pos.col}"
        else:
            where = filename
        subject = f"{self.layer}: " if self.layer else ""
        code = f" [{self.code}]" if self.severity != "note" else ""
        return printable(f"{where}: {self.severity}: {subject}{self.message}{code}")

    def lines(self, filename: str = "<spec>") -> list[str]:
        """The diagnostic's line and its notes' lines."""
        return [self.format(filename), *(n.format(filename) for n in self.notes)]

    def with_notes(self, notes: tuple[Diagnostic, ...]) -> Diagnostic:
        from dataclasses import replace

        return replace(self, notes=self.notes + notes)

    def sort_key(self) -> tuple:
        pos = self.pos or Pos(0, 0)
        return (pos.file or "", pos.line, pos.col, self.layer or "", self.message)


def sort_unique(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    """Sorted by position, duplicates dropped."""
    seen: set[Diagnostic] = set()
    out = []
    for d in sorted(diagnostics, key=Diagnostic.sort_key):
        if d not in seen:
            seen.add(d)
            out.append(d)
    return out


@dataclass
class SpecError(Exception):
    """The spec is invalid. ``diagnostics`` lists every problem found, sorted."""

    diagnostics: list[Diagnostic] = field(default_factory=list)
    filename: str = "<spec>"

    def __post_init__(self) -> None:
        self.diagnostics = sort_unique(self.diagnostics)
        super().__init__(self.report())

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "error"]

    def report(self) -> str:
        return "\n".join(line for d in self.diagnostics for line in d.lines(self.filename))

    def __reduce__(self):  # survives pickling (multiprocessing, pytest-xdist)
        return (type(self), (self.diagnostics, self.filename))

    def __str__(self) -> str:
        return self.report()


class SpecFileError(SpecError, OSError):
    """The spec file cannot be read: missing, a directory, a FIFO or a device, not
    permitted, or a path no file can have (a NUL, a lone surrogate). It is a
    :class:`SpecError` (one ``[unreadable]`` diagnostic) and an :class:`OSError`
    (``errno`` and ``strerror`` as the system gave them; None for a path no system
    takes)."""

    def __init__(
        self,
        diagnostics: list[Diagnostic],
        filename: str = "<spec>",
        errno: int | None = None,
        strerror: str | None = None,
    ) -> None:
        SpecError.__init__(self, diagnostics, filename)
        self.errno = errno
        self.strerror = strerror

    def __reduce__(self):
        return (type(self), (self.diagnostics, self.filename, self.errno, self.strerror))


def note(message: str, pos: Pos | None) -> Diagnostic:
    """A ``note:`` line pointing at a related place."""
    return Diagnostic("note", message, "note", pos)
