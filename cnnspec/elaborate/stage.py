"""Stage 3's entry: a checked :class:`Spec` walked into the nodes and groups of a network.

:func:`elaborate` walks the spec and reports every problem it finds; a graph
network's walk also leaves a :class:`~cnnspec.ir.Trace` of its scopes, from which
the PyTorch backend lowers the generated classes (that lowering may report too:
``[block-varies]``). :meth:`Elaboration.network` then makes the
:class:`~cnnspec.ir.Network`, or raises :class:`SpecError` listing every problem.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..diagnostics import Diagnostic, SpecError
from ..frontend.load import Document
from ..frozen import evolve
from ..ir import INPUT, ClassDef, Group, Network, Node, Output, ScopeTrace, Trace
from ..kinds import CONTAINERS, MERGES, OPERATIONS
from ..kinds.base import RowContext, opt
from ..spec.models import BlockRow, Spec
from . import returns
from .blocks import find_cycles
from .printed import check_printed
from .scope import Scope, Value
from .walker import Walker


@dataclass
class Elaboration:
    """A walked spec: what the network is made of, and what the walk found wrong."""

    spec: Spec
    walker: Walker
    layout: str
    input_shape: tuple[int, ...]
    out: Value
    #: a graph network walked without an error: its scopes, for the generated classes
    trace: Trace | None
    #: the `outputs:` entries resolved (empty without the key)
    outputs: tuple[tuple[returns.Entry, Value], ...] = ()

    @property
    def diagnostics(self) -> list[Diagnostic]:
        return self.walker.diagnostics

    def network(
        self,
        classes: tuple[ClassDef, ...] = (),
        problems: list[Diagnostic] | tuple[Diagnostic, ...] = (),
        *,
        source: str = "<spec>",
        strict: bool = False,
    ) -> Network:
        """The network, its generated classes given; raise :class:`SpecError` when the walk
        or ``problems`` (the classes' own) hold an error, or, ``strict``, a warning."""
        diagnostics = self.diagnostics + list(problems)
        if strict:
            diagnostics = [
                evolve(d, severity="error", message=d.message + " (--strict)")
                if d.severity == "warning"
                else d
                for d in diagnostics
            ]
        if any(d.severity == "error" for d in diagnostics):
            raise SpecError(diagnostics, source)
        spec = self.spec
        outputs = tuple(
            Output(e.key, e.row, v.id, v.shape) for e, v in self.outputs if v.shape is not None
        )
        # the first output stands for the network's output (`output`, `output_shape`)
        out = Value(outputs[0].node, outputs[0].shape, "") if outputs else self.out
        assert out.shape is not None
        nodes = tuple(self.walker.emit.nodes)
        training = tuple(spec.training_outputs or ())
        eval_nodes = [n for n in nodes if not _under(n.id, training)]
        return Network(
            name=spec.name,
            title=spec.title,
            layout=self.layout,  # type: ignore[arg-type]
            source=source,
            input_shape=self.input_shape,
            output_shape=out.shape,
            nodes=nodes,
            params=sum(n.params for n in nodes),
            macs=sum(n.macs for n in eval_nodes),
            warnings=tuple(sorted(diagnostics, key=Diagnostic.sort_key)),
            output=out.id,
            groups=_ordered(self.walker.emit.groups, nodes),
            classes=classes,
            training_outputs=training,
            outputs=outputs,
            outputs_dict=isinstance(spec.outputs, dict),
        )


def elaborate(spec: Spec, doc: Document) -> Elaboration:
    """Walk every row of ``spec``, collecting every problem (nothing is raised here)."""
    assert spec.input is not None and spec.layers is not None
    graph = is_graph(spec)
    walker = Walker(spec, doc, graph=graph)
    if graph and isinstance(doc.data, dict) and "layout" in doc.data:
        walker.error(
            "a spec with blocks, `from`, merges, containers, splits or shuffles names its "
            "modules itself; leave out 'layout'",
            "layout",
            doc.pos(("layout",)),
            None,
        )
    blocks = walker.blocks
    find_cycles(walker, blocks.defs, blocks.cyclic)
    input_shape = (spec.input.maps, *spec.input.size)
    layout = "graph" if graph else spec.layout
    top = Scope(
        prefix="",
        input=Value(INPUT, input_shape, INPUT, doc.pos(("input",))),
        env=None,
        depth=0,
        children={"graph": "named", "flat": "flat", "sequential": "sequential"}[layout],
        top=True,
    )
    rows = [(("layers", i), row) for i, row in enumerate(spec.layers)]
    training = tuple(spec.training_outputs or ())
    top.reads.update(training)  # what the network returns is read
    written = returns.entries(spec, doc)
    if written:
        top.returned = tuple(e.row for e in written)
        top.returned_at = {e.row: e.pos for e in written}
    out = walker.walk(top, rows)
    outputs = tuple(returns.check(walker, top, written))
    main = tuple(v.member for _, v in outputs) or (out.member,)
    check_training(walker, top, main, training)
    returns.check_keys(walker, spec, training)
    trace = None
    if graph and not any(d.severity == "error" for d in walker.diagnostics):
        walk = ScopeTrace(tuple(top.steps), main[0], input_shape)
        returned = tuple((e.key, v.member) for e, v in outputs)
        trace = Trace(
            spec.name,
            spec.title or "",
            walk,
            blocks.decls(),
            tuple(blocks.log),
            training,
            returned,
        )
    for name in blocks.defs:
        where = doc.pos(("blocks", name), key=True)
        if name not in blocks.used and where.file is None and name not in blocks.cyclic:
            walker.warn(
                f"block '{name}' is defined but no row uses it (its rows are not checked)",
                "unused",
                where,
                None,
            )
    if out.shape is not None and (spec.params is not None or spec.macs is not None):
        ctx = RowContext(spec, 0, spec.name, (), doc, walker.diagnostics)
        check_printed(spec.printed, spec, ctx, walker.emit.nodes, label=f"network '{spec.name}'")
    return Elaboration(spec, walker, layout, input_shape, out, trace, outputs)


def is_graph(spec: Spec) -> bool:
    """A graph network: blocks, `from:`, `if:`, merges, containers, outputs or training
    outputs, or module-less operations (a split, a channel shuffle: expressions in its
    forward); else a chain."""
    if spec.blocks or spec.training_outputs or spec.outputs:
        return True
    for row in spec.layers or []:
        if (
            row.from_ is not None
            or row.if_ is not None
            or row.type in MERGES
            or row.type in CONTAINERS
            or row.type in OPERATIONS
            or opt(row, "like") is not None
        ):
            return True
        if isinstance(row, BlockRow):
            return True
    return False


def _ordered(groups: list[Group], nodes: tuple[Node, ...]) -> tuple[Group, ...]:
    """Groups in the order a reader meets them: by their first node, outer before inner."""
    at = {n.id: i for i, n in enumerate(nodes)}
    return tuple(sorted(groups, key=lambda g: (at.get(g.nodes[0], 0) if g.nodes else 0, g.depth)))


def check_training(
    walker: Walker, top: Scope, main: tuple[str, ...], training: tuple[str, ...]
) -> None:
    """Each training output is a top-level row, present, not a main output (``main``: the
    steps every mode returns), read by no row (it is not computed in eval mode), and
    named once."""
    doc = walker.doc
    readers = {v: s.name for s in top.steps if s.present for v in s.inputs}
    for i, name in enumerate(training):
        at = doc.pos(("training_outputs", i))
        if name in training[:i]:
            problem = f"'{name}' is listed twice"
        elif name not in top.values:
            known = ", ".join(top.values) or "none"
            problem = f"'{name}' is not a row of the network's `layers`; its rows: {known}"
        elif name in top.absent:
            problem = f"'{name}' is absent (its `if:` is false)"
        elif top.values[name].member in main and top.returned is None:
            problem = f"'{name}' is the last row, the main output, which every mode returns"
        elif top.values[name].member in main:
            problem = f"'{name}' is one of the `outputs`, which every mode returns"
        elif name in readers:
            problem = (
                f"'{name}' is read by '{readers[name]}', but a training output is not "
                "computed in eval mode (a row reads the previous row unless its `from:` "
                "says otherwise)"
            )
        else:
            continue
        walker.error(problem, "training-output", at, None)


def _under(node_id: str, training: tuple[str, ...]) -> bool:
    return any(node_id == t or node_id.startswith(t + ".") for t in training)
