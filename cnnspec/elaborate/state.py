"""What every part of one walk shares: the document, the diagnostics and the row count.

The walker is a :class:`WalkState`; the parts it delegates to (the emitter, the block
instances, the row materializer, the replay memo) are handed this state, not the walker,
so none of them imports the module that drives them.
"""

from __future__ import annotations

from ..diagnostics import Diagnostic, Pos
from ..frontend.load import Document
from .scope import Scope


class WalkState:
    """One walk's document, diagnostics and counts."""

    def __init__(self, doc: Document, *, graph: bool) -> None:
        self.doc = doc
        #: a graph network: its scopes are traced, for the classes the backend writes
        self.graph = graph
        self.diagnostics: list[Diagnostic] = []
        self.rows_total = 0
        self.too_large = False  # the `[too-large]` error is reported

    def error(self, message: str, code: str, pos: Pos, scope: Scope | None, label=None, notes=()):
        extra = scope.notes if scope else ()
        self.diagnostics.append(
            Diagnostic("error", message, code, pos, label, tuple(notes) + extra)
        )

    def warn(self, message: str, code: str, pos: Pos, scope: Scope | None, label=None, notes=()):
        extra = scope.notes if scope else ()
        self.diagnostics.append(
            Diagnostic("warning", message, code, pos, label, tuple(notes) + extra)
        )
