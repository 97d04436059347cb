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

Severity = Literal["error", "warning"]


@dataclass(frozen=True, order=True)
class Pos:
    """A 1-based position in the spec file."""

    line: int = 1
    col: int = 1


@dataclass(frozen=True)
class Diagnostic:
    severity: Severity
    message: str
    code: str
    pos: Pos | None = None
    layer: str | None = None  # "layer 3 'conv2' (conv)", when the problem belongs to a row

    def format(self, filename: str = "<spec>") -> str:
        where = f"{filename}:{self.pos.line}:{self.pos.col}" if self.pos else filename
        subject = f"{self.layer}: " if self.layer else ""
        line = f"{where}: {self.severity}: {subject}{self.message} [{self.code}]"
        if not line.isprintable():  # one line, whatever a spec's text smuggled in
            line = "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in line)
        return line

    def sort_key(self) -> tuple:
        pos = self.pos or Pos(0, 0)
        return (pos.line, pos.col, self.layer or "", self.message)


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
        return "\n".join(d.format(self.filename) for d in self.diagnostics)

    def __str__(self) -> str:
        return self.report()
