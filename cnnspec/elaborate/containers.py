"""The walk of a container row: a `sequential` (its rows in a scope of their own, read
from outside it by `from: name.row`) and a `list` (its members, each on its own input).

:class:`Containers` is a part of the walker (:class:`~.walker.Walker` is one): it walks a
container's rows with the walker's own :meth:`walk`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..frozen import evolve
from ..ir import INPUT, ScopeTrace, Step
from ..kinds.base import RowContext, declared, opt
from ..spec.models import BlockRow
from ..spec.values import SEQUENTIAL_NAMES
from .emit import Emitter, cond_of, node_id
from .reads import Reads
from .scope import Scope, Value, Written


class Containers(Reads):
    """Container and list rows."""

    emit: Emitter
    #: the walker's own walk of a scope's rows, which a container's rows go through
    walk: Callable[[Scope, list[tuple[tuple, Any]]], Value]

    def container(self, scope: Scope, w: Written, v: Value, ctx: RowContext) -> Value:
        row = w.row
        path = self.emit.module_path(scope, w.name)
        for j, child in enumerate(row.layers):
            if child.from_ is not None:
                self.error(
                    "a row inside a sequential container reads the previous row; `from` is "
                    "for named scopes (blocks and the network)",
                    "from-in-sequential",
                    self.doc.pos(w.path + ("layers", j, "from")),
                    scope,
                )
                return evolve(v, shape=None)
            numbered = not isinstance(child, BlockRow) and "repeat" in child.model_fields_set
            if row.children == "named" and child.name in SEQUENTIAL_NAMES and not numbered:
                self.error(
                    f"name '{child.name}' is already an attribute of the nn.Sequential that "
                    "holds a named container's rows",
                    "value",
                    self.doc.pos(w.path + ("layers", j, "name")),
                    scope,
                )
                return evolve(v, shape=None)
        inner = Scope(
            prefix=path + ".",
            input=evolve(v, member=INPUT),
            env=scope.env,
            depth=scope.depth + 1,
            children=row.children,
            notes=scope.notes,
            sequential=True,
            has_if=any(child.if_ is not None for child in row.layers),
        )
        scope.inner[w.name] = inner
        start = len(self.emit.nodes)
        rows = [(w.path + ("layers", j), child) for j, child in enumerate(row.layers)]
        out = self.walk(inner, rows)
        if out.shape is None:
            return Value(node_id(scope, w.name), None, w.name)
        declared(ctx, out.shape, "the container's output")
        self.emit.add_group(
            path,
            path.rsplit(".", 1)[-1],  # the attribute: an index in an nn.Sequential
            "sequential",
            None,
            scope.depth + 1,
            ctx.at(),
            start,
            v.shape or (),
            out.shape,
        )
        if self.graph:
            walk = ScopeTrace(tuple(inner.steps), out.member, v.shape or (), inner.env_items)
            step = Step(
                w.name,
                "sequential",
                (v.member,),
                out.shape,
                cond=cond_of(w),
                inner=walk,
                named=row.children == "named",
            )
            scope.steps.append(step)
        return Value(
            out.id, out.shape, w.name, ctx.at(), out.flattened_by, channels_last=out.channels_last
        )

    def member_list(self, scope: Scope, w: Written, default: Value, later: dict) -> Value:
        """A list: each member walked on its own input (its `from:`, else the list's), its
        module the list's path and its index; read from outside as ``name.i``."""
        path = self.emit.module_path(scope, w.name)
        start = len(self.emit.nodes)
        sources: list[Value] = []
        parts: list[ScopeTrace] = []
        members: list[tuple[tuple, str]] = []
        scope.lists[w.name] = members
        for j, child in enumerate(w.row.layers):
            cpath = w.path + ("layers", j)
            members.append((cpath, f"member {j} of list '{w.name}'"))
            key = f"{w.name}.{j}"
            scope.values[key] = Value(f"{path}.{j}", None, key, self.doc.pos(cpath))
            cw = Written(child, j + 1, cpath, (j, 1), key)
            src = self.member_source(scope, cw, default, later)
            if src is None:
                continue
            self.mark_read(scope, src.member)
            inner = Scope(
                prefix=path + ".",
                input=evolve(src, member=INPUT),
                env=scope.env,
                depth=scope.depth + 1,
                children="indexed",
                notes=scope.notes,
                sequential=True,
                count=j,
            )
            out = self.walk(inner, [(cpath, child.model_copy(update={"from_": None}))])
            where = self.doc.pos(cpath)
            last = out.channels_last
            scope.values[key] = Value(out.id, out.shape, key, where, out.flattened_by, None, last)
            sources.append(src)
            parts.append(
                ScopeTrace(tuple(inner.steps), out.member, src.shape or (), inner.env_items)
            )
        at = self.doc.pos(w.path)
        if len(parts) == len(w.row.layers) and all(
            scope.values[f"{w.name}.{j}"].shape is not None for j in range(len(parts))
        ):
            shapes = [scope.values[f"{w.name}.{j}"].shape or () for j in range(len(parts))]
            self.emit.add_group(
                path,
                path.rsplit(".", 1)[-1],
                "list",
                None,
                scope.depth + 1,
                at,
                start,
                default.shape or (),
                shapes[-1],
            )
            if self.graph:
                step = Step(
                    w.name, "list", tuple(v.member for v in sources), (), parts=tuple(parts)
                )
                scope.steps.append(step)
        return Value(node_id(scope, w.name), None, w.name, at)

    def member_source(self, scope: Scope, cw: Written, default: Value, later: dict) -> Value | None:
        """What a list member reads: one row, its `from:` or the list's input (None:
        reported)."""
        child = cw.row
        problem = None
        if child.if_ is not None:
            problem = "if", "`if:`: the members after it would change index"
        elif not isinstance(child, BlockRow) and "repeat" in child.model_fields_set:
            problem = "repeat", "`repeat`: write each copy as a member"
        elif opt(child, "activation") not in (None, "none"):
            problem = "activation", "`activation:`, a second module: write a `sequential`"
        elif child.from_ is not None and len(child.from_) != 1:
            problem = "from", "more than one input in `from:`: merge them in a row above"
        if problem is not None:
            key, what = problem
            self.error(
                f"a list member is one module reading one input, so it cannot have {what}",
                "list-member",
                self.doc.pos(cw.path + (key,)),
                scope,
                cw.label,
            )
            return None
        if child.from_ is None and default.member in scope.lists:
            self.list_read(scope, cw, default.member, self.doc.pos(cw.path), "the previous row, ")
            return None
        got = self.sources(scope, cw, default, later)
        return got[0] if got else None
