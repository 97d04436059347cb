"""Lowering: a graph network's trace → the Python classes the PyTorch backend writes.

The walk records each scope's rows as :class:`~cnnspec.ir.Step` records, once per
instance of a block (:class:`~cnnspec.ir.Trace`). Lowering turns each walk into the
members of a class — a leaf's constructor call with the block's own formulas
(:mod:`.nodes`), a block instance's arguments, a container's children, each with
its shape comment and the maps of its output as a Python expression over the
class's arguments (:mod:`.maps`) — and merges the instances of each block into one
class (:mod:`.merge`), reporting a block whose instances need different code.

It is pure and imports no torch: ``cnnspec check`` runs it for its diagnostics.
"""

from __future__ import annotations

import ast

from ... import expr as ex
from ...diagnostics import Diagnostic
from ...elaborate.arguments import as_param
from ...frozen import evolve
from ...ir import (
    INPUT,
    BlockArgs,
    BlockCall,
    BlockDecl,
    ClassDef,
    Member,
    Param,
    ScopeTrace,
    Step,
    Trace,
)
from ...kinds import MAPS
from .maps import RUNNING, Maps, paren, part_maps, repeated_maps, subst, sum_maps
from .merge import Walked, all_children, finish, merge_column, merge_members, passthrough
from .nodes import NodeWriter, out_maps


def lower(trace: Trace) -> tuple[tuple[ClassDef, ...], list[Diagnostic]]:
    """The classes of a graph network — one per block, in the order their first instances
    completed, the network's last — and the problems that keep a block from one class."""
    return Lowering(trace).classes()


class Lowering:
    """One network's classes, each instance's walk lowered once."""

    def __init__(self, trace: Trace) -> None:
        self.trace = trace
        self.decls = {b.name: b for b in trace.blocks}
        self.nodes = NodeWriter()
        self.problems: list[Diagnostic] = []
        #: an instance's walk (by identity: replayed instances share one) → its members
        #: and the maps of its output over the block's arguments
        self.walks: dict[int, tuple[list[Walked], Maps]] = {}
        self.local_output = False  # the last scope lowered returns maps of its instance only

    def classes(self) -> tuple[tuple[ClassDef, ...], list[Diagnostic]]:
        instances: dict[str, list[ScopeTrace]] = {}
        for name, walk in self.trace.instances:
            instances.setdefault(name, []).append(walk)
        out = []
        for name, walks in instances.items():
            made = self.block_class(self.decls[name], walks)
            if made is not None:
                out.append(made)
        trace = self.trace
        top, _ = self.scope(trace.top, trace.top.input_shape[0])
        # a row whose `if:` is false is left out, its readers reading its first input
        members = finish([(merge_column([m]) if p else m, p, c if p else None) for m, p, c in top])
        output = passthrough(trace.top.output, top, members)
        outputs = tuple((key, passthrough(step, top, members)) for key, step in trace.outputs)
        network = ClassDef(
            trace.name,
            (),
            False,
            members,
            output,
            title=trace.title,
            training=trace.training,
            outputs=outputs,
        )
        return (*out, network), self.problems

    def block_class(self, decl: BlockDecl, walks: list[ScopeTrace]) -> ClassDef | None:
        runs = [self.walked(w)[0] for w in walks]
        refused: list[tuple[str, str]] = []
        members = merge_members(decl, runs, self.problems, refused)
        if members is None:
            return None
        # Python takes the required arguments first: the spec's order otherwise (a call
        # passes the required ones by position, in this order, and the others by keyword)
        params = tuple(
            Param(p, kind, None if default is None else repr(as_param(default, kind)))
            for p, kind, default in sorted(decl.params, key=lambda p: p[2] is not None)
        )
        output = passthrough(walks[0].output, runs[0], members)
        return ClassDef(
            decl.name,
            params,
            True,
            members,
            output,
            sequential=decl.sequential,
            title=decl.title,
            refused=tuple(refused),
        )

    def walked(self, walk: ScopeTrace) -> tuple[list[Walked], Maps]:
        """An instance's walk lowered: its input's maps are the class's ``in_maps``."""
        done = self.walks.get(id(walk))
        if done is None:
            done = self.walks[id(walk)] = self.scope(walk, ex.IN_MAPS)
        return done

    # ------------------------------------------------------------------ one scope

    def scope(
        self, scope: ScopeTrace, in_maps: Maps, local: bool = False
    ) -> tuple[list[Walked], Maps]:
        """The members of a scope whose input has ``in_maps``, and its output's maps
        (``local``: ``in_maps`` holds in this instance only, see :class:`ScopeMaps`)."""
        out, maps = self.scope_maps(scope, in_maps, local)
        return out, maps[scope.output]

    def scope_maps(
        self, scope: ScopeTrace, in_maps: Maps, local: bool = False
    ) -> tuple[list[Walked], ScopeMaps]:
        """The members of a scope, and the maps of every value it holds (a container's rows
        read from outside it, a list's members, by their paths)."""
        maps = ScopeMaps({INPUT: in_maps})
        if local:
            maps.local.add(INPUT)
        out: list[Walked] = []
        for step in scope.steps:
            if step.parts:
                member = self.list_member(scope, step, maps)
            else:
                member, maps[step.name] = self.member(scope, step, maps)
            if any(i in maps.local for i in step.inputs or (INPUT,)):
                maps.local.add(step.name)
            cond = step.cond.python(dict(scope.env or ())) if step.cond else None
            out.append((member, step.present, cond))
        self.local_output = scope.output in maps.local
        return out, maps

    def list_member(self, scope: ScopeTrace, step: Step, maps: ScopeMaps) -> Member:
        """A list: its members, each on its own input; their maps by ``name.i``."""
        kids: list[Walked] = []
        for j, (src, part) in enumerate(zip(step.inputs, step.parts)):
            walked, maps[f"{step.name}.{j}"] = self.scope(part, maps[src], src in maps.local)
            if self.local_output:
                maps.local.add(f"{step.name}.{j}")
            kids += walked
        shape = ", ".join(m.shape for m, _, _ in kids)
        return Member(step.name, step.kind, step.inputs, shape, children=all_children(kids))

    def member(self, scope: ScopeTrace, step: Step, maps: ScopeMaps) -> tuple[Member, Maps]:
        """One step as a member of its class, and the maps of its output."""
        inputs = step.inputs
        src = inputs[0] if inputs else INPUT
        first = maps[src]
        if not step.present and step.node is None:  # readers read its (first) input
            maps.local.add(step.name)  # its maps where it exists are not known
            return Member(step.name, step.kind, inputs, "", module=step.module), first
        if not step.present:
            # resolved as if its `if:` held: its class writes it under that condition, and
            # its readers read its maps where the condition holds, its input's where not
            # (under the condition, a row reading an absent one reads that row's own maps)
            absent = step.cond.python(dict(scope.env or ())) if step.cond else "False"
            within = maps.get(f"{src} if {absent}", first)
            member, sym = self.layer_member(scope, step, maps, within)
            maps_out = _maybe(maps, step.name, absent, sym, first, src, here=False)
            return evolve(member, present=False), maps_out
        rule = MAPS.get(step.kind)
        if rule == "flat" and not step.module:
            shape = _shape(scope, step.shape)
            return Member(step.name, step.kind, inputs, shape, module=False), step.shape[0]
        cond = step.cond.python(dict(scope.env)) if step.cond and scope.env is not None else None
        # a row with an `if:`: its class writes it under that condition, so its readers read
        # its maps where the condition holds and its input's where not (and under the same
        # condition, a row reads what the one before it gives there)
        within = first if cond is None else maps.get(f"{src} if {cond}", first)
        if step.inner is not None:
            kids, inner = self.scope_maps(step.inner, within, src in maps.local)
            sym = inner[step.inner.output]
            if self.local_output:
                maps.local.add(step.name)
            for path, held in step.taps:
                maps[path] = inner[held]
                if held in inner.local:
                    maps.local.add(path)
            member = Member(
                step.name,
                step.kind,
                inputs,
                _shape(scope, step.shape, sym),
                children=all_children(kids),
                named=step.named,
                taps=step.taps,
            )
        elif step.block is not None:  # its call's arguments are merged as they were written
            return self.block_member(scope, step, first)
        else:
            member, sym = self.layer_member(scope, step, maps, within)
        return member, sym if cond is None else _maybe(maps, step.name, cond, sym, first, src)

    def layer_member(
        self, scope: ScopeTrace, step: Step, maps: dict[str, Maps], first: Maps
    ) -> tuple[Member, Maps]:
        """A leaf layer or a merge, and the maps of its output."""
        inputs = step.inputs
        node = step.node
        assert node is not None
        rule = MAPS.get(step.kind)
        written = self.nodes.node(scope, step, node, first)
        if rule == "sum":
            sym = sum_maps([maps[i] for i in inputs])
        elif rule == "broadcast":  # the maps of an input as wide as the output
            widths = [shape[0] for shape in node.input_shapes]
            sym = maps[inputs[widths.index(node.output_shape[0])]]
        elif rule == "part":  # one of `parts` equal parts of its input's
            sym = part_maps(first, written.parts or 1)
        else:  # declared by the row, or its (first) input's
            sym = out_maps(scope, step, node, first)
        member = Member(
            step.name,
            step.kind,
            inputs,
            _shape(scope, node.output_shape, sym, node.channels_last),
            node=written,
            actual=node,
            env=scope.env or (),
            module=step.module,
        )
        return member, sym

    def block_member(self, scope: ScopeTrace, step: Step, in_maps: Maps) -> tuple[Member, Maps]:
        """A block row: one constructor call, or an nn.Sequential of its copies."""
        decl = self.decls[step.block or ""]
        env = scope.env or ()
        if step.rest is None:
            (call,) = step.calls
            sym = self.instance_maps(call, in_maps, env)
            member = Member(
                step.name,
                "block",
                step.inputs,
                _shape(scope, step.shape, sym),
                block=step.block,
                args=_call_args(decl, in_maps, call.args, env),
                env=env,
            )
            return member, sym
        copies = []
        rest = None
        cur = in_maps
        for k, call in enumerate(step.calls):
            args = _call_args(decl, cur, call.args, env, str(k))
            cur = self.instance_maps(call, cur, env, str(k))
            copies.append((call.child, args))
            if k == 0:
                rest = (None, _call_args(decl, cur, step.rest, env, ex.COPY))
        repeat = loop = None
        if step.repeat is not None and rest is not None:
            # a count that varies per instance: the first copy, then a loop over the others
            repeat = step.repeat.python(dict(env))
            copies, cur, loop = self.loop(decl, step, in_maps, copies[0], repeat, env)
        member = Member(
            step.name,
            "block",
            step.inputs,
            _shape(scope, step.shape, cur),
            block=step.block,
            copies=tuple(copies),
            named=step.named,
            repeat=repeat,
            loop=loop,
            env=env,
            indexed=step.rest is not None and any(ex.COPY in e.names for _, e in step.rest.written),
        )
        return member, cur

    def loop(
        self, decl: BlockDecl, step: Step, in_maps: Maps, first: tuple, count: str, env: tuple
    ) -> tuple[list, Maps, tuple[str, str] | None]:
        """A repeat count written as an expression: the first copy, the arguments of the
        others, the maps after all of them, and (when each copy reads other maps than
        the one before) the running maps the class's loop keeps."""
        assert step.rest is not None
        call0 = step.calls[0]
        after_first = self.instance_maps(call0, in_maps, env, "0")
        # one copy after the first as this instance walked it; with a single copy, the
        # first's rows with the others' arguments
        other = step.calls[1] if len(step.calls) > 1 else BlockCall(None, step.rest, call0.walk)
        running = self.instance_maps(other, RUNNING, env, ex.COPY)
        # maps that change with the copy's index have no closed formula the loop follows
        total = (
            None if ex.COPY in _names_of(running) else repeated_maps(after_first, running, count)
        )
        if total is None:
            self.problems.append(
                Diagnostic(
                    "error",
                    f"the copies of block '{decl.name}' in row '{step.name}' read maps that "
                    f"change by the rule {running} (the maps the copy before gives are "
                    f"{RUNNING}), which a `repeat` written as an expression cannot follow; "
                    "write the count as a number",
                    "block-varies",
                    decl.pos,
                )
            )
            total = after_first
        if total == after_first:  # every other copy reads what the first gives
            rest = (step.names, _call_args(decl, after_first, step.rest, env, ex.COPY))
            return [first, rest], after_first, None
        rest = (step.names, _call_args(decl, RUNNING, step.rest, env, ex.COPY))
        return [first, rest], total, (str(after_first), str(running))

    def instance_maps(
        self, call: BlockCall, in_maps: Maps, env: tuple = (), copy: str | None = None
    ) -> Maps:
        """The maps of an instance's output, its arguments substituted into its block's
        (``env``: the values of the scope the row is written in; ``copy``: the source of
        the copy's index)."""
        _, out = self.walked(call.walk)
        texts = _texts(call.args, env, copy)
        args = {k: texts.get(k, repr(v)) for k, v in call.args.values}
        return subst(out, {ex.IN_MAPS: in_maps, **args})


class ScopeMaps(dict[str, Maps]):
    """The maps of a scope's rows by name, as Python expressions over the class's
    arguments. ``local``: the rows whose maps hold in this instance only, because they
    read a row no instance has, whose maps cnnspec does not know where it exists."""

    def __init__(self, items: dict[str, Maps]) -> None:
        super().__init__(items)
        self.local: set[str] = set()


def _maybe(
    maps: ScopeMaps, name: str, cond: str, sym: Maps, first: Maps, src: str, here: bool = True
) -> Maps:
    """The maps of a row that exists under ``cond``: ``sym`` where it holds, its input's
    ``first`` where not (kept under the same condition, for rows that share it). A row
    this instance has (``here``) gives ``sym`` alone where ``first`` holds in this
    instance only; a row it lacks passes ``first`` on here, so the formula keeps it."""
    maps[f"{name} if {cond}"] = sym
    if here and src in maps.local:  # no formula where it is absent
        return sym
    # where the condition is false, what its input passes on (that input's own input,
    # where it exists under the same condition)
    other = maps[f"{name} unless {cond}"] = maps.get(f"{src} unless {cond}", first)
    if sym == other:  # it keeps the maps it reads
        return sym
    return f"{_branch(sym)} if {cond} else {_branch(other)}"


def _names_of(sym: Maps) -> set[str]:
    """The names a maps formula reads."""
    if isinstance(sym, int):
        return set()
    return {n.id for n in ast.walk(ast.parse(str(sym), mode="eval")) if isinstance(n, ast.Name)}


def _branch(sym: Maps) -> str:
    """A branch of a conditional expression: parenthesised only if conditional itself."""
    return f"({sym})" if " if " in str(sym) else str(sym)


def _texts(args: BlockArgs, env: tuple = (), copy: str | None = None) -> dict[str, str]:
    """The params a block row writes, as Python source: its expressions (over the values
    ``env`` of the scope the row is written in; ``copy``, the source of the copy's
    index), or the values."""
    written = dict(args.written)
    values = dict(args.values)
    scope = dict(env)
    names = {ex.COPY: copy} if copy is not None else None
    return {
        k: ex.Sym(written[k].python(scope, names)) if k in written else repr(values[k])
        for k in args.given
    }


def _call_args(
    decl: BlockDecl, in_maps: Maps, args: BlockArgs, env: tuple = (), copy: str | None = None
) -> tuple[str, ...]:
    """A constructor call's arguments: in_maps, the required params in order, then the
    others by keyword where this instance sets them (to an expression, or off default);
    ``copy`` is the source of a repeated row's copy index (its number, or a loop's
    variable)."""
    texts = _texts(args, env, copy)
    values = dict(args.values)
    out = [str(in_maps)]
    keywords = []
    for name, _, default in decl.params:
        text = texts.get(name)
        if default is None:
            out.append(text if text is not None else repr(values.get(name)))
        elif text is not None and (isinstance(text, ex.Sym) or values.get(name) != default):
            keywords.append(f"{name}={text}")
    return (*out, *keywords)


def _shape(
    scope: ScopeTrace, shape: tuple[int, ...], sym: Maps | None = None, last: bool = False
) -> str:
    """The shape comment of a member: ``64×56×56``; in a block, its maps' formula and the
    spatial size relative to the block's input (``planes×H/2×W/2``; channels-last data
    ``H×W×planes``)."""
    if scope.env is None or sym is None:
        return "×".join(str(d) for d in shape) if shape else "-"
    maps = paren(sym) if not isinstance(sym, int) else str(sym)
    if len(shape) == 1:
        return maps
    size = shape[:2] if last else shape[1:]
    src = scope.input_shape
    if src is None or len(src) != 3:
        return f"{size[0]}×{size[1]}×{maps}" if last else f"{maps}×{size[0]}×{size[1]}"
    parts = []
    for axis, (a, b) in zip("HW", zip(src[1:], size)):
        if a == b:
            parts.append(axis)
        elif b and a % b == 0:
            parts.append(f"{axis}/{a // b}")
        else:
            parts.append(str(b))
    return f"{parts[0]}×{parts[1]}×{maps}" if last else f"{maps}×{parts[0]}×{parts[1]}"
