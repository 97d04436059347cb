"""Block rows: their instances (one walk each), their copies, and block recursion.

A row whose type names a block instantiates it: its other keys are the block's
params (bound and checked by :mod:`.arguments`), ``repeat`` makes copies (``first``
overrides the first copy's params, ``names`` names the copies), and each instance
walks the block's rows in a scope of its own, its params substituted
(:mod:`.substitute`), or is replayed from an instance that walked alike (:mod:`.memo`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .. import expr as ex
from ..diagnostics import note
from ..frozen import evolve
from ..ir import INPUT, BlockArgs, BlockCall, BlockDecl, ScopeTrace, Step
from ..kinds import CONTAINERS
from ..kinds.base import RowContext, declared
from ..spec.models import BlockRow, BlockSpec, ParamSpec
from ..spec.values import (
    MAX_NESTING,
    MAX_ROWS,
    RESERVED_NAMES,
    SEQUENTIAL_NAMES,
    copy_name,
    param_value,
)
from .arguments import bind, bind_first
from .emit import Emitter, cond_of, node_id
from .memo import Memo, Walked, instance_key
from .scope import Scope, Value, Written, lookup
from .substitute import Materializer

if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Callable

    from .state import WalkState

    #: walks a scope's rows (the walker's own walk: an instance's rows are a scope)
    Walk = Callable[[Scope, list[tuple[tuple, Any]]], Value]


class Blocks:
    """The spec's blocks and every instance the walk makes of them."""

    def __init__(
        self, state: WalkState, emit: Emitter, walk: Walk, defs: dict[str, BlockSpec]
    ) -> None:
        self.state = state
        self.emit = emit
        self.walk = walk
        self.doc = state.doc
        self.defs = defs
        self.used: set[str] = set()  # blocks some row instantiates
        self.cyclic: set[str] = set()
        #: every instance's walk, in the order the walks completed
        self.log: list[tuple[str, ScopeTrace]] = []
        self.memo = Memo()
        self.rows = Materializer(state, defs)

    def decls(self) -> tuple[BlockDecl, ...]:
        """The blocks as their generated classes need them."""
        return tuple(
            BlockDecl(
                name,
                tuple((p, d.type, _default(d)) for p, d in block.params.items()),
                block.children == "indexed",
                block.title or name,
                self.doc.pos(("blocks", name), key=True),
            )
            for name, block in self.defs.items()
        )

    # ------------------------------------------------------------------ rows

    def row(self, scope: Scope, w: Written, v: Value, ctx: RowContext) -> Value:
        """A block row: one instance, or ``repeat`` copies in an nn.Sequential."""
        row: BlockRow = w.row
        name = row.type
        self.used.add(name)
        if name in self.cyclic:
            return evolve(v, shape=None)
        block = self.defs[name]
        copy = None if row.repeat is None else 0  # copy 0's params (each copy binds its own)
        args = bind(self.state, scope, w, block, ctx, copy)
        if args is None:
            return evolve(v, shape=None)
        if row.repeat is None and (row.first is not None or row.names is not None):
            key = "first" if row.first is not None else "names"
            ctx.error(
                f"'{key}' applies to the copies of a repeated row; this row has no `repeat`",
                "repeat-override",
                key,
            )
            return evolve(v, shape=None)
        first = bind_first(self.state, scope, w, block, ctx, args) if row.first else args
        if first is None:
            return evolve(v, shape=None)
        if row.repeat is None:
            out, step = self.single(scope, w, block, args, v, ctx)
        else:
            out, step = self.repeated(scope, w, block, first, args, v, ctx)
        if step is None:
            return out
        assert out.shape is not None
        declared(ctx, out.shape, f"the {name} block's output")
        if self.state.graph:
            scope.steps.append(step)
        value = Value(out.id, out.shape, w.name, ctx.at(), out.flattened_by)
        return evolve(value, channels_last=out.channels_last)

    def single(
        self, scope: Scope, w: Written, block: BlockSpec, args: BlockArgs, v: Value, ctx
    ) -> tuple[Value, Step | None]:
        path = self.emit.module_path(scope, w.name)
        out, walk = self.instance(scope, w, block, args, v, path, ctx)
        if out.shape is None or walk is None:
            return Value(node_id(scope, w.name), None, w.name), None
        call = BlockCall(None, args, walk)
        step = Step(
            w.name,
            "block",
            (v.member,),
            out.shape,
            cond=cond_of(w),
            block=w.row.type,
            calls=(call,),
        )
        return out, step

    def repeated(
        self,
        scope: Scope,
        w: Written,
        block: BlockSpec,
        first: BlockArgs,
        args: BlockArgs,
        v: Value,
        ctx: RowContext,
    ) -> tuple[Value, Step | None]:
        """``repeat`` copies of the block, in a container named after the row."""
        row: BlockRow = w.row
        assert row.repeat is not None
        start = len(self.emit.nodes)
        path = self.emit.module_path(scope, w.name)
        calls = []
        cur = v
        raw = lookup(self.doc.data, w.path)
        indexed = isinstance(raw, dict) and any(
            ex.uses_copy(raw[p]) for p in block.params if p in raw
        )
        for k in range(row.repeat):
            child = self.copy_name(row, k, ctx)
            if child is None:
                return evolve(v, shape=None), None
            these = first if k == 0 else args
            if k and indexed:  # its params read its index: bound again, with it
                bound = bind(self.state, scope, w, block, ctx, k)
                if bound is None:
                    return Value(node_id(scope, w.name), None, w.name), None
                these = bound
            depth = scope.depth + 2
            before = self.state.rows_total
            out, walk = self.instance(scope, w, block, these, cur, f"{path}.{child}", ctx, depth)
            if out.shape is None or walk is None:
                return Value(node_id(scope, w.name), None, w.name), None
            calls.append(BlockCall(child if row.names is not None else None, these, walk))
            cur = evolve(out, member=w.name)
            # the copies that share the row's arguments have as many rows as the first
            # of them: past the limit, they are not walked
            shared = 0 if row.first is None else 1
            if k == shared and self.too_many(w, ctx, k, self.state.rows_total - before):
                return Value(node_id(scope, w.name), None, w.name), None
        raw_repeat = lookup(self.doc.data, w.path + ("repeat",))
        count = None
        if scope.env is not None and ex.is_expr(raw_repeat):
            # a count that varies per instance: the class writes the first copy and a
            # loop over the others (whose arguments are then all the same)
            count = ex.parse(raw_repeat)
        self.emit.add_group(
            path,
            path.rsplit(".", 1)[-1],  # the attribute: an index in an nn.Sequential
            "sequential",
            None,
            scope.depth + 1,
            ctx.at(),
            start,
            v.shape or (),
            cur.shape or (),
        )
        step = Step(
            w.name,
            "block",
            (v.member,),
            cur.shape or (),
            cond=cond_of(w),
            block=row.type,
            calls=tuple(calls),
            rest=args,
            repeat=count,
            named=row.names is not None,
            names=row.names,
        )
        return cur, step

    def too_many(self, w: Written, ctx: RowContext, k: int, rows: int) -> bool:
        """Whether the copies after copy ``k``, at its ``rows`` each, would take the spec
        past the row limit (then reported, once, at the row's `repeat`)."""
        assert w.row.repeat is not None
        total = self.state.rows_total + rows * (w.row.repeat - 1 - k)
        if total <= MAX_ROWS:
            return False
        if not self.state.too_large:
            self.state.too_large = True
            ctx.error(
                f"the spec expands to more than {MAX_ROWS:,} rows (the limit): {w.row.repeat:,} "
                f"copies of block '{w.row.type}', of {rows:,} rows each",
                "too-large",
                "repeat",
            )
        return True

    def copy_name(self, row: BlockRow, k: int, ctx: RowContext) -> str | None:
        """The name of copy ``k`` (0-based): the ``names`` pattern's (``{i}`` from 1,
        ``{i0}`` from 0), or the index (None once an error is reported). A copy's name
        obeys the rules of a row's (``-`` allowed: it is never an attribute), and of a
        child of the nn.Sequential that holds the copies. A pattern without a number is
        refused for one copy too: a computed count may be more in other instances, and
        a pattern that names one module is a row name (the row without repeat)."""
        if row.names is None:
            return str(k)
        try:
            child = copy_name(row.names, k)
        except ValueError as exc:
            text = str(exc)
            ctx.error(text if text.startswith("'names'") else f"'names': {text}", "value", "names")
            return None
        if child in RESERVED_NAMES or child in SEQUENTIAL_NAMES:
            ctx.error(
                f"'names': copy name '{child}' is already an attribute of the nn.Sequential "
                "that holds the copies",
                "value",
                "names",
            )
            return None
        return child

    def reachable(self, name: str) -> set[str]:
        """The blocks ``name``'s rows use, and those theirs use, and so on."""
        found: set[str] = set()
        todo = [name]
        while todo:
            block = self.defs.get(todo.pop())
            rows = list(block.layers or []) if block is not None else []
            while rows:
                r = rows.pop()
                if not isinstance(r, dict):
                    continue
                t = r.get("type")
                if isinstance(t, str) and t in self.defs and t not in found:
                    found.add(t)
                    todo.append(t)
                if isinstance(r.get("layers"), list):
                    rows.extend(r["layers"])
        return found

    # ------------------------------------------------------------------ instances

    def instance(
        self,
        scope: Scope,
        w: Written,
        block: BlockSpec,
        args: BlockArgs,
        v: Value,
        path: str,
        ctx: RowContext,
        depth: int | None = None,
    ) -> tuple[Value, ScopeTrace | None]:
        """Walk one instance of ``block`` at module path ``path``."""
        assert v.shape is not None
        state = self.state
        emitted = self.emit
        name = w.row.type
        values = dict(args.values)
        depth = scope.depth + 1 if depth is None else depth
        if depth > MAX_NESTING:
            outer = scope.notes[-1:] if len(scope.notes) > 1 else ()
            state.error(
                f"modules nest {depth:,} levels deep here (blocks using blocks); the limit is "
                f"{MAX_NESTING:,}",
                "too-deep",
                ctx.at(),
                None,
                ctx.label,
                scope.notes[:1] + outer,
            )
            self.used.update(self.reachable(name))  # used, though not walked this deep
            return evolve(v, shape=None), None
        env = dict(values)
        env[ex.IN_MAPS] = v.shape[0]
        label = f"{path} ({name})"
        inner = Scope(
            prefix=path + ".",
            input=Value(v.id, v.shape, INPUT, v.pos, v.flattened_by),
            env=env,
            depth=depth,
            children=block.children,
            notes=(note(f"instantiated from {label}", ctx.at()),) + scope.notes,
            sequential=block.children == "indexed",
        )
        start = len(emitted.nodes)
        key = instance_key(name, values, v, depth)
        memo = self.memo.get(key)
        if memo is not None and state.rows_total + memo.rows <= MAX_ROWS:
            out, walk = self.memo.replay(state, emitted, self.log, memo, path + ".", v.id)
        else:
            walked = self.walk_afresh(inner, name, block, v, path, key)
            if walked is None:
                return evolve(v, shape=None), None
            out, walk = walked
        assert out.shape is not None  # a replayed walk succeeded
        emitted.add_group(
            path,
            path.rsplit(".", 1)[-1],
            "block",
            name,
            depth,
            ctx.at(),
            start,
            v.shape,
            out.shape,
            args=tuple(values.items()),
        )
        self.log.append((name, walk))
        value = Value(out.id, out.shape, w.name, ctx.at(), out.flattened_by)
        return evolve(value, channels_last=out.channels_last), walk

    def walk_afresh(
        self, inner: Scope, name: str, block: BlockSpec, v: Value, path: str, key: tuple
    ) -> tuple[Value, ScopeTrace] | None:
        """Walk an instance's rows in ``inner`` (None when that fails); an instance walked
        without a diagnostic is recorded for the instances that would walk alike."""
        state, emitted = self.state, self.emit
        assert v.shape is not None and inner.env is not None
        start = len(emitted.nodes)
        marks = (len(emitted.groups), len(state.diagnostics), state.rows_total, emitted.index)
        log_mark = len(self.log)
        rows = []
        for i, raw in enumerate(block.layers or []):
            model = self.rows.materialize(inner, ("blocks", name, "layers", i), raw)
            if model is None:
                return None
            rows.append((("blocks", name, "layers", i), model))
        out = self.walk(inner, rows)
        if out.shape is None:
            return None
        walk = ScopeTrace(tuple(inner.steps), out.member, v.shape, tuple(inner.env.items()))
        if len(state.diagnostics) == marks[1] and key not in self.memo.walked:
            self.memo.walked[key] = Walked.record(
                state, emitted, self.log, path + ".", v.id, start, marks, log_mark, out, walk
            )
        return out, walk


def find_cycles(state: WalkState, defs: Mapping[str, BlockSpec], cyclic: set[str]) -> None:
    """Report every block of ``defs`` that instantiates itself, directly or through others
    (once each: the blocks reported are added to ``cyclic``)."""
    uses: dict[str, list[tuple[str, tuple]]] = {}
    for name, block in defs.items():
        found: list[tuple[str, tuple]] = []
        stack: list[tuple[tuple, list]] = [(("blocks", name, "layers"), block.layers or [])]
        while stack:
            base, rows = stack.pop()
            for i, r in enumerate(rows):
                if not isinstance(r, dict):
                    continue
                t = r.get("type")
                if isinstance(t, str) and t in defs:
                    found.append((t, base + (i,)))
                if isinstance(t, str) and t in CONTAINERS and isinstance(r.get("layers"), list):
                    stack.append((base + (i, "layers"), r["layers"]))
        uses[name] = found
    on_cycle = _on_cycles(uses)
    for start in defs:
        if start not in on_cycle:
            continue
        # depth-first search for a path back to `start` (through blocks on its cycles only:
        # no other leads back to it)
        todo: list[tuple[str, list[str], tuple | None]] = [(start, [start], None)]
        seen: set[str] = set()
        while todo:
            cur, trail, at = todo.pop()
            for nxt, path in uses.get(cur, []):
                if on_cycle.get(nxt) != on_cycle[start]:
                    continue
                where = at or path
                if nxt == start:
                    cycle = " → ".join([*trail, start])
                    if start not in cyclic:
                        cyclic.add(start)
                        state.error(
                            f"block '{start}' instantiates itself ({cycle})",
                            "block-recursion",
                            state.doc.pos(where + ("type",)),
                            None,
                        )
                elif nxt not in seen:
                    seen.add(nxt)
                    todo.append((nxt, [*trail, nxt], where))


def _on_cycles(uses: dict[str, list[tuple[str, tuple]]]) -> dict[str, int]:
    """The blocks on a cycle of ``uses``, each with its strongly connected component's
    number (Tarjan's algorithm, iterative: a chain of blocks may be thousands long)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: dict[str, int] = {}
    for root in uses:
        if root in index:
            continue
        work = [(root, 0)]
        while work:
            node, i = work.pop()
            if i == 0:
                index[node] = low[node] = len(index)
                stack.append(node)
                on_stack.add(node)
            edges = uses.get(node, [])
            if i < len(edges):
                work.append((node, i + 1))
                nxt = edges[i][0]
                if nxt not in index:
                    work.append((nxt, 0))
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
                continue
            if low[node] == index[node]:
                component = []
                while True:
                    top = stack.pop()
                    on_stack.discard(top)
                    component.append(top)
                    if top == node:
                        break
                looped = any(t == node for t, _ in uses.get(node, []))
                if len(component) > 1 or looped:
                    for member in component:
                        found[member] = index[node]
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    return found


def _default(decl: ParamSpec) -> object:
    """A param's default as its instances carry it (a pair as a tuple)."""
    return None if decl.default is None else param_value(decl.default, decl.type)
