"""The walk: the rows of a scope in order, each resolved against the rows it reads.

The walker visits the rows of a *scope* — the network's rows, a container's, or
one instance of a block — and carries one :class:`~.scope.Value` per row name: the
node that produced it and its shape. Each row reads the rows its ``from:`` names
(default: the previous row), is skipped where its ``if:`` is false (its readers
read its input), and is dispatched on its kind: a layer or a merge applies its
shape rule (its :class:`~cnnspec.kinds.base.LayerKind` record's) and is emitted (:mod:`.emit`), a
container walks its rows in a scope of its own, a block row instantiates the block
(:mod:`.blocks`).
"""

from __future__ import annotations

from typing import Any

from .. import expr as ex
from ..frontend.load import Document
from ..frozen import evolve
from ..ir import INPUT, Step
from ..kinds import CHANNELS_LAST, FLATTENS, KINDS, SPATIAL
from ..kinds.base import RowContext, check_maps, opt
from ..spec.models import BlockRow, Spec
from ..spec.values import MAX_ROWS
from .blocks import Blocks
from .containers import Containers
from .emit import Emitter, cond_of
from .printed import check_printed
from .scope import Scope, Value, Written, maps_after


class Walker(Containers):
    """One walk of a spec: its diagnostics, and the IR it emits."""

    def __init__(self, spec: Spec, doc: Document, *, graph: bool) -> None:
        super().__init__(doc, graph=graph)
        self.spec = spec
        self.input_size: tuple[int, int] | None = (
            tuple(spec.input.size) if spec.input is not None else None  # type: ignore[assignment]
        )
        self.emit = Emitter(self)
        self.blocks = Blocks(self, self.emit, self.walk, dict(spec.blocks or {}))

    # ------------------------------------------------------------------ rows of a scope

    def expand(self, scope: Scope, rows: list[tuple[tuple, Any]]) -> list[Written] | None:
        """`repeat` on a layer row → copies; names given to every row of the scope (None:
        the spec is too large, reported once)."""
        out: list[Written] = []
        total = sum(1 if isinstance(r, BlockRow) else r.repeat for _, r in rows)
        self.rows_total += total
        if self.rows_total > MAX_ROWS:
            if not self.too_large:  # every scope walked after it is as far past the limit
                self.too_large = True
                at = rows[0][0][:-1] if rows else ("layers",)
                self.error(
                    f"the spec expands to {'' if scope.top else 'at least '}"
                    f"{self.rows_total:,} rows; the limit is {MAX_ROWS:,}",
                    "too-large",
                    self.doc.pos(at),
                    scope,
                )
            return None
        for path, row in rows:
            block = isinstance(row, BlockRow)  # its copies are made by the block's row
            copies = 1 if block else row.repeat
            numbered = not block and "repeat" in row.model_fields_set  # `repeat: 1` too
            for copy in range(1, copies + 1):
                # the copies are a chain: the first reads what the row reads (its `from:`),
                # each other the copy before it
                update: dict[str, Any] = {} if copy == 1 else {"from_": None}
                if row.name is not None and numbered:
                    update["name"] = f"{row.name}_{copy}"
                named = row.model_copy(update=update) if update else row
                out.append(Written(named, len(out) + 1, path, (path[-1], copy)))
        self.name_rows(scope, out)
        return out

    def name_rows(self, scope: Scope, rows: list[Written]) -> None:
        taken: dict[str, int] = {}
        for w in rows:
            name = w.row.name
            if name is None:
                continue
            if name in taken:
                self.error(
                    f"name '{name}' is already used by layer {taken[name]}",
                    "duplicate-name",
                    self.doc.pos(w.path + ("name",)),
                    scope,
                    f"layer {w.number} '{name}' ({w.row.type})",
                )
            else:
                taken[name] = w.number
            w.name = name
        counters: dict[str, int] = {}

        def fresh(kind: str) -> str:
            base = kind.lower()
            if base[-1:].isdigit():  # relu6 → relu6_1, not relu61
                base += "_"
            while True:
                counters[base] = counters.get(base, 0) + 1
                candidate = f"{base}{counters[base]}"
                if candidate not in taken:
                    taken[candidate] = 0
                    return candidate

        for w in rows:
            if not w.name:
                w.name = fresh(w.row.type)
            act = opt(w.row, "activation")
            if act not in (None, "none"):
                w.act_name = fresh(act)

    def walk(self, scope: Scope, rows: list[tuple[tuple, Any]]) -> Value:
        written = self.expand(scope, rows)
        if written is None:
            return evolve(scope.input, shape=None)
        later = {w.name: w for w in written}
        scope.last_row = max((w.number for w in written if w.row.type not in FLATTENS), default=0)
        if scope.top and written and not scope.last_row:
            self.error(
                "the spec has no layers besides the flatten",
                "empty",
                self.doc.pos(("layers",)),
                scope,
            )
        prev = scope.input
        for w in written:
            value = self.row(scope, w, prev, later)
            scope.values[w.name] = value
            prev = value
        if prev.member in scope.lists:
            last = next(x for x in written if x.name == prev.member)
            self.error(
                f"the list '{prev.member}' is the last row, but a list is "
                f"{len(scope.lists[prev.member])} parallel tensors, not the scope's output: "
                "merge its members in a row after it",
                "list-read",
                self.doc.pos(last.path),
                scope,
                last.label,
            )
        for name in scope.returned or ():  # an output inside a container (`body.layer2`)
            if "." in name and name not in scope.values:
                tapped = self.tap(scope, None, name, scope.returned_at[name], "outputs")
                if tapped is not None:
                    scope.values[name] = tapped
        self.record_taps(scope)
        scope.output = prev.member
        self.unused(scope, written, prev)
        return prev

    def unused(self, scope: Scope, written: list[Written], out: Value) -> None:
        if scope.returned is None:
            self.mark_read(scope, out.member)
        for name in scope.returned or ():
            if name in scope.values:
                self.mark_read(scope, scope.values[name].member)
        for w in written:
            v = scope.values.get(w.name)
            if v is None or v.shape is None or w.name in scope.absent:
                continue
            last = scope.returned is None and v.member == out.member
            if v.member in scope.reads or last or w.name in scope.reads:
                continue
            self.warn(
                f"the output of '{w.name}' is never read (a row reads the previous row "
                "unless its `from:` says otherwise)",
                "unused",
                self.doc.pos(w.path),
                scope,
                w.label,
            )
        for name, members in scope.lists.items():
            for j, (path, label) in enumerate(members):
                key = f"{name}.{j}"
                v = scope.values.get(key)
                if key in scope.reads or v is None or v.shape is None:
                    continue
                self.warn(
                    f"the output of '{key}' is never read (a list's members are read by "
                    f"`from: {name}.0`, …)",
                    "unused",
                    self.doc.pos(path),
                    scope,
                    label,
                )

    def condition(self, scope: Scope, w: Written) -> bool | None:
        """Whether the row exists in this scope (None: its `if:` cannot be evaluated)."""
        cond = w.row.if_
        if cond is None or isinstance(cond, bool):
            return True if cond is None else cond
        env = scope.env or {}
        try:
            parsed = ex.parse(cond, env)
            value = parsed.evaluate(env)
        except ex.ExprError as exc:
            self.error(f"'if': {exc}", "expr", self.doc.pos(w.path + ("if",)), scope, w.label)
            return None
        return bool(value)

    # ------------------------------------------------------------------ one row

    def row(self, scope: Scope, w: Written, prev: Value, later: dict) -> Value:
        listed = w.row.type == "list"
        if listed and w.row.from_ is None:  # its members read their own inputs
            inputs: list[Value] | None = [prev]
        else:
            inputs = self.sources(scope, w, prev, later)
        like = self.like(scope, w, later)
        present = self.condition(scope, w)
        first = inputs[0] if inputs else prev
        if listed and w.row.if_ is not None:
            self.error(
                "a list cannot have `if:`: rows reading its members would read nothing",
                "list-member",
                self.doc.pos(w.path + ("if",)),
                scope,
                w.label,
            )
            present = None
        if present is not False and not listed:
            for v in [*(inputs or []), *([like] if isinstance(like, Value) else [])]:
                self.mark_read(scope, v.member)
        if inputs is None or present is None or like is None:
            return _unknown(scope, w, self.doc, first)
        if not present:
            return self.absent(scope, w, inputs)
        if not self.readable(scope, w, inputs):
            return _unknown(scope, w, self.doc, first)
        ctx = RowContext(w.row, w.number, w.name, w.path, self.doc, self.diagnostics, scope.notes)
        ctx.channels_last = first.channels_last
        if scope.env is None and not scope.sequential:
            ctx.input_size = self.input_size
        if not self.placed(scope, w, first, ctx):
            return _unknown(scope, w, self.doc, first)
        if isinstance(like, Value):
            if like.shape is None:
                return self.structure_only(scope, w, first, ctx)
            ctx.like = (like.member if like.member != INPUT else INPUT, like.shape)
            ctx.like_channels_last = like.channels_last
        if any(v.shape is None for v in inputs):
            return self.structure_only(scope, w, first, ctx)
        start = len(self.emit.nodes)
        if listed:
            return self.member_list(scope, w, first, later)
        value = self.dispatch(scope, w, inputs, ctx, like if isinstance(like, Value) else None)
        row = w.row
        if value.shape is not None and (row.params is not None or row.macs is not None):
            check_printed(self.spec.printed, row, ctx, self.emit.nodes[start:])
        return value

    def dispatch(
        self, scope: Scope, w: Written, inputs: list[Value], ctx: RowContext, like: Value | None
    ) -> Value:
        """The row by its kind: a block instance, a container, a merge, a flatten, a layer."""
        first = inputs[0]
        if isinstance(w.row, BlockRow):
            return self.blocks.row(scope, w, first, ctx)
        kind = KINDS[w.row.type]
        if kind.contains:
            return self.container(scope, w, first, ctx)
        if kind.is_merge:
            return self.emit.merge(scope, w, inputs, ctx)
        if kind.flattens:
            return self.emit.flatten(scope, w, first, ctx, explicit=True)
        return self.emit.layer(scope, w, first, ctx, like)

    def placed(self, scope: Scope, w: Written, first: Value, ctx: RowContext) -> bool:
        """A last-only kind (a softmax) comes last; a spatial row comes before the flatten
        (False: it does not resolve). A misplaced softmax is reported and resolved still."""
        kind = w.row.type
        act = opt(w.row, "activation")
        last = next((k for k in (kind, act) if k in KINDS and KINDS[k].last), None)
        if last is not None and not (scope.top and w.number == scope.last_row):
            ctx.error(
                f"{last} may only be the last layer ({KINDS[last].last})",
                "softmax-position",
                "activation" if last == act else None,
            )
        block = isinstance(w.row, BlockRow)
        if first.channels_last and (block or not (kind in CHANNELS_LAST or KINDS[kind].contains)):
            what = "block" if block else kind
            if block:
                self.blocks.used.add(kind)  # its rows are not walked here, but a row uses it
            ctx.error(
                f"a {what} row reads maps×H×W, but its input is channels-last (after a "
                "permute): permute it back first (dims [0, 3, 1, 2])",
                "channels-last",
            )
            return False
        if kind in SPATIAL and first.flattened_by is not None:
            ctx.error(
                f"a {kind} row after the flatten ({first.flattened_by}); spatial layers must come "
                "before the first fc",
                "spatial-after-flatten",
            )
            return False
        return True

    def structure_only(self, scope: Scope, w: Written, first: Value, ctx: RowContext) -> Value:
        """An earlier error left an input's shape unknown: only structure is checked."""
        kind = KINDS.get(w.row.type)
        flattens = kind is not None and (kind.flattens or kind.flat_input)
        if kind is not None and kind.flattens and first.flattened_by is not None:
            ctx.error(f"the input is already flattened ({first.flattened_by})", "flatten-twice")
        elif flattens and first.flattened_by is None:
            scope.flattened = True
            unknown = _unknown(scope, w, self.doc, first)
            return evolve(unknown, flattened_by=f"at layer {w.number} '{w.name}'")
        if isinstance(w.row, BlockRow):
            self.blocks.used.add(w.row.type)  # its rows are not walked here, but a row uses it
        info = kind
        if info is None or info.shape is None or info.inputs != 1 or first.maps is None:
            return _unknown(scope, w, self.doc, first)
        # the size is unknown, the maps are not: a row that keeps them is checked still
        if info.maps == "same":
            check_maps(ctx, first.maps, f"a {info.name}")
        maps = maps_after(w.row, info, first.maps)
        return evolve(_unknown(scope, w, self.doc, first), maps=maps)

    def absent(self, scope: Scope, w: Written, inputs: list[Value]) -> Value:
        """A row whose `if:` is false here: readers read its (first) input instead."""
        scope.absent[w.name] = w
        scope.passthrough[w.name] = inputs[0].member
        node = anode = None
        if self.graph:
            info = KINDS.get(w.row.type)
            if scope.env is not None:
                node, anode = self.emit.shadow(scope, w, inputs[0])
            step = Step(
                w.name,
                w.row.type,
                tuple(v.member for v in inputs),
                node.output_shape if node else (),
                present=False,
                cond=cond_of(w),
                module=info is None or info.is_module,
                node=node,
                written=self.emit.written(scope, w) if node else (),
            )
            scope.steps.append(step)
        if not w.act_name:
            return evolve(inputs[0], member=w.name)
        # its `activation:` is absent with it: readers read what the activation would be
        scope.passthrough[w.act_name] = w.name
        if self.graph:
            act = opt(w.row, "activation")
            shape = anode.output_shape if anode else ()
            step = Step(w.act_name, act, (w.name,), shape, False, cond_of(w), node=anode)
            scope.steps.append(step)
        return evolve(inputs[0], member=w.act_name)

    # ------------------------------------------------------------------ containers

    # ------------------------------------------------------------------ lists


def _unknown(scope: Scope, w: Written, doc: Document, first: Value) -> Value:
    """What a row stands for when it cannot be resolved."""
    return Value(f"{scope.prefix}{w.name}", None, w.name, doc.pos(w.path), first.flattened_by)
