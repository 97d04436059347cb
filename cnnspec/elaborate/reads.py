"""The walk's reads: the rows a row names in `from:` (in its scope, a container's row
read from outside it, a list's member) and in `like:`, and what reading one marks.

:class:`Reads` is a part of the walker (:class:`~.walker.Walker` is one); it needs only
the walk's shared state.
"""

from __future__ import annotations

import difflib
from typing import Any

from ..diagnostics import note
from ..frozen import evolve
from ..ir import INPUT
from ..kinds import MERGES
from ..kinds.base import opt
from .scope import Scope, Value, Written, article, lookup
from .state import WalkState


class Reads(WalkState):
    """Resolving the rows a row reads."""

    def sources(self, scope: Scope, w: Written, prev: Value, later: dict) -> list[Value] | None:
        """The values a row reads: its ``from:`` rows, or the previous row."""
        names = w.row.from_
        if names is None:
            if prev.member in scope.lists:
                self.list_read(scope, w, prev.member, self.doc.pos(w.path), "the previous row, ")
                return None
            return [prev]
        out: list[Value] = []
        ok = True
        listed = isinstance(lookup(self.doc.data, w.path + ("from",)), list)
        for i, name in enumerate(names):
            at = self.doc.pos(w.path + ("from",) + ((i,) if listed else ()))
            if name in scope.lists:
                self.list_read(scope, w, name, at)
                ok = False
                continue
            head = name.partition(".")[0]
            dotted = "." in name and name not in scope.values
            if dotted and (head in scope.values or head in scope.lists or head not in later):
                tapped = self.tap(scope, w.label, name, at)
                if tapped is None:
                    ok = False
                else:
                    out.append(tapped)
                continue
            value = self.find(scope, w, head if dotted else name, later, at, "from")
            if value is None:
                ok = False
            else:
                out.append(value)
        return out if ok else None

    def list_read(self, scope: Scope, w: Written, name: str, at, what: str = "") -> None:
        n = len(scope.lists[name])
        members = f"'{name}.0'" + (f" … '{name}.{n - 1}'" if n > 1 else "")
        self.error(
            f"this row reads {what}'{name}', a list of {n} parallel members, not one "
            f"tensor: read a member by its index ({members}) in `from:`",
            "list-read",
            at,
            scope,
            w.label,
        )

    def tap(self, scope: Scope, label, name: str, at, key: str = "from") -> Value | None:
        """``from: body.layer3``: a row of a container above, read from outside it (``key``:
        the key that names it, `from` or `outputs`)."""
        head, _, rest = name.partition(".")
        problem = None
        inner = scope.inner.get(head)
        if head in scope.lists:
            n = len(scope.lists[head])
            problem = f"list '{head}' has the members '{head}.0' … '{head}.{n - 1}'"
        elif head in scope.values and inner is None:
            problem = (
                f"'{head}' is not a `sequential` container or a `list`: the rows of a block "
                f"instance are its own (read '{head}' itself, or make the rows read here a "
                "`sequential`)"
            )
        elif head not in scope.values:
            self.unknown_row(scope, label, head, at, key)
            return None
        elif "." in rest:
            problem = (
                f"'{name}' reads two levels into '{head}': a `from:` path reads a row of a "
                "container written in this scope"
            )
        elif inner is not None and (rest not in inner.values or rest in inner.absent):
            rows = ", ".join(inner.values) or "none"
            problem = f"container '{head}' has no row '{rest}'; its rows: {rows}"
        elif inner is not None and inner.has_if:
            problem = (
                f"container '{head}' has rows with `if:`, so the rows before '{rest}' "
                "differ between instances: it cannot be read into"
            )
        if problem is not None or inner is None:
            self.error(f"'{name}': {problem}", "from-into", at, scope, label)
            return None
        value = inner.values[rest]
        scope.taps.setdefault(head, {})[rest] = value.member
        if value.member == inner.output:  # the container's output itself
            self.mark_read(scope, head)
        return evolve(value, member=name)

    def find(
        self, scope: Scope, w: Written, name: str, later: dict, at: Any, key: str
    ) -> Value | None:
        """The value of the row ``name`` that ``w``'s ``key`` (`from`, `like`) names in this
        scope (None: reported, it is below ``w`` or unknown)."""
        if name == INPUT:
            return scope.input
        if name in scope.values:
            return scope.values[name]
        if name in later:
            d = later[name]
            self.error(
                f"'{name}' is used before it is defined (layer {d.number}); a row reads "
                "only rows above it",
                "used-before-defined",
                at,
                scope,
                w.label,
                (note(f"'{name}' is defined here", self.doc.pos(d.path)),),
            )
        else:
            self.unknown_row(scope, w.label, name, at, key)
        return None

    def unknown_row(self, scope: Scope, label, name: str, at: Any, key: str) -> None:
        """``[unknown-from]``: ``key`` names no row of this scope (the closest one hinted)."""
        known = [INPUT, *scope.values]
        close = difflib.get_close_matches(name, known, n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        self.error(
            f"unknown row '{name}' in `{key}`{hint}; this scope has: {', '.join(known)}",
            "unknown-from",
            at,
            scope,
            label,
        )

    def like(self, scope: Scope, w: Written, later: dict) -> Value | None | bool:
        """The row an upsample's `like:` names (True: the row has none; None: reported)."""
        name = opt(w.row, "like")
        if name is None:
            return True
        at = self.doc.pos(w.path + ("like",))
        if scope.sequential:
            self.error(
                "a row inside a sequential container reads the previous row only; `like` "
                "reads a second tensor, for named scopes (blocks and the network)",
                "from-in-sequential",
                at,
                scope,
                w.label,
            )
            return None
        return self.find(scope, w, name, later, at, "like")

    def readable(self, scope: Scope, w: Written, inputs: list[Value]) -> bool:
        """A row may not read by name a merge whose `if:` is false here (it has no single
        input to stand for it); read as the previous row, it passes its first input on."""
        if w.row.from_ is None:
            return True
        for v in inputs:
            if v.member in scope.absent and scope.absent[v.member].row.type in MERGES:
                absent = scope.absent[v.member]
                self.error(
                    f"'{v.member}' is read here, but its `if:` is false in this instance and "
                    f"{article(absent.row.type)} has no single input to stand for it",
                    "if-read",
                    self.doc.pos(w.path + ("from",)),
                    scope,
                    w.label,
                    (note(f"'{v.member}' is written here", self.doc.pos(absent.path)),),
                )
                return False
        return True

    def mark_read(self, scope: Scope, member: str) -> None:
        """``member``'s value is read (and, through rows absent here, what they pass on)."""
        while member != INPUT and member not in scope.reads:
            scope.reads.add(member)
            if member not in scope.passthrough:
                break
            member = scope.passthrough[member]

    def record_taps(self, scope: Scope) -> None:
        """Each container read into: its step lists the rows read, in its own order."""
        if not self.graph or not scope.taps:
            return
        for i, step in enumerate(scope.steps):
            taps = scope.taps.get(step.name)
            if taps is None or step.inner is None:
                continue
            order = [s.name for s in step.inner.steps]
            read = sorted(taps.items(), key=lambda kv: order.index(kv[1]))
            scope.steps[i] = evolve(step, taps=tuple((f"{step.name}.{r}", m) for r, m in read))
