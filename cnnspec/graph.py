"""The walk: a checked :class:`Spec` becomes the :class:`Network` graph.

The walker visits the rows of a *scope* in order — the network's rows, a
container's, or one instance of a block — and carries one value per row name:
the node that produced it, its shape, and its maps as a Python expression over
the block's params (``planes * 4``), for the generated block classes. Each row
reads the rows its ``from:`` names (default: the previous row) and applies the
shape rule of its kind (``check.py``, through the registry). A block row walks
the block's rows in a new scope, once per instance, with the instance's params;
the classes the PyTorch backend writes are assembled from those walks.

Every problem is collected, located, and carries ``note:`` lines for the related
places (the row that instantiated a block, the inputs of a merge).
"""

from __future__ import annotations

import ast
import dataclasses
import difflib
import functools
import math
import operator
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from pydantic import TypeAdapter, ValidationError

from . import expr as ex
from .check import MAX_ROWS, SPATIAL, Resolved, RowContext, _declared, opt
from .diagnostics import Diagnostic, Pos, SpecError, note
from .ir import INPUT, ClassDef, Group, Member, Network, Node, Param
from .load import Document
from .registry import KINDS
from .schema import (
    BlockRow,
    BlockSpec,
    Layer,
    Spec,
    _diagnostic,
    _drop_explained,
    check_identifier,
    printed_value,
)

_LAYER = TypeAdapter(Layer)

#: Hyper-parameter fields of a node that a generated constructor call reads.
HYPER = (
    "in_maps",
    "out_maps",
    "kernel",
    "stride",
    "padding",
    "padding_same",
    "dilation",
    "groups",
    "bias",
    "ceil_mode",
    "p",
    "target",
    "eps",
    "momentum",
    "lrn",
    "crop",
    "output_padding",
    "scale",
    "mode",
    "align_corners",
    "functional",
    "torch_class",
)

#: Node fields and the row keys they come from, where the row may write an expression.
_FIELD_KEY = {
    "kernel": "kernel",
    "stride": "stride",
    "padding": "padding",
    "dilation": "dilation",
    "groups": "groups",
    "bias": "bias",
    "ceil_mode": "ceil_mode",
    "p": "p",
    "target": "size",
    "eps": "eps",
    "momentum": "momentum",
    "output_padding": "output_padding",
    "scale": "scale",
}
_hyper = operator.attrgetter(*HYPER)
_PAIRS = frozenset({"kernel", "stride", "padding", "dilation", "target", "output_padding"})
_MERGES = frozenset({"add", "concat"})
#: keys of a block row that substitution leaves as written
_VERBATIM = ("type", "name", "from", "if", "names", "crop")


# --------------------------------------------------------------------------- values


@dataclass(frozen=True)
class Value:
    """What a row's name stands for in its scope."""

    id: str  # the node producing it (INPUT for the network's input)
    shape: tuple[int, ...] | None  # None once an error left it unknown
    sym: str | int  # its maps as a Python expression over the class's arguments
    member: str  # the member of the scope's class that holds it (INPUT: the input)
    pos: Pos | None = None  # where the row producing it is written
    flattened_by: str | None = None  # "at layer 5 'flatten1'", once flattened


@dataclass
class Written:
    """A row after `repeat` expansion, with its name."""

    row: Any
    number: int
    path: tuple
    origin: tuple[int, int]
    name: str = ""
    act_name: str = ""


@dataclass
class Scope:
    """The rows of one network, container or block instance, while they are walked."""

    prefix: str  # module path prefix: "" or "layer1.0."
    input: Value
    env: dict[str, Any] | None  # the block's params and in_maps; None outside blocks
    depth: int
    children: str  # "named", "indexed", "flat" or "sequential" (a chain's layout)
    notes: tuple[Diagnostic, ...] = ()
    values: dict[str, Value] = field(default_factory=dict)
    members: list[tuple[Member, bool, str | None]] = field(default_factory=list)
    count: int = 0  # indexed children so far
    sections: dict[str, int] = field(default_factory=dict)  # a chain's features/classifier
    flattened: bool = False
    reads: set[str] = field(default_factory=set)
    absent: dict[str, Written] = field(default_factory=dict)
    passthrough: dict[str, str] = field(default_factory=dict)  # absent row → what it passes
    #: a chain: the position of the last row that is not a flatten (for softmax)
    last_row: int = 0
    top: bool = False


@dataclass
class Instance:
    """One walk of a block: what its class needs to know from it."""

    members: list[tuple[Member, bool, str | None]]
    output: str
    pos: Pos


@dataclass
class _Walked:
    """One instance's walk, to append again for an instance that would walk alike."""

    prefix: str  # the module path prefix it was walked under ("layer3.1.")
    input_id: str  # the id of the node its input came from
    nodes: list[Node]
    groups: list[Group]
    instances: list[tuple[str, Instance]]  # nested instances' records
    rows: int  # rows it added to the walker's count
    index: int  # the walker's module count before it
    modules: int  # modules it added
    out: Value
    members: list

    @classmethod
    def record(cls, walker, prefix, input_id, start, marks, log_mark, out, members):
        groups, _, rows, index = marks
        nodes = walker.nodes[start:]
        made = walker.groups[groups:]
        scope = prefix[:-1]
        ok = all(
            n.id.startswith(prefix)
            and (n.path is None or n.path.startswith(prefix))
            and (n.scope == scope or n.scope.startswith(prefix))
            for n in nodes
        ) and all(g.path.startswith(prefix) for g in made)
        ok = ok and not input_id.startswith(prefix) and out.id.startswith(prefix)
        if not ok:
            return None
        return cls(
            prefix,
            input_id,
            nodes,
            made,
            walker.instance_log[log_mark:],
            walker.rows_total - rows,
            index,
            walker.index - index,
            out,
            members,
        )


def _instance_key(name: str, values: dict, v: Value, depth: int) -> tuple:
    """What the walk of an instance depends on, besides where it is (diagnostics aside)."""
    return (
        name,
        tuple((k, type(x).__name__, x) for k, x in values.items()),
        v.shape,
        v.flattened_by,
        depth,
    )


class _Maker:
    """Builds a frozen dataclass without running its ``__init__``: ``Node(**fields)``
    sets 40 fields one ``object.__setattr__`` at a time (5 µs); this fills ``__dict__``
    at once (0.8 µs). Its callers never give a field twice (``extra`` and the keywords
    are disjoint); a field unknown or missing goes to ``__init__``, which says which."""

    def __init__(self, cls: type) -> None:
        fs = dataclasses.fields(cls)
        assert not hasattr(cls, "__slots__") and not hasattr(cls, "__post_init__")
        assert all(f.default_factory is dataclasses.MISSING and f.init for f in fs)
        self.cls = cls
        self.defaults = {f.name: f.default for f in fs if f.default is not dataclasses.MISSING}
        self.count = len(fs)

    def __call__(self, extra: dict, **kw: Any) -> Any:
        obj: Any = _object_new(self.cls)
        fields = obj.__dict__
        fields.update(self.defaults)
        fields.update(extra)
        fields.update(kw)
        if len(fields) != self.count:  # an unknown field, or a missing one: __init__ says which
            return self.cls(**extra, **kw)
        return obj


_object_new = object.__new__
_new_node = _Maker(Node)


def _types(values: tuple) -> tuple:
    """The types in ``values``, tuples looked into: with ``values`` a key that tells 2 from
    2.0 and True from 1, which compare equal but are written differently."""
    return tuple(_types(x) if type(x) is tuple else type(x) for x in values)


def _replace(obj: Any, **changes: Any) -> Any:
    """``dataclasses.replace`` for the walk's frozen records (Node, Member, Value, Group):
    the copy's ``__dict__`` is the original's with ``changes``, as ``replace`` would make
    it through ``__init__`` (10 µs for a Member), at a tenth of the cost."""
    cls = type(obj)
    names = _FIELD_NAMES.get(cls)
    if names is None:
        names = _FIELD_NAMES[cls] = (
            frozenset(f.name for f in dataclasses.fields(cls))
            if not hasattr(cls, "__post_init__")
            and not hasattr(cls, "__slots__")
            and all(f.init for f in dataclasses.fields(cls))
            else frozenset()
        )
    if not changes.keys() <= names:
        return replace(obj, **changes)
    new = _object_new(cls)
    fields = new.__dict__
    fields.update(obj.__dict__)
    fields.update(changes)
    return new


_FIELD_NAMES: dict[type, frozenset[str]] = {}


# --------------------------------------------------------------------------- helpers


def _lookup(data: Any, path: tuple) -> Any:
    for part in path:
        if isinstance(data, dict):
            data = data.get(part)
        elif isinstance(data, list) and isinstance(part, int) and 0 <= part < len(data):
            data = data[part]
        else:
            return None
    return data


def _sum_syms(syms: list[str | int]) -> str | int:
    if all(isinstance(s, int) for s in syms):
        return sum(syms)  # type: ignore[arg-type]
    parts = []
    for s in syms:
        text = str(s)
        parts.append(f"({text})" if any(w in text for w in (" if ", " or ", " and ")) else text)
    return " + ".join(parts)


def _paren(sym: str | int) -> str:
    text = str(sym)
    return f"({text})" if " " in text else text


def _shape_text(shape: tuple[int, ...] | None) -> str:
    return "×".join(str(d) for d in shape) if shape else "-"


# --------------------------------------------------------------------------- the walker


class Walker:
    def __init__(self, spec: Spec, doc: Document) -> None:
        self.spec = spec
        self.doc = doc
        self.blocks: dict[str, BlockSpec] = dict(spec.blocks or {})
        self.diagnostics: list[Diagnostic] = []
        self.nodes: list[Node] = []
        self.groups: list[Group] = []
        self.index = 0  # modules so far
        self.instances: dict[str, list[Instance]] = {}
        self.order: list[str] = []  # blocks in the order their first instance completed
        self.cyclic: set[str] = set()
        self.rows_total = 0
        self.graph = False  # a graph network: its classes are assembled from the walk
        self.used: set[str] = set()  # blocks some row instantiates
        self.input_size: tuple[int, int] | None = (
            tuple(spec.input.size) if spec.input is not None else None  # type: ignore[assignment]
        )
        self.validated: dict[tuple, Any] = {}
        #: instances walked without a diagnostic, by what their walk depends on
        self.walked: dict[tuple, _Walked] = {}
        #: every Instance record, in the order they were made
        self.instance_log: list[tuple[str, Instance]] = []
        #: codegen_node's answers: rows written alike share one Node
        self.codegen: dict[tuple, Node] = {}
        #: a block row's path → the names its expressions read (None: one is unparsable)
        self.row_names: dict[tuple, Any] = {}
        #: (path, the values of those names) → the validated row
        self.materialized: dict[tuple, Any] = {}

    # ------------------------------------------------------------------ reporting

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

    # ------------------------------------------------------------------ rows of a scope

    def expand(self, scope: Scope, rows: list[tuple[tuple, Any]]) -> list[Written]:
        """`repeat` on a layer row → copies; names given to every row of the scope."""
        out: list[Written] = []
        total = sum(1 if isinstance(r, BlockRow) else r.repeat for _, r in rows)
        self.rows_total += total
        if self.rows_total > MAX_ROWS:
            at = rows[0][0][:-1] if rows else ("layers",)
            self.error(
                f"the spec expands to {self.rows_total:,} rows; the limit is {MAX_ROWS:,}",
                "too-large",
                self.doc.pos(at),
                scope,
            )
            return []
        for path, row in rows:
            copies = 1 if isinstance(row, BlockRow) else row.repeat
            for copy in range(1, copies + 1):
                named = row
                if row.name is not None and copies > 1:
                    named = row.model_copy(update={"name": f"{row.name}_{copy}"})
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
        later = {w.name: w for w in written}
        scope.last_row = max((w.number for w in written if w.row.type != "flatten"), default=0)
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
        self.unused(scope, written, prev)
        return prev

    def unused(self, scope: Scope, written: list[Written], out: Value) -> None:
        self.mark_read(scope, out.member)
        for w in written:
            v = scope.values.get(w.name)
            if v is None or v.shape is None or w.name in scope.absent:
                continue
            if v.member in scope.reads or v.member == out.member or w.name in scope.reads:
                continue
            self.warn(
                f"the output of '{w.name}' is never read (a row reads the previous row "
                "unless its `from:` says otherwise)",
                "unused",
                self.doc.pos(w.path),
                scope,
                f"layer {w.number} '{w.name}' ({w.row.type})",
            )

    def sources(self, scope: Scope, w: Written, prev: Value, later: dict) -> list[Value] | None:
        row = w.row
        names = row.from_
        if names is None:
            return [prev]
        out: list[Value] = []
        ok = True
        for i, name in enumerate(names):
            at = self.doc.pos(
                w.path
                + ("from",)
                + ((i,) if isinstance(_lookup(self.doc.data, w.path + ("from",)), list) else ())
            )
            label = f"layer {w.number} '{w.name}' ({row.type})"
            if name == INPUT:
                out.append(scope.input)
                continue
            if name in scope.values:
                out.append(scope.values[name])
                continue
            if name in later:
                d = later[name]
                self.error(
                    f"'{name}' is used before it is defined (layer {d.number}); a row reads "
                    "only rows above it",
                    "used-before-defined",
                    at,
                    scope,
                    label,
                    (note(f"'{name}' is defined here", self.doc.pos(d.path)),),
                )
            else:
                known = [INPUT, *scope.values]
                close = difflib.get_close_matches(name, known, n=1)
                hint = f" (did you mean '{close[0]}'?)" if close else ""
                self.error(
                    f"unknown row '{name}' in `from`{hint}; this scope has: {', '.join(known)}",
                    "unknown-from",
                    at,
                    scope,
                    label,
                )
            ok = False
        return out if ok else None

    def condition(self, scope: Scope, w: Written) -> bool | None:
        cond = w.row.if_
        if cond is None or isinstance(cond, bool):
            return True if cond is None else cond
        env = scope.env or {}
        try:
            parsed = ex.parse(cond, env)
            value = parsed.evaluate(env)
        except ex.ExprError as exc:
            self.error(
                f"'if': {exc}",
                "expr",
                self.doc.pos(w.path + ("if",)),
                scope,
                f"layer {w.number} '{w.name}' ({w.row.type})",
            )
            return None
        return bool(value)

    # ------------------------------------------------------------------ one row

    def row(self, scope: Scope, w: Written, prev: Value, later: dict) -> Value:
        row = w.row
        kind = row.type
        inputs = self.sources(scope, w, prev, later)
        present = self.condition(scope, w)
        first = inputs[0] if inputs else prev

        def unknown() -> Value:  # what the row stands for when it cannot be resolved
            return Value(
                f"{scope.prefix}{w.name}", None, 0, w.name, self.doc.pos(w.path), first.flattened_by
            )

        if present is not False:
            for v in inputs or []:
                self.mark_read(scope, v.member)
        if inputs is None or present is None:
            return unknown()
        if not present:
            return self.absent(scope, w, inputs)
        for v in inputs:
            if v.member in scope.absent and scope.absent[v.member].row.type in _MERGES:
                absent = scope.absent[v.member]
                self.error(
                    f"'{v.member}' is read here, but its `if:` is false in this instance and "
                    f"{_a(absent.row.type)} has no single input to stand for it",
                    "if-read",
                    self.doc.pos(w.path + ("from",)),
                    scope,
                    f"layer {w.number} '{w.name}' ({kind})",
                    (note(f"'{v.member}' is written here", self.doc.pos(absent.path)),),
                )
                return unknown()
        ctx = RowContext(row, w.number, w.name, w.path, self.doc, self.diagnostics, scope.notes)
        if scope.env is None:
            ctx.input_size = self.input_size
        act = opt(row, "activation")
        if (kind == "softmax" or act == "softmax") and not (
            scope.top and w.number == scope.last_row
        ):
            ctx.error(
                "softmax may only be the last layer (it turns the final scores into "
                "probabilities over dim=1)",
                "softmax-position",
                "activation" if act == "softmax" else None,
            )
        if kind in SPATIAL and first.flattened_by is not None:
            ctx.error(
                f"a {kind} row after the flatten ({first.flattened_by}); spatial layers must come "
                "before the first fc",
                "spatial-after-flatten",
            )
            return unknown()
        if any(v.shape is None for v in inputs):
            # an earlier error left a shape unknown: only structure is checked
            if kind == "flatten" and first.flattened_by is not None:
                ctx.error(f"the input is already flattened ({first.flattened_by})", "flatten-twice")
            elif kind in ("flatten", "fc") and first.flattened_by is None:
                scope.flattened = True
                return _replace(unknown(), flattened_by=f"at layer {w.number} '{w.name}'")
            return unknown()
        start = len(self.nodes)
        if isinstance(row, BlockRow):
            value = self.block_row(scope, w, first, ctx)
        elif kind == "sequential":
            value = self.container(scope, w, first, ctx)
        elif kind in _MERGES:
            value = self.merge(scope, w, inputs, ctx)
        elif kind == "flatten":
            value = self.flatten(scope, w, first, ctx, explicit=True)
        else:
            value = self.layer(scope, w, first, ctx)
        if value.shape is not None and (row.params is not None or row.macs is not None):
            self.printed(w, ctx, self.nodes[start:])
        return value

    def add_group(
        self,
        path: str,
        name: str,
        kind: Literal["block", "sequential"],
        block: str | None,
        depth: int,
        pos: Pos,
        start: int,
        input_shape: tuple[int, ...],
        output_shape: tuple[int, ...],
        args: tuple[tuple[str, object], ...] = (),
    ) -> None:
        """Record a block instance or container holding the nodes made since ``start``."""
        inside = self.nodes[start:]
        self.groups.append(
            Group(
                path,
                name,
                kind,
                block,
                depth,
                pos,
                tuple(n.id for n in inside),
                input_shape,
                output_shape,
                sum(n.params for n in inside),
                sum(n.macs for n in inside),
                args=args,
            )
        )

    def mark_read(self, scope: Scope, member: str) -> None:
        """``member``'s value is read (and, through rows absent here, what they pass on)."""
        while member != INPUT and member not in scope.reads:
            scope.reads.add(member)
            if member not in scope.passthrough:
                break
            member = scope.passthrough[member]

    def absent(self, scope: Scope, w: Written, inputs: list[Value]) -> Value:
        """A row whose `if:` is false here: readers read its (first) input instead."""
        scope.absent[w.name] = w
        scope.passthrough[w.name] = inputs[0].member
        info = KINDS.get(w.row.type)
        member = Member(
            w.name,
            w.row.type,
            tuple(v.member for v in inputs),
            "",
            module=info is None or info.is_module,
        )
        scope.members.append((member, False, self.cond_text(w)))
        return _replace(inputs[0], member=w.name)

    def cond_text(self, w: Written) -> str | None:
        cond = w.row.if_
        if isinstance(cond, str):
            try:
                return ex.parse(cond).python()
            except ex.ExprError:
                return None
        return None

    # ------------------------------------------------------------------ paths

    def module_path(self, scope: Scope, name: str) -> str:
        if scope.children == "indexed":
            scope.count += 1
            return f"{scope.prefix}{scope.count - 1}"
        if scope.children == "sequential":
            section = "classifier" if scope.flattened else "features"
            n = scope.sections.get(section, 0)
            scope.sections[section] = n + 1
            return f"{section}.{n}"
        return f"{scope.prefix}{name}"

    def node_id(self, scope: Scope, name: str) -> str:
        return f"{scope.prefix}{name}"

    # ------------------------------------------------------------------ layers

    def add_node(
        self,
        scope: Scope,
        w: Written,
        kind: str,
        name: str,
        res: Resolved,
        inputs: list[Value],
        ctx: RowContext,
        *,
        module: bool,
        of: str | None = None,
    ) -> Node:
        fields = dict(res.fields)
        torch_class = fields.pop("torch_class", KINDS[kind].torch_class)
        if fields.get("functional"):
            module = False
            torch_class = ""
        path = self.module_path(scope, name) if module else None
        if module:
            self.index += 1
        node = _new_node(
            fields,
            id=self.node_id(scope, name),
            name=name,
            kind=kind,
            row=w.number,
            pos=ctx.at(),
            inputs=tuple(v.id for v in inputs),
            input_shape=inputs[0].shape or (),
            output_shape=res.output_shape or (),
            params=res.params,
            macs=res.macs,
            path=path,
            index=self.index if module else None,
            depth=scope.depth,
            scope=scope.prefix[:-1],
            input_shapes=tuple(v.shape or () for v in inputs) if len(inputs) > 1 else (),
            activation_of=of,
            origin=w.origin,
            torch_class=torch_class,
        )
        self.nodes.append(node)
        return node

    def flatten(
        self,
        scope: Scope,
        w: Written,
        v: Value,
        ctx: RowContext,
        *,
        explicit: bool,
        name: str | None = None,
    ) -> Value:
        if v.flattened_by is not None:
            ctx.error(f"the input is already flattened ({v.flattened_by})", "flatten-twice")
            return _replace(v, shape=None)
        assert v.shape is not None
        scope.flattened = True
        flat = (math.prod(v.shape),)
        name = name or w.name
        res = Resolved(flat)
        node = self.add_node(scope, w, "flatten", name, res, [v], ctx, module=False)
        by = f"at layer {w.number} '{w.name}'"
        out = Value(node.id, flat, flat[0], name, ctx.at(), by)
        if explicit or scope.children not in ("sequential", "flat"):
            scope.members.append(
                (
                    Member(
                        name, "flatten", (v.member,), self.shape_text(scope, flat), module=False
                    ),
                    True,
                    None,
                )
            )
        return out

    def layer(self, scope: Scope, w: Written, v: Value, ctx: RowContext) -> Value:
        row = w.row
        kind = row.type
        info = KINDS[kind]
        act = opt(row, "activation")
        act = None if act == "none" else act
        assert v.shape is not None
        if kind in SPATIAL and len(v.shape) != 3:
            ctx.error(
                f"a {kind} row needs a maps×H×W input, not {_shape_text(v.shape)}",
                "spatial-after-flatten",
            )
            return _replace(v, shape=None)
        if kind == "fc" and len(v.shape) != 1:
            fname = None
            if scope.children not in ("sequential", "flat"):
                fname = self.fresh_flatten(scope)
            v = self.flatten(scope, w, v, ctx, explicit=False, name=fname or f"{w.name}_flatten")
            if v.shape is None:
                return v
        assert info.rule is not None
        res = info.rule(ctx, v.shape)
        if res.output_shape is None:
            return _replace(v, shape=None, flattened_by=v.flattened_by)
        node = self.add_node(scope, w, kind, w.name, res, [v], ctx, module=True)
        sym = self.out_sym(scope, w, v, node)
        out = Value(node.id, node.output_shape, sym, w.name, ctx.at(), v.flattened_by)
        scope.members.append(
            (
                Member(
                    w.name,
                    kind,
                    (v.member,),
                    self.shape_text(scope, node.output_shape, sym),
                    node=self.codegen_node(scope, w, node, v),
                    actual=node,
                    env=_env(scope),
                    module=node.path is not None,
                ),
                True,
                self.cond_text(w),
            )
        )
        if act is not None:
            anode = self.add_node(
                scope,
                w,
                act,
                w.act_name,
                Resolved(node.output_shape),
                [out],
                ctx,
                module=True,
                of=node.id,
            )
            scope.members.append(
                (
                    Member(
                        w.act_name,
                        act,
                        (w.name,),
                        self.shape_text(scope, node.output_shape, sym),
                        node=self.codegen_node(scope, w, anode, out),
                        actual=anode,
                        env=_env(scope),
                    ),
                    True,
                    self.cond_text(w),
                )
            )
            out = Value(anode.id, anode.output_shape, sym, w.act_name, ctx.at(), v.flattened_by)
        return out

    def fresh_flatten(self, scope: Scope) -> str:
        n = 1
        while f"flatten{n}" in scope.values or any(
            m.name == f"flatten{n}" for m, _, _ in scope.members
        ):
            n += 1
        return f"flatten{n}"

    def merge(self, scope: Scope, w: Written, inputs: list[Value], ctx: RowContext) -> Value:
        if len(inputs) < 2:
            ctx.error(f"{w.row.type} needs at least two inputs in `from`", "merge-inputs", "from")
            return Value(self.node_id(scope, w.name), None, 0, w.name)
        ctx.sources = tuple(
            (v.member if v.member != INPUT else INPUT, v.shape or (), v.pos or ctx.at())
            for v in inputs
        )
        rule = KINDS[w.row.type].rule
        assert rule is not None
        res = rule(ctx, [v.shape for v in inputs])
        if res.output_shape is None:
            return Value(self.node_id(scope, w.name), None, 0, w.name)
        node = self.add_node(scope, w, w.row.type, w.name, res, inputs, ctx, module=False)
        if w.row.type == "add":
            sym = inputs[0].sym
        else:
            sym = _sum_syms([v.sym for v in inputs])
        scope.members.append(
            (
                Member(
                    w.name,
                    w.row.type,
                    tuple(v.member for v in inputs),
                    self.shape_text(scope, node.output_shape, sym),
                    node=self.codegen_node(scope, w, node, inputs[0]),
                    actual=node,
                    env=_env(scope),
                    module=False,
                ),
                True,
                self.cond_text(w),
            )
        )
        return Value(node.id, node.output_shape, sym, w.name, ctx.at())

    # ------------------------------------------------------------------ printed figures

    def printed(
        self, w: Written, ctx: RowContext, nodes: list[Node], label: str | None = None
    ) -> None:
        conv = self.spec.printed
        weights = conv is not None and conv.counts == "weights"
        units: dict[str, float] = {
            "": 1,
            "K": conv.K if conv else 1000,
            "M": conv.M if conv else 10**6,
            "G": conv.G if conv else 10**9,
        }
        params = sum(_weights(n) if weights else n.params for n in nodes)
        macs = sum(_weight_macs(n) if weights else n.macs for n in nodes)
        what = "weights" if weights else "params"
        for key, computed, noun in (("params", params, what), ("macs", macs, "MACs")):
            text = getattr(w.row, key)
            if text is None:
                continue
            number, unit = printed_value(text, units)
            mantissa, _, exponent = text.strip().rstrip("KMGkmg ").partition("e")
            mantissa, _, exponent2 = mantissa.partition("E")
            exponent = exponent or exponent2
            if exponent:  # 1.8e9: the printed precision is the mantissa's
                number, unit = float(mantissa), 10.0 ** int(exponent)
            exact = computed / unit
            decimals = len(mantissa.split(".")[1]) if "." in mantissa else 0
            step = 10**-decimals
            truncated = math.floor(exact / step + 1e-9) * step
            rounded = round(exact / step) * step
            if abs(truncated - number) < step / 2 or abs(rounded - number) < step / 2:
                continue
            tolerance = conv.tolerance if conv else 0.0
            if tolerance and abs(exact - number) <= tolerance * max(exact, number):
                continue
            suffix = text.strip()[-1].upper() if text.strip()[-1].isalpha() else ""
            if exponent:
                suffix = f"e{int(exponent)}"
            shown = f"{exact:,.{max(decimals, 1)}f}{suffix}" if suffix else f"{computed:,}"
            base = f" ({suffix} = {unit:,.0f})" if suffix and not exponent else ""
            message = f"the paper prints {text} {noun}; cnnspec counts {computed:,} = {shown}{base}"
            if label is None:
                ctx.warn(message, f"printed-{key}", key)
            else:
                self.warn(message, f"printed-{key}", ctx.at(key), None, label)

    # ------------------------------------------------------------------ containers

    def container(self, scope: Scope, w: Written, v: Value, ctx: RowContext) -> Value:
        row = w.row
        path = self.module_path(scope, w.name)
        for j, child in enumerate(row.layers):
            if child.from_ is not None:
                self.error(
                    "a row inside a sequential container reads the previous row; `from` is "
                    "for named scopes (blocks and the network)",
                    "from-in-sequential",
                    self.doc.pos(w.path + ("layers", j, "from")),
                    scope,
                )
                return _replace(v, shape=None)
        inner = Scope(
            prefix=path + ".",
            input=_replace(v, member=INPUT),
            env=scope.env,
            depth=scope.depth + 1,
            children=row.children,
            notes=scope.notes,
        )
        start = len(self.nodes)
        rows = [(w.path + ("layers", j), child) for j, child in enumerate(row.layers)]
        out = self.walk(inner, rows)
        if out.shape is None:
            return Value(self.node_id(scope, w.name), None, 0, w.name)
        _declared(ctx, out.shape, "the container's output")
        self.add_group(
            path,
            w.name,
            "sequential",
            None,
            scope.depth + 1,
            ctx.at(),
            start,
            v.shape or (),
            out.shape,
        )
        member = Member(
            w.name,
            "sequential",
            (v.member,),
            self.shape_text(scope, out.shape, out.sym),
            children=_all_children(inner.members),
            named=row.children == "named",
        )
        scope.members.append((member, True, self.cond_text(w)))
        return Value(out.id, out.shape, out.sym, w.name, ctx.at(), out.flattened_by)

    # ------------------------------------------------------------------ blocks

    def block_args(
        self,
        scope: Scope,
        w: Written,
        block: BlockSpec,
        ctx: RowContext,
    ) -> tuple[dict[str, Any], dict[str, str]] | None:
        """The instance's params (values) and their source text at the call site."""
        row = w.row
        given = dict(row.model_extra or {})
        defined = note(
            f"block '{row.type}' is defined here", self.doc.pos(("blocks", row.type), key=True)
        )
        ok = True
        values: dict[str, Any] = {}
        texts: dict[str, str] = {}
        raw_row = _lookup(self.doc.data, w.path) or {}
        for key in given:
            if key not in block.params:
                close = difflib.get_close_matches(key, list(block.params), n=1)
                hint = f" (did you mean '{close[0]}'?)" if close else ""
                known = ", ".join(block.params) or "none"
                self.error(
                    f"block '{row.type}' has no param '{key}'{hint}; its params: {known}",
                    "block-param",
                    self.doc.pos(w.path + (key,), key=True),
                    scope,
                    ctx.label,
                    (defined,),
                )
                ok = False
        for name, decl in block.params.items():
            if name in given:
                raw = raw_row.get(name, given[name]) if isinstance(raw_row, dict) else given[name]
                value = given[name]
                text = repr(value)
                if isinstance(raw, str) and ex.is_expr(raw):
                    try:
                        parsed = ex.parse(raw, scope.env or {})
                        text = ex.Sym(parsed.python())
                    except ex.ExprError:
                        pass
                if not _fits(value, decl.type):
                    self.error(
                        f"param '{name}' of block '{row.type}' is {_a(decl.type)}, got "
                        f"{_describe(value)}",
                        "block-param",
                        self.doc.pos(w.path + (name,)),
                        scope,
                        ctx.label,
                        (defined,),
                    )
                    ok = False
                values[name] = value
                texts[name] = text
            elif decl.default is not None:
                values[name] = decl.default
            else:
                self.error(
                    f"block '{row.type}' needs param '{name}' ({decl.type})",
                    "block-param",
                    self.doc.pos(w.path),
                    scope,
                    ctx.label,
                    (defined,),
                )
                ok = False
        return (values, texts) if ok else None

    def block_row(self, scope: Scope, w: Written, v: Value, ctx: RowContext) -> Value:
        row: BlockRow = w.row
        name = row.type
        self.used.add(name)
        if name in self.cyclic:
            return _replace(v, shape=None)
        block = self.blocks[name]
        got = self.block_args(scope, w, block, ctx)
        if got is None:
            return _replace(v, shape=None)
        values, texts = got
        if row.repeat is None and (row.first is not None or row.names is not None):
            key = "first" if row.first is not None else "names"
            ctx.error(
                f"'{key}' applies to the copies of a repeated row; this row has no `repeat`",
                "repeat-override",
                key,
            )
            return _replace(v, shape=None)
        first_values, first_texts = dict(values), dict(texts)
        if row.first:
            for key, value in row.first.items():
                if key not in block.params:
                    close = difflib.get_close_matches(key, list(block.params), n=1)
                    hint = f" (did you mean '{close[0]}'?)" if close else ""
                    self.error(
                        f"block '{name}' has no param '{key}'{hint}",
                        "block-param",
                        self.doc.pos(w.path + ("first", key), key=True),
                        scope,
                        ctx.label,
                    )
                    return _replace(v, shape=None)
                raw = _lookup(self.doc.data, w.path + ("first", key))
                text = repr(value)
                if isinstance(raw, str) and ex.is_expr(raw):
                    try:
                        parsed = ex.parse(raw, scope.env or {})
                        value = parsed.evaluate(scope.env or {})
                        text = ex.Sym(parsed.python())
                    except ex.ExprError as exc:
                        ctx.error(f"'first': {exc}", "expr", "first")
                        return _replace(v, shape=None)
                if not _fits(value, block.params[key].type):
                    ctx.error(
                        f"param '{key}' of block '{name}' is {_a(block.params[key].type)}, "
                        f"got {_describe(value)}",
                        "block-param",
                        "first",
                    )
                    return _replace(v, shape=None)
                first_values[key] = value
                first_texts[key] = text
        start = len(self.nodes)
        if row.repeat is None:
            path = self.module_path(scope, w.name)
            out = self.instance(scope, w, name, block, values, texts, v, path, ctx)
            if out.shape is None:
                return Value(self.node_id(scope, w.name), None, 0, w.name)
            args = self.call_args(block, v.sym, values, texts)
            member = Member(
                w.name,
                "block",
                (v.member,),
                self.shape_text(scope, out.shape, out.sym),
                block=name,
                args=args,
                env=_env(scope),
            )
        else:
            path = self.module_path(scope, w.name)
            copies = []
            cur = v
            child_names = []
            for k in range(row.repeat):
                if row.names is not None:
                    try:
                        child = row.names.replace("{i}", str(k + 1))
                        check_identifier(child, "copy name")
                    except ValueError as exc:
                        ctx.error(f"'names': {exc}", "value", "names")
                        return _replace(v, shape=None)
                    if "{i}" not in row.names and row.repeat > 1:
                        ctx.error("'names' needs {i} to number the copies", "value", "names")
                        return _replace(v, shape=None)
                else:
                    child = str(k)
                child_names.append(child)
                vals, txts = (first_values, first_texts) if k == 0 else (values, texts)
                args = self.call_args(block, cur.sym, vals, txts)
                out = self.instance(
                    scope, w, name, block, vals, txts, cur, f"{path}.{child}", ctx, scope.depth + 2
                )
                if out.shape is None:
                    return Value(self.node_id(scope, w.name), None, 0, w.name)
                copies.append((child if row.names is not None else None, args))
                cur = _replace(out, member=w.name)
                if k == 0:
                    rest = (None, self.call_args(block, cur.sym, values, texts))
            raw_repeat = _lookup(self.doc.data, w.path + ("repeat",))
            count = None
            if scope.env is not None and ex.is_expr(raw_repeat):
                # a count that varies per instance: the class writes the first copy and a
                # loop over the others (whose arguments are then all the same)
                if row.names is not None:
                    ctx.error(
                        "'names' needs a fixed `repeat`; this one is an expression",
                        "block-varies",
                        "names",
                    )
                    return _replace(v, shape=None)
                count = ex.parse(raw_repeat).python()
                copies = [copies[0], rest]
            self.add_group(
                path,
                w.name,
                "sequential",
                None,
                scope.depth + 1,
                ctx.at(),
                start,
                v.shape or (),
                cur.shape or (),
            )
            out = cur
            member = Member(
                w.name,
                "block",
                (v.member,),
                self.shape_text(scope, out.shape, out.sym),
                block=name,
                copies=tuple(copies),
                named=row.names is not None,
                repeat=count,
                env=_env(scope),
            )
        assert out.shape is not None
        _declared(ctx, out.shape, f"the {name} block's output")
        scope.members.append((member, True, self.cond_text(w)))
        return Value(out.id, out.shape, out.sym, w.name, ctx.at(), out.flattened_by)

    def call_args(
        self, block: BlockSpec, in_sym: str | int, values: dict, texts: dict
    ) -> tuple[str, ...]:
        """A constructor call's arguments: in_maps, the required params in order, then the
        others by keyword where this instance sets them (to an expression, or off default)."""
        args = [str(in_sym)]
        for name, decl in block.params.items():
            text = texts.get(name)
            if decl.default is None:
                args.append(text if text is not None else repr(values.get(name)))
            elif text is not None and (
                isinstance(text, ex.Sym) or values.get(name) != decl.default
            ):
                args.append(f"{name}={text}")
        return tuple(args)

    def instance(
        self,
        scope: Scope,
        w: Written,
        name: str,
        block: BlockSpec,
        values: dict,
        texts: dict,
        v: Value,
        path: str,
        ctx: RowContext,
        depth: int | None = None,
    ) -> Value:
        """Walk one instance of ``block`` at module path ``path``."""
        assert v.shape is not None
        depth = scope.depth + 1 if depth is None else depth
        env = dict(values)
        env[ex.IN_MAPS] = v.shape[0]
        label = f"{path} ({name})"
        inner = Scope(
            prefix=path + ".",
            input=Value(v.id, v.shape, ex.IN_MAPS, INPUT, v.pos, v.flattened_by),
            env=env,
            depth=depth,
            children=block.children,
            notes=(note(f"instantiated from {label}", ctx.at()),) + scope.notes,
        )
        start = len(self.nodes)
        key = _instance_key(name, values, v, depth)
        memo = self.walked.get(key)
        if memo is not None and self.rows_total + memo.rows <= MAX_ROWS:
            out, members = self.replay(memo, path + ".", v.id)
        else:
            marks = (len(self.groups), len(self.diagnostics), self.rows_total, self.index)
            log_mark = len(self.instance_log)
            rows = []
            for i, raw in enumerate(block.layers or []):
                model = self.materialize(inner, ("blocks", name, "layers", i), raw)
                if model is None:
                    return _replace(v, shape=None)
                rows.append((("blocks", name, "layers", i), model))
            out = self.walk(inner, rows)
            if out.shape is None:
                return _replace(v, shape=None)
            members = list(inner.members)
            if len(self.diagnostics) == marks[1] and key not in self.walked:
                self.walked[key] = _Walked.record(
                    self, path + ".", v.id, start, marks, log_mark, out, members
                )
        assert out.shape is not None  # a replayed walk succeeded
        self.add_group(
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
        made = Instance(members, out.member, ctx.at())
        self.instances.setdefault(name, []).append(made)
        self.instance_log.append((name, made))
        if name not in self.order:
            self.order.append(name)
        sym = _subst(
            out.sym, {ex.IN_MAPS: v.sym, **{k: texts.get(k, repr(values[k])) for k in values}}
        )
        return Value(out.id, out.shape, sym, w.name, ctx.at(), out.flattened_by)

    def replay(self, memo: _Walked, prefix: str, input_id: str) -> tuple[Value, list]:
        """Append what an instance walked alike before appended, renamed to ``prefix``."""
        old = memo.prefix
        cut = len(old)

        def rename(i: str) -> str:
            if i == memo.input_id:
                return input_id
            return prefix + i[cut:] if i.startswith(old) else i

        shift = self.index - memo.index
        for n in memo.nodes:
            fields = dict(n.__dict__)
            fields["id"] = prefix + n.id[cut:]
            fields["inputs"] = tuple(map(rename, n.inputs))
            if n.path is not None:
                fields["path"] = prefix + n.path[cut:]
                assert n.index is not None  # a module has its index
                fields["index"] = n.index + shift
            fields["scope"] = (prefix + n.scope[cut:]) if n.scope != old[:-1] else prefix[:-1]
            if n.activation_of is not None:
                fields["activation_of"] = rename(n.activation_of)
            self.nodes.append(_new_node(fields))
        self.index += memo.modules
        for g in memo.groups:
            self.groups.append(
                _replace(
                    g, path=prefix + g.path[cut:], nodes=tuple(prefix + i[cut:] for i in g.nodes)
                )
            )
        for name, inst in memo.instances:
            self.instances.setdefault(name, []).append(inst)
            self.instance_log.append((name, inst))
        self.rows_total += memo.rows
        out = memo.out
        return _replace(out, id=rename(out.id)), memo.members

    def materialize(self, scope: Scope, path: tuple, raw: Any) -> Any:
        """A block's row with this instance's params substituted, validated."""
        env = scope.env or {}
        names = self.row_names.get(path, False)
        if names is False:
            names = self.row_names[path] = _expr_names(raw)
        if names is not None:
            # the row's data depends on the env only through the names its expressions use
            short = (path, tuple((n, type(env.get(n)).__name__, env.get(n)) for n in names))
            model = self.materialized.get(short)
            if model is None:
                model = self._materialize(scope, path, raw, env)
                if model is not None:
                    self.materialized[short] = model
            return model
        return self._materialize(scope, path, raw, env)

    def _materialize(self, scope: Scope, path: tuple, raw: Any, env: dict) -> Any:
        problems: list[Diagnostic] = []
        data = self.substitute(raw, path, env, problems, scope)
        if problems:
            self.diagnostics.extend(problems)
            return None
        key = (path, _freeze(data))
        if key in self.validated:
            return self.validated[key]
        try:
            model = _LAYER.validate_python(data)
        except ValidationError as exc:
            view = Document(
                _nest(path, data), self.doc.text, self.doc.value_pos, self.doc.key_pos, self.doc.raw
            )
            found = []
            for err in exc.errors(include_url=False):
                located = {**err, "loc": path + tuple(err["loc"])}
                found.append(_diagnostic(view, located))
            for d in _drop_explained(found):
                self.diagnostics.append(d.with_notes(scope.notes))
            return None
        if isinstance(model, BlockRow) and model.type not in self.blocks:
            return None  # reported by the schema stage
        self.validated[key] = model
        return model

    def substitute(self, raw: Any, path: tuple, env: dict, problems: list, scope: Scope) -> Any:
        if isinstance(raw, dict):
            out = {}
            for k, val in raw.items():
                if k in _VERBATIM:
                    out[k] = val
                elif k == "layers" and isinstance(val, list):
                    out[k] = [
                        self.substitute(r, path + (k, j), env, problems, scope)
                        for j, r in enumerate(val)
                    ]
                else:
                    out[k] = self.substitute(val, path + (k,), env, problems, scope)
            return out
        if isinstance(raw, list):
            return [
                self.substitute(r, path + (j,), env, problems, scope) for j, r in enumerate(raw)
            ]
        if ex.is_expr(raw):
            try:
                return ex.parse(raw, env).evaluate(env)
            except ex.ExprError as exc:
                key = next((p for p in reversed(path) if isinstance(p, str)), "")
                problems.append(
                    Diagnostic(
                        "error", f"'{key}': {exc}", "expr", self.doc.pos(path), None, scope.notes
                    )
                )
                return raw
        return raw

    # ------------------------------------------------------------------ code generation

    def out_sym(self, scope: Scope, w: Written, v: Value, node: Node) -> str | int:
        kind = node.kind
        if kind in ("conv", "deconv", "fc"):
            key = "size" if kind == "fc" else "maps"
            raw = _lookup(self.doc.data, w.path + (key,))
            if scope.env is not None and ex.is_expr(raw):
                return ex.parse(raw).python()
            return node.output_shape[0]
        return v.sym

    def codegen_node(self, scope: Scope, w: Written, node: Node, v: Value) -> Node:
        """The node as its class's constructor writes it: placeholders where the concrete
        network differs per instance, expressions where the row wrote one."""
        if not self.graph:
            return node  # a chain's code is written from the nodes themselves
        hyper = dict(zip(HYPER, _hyper(node)))
        if scope.env is not None:
            raw = _lookup(self.doc.data, w.path)
            raw = raw if isinstance(raw, dict) else {}
            if hyper["in_maps"] is not None:
                hyper["in_maps"] = _sym(v.sym)
            if node.kind in ("conv", "deconv", "fc") and hyper["out_maps"] is not None:
                key = "size" if node.kind == "fc" else "maps"
                if ex.is_expr(raw.get(key)):
                    hyper["out_maps"] = ex.Sym(ex.parse(raw[key]).python())
            for fname, key in _FIELD_KEY.items():
                if node.kind == "fc" and key == "size":
                    continue
                if node.activation_of is not None:
                    continue
                value = raw.get(key)
                if fname in _PAIRS and isinstance(value, list) and any(map(ex.is_expr, value)):
                    hyper[fname] = tuple(
                        ex.Sym(ex.parse(x).python()) if ex.is_expr(x) else x for x in value
                    )
                elif isinstance(value, str) and ex.is_expr(value):
                    s = ex.Sym(ex.parse(value).python())
                    hyper[fname] = (s, s) if fname in _PAIRS else s
        # rows written alike share one Node: the classes' merge then compares by identity
        values = tuple(hyper.values())
        memo = (node.name, node.kind, values, _types(values))
        found = self.codegen.get(memo)
        if found is not None:
            return found
        made = self.codegen[memo] = _new_node(
            hyper,
            id=node.name,
            name=node.name,
            kind=node.kind,
            row=0,
            pos=Pos(0, 0),
            inputs=(),
            input_shape=(),
            output_shape=(),
            params=0,
            macs=0,
        )
        return made

    def shape_text(
        self, scope: Scope, shape: tuple[int, ...] | None, sym: str | int | None = None
    ) -> str:
        if not self.graph:
            return ""
        if shape is None:
            return "-"
        if scope.env is None or sym is None:
            return _shape_text(shape)
        maps = _paren(sym) if not isinstance(sym, int) else str(sym)
        if len(shape) == 1:
            return maps
        src = scope.input.shape
        if src is None or len(src) != 3:
            return f"{maps}×{shape[1]}×{shape[2]}"
        parts = []
        for axis, (a, b) in zip("HW", zip(src[1:], shape[1:])):
            if a == b:
                parts.append(axis)
            elif b and a % b == 0:
                parts.append(f"{axis}/{a // b}")
            else:
                parts.append(str(b))
        return f"{maps}×{parts[0]}×{parts[1]}"

    def classes(self) -> tuple[ClassDef, ...]:
        out = []
        for name in self.order:
            block = self.blocks[name]
            instances = self.instances[name]
            members = self.merge_members(name, [i.members for i in instances])
            if members is None:
                continue
            params = tuple(
                Param(p, d.type, None if d.default is None else repr(d.default))
                for p, d in block.params.items()
            )
            output = _passthrough(instances[0].output, instances[0].members, members)
            out.append(
                ClassDef(
                    name,
                    params,
                    True,
                    members,
                    output,
                    sequential=block.children == "indexed",
                    title=block.title or name,
                )
            )
        return tuple(out)

    def merge_members(
        self, block: str, runs: list[list[tuple[Member, bool, str | None]]]
    ) -> tuple[Member, ...] | None:
        first = runs[0]
        if any(
            len(r) != len(first) or [m.name for m, _, _ in r] != [m.name for m, _, _ in first]
            for r in runs
        ):
            self.error(
                f"the instances of block '{block}' have different rows (a `repeat` or a "
                "condition that changes the block's structure); cnnspec writes one class per "
                "block",
                "block-varies",
                self.doc.pos(("blocks", block), key=True),
                None,
            )
            return None
        merged: list[tuple[Member, bool, str | None]] = []
        for i, (member, _, cond) in enumerate(first):
            states = [r[i][1] for r in runs]
            present = [r[i][0] for r in runs if r[i][1]]
            if not present:  # no instance has it: no code (its readers read its input)
                merged.append((member, False, None))
                continue
            try:
                chosen = _merge_column(present)
            except _Varies as exc:
                self.error(
                    f"row '{exc.name or member.name}' of block '{block}' differs between "
                    f"instances ({exc}); write it with the block's params",
                    "block-varies",
                    self.doc.pos(("blocks", block), key=True),
                    None,
                )
                return None
            # a row written with `if:` keeps its condition in the class, even where every
            # instance has it: the class reads like the block (torchvision's `if bn:`)
            merged.append((chosen, all(states) and cond is None, cond))
        return _finish(merged)


# --------------------------------------------------------------------------- members


def _finish(merged: list[tuple[Member, bool, str | None]]) -> tuple[Member, ...]:
    """Drop rows no instance has (their readers read their input), attach conditions."""
    gone: dict[str, str] = {}
    out = []
    for member, always, cond in merged:
        if not always and cond is None:  # no instance has it: no code
            gone[member.name] = member.inputs[0] if member.inputs else INPUT
            continue
        inputs = tuple(_follow(n, gone) for n in member.inputs)
        out.append(_replace(member, inputs=inputs, cond=None if always else cond))
    return tuple(out)


def _follow(name: str, gone: dict[str, str]) -> str:
    while name in gone:
        name = gone[name]
    return name


def _passthrough(
    name: str, walked: list[tuple[Member, bool, str | None]], kept: tuple[Member, ...]
) -> str:
    """The member a class returns: the block's last row, or — where no instance has that
    row — what it passes on (its first input), and so on."""
    names = {m.name for m in kept}
    inputs = {m.name: m.inputs for m, _, _ in walked}
    while name != INPUT and name not in names and inputs.get(name):
        name = inputs[name][0]
    return name


def _a(word: str) -> str:
    """``an int``, ``a bool``: the article a word takes."""
    return f"an {word}" if word[:1] in "aeiou" else f"a {word}"


def _env(scope: Scope) -> tuple[tuple[str, object], ...]:
    return tuple(scope.env.items()) if scope.env is not None else ()


def _agrees(value: Any, env: dict, actual: Any) -> bool:
    """Does a class's value (a literal, an expression, a pair of them) give ``actual``
    in an instance whose params are ``env``?"""
    if isinstance(value, tuple):
        return isinstance(actual, tuple) and all(_agrees(v, env, a) for v, a in zip(value, actual))
    if isinstance(value, ex.Sym):
        try:
            return ex.parse(_dollar(value)).evaluate(env) == actual
        except (ex.ExprError, SyntaxError):
            return False
    return value == actual


def _reconcile(column: list[Member]) -> list[Member]:
    """Instances may write one value two ways (``in_maps`` where t = 1, ``t * in_maps``
    where t = 6): keep the expression that gives every instance its real value."""
    column = _reconcile_args(column)
    nodes = [m.node for m in column]
    if any(n is None for n in nodes) or any(m.actual is None for m in column):
        return column
    fixed: dict[str, Any] = {}
    distinct = list({id(n): n for n in nodes}.values())  # instances often share one Node
    if len(distinct) < 2:
        return column
    for name in HYPER:
        values = {getattr(n, name) for n in distinct}
        if len(values) < 2:
            continue
        for candidate in sorted(values, key=str):
            if all(_agrees(candidate, dict(m.env), getattr(m.actual, name)) for m in column):
                fixed[name] = candidate
                break
    if not fixed:
        return column
    return [_replace(m, node=_replace(m.node, **fixed)) for m in column]


def _value_of(text: str, env: dict) -> Any:
    """A constructor argument's value in an instance (``stride=s`` → the value of s)."""
    body = text.split("=", 1)[1] if "=" in text and "==" not in text else text
    try:
        return ex.parse(_dollar(body)).evaluate(env)
    except (ex.ExprError, SyntaxError):
        return None


def _pick(texts: list[str], envs: list[dict]) -> str | None:
    """The argument text that gives every instance the value its own text gives it."""
    wanted = [_value_of(t, e) for t, e in zip(texts, envs)]
    for candidate in sorted(set(texts)):
        if all(_value_of(candidate, e) == v for e, v in zip(envs, wanted)):
            return candidate
    return None


def _reconcile_args(column: list[Member]) -> list[Member]:
    """Block calls whose argument texts differ between instances, as node fields may."""
    if len(column) < 2 or column[0].block is None:
        return column
    envs = [dict(m.env) for m in column]
    lists = [[m.args, *(a for _, a in m.copies)] for m in column]
    if any(len(x) != len(lists[0]) or list(map(len, x)) != list(map(len, lists[0])) for x in lists):
        return column
    fixed = []
    for i in range(len(lists[0])):
        args = []
        for j in range(len(lists[0][i])):
            texts = [x[i][j] for x in lists]
            if len(set(texts)) == 1:
                args.append(texts[0])
                continue
            if len({t.split("=", 1)[0] if "=" in t else "" for t in texts}) != 1:
                return column
            chosen = _pick(texts, envs)
            if chosen is None:
                return column
            args.append(chosen)
        fixed.append(tuple(args))
    out = []
    for m in column:
        copies = tuple((name, a) for (name, _), a in zip(m.copies, fixed[1:]))
        out.append(_replace(m, args=fixed[0], copies=copies))
    return out


def _all_children(members: list[tuple[Member, bool, str | None]]) -> tuple[Member, ...]:
    """A container's children as walked in one instance: absent ones kept (and marked),
    so that instances can be merged child by child."""
    return tuple(_replace(m, cond=cond, present=present) for m, present, cond in members)


class _Varies(ValueError):
    def __init__(self, message: str, name: str | None = None) -> None:
        super().__init__(message)
        self.name = name


def _normal(m: Member) -> Member:
    """What must agree between instances, children aside: no shape comment, no presence."""
    return _replace(m, shape="", cond=None, present=True, children=())


def _normal_key(m: Member) -> tuple:
    """What ``_normal(m) == _normal(other)`` compares, without building the copies: every
    compared field of Member but shape, cond, present and children."""
    return (
        m.name,
        m.kind,
        m.inputs,
        m.node,
        m.block,
        m.args,
        m.copies,
        m.repeat,
        m.named,
        m.module,
    )


def _merge_column(column: list[Member]) -> Member:
    """One row as every instance that has it walked it → the row of the class.

    Shape comments that differ become generic; a container's children present in every
    instance lose their condition, those present in some keep it, the others go."""
    column = _reconcile(column)
    chosen = column[0]
    key = _normal_key(chosen)
    for other in column[1:]:
        if other is not chosen and _normal_key(other) != key:
            raise _Varies(_difference(_normal(chosen), _normal(other)), chosen.name)
        if [c.name for c in other.children] != [c.name for c in chosen.children]:
            raise _Varies("its rows", chosen.name)
    shape = chosen.shape
    if any(m.shape != shape for m in column):
        shape = _vary_shape(shape)
    children = []
    for j in range(len(chosen.children)):
        kids = [m.children[j] for m in column]
        present = [k for k in kids if k.present]
        if not present:
            continue
        try:
            merged = _merge_column(present)
        except _Varies as exc:
            raise _Varies(str(exc), f"{chosen.name}.{exc.name}") from None
        children.append(_replace(merged, cond=kids[0].cond, present=True))
    return _replace(chosen, shape=shape, children=tuple(children))


def _vary_shape(text: str) -> str:
    maps, _, _ = text.partition("×")
    return f"{maps}×…" if "×" in text else text


def _difference(a: Member, b: Member) -> str:
    if a.node is not None and b.node is not None:
        for k in HYPER:
            x, y = getattr(a.node, k), getattr(b.node, k)
            if x != y:
                return f"{k} {_show(x)} here, {_show(y)} there"
    if a.args != b.args or a.copies != b.copies:
        return "its arguments"
    return "its shape"


def _show(v: Any) -> str:
    if isinstance(v, tuple) and len(v) == 2 and v[0] == v[1]:
        return str(v[0])
    return str(v)


def _sym(value: str | int) -> Any:
    return value if isinstance(value, int) else ex.Sym(value)


def _subst(sym: str | int, mapping: dict[str, str | int]) -> str | int:
    """``planes * 4`` with planes → ``64`` becomes ``256``; with planes → ``w`` ``w * 4``."""
    if isinstance(sym, int):
        return sym
    # The answer depends on whether every argument is a literal (then the maps are a
    # number) and on the arguments ``sym`` reads: memoized on just those.
    literal = all(isinstance(v, int) or _is_literal(str(v)) for v in mapping.values())
    used = tuple((n, mapping[n]) for n in _names_in(sym) if n in mapping)
    return _subst_used(sym, literal, used)


@functools.lru_cache(maxsize=4096)
def _is_literal(text: str) -> bool:
    try:
        ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return False
    return True


@functools.lru_cache(maxsize=4096)
def _names_in(sym: str) -> tuple[str, ...]:
    """The names ``sym`` reads, in order."""
    names: list[str] = []
    for n in ast.walk(ast.parse(sym, mode="eval")):
        if isinstance(n, ast.Name) and n.id not in names:
            names.append(n.id)
    return tuple(names)


@functools.lru_cache(maxsize=4096)
def _subst_used(sym: str, literal: bool, used: tuple) -> str | int:
    values = dict(used)
    if literal:  # every argument is a literal: the maps are a number
        env = {k: v if isinstance(v, int) else ast.literal_eval(str(v)) for k, v in used}
        try:
            result = ex.parse(_dollar(sym)).evaluate(env)
            if isinstance(result, int) and not isinstance(result, bool):
                return result
        except ex.ExprError:
            pass
    tree = _Sub(values).visit(ast.parse(sym, mode="eval"))
    return _collected(tree) or ast.unparse(tree)


def _collected(tree: ast.Expression) -> str | None:
    """A sum that names one term twice, with like terms collected: ``in_maps + growth +
    growth`` → ``in_maps + 2 * growth``; None for any other expression (written as it is).

    A dense block's maps are its input's plus ``growth`` per layer: without this the
    expression, and the time to substitute into it, grow with every layer (and Python's
    parser gives up on the nesting past about a thousand)."""
    terms: list[ast.AST] = []
    stack = [tree.body]
    while stack:
        n = stack.pop()
        if isinstance(n, ast.BinOp) and isinstance(n.op, ast.Add):
            stack += (n.right, n.left)
        else:
            terms.append(n)
    coefficients: dict[str, int] = {}  # name → how many; "" for the constant
    for t in terms:
        name, k = _term(t)
        if name is None:
            return None
        coefficients[name] = coefficients.get(name, 0) + k
    if len(coefficients) == len(terms):
        return None  # nothing to collect
    parts = []
    for name, k in coefficients.items():
        parts.append(str(k) if name == "" else name if k == 1 else f"{k} * {name}")
    return " + ".join(parts)


def _term(t: ast.AST) -> tuple[str | None, int]:
    """(name, coefficient) of ``name``, ``k * name``, ``name * k`` or ``k`` (name "")."""
    if isinstance(t, ast.Name):
        return t.id, 1
    if isinstance(t, ast.Constant) and type(t.value) is int and t.value >= 0:
        return "", t.value
    if isinstance(t, ast.BinOp) and isinstance(t.op, ast.Mult):
        a, b = t.left, t.right
        if isinstance(a, ast.Name):
            a, b = b, a
        if isinstance(b, ast.Name) and isinstance(a, ast.Constant) and type(a.value) is int:
            if a.value > 0:
                return b.id, a.value
    return None, 0


class _Sub(ast.NodeTransformer):
    """Names → the (parenthesised) text they stand for."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.values = values

    def visit_Name(self, node: ast.Name) -> ast.AST:
        if node.id in self.values:
            return ast.parse(f"({self.values[node.id]})", mode="eval").body
        return node


@functools.lru_cache(maxsize=4096)
def _dollar(python: str) -> str:
    """Python text over plain names → the evaluator's ``$name`` form."""
    import ast

    tree = ast.parse(python, mode="eval")
    for n in ast.walk(tree):
        if isinstance(n, ast.Name) and n.id != ex.IN_MAPS:
            n.id = "$" + n.id
    return ast.unparse(tree)


def _fits(value: Any, kind: str) -> bool:
    if kind == "bool":
        return isinstance(value, bool)
    if kind == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _describe(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, str):
        return f"the string '{value}'"
    return repr(value)


def _expr_names(raw: Any) -> tuple[str, ...] | None:
    """The names the expressions in a raw block row read (None when one does not parse:
    the row is then substituted afresh each time, to report it)."""
    found: list[str] = []
    stack = [raw]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(v for k, v in item.items() if k not in _VERBATIM)
        elif isinstance(item, list):
            stack.extend(item)
        elif ex.is_expr(item):
            try:
                names = ex.parse(item).names
            except ex.ExprError:
                return None
            found.extend(n for n in names if n not in found)
    return tuple(found)


def _freeze(data: Any) -> Any:
    if isinstance(data, dict):
        return tuple((k, _freeze(v)) for k, v in data.items())
    if isinstance(data, list):
        return ("__list__", *(_freeze(v) for v in data))
    return (type(data).__name__, data)


def _nest(path: tuple, data: Any) -> Any:
    for part in reversed(path):
        if isinstance(part, int):
            data = [None] * part + [data]
        else:
            data = {part: data}
    return data


def _weights(node: Node) -> int:
    """Conv and fc weights, without biases: the count papers print."""
    if node.kind == "conv" and node.kernel and node.in_maps and node.out_maps:
        return node.out_maps * (node.in_maps // node.groups) * node.kernel[0] * node.kernel[1]
    if node.kind == "fc" and node.in_maps and node.out_maps:
        return node.in_maps * node.out_maps
    return 0


def _weight_macs(node: Node) -> int:
    if node.kind == "conv":
        return _weights(node) * node.output_shape[1] * node.output_shape[2]
    return _weights(node)


# --------------------------------------------------------------------------- entry


def _is_graph(spec: Spec) -> bool:
    if spec.blocks:
        return True
    for row in spec.layers or []:
        if (
            row.from_ is not None
            or row.if_ is not None
            or row.type in ("add", "concat", "sequential")
        ):
            return True
        if isinstance(row, BlockRow):
            return True
    return False


def _cycles(walker: Walker) -> None:
    uses: dict[str, list[tuple[str, tuple]]] = {}
    for name, block in walker.blocks.items():
        found: list[tuple[str, tuple]] = []
        stack: list[tuple[tuple, list]] = [(("blocks", name, "layers"), block.layers or [])]
        while stack:
            base, rows = stack.pop()
            for i, r in enumerate(rows):
                if not isinstance(r, dict):
                    continue
                t = r.get("type")
                if isinstance(t, str) and t in walker.blocks:
                    found.append((t, base + (i,)))
                if t == "sequential" and isinstance(r.get("layers"), list):
                    stack.append((base + (i, "layers"), r["layers"]))
        uses[name] = found
    for start in walker.blocks:
        # depth-first search for a path back to `start`
        todo: list[tuple[str, list[str], tuple | None]] = [(start, [start], None)]
        seen: set[str] = set()
        while todo:
            cur, trail, at = todo.pop()
            for nxt, path in uses.get(cur, []):
                where = at or path
                if nxt == start:
                    cycle = " → ".join([*trail, start])
                    if start not in walker.cyclic:
                        walker.cyclic.add(start)
                        walker.error(
                            f"block '{start}' instantiates itself ({cycle})",
                            "block-recursion",
                            walker.doc.pos(where + ("type",)),
                            None,
                        )
                elif nxt not in seen:
                    seen.add(nxt)
                    todo.append((nxt, [*trail, nxt], where))


def _ordered(groups: list[Group], nodes: tuple[Node, ...]) -> tuple[Group, ...]:
    """Groups in the order a reader meets them: by their first node, outer before inner."""
    at = {n.id: i for i, n in enumerate(nodes)}
    return tuple(sorted(groups, key=lambda g: (at.get(g.nodes[0], 0) if g.nodes else 0, g.depth)))


def check_spec(
    spec: Spec, doc: Document, *, source: str = "<spec>", strict: bool = False
) -> Network:
    """Resolve and check every row; raise :class:`SpecError` listing every problem."""
    assert spec.input is not None and spec.layers is not None
    walker = Walker(spec, doc)
    graph = walker.graph = _is_graph(spec)
    if graph and isinstance(doc.data, dict) and "layout" in doc.data:
        walker.error(
            "a spec with blocks, `from`, merges or containers names its modules itself; "
            "leave out 'layout'",
            "layout",
            doc.pos(("layout",)),
            None,
        )
    _cycles(walker)
    input_shape = (spec.input.maps, *spec.input.size)
    layout = "graph" if graph else spec.layout
    top = Scope(
        prefix="",
        input=Value(INPUT, input_shape, spec.input.maps, INPUT, doc.pos(("input",))),
        env=None,
        depth=0,
        children={"graph": "named", "flat": "flat", "sequential": "sequential"}[layout],
        top=True,
    )
    rows = [(("layers", i), row) for i, row in enumerate(spec.layers)]
    out = walker.walk(top, rows)
    classes: tuple[ClassDef, ...] = ()
    if graph and not any(d.severity == "error" for d in walker.diagnostics):
        classes = walker.classes()
        members = _finish(
            [(_merge_column([m]), present, c) for m, present, c in top.members if present]
        )
        classes += (ClassDef(spec.name, (), False, members, out.member, title=spec.title or ""),)
    for name in walker.blocks:
        where = doc.pos(("blocks", name), key=True)
        if name not in walker.used and where.file is None and name not in walker.cyclic:
            walker.warn(
                f"block '{name}' is defined but no row uses it (its rows are not checked)",
                "unused",
                where,
                None,
            )
    if out.shape is not None and (spec.params is not None or spec.macs is not None):
        whole = Written(spec, 0, (), (0, 1), spec.name)
        ctx = RowContext(spec, 0, spec.name, (), doc, walker.diagnostics)
        walker.printed(whole, ctx, walker.nodes, label=f"network '{spec.name}'")
    diagnostics = walker.diagnostics
    if strict:
        diagnostics = [
            _replace(d, severity="error", message=d.message + " (--strict)")
            if d.severity == "warning"
            else d
            for d in diagnostics
        ]
    if any(d.severity == "error" for d in diagnostics):
        raise SpecError(diagnostics, source)
    assert out.shape is not None
    nodes = tuple(walker.nodes)
    return Network(
        name=spec.name,
        title=spec.title,
        layout=layout,
        source=source,
        input_shape=input_shape,
        output_shape=out.shape,
        nodes=nodes,
        params=sum(n.params for n in nodes),
        macs=sum(n.macs for n in nodes),
        warnings=tuple(sorted(diagnostics, key=Diagnostic.sort_key)),
        output=out.id,
        groups=_ordered(walker.groups, nodes),
        classes=classes,
    )
