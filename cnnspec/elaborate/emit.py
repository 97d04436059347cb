"""IR emission: the nodes and groups a walk makes, their module paths and indices.

A layer row becomes a node (and one for its `activation:`), a merge a module-less
node, a flatten — written, or implied before an ``fc`` — one too. In a graph
network each also becomes a step of its scope's trace (:class:`~cnnspec.ir.Step`),
for the classes the PyTorch backend writes.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Literal

from .. import expr as ex
from ..diagnostics import Pos
from ..frozen import Maker, evolve
from ..ir import INPUT, Group, Node, Step
from ..kinds import KINDS, OPERATIONS, SPATIAL
from ..kinds.base import Resolved, RowContext, opt
from ..kinds.linear import FLATTEN
from .scope import Scope, Value, Written, lookup, maps_after
from .substitute import written_exprs

if TYPE_CHECKING:  # pragma: no cover
    from .state import WalkState

_new_node = Maker(Node)


def shape_text(shape: tuple[int, ...] | None) -> str:
    return "×".join(str(d) for d in shape) if shape else "-"


def node_id(scope: Scope, name: str) -> str:
    return f"{scope.prefix}{name}"


class Emitter:
    """The nodes and groups of the network, in the order the walk makes them."""

    def __init__(self, state: WalkState) -> None:
        self.state = state
        self.nodes: list[Node] = []
        self.groups: list[Group] = []
        self.index = 0  # modules so far

    # ------------------------------------------------------------------ records

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
        record: bool = True,
    ) -> Node:
        """The node of a row (``record`` False: made for a class only, not in the IR)."""
        fields = dict(res.fields)
        info = KINDS[kind]
        torch_class = fields.pop("torch_class", info.torch_class)
        if fields.get("functional"):
            module = False
            torch_class = ""
        module = module and record
        path = self.module_path(scope, name) if module else None
        if module:
            self.index += 1
        node = _new_node(
            fields,
            id=node_id(scope, name),
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
            is_activation=info.activation,
        )
        if record:
            self.nodes.append(node)
        return node

    def shadow(self, scope: Scope, w: Written, v: Value) -> tuple[Node | None, Node | None]:
        """A layer row whose `if:` is false here, resolved as if it were true (its node and
        its activation's), for the class of its block: the class has the row under its
        condition even where no instance has it. (None, None) where it does not resolve."""
        kind = w.row.type
        info = KINDS.get(kind)
        if info is None or info.rule is None or v.shape is None or cond_of(w) is None:
            return None, None
        if info.is_merge or not info.is_module:  # it reads several inputs, or has no module
            return None, None
        if (kind in SPATIAL and len(v.shape) != 3) or (kind == "fc" and len(v.shape) != 1):
            return None, None
        problems: list = []
        ctx = RowContext(w.row, w.number, w.name, w.path, self.state.doc, problems)
        res = info.rule(ctx, v.shape)
        if any(d.severity == "error" for d in problems) or res.output_shape is None:
            return None, None
        node = self.add_node(scope, w, kind, w.name, res, [v], ctx, module=True, record=False)
        act = opt(w.row, "activation")
        if act in (None, "none"):
            return node, None
        out = Value(node.id, node.output_shape, w.name)
        res = Resolved(node.output_shape)
        anode = self.add_node(
            scope, w, act, w.act_name, res, [out], ctx, module=True, of=node.id, record=False
        )
        return node, anode

    def add_group(
        self,
        path: str,
        name: str,
        kind: Literal["block", "sequential", "list"],
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

    def written(self, scope: Scope, w: Written) -> tuple[tuple[str, object], ...]:
        """In a block, the row's values written as expressions (for its class)."""
        if scope.env is None:
            return ()
        return written_exprs(lookup(self.state.doc.data, w.path))

    # ------------------------------------------------------------------ rows

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
            return evolve(v, shape=None)
        assert v.shape is not None
        scope.flattened = True
        flat = (math.prod(v.shape),)
        name = name or w.name
        # in an nn.Sequential the flatten is a child like any other: nn.Flatten
        module = self.state.graph and scope.sequential
        res = Resolved(flat, fields={"torch_class": "Flatten"} if module else {})
        node = self.add_node(scope, w, FLATTEN.name, name, res, [v], ctx, module=module)
        by = f"at layer {w.number} '{w.name}'"
        out = Value(node.id, flat, name, ctx.at(), by)
        if self.state.graph and (explicit or scope.children not in ("sequential", "flat")):
            step = Step(name, FLATTEN.name, (v.member,), flat, module=module, node=node)
            scope.steps.append(step)
        return out

    def layer(
        self, scope: Scope, w: Written, v: Value, ctx: RowContext, like: Value | None = None
    ) -> Value:
        """A layer row (and its `activation:`); ``like``: the row an upsample takes its
        H×W from, read as the node's second input."""
        row = w.row
        kind = row.type
        info = KINDS[kind]
        act = opt(row, "activation")
        act = None if act == "none" else act
        assert v.shape is not None
        if self.refused(scope, kind, v, ctx):
            return evolve(v, shape=None)
        if info.flat_input and len(v.shape) != 1 and not v.channels_last:
            if self.state.graph and scope.sequential:
                ctx.error(
                    f"an fc inside an nn.Sequential (a container, an indexed block) reads "
                    f"{shape_text(v.shape)}: write a `flatten` row before it (nn.Flatten, a "
                    "child of its own) or before the container",
                    "fc-in-sequential",
                )
                return evolve(v, shape=None)
            fname = None
            if scope.children not in ("sequential", "flat"):
                fname = self.fresh_flatten(scope)
            v = self.flatten(scope, w, v, ctx, explicit=False, name=fname or f"{w.name}_flatten")
            if v.shape is None:
                return v
        assert info.rule is not None
        res = info.rule(ctx, v.shape)
        if res.output_shape is None:
            known = v.shape[0] if v.shape is not None and len(v.shape) == 3 else None
            return evolve(v, shape=None, maps=maps_after(row, info, known))
        last = v.channels_last if res.channels_last is None else res.channels_last
        if last:
            res.fields["channels_last"] = True
        if info.parameter:
            res.fields["state"] = node_id(scope, w.name)
        module = info.is_module and not info.parameter
        read = [v] if like is None else [v, like]
        node = self.add_node(scope, w, kind, w.name, res, read, ctx, module=module)
        out = Value(node.id, node.output_shape, w.name, ctx.at(), v.flattened_by, None, last)
        graph = self.state.graph
        cond = cond_of(w) if graph else None
        if graph:
            step = Step(
                w.name,
                kind,
                tuple(r.member for r in read),
                node.output_shape,
                cond=cond,
                module=node.path is not None,
                node=node,
                written=self.written(scope, w),
            )
            scope.steps.append(step)
        if act is not None:
            anode = self.add_node(
                scope,
                w,
                act,
                w.act_name,
                Resolved(node.output_shape, fields=dict(channels_last=last) if last else {}),
                [out],
                ctx,
                module=True,
                of=node.id,
            )
            if graph:
                step = Step(w.act_name, act, (w.name,), node.output_shape, cond=cond, node=anode)
                scope.steps.append(step)
            out = evolve(out, id=anode.id, member=w.act_name)
        if len(node.input_shape) == 3 and len(node.output_shape) == 1:
            return self.vector_made(scope, w, out, ctx)
        return out

    def vector_made(self, scope: Scope, w: Written, out: Value, ctx: RowContext) -> Value:
        """A row that makes maps×H×W a vector (a pyramid pool) ends the features, as a
        flatten does: a chain's flatten follows it (a no-op on the vector, where the
        chain's features end and its classifier starts); in a graph its output is flat."""
        if not self.state.graph:
            return self.flatten(scope, w, out, ctx, explicit=False, name=f"{w.name}_flatten")
        return evolve(out, flattened_by=f"at layer {w.number} '{w.name}'")

    def refused(self, scope: Scope, kind: str, v: Value, ctx: RowContext) -> bool:
        """Report a row that cannot be where it is: a spatial row after the flatten, a
        module-less operation or a parameter inside an nn.Sequential (or a chain)."""
        assert v.shape is not None
        if kind in SPATIAL and len(v.shape) != 3:
            ctx.error(
                f"a {kind} row needs a maps×H×W input, not {shape_text(v.shape)}",
                "spatial-after-flatten",
            )
            return True
        if kind in OPERATIONS and scope.sequential:
            ctx.error(
                f"a {kind} has no module, so an nn.Sequential (a container, an indexed block) "
                "cannot hold it: write it in a block with named children, or in the network",
                "op-in-sequential",
            )
            return True
        if KINDS[kind].parameter and (scope.sequential or not self.state.graph):
            where = "an nn.Sequential (a container, an indexed block)"
            ctx.error(
                f"a {kind} row is a parameter of the module holding it, which cannot be "
                f"{where if self.state.graph else 'a chain of layers'}: write it in a block "
                "with named rows",
                "parameter-position",
            )
            return True
        return False

    def fresh_flatten(self, scope: Scope) -> str:
        n = 1
        while f"flatten{n}" in scope.values or any(s.name == f"flatten{n}" for s in scope.steps):
            n += 1
        return f"flatten{n}"

    def merge(self, scope: Scope, w: Written, inputs: list[Value], ctx: RowContext) -> Value:
        if len(inputs) < 2:
            ctx.error(f"{w.row.type} needs at least two inputs in `from`", "merge-inputs", "from")
            return Value(node_id(scope, w.name), None, w.name)
        ctx.sources = tuple(
            (v.member if v.member != INPUT else INPUT, v.shape or (), v.pos or ctx.at())
            for v in inputs
        )
        if len({v.channels_last for v in inputs}) > 1:
            layouts = ", ".join(
                f"'{v.member}' {'channels-last' if v.channels_last else 'maps×H×W'}" for v in inputs
            )
            ctx.error(f"{w.row.type} of inputs in two layouts: {layouts}", "channels-last", "from")
            return Value(node_id(scope, w.name), None, w.name)
        rule = KINDS[w.row.type].rule
        assert rule is not None
        res = rule(ctx, [v.shape for v in inputs])
        if res.output_shape is None:
            return Value(node_id(scope, w.name), None, w.name)
        if inputs[0].channels_last:
            res.fields["channels_last"] = True
        node = self.add_node(scope, w, w.row.type, w.name, res, inputs, ctx, module=False)
        if self.state.graph:
            step = Step(
                w.name,
                w.row.type,
                tuple(v.member for v in inputs),
                node.output_shape,
                cond=cond_of(w),
                module=False,
                node=node,
                written=self.written(scope, w),
            )
            scope.steps.append(step)
        out = Value(node.id, node.output_shape, w.name, ctx.at())
        return evolve(out, channels_last=inputs[0].channels_last)


def cond_of(w: Written) -> ex.Expr | None:
    """A row's `if:` when written as an expression (a literal true or false: None)."""
    cond = w.row.if_
    if isinstance(cond, str):
        try:
            return ex.parse(cond)
        except ex.ExprError:
            return None
    return None
