"""One fold level of a graph network drawn: the units (drawn nodes), the clusters
around them, and the edges between units.

One unit per operation, where a batch norm, an activation, a flatten or a dropout
that reads a layer's only output rides in that layer's unit; merges as small "+" /
"concat" units; each block instance and container a cluster, nested as the module
tree nests. Folding (see :mod:`.tree`) draws a run of identical instances once, as a
cluster labelled "layer3.1 … 35 · Bottleneck × 35", the edges labelled with the range
of shapes the copies see; at a depth D, every block instance or container is one unit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ...ir import INPUT, Network, Node, Output
from ...ir import Group as IRGroup
from ...kinds import KINDS, MERGES, RIDERS
from .. import format as fmt
from .tree import ModuleTree, Scope, all_nodes, block_name, run_path


@dataclass
class Unit:
    """One drawn node."""

    role: Literal["layer", "merge", "block", "io"]
    nodes: list[Node]  # layer: the lead and its riders; merge: one; block: every node inside
    scope: str  # the module path of the scope it is drawn in
    name: str = ""  # the DOT id: n0, n1, …
    title: str | None = None  # a module path shown instead of the lead's name
    block: str | None = None  # the block type shown with the title
    instances: tuple[IRGroup, ...] = ()  # a folded block: the instances it stands for
    folded: Scope | None = None  # a folded block: the first instance's module tree
    io: tuple[str, tuple[int, ...]] | None = None  # ("input" | "output", shape)
    io_note: str = ""  # an output's stride, under its shape
    io_node: str = ""  # an output: the IR id of the node whose value it is


@dataclass
class Cluster:
    """A drawn cluster: a block instance or container, or a folded run of instances."""

    scope: Scope  # the (first) instance's module tree
    title: str  # the module path shown: "layer3.1 … 35" for a run
    block: str | None  # the block type shown with the title (None: a container)
    params: int  # the parameters of everything it stands for
    items: list[Cluster | Unit]
    count: int = 1  # instances it stands for (a folded run: more than one)

    @property
    def folded(self) -> bool:
        return self.count > 1


#: A drawn edge: tail, head, and every shape that flows along it.
Edge = tuple[Unit, Unit, list[tuple[int, ...]]]


class Drawing:
    """The drawn tree of one fold level (units in clusters), then its edges."""

    def __init__(self, tree: ModuleTree, fold: bool, depth: int | None) -> None:
        self.tree = tree
        self.fold = fold
        self.depth = depth
        self.units: list[Unit] = []
        self.unit_of: dict[str, Unit] = {}  # IR id (representatives) → unit
        self.alias: dict[str, str] = {}  # IR id of a folded copy → its representative's id
        self.variants: dict[str, list[Node]] = {}  # representative id → the copies' nodes
        self.runs: list[tuple[str, ...]] = []
        self.cluster_runs: set[int] = set()  # the runs drawn as a cluster
        #: IR id in folded runs → (run number, the instance's module path) for each
        self.run_of: dict[str, list[tuple[int, str]]] = {}
        self.tail: dict[str, Unit] = {}  # unit by its last node's id (riders attach there)
        net = tree.net
        self.input = self._add(Unit("io", [], "", io=("input", net.input_shape)))
        self.unit_of[INPUT] = self.input
        self.root = self._scope_items(tree.root)
        #: one sink per output (`outputs:`); the one computed last ends the drawn spine
        self.sinks = [self._sink(o, net) for o in net.returned]
        at = {n.id: i for i, n in enumerate(net.nodes)}
        self.output = max(self.sinks, key=lambda u: at.get(u.io_node, -1))

    def _sink(self, o: Output, net: Network) -> Unit:
        """An output's sink: ``output`` alone, or ``output '0'`` with its stride."""
        if not net.outputs:
            return self._add(Unit("io", [], "", io=("output", o.shape), io_node=o.node))
        stride = fmt.stride(net.input_shape, o.shape)
        word = f"output {o.key if o.key is not None else o.row}"
        note = f"stride {stride}" if stride is not None else ""
        return self._add(Unit("io", [], "", io=(word, o.shape), io_note=note, io_node=o.node))

    def _add(self, unit: Unit) -> Unit:
        unit.name = f"n{len(self.units)}"
        self.units.append(unit)
        return unit

    # ------------------------------------------------------------------ the tree

    def _scope_items(self, scope: Scope) -> list[Cluster | Unit]:
        items: list[Cluster | Unit] = []
        for entry in self.tree.runs(scope, self.fold):
            if isinstance(entry, Node):
                unit = self._node(entry, scope.path)
                if unit is not None:
                    items.append(unit)
                continue
            first = entry[0]
            if len(entry) > 1:
                self._fold_run(entry)
            if self.depth is not None and first.depth >= self.depth:
                items.append(self._block(entry, scope.path))
                continue
            if len(entry) > 1:
                self.cluster_runs.add(len(self.runs) - 1)
            inner = self._scope_items(first)
            params = sum(s.group.params for s in entry if s.group)
            cluster = Cluster(
                first, run_path(entry), block_name(first), params, inner, count=len(entry)
            )
            items.append(self._dissolve(cluster, entry))
        return items

    def _fold_run(self, run: list[Scope]) -> None:
        """Record a run of instances drawn once: a copy's node stands for its
        representative's; where an outer run folded this one already, the copies it
        stands for come along."""
        number = len(self.runs)
        self.runs.append(tuple(s.path for s in run))
        for inst in run:
            assert inst.group is not None
            for i in inst.group.nodes:
                self.run_of.setdefault(i, []).append((number, inst.path))
        first = run[0]
        pre, rep_nodes = first.path, first.group.nodes if first.group else ()
        for i in rep_nodes:
            self.variants.setdefault(i, [self.tree.by_id[i]])
        for inst in run[1:]:
            assert inst.group is not None
            for i in inst.group.nodes:
                rep = pre + i[len(inst.path) :]
                self.alias[i] = rep
                self.variants[rep].extend(self.variants.pop(i, [self.tree.by_id[i]]))

    def _block(self, run: list[Scope], scope: str) -> Unit:
        """A run of instances (or one) drawn as one node, everything inside folded."""
        first = run[0]
        unit = self._add(
            Unit(
                "block",
                all_nodes(first),
                scope,
                title=run_path(run),
                block=block_name(first) or "Sequential",
                instances=tuple(s.group for s in run if s.group),
                folded=first,
            )
        )
        for n in unit.nodes:
            self.unit_of[n.id] = unit
        return unit

    def _dissolve(self, cluster: Cluster, run: list[Scope]) -> Cluster | Unit:
        """A cluster around one thing is that thing, titled with the cluster's path."""
        if len(cluster.items) != 1:
            return cluster
        only = cluster.items[0]
        scope = cluster.scope
        container = block_name(scope) is None
        if (
            isinstance(only, Unit)
            and len(run) == 1
            and (only.role == "layer" or (only.role == "block" and container))
        ):
            if only.role == "layer":
                only.title, only.block = scope.path, block_name(scope) or "Sequential"
            else:  # a container around one folded block
                only.title = scope.path
            only.scope = scope.path.rsplit(".", 1)[0] if "." in scope.path else ""
            return only
        if isinstance(only, Cluster) and len(run) == 1 and container:
            # a container around one block or one run of blocks: one cluster
            only.title = scope.path
            only.params = scope.group.params if scope.group else 0
            return only
        return cluster

    def _node(self, n: Node, scope: str) -> Unit | None:
        """The unit drawing ``n``; None when it rides in an earlier unit."""
        if n.kind in RIDERS and len(n.inputs) == 1:
            src = n.inputs[0]
            host = self.tail.get(src)
            if (
                host is not None
                and (host.role == "layer" or (host.role == "merge" and KINDS[n.kind].activation))
                and host.scope == scope
                and self.tree.consumers.get(src) == [n.id]
            ):
                host.nodes.append(n)
                del self.tail[src]
                self.tail[n.id] = host
                self.unit_of[n.id] = host
                return None
        role: Literal["layer", "merge"] = "merge" if n.kind in MERGES else "layer"
        unit = self._add(Unit(role, [n], scope))
        self.unit_of[n.id] = unit
        self.tail[n.id] = unit
        return unit

    # ------------------------------------------------------------------ the edges

    def drawn(self, node_id: str) -> Unit:
        while node_id not in self.unit_of:
            node_id = self.alias[node_id]
        return self.unit_of[node_id]

    def crossing(self, tail: str, head: str) -> int | None:
        """The folded run whose copies the edge tail → head joins (one copy to the
        next), if any — looked up at each level of folding."""
        while True:
            here = dict(self.run_of.get(head, []))
            there = dict(self.run_of.get(tail, []))
            for run, copy in here.items():
                if run in there and there[run] != copy:
                    return run
            up = self.alias.get(tail, tail), self.alias.get(head, head)
            if up == (tail, head):
                return None
            tail, head = up

    def edges(self) -> list[Edge]:
        """Drawn edges in order of first appearance, with every shape that flows along each."""
        net = self.tree.net
        found: dict[tuple[str, str], Edge] = {}
        shapes_of: dict[tuple[str, str], set[tuple[int, ...]]] = {}  # found's shapes, as a set

        def note(key: tuple[str, str], shape: tuple[int, ...]) -> None:
            if shape not in shapes_of[key]:
                shapes_of[key].add(shape)
                found[key][2].append(shape)

        # A folded run drawn as a cluster: the edges that enter it stand for every
        # copy's input, so they carry the shapes of the edges between copies too.
        entering: dict[tuple[int, str], dict[tuple[str, str], None]] = {}  # ordered sets
        between: dict[tuple[int, str], list[tuple[int, ...]]] = {}

        def add(tail_id: str, head: Unit, shape: tuple[int, ...], runs: list[int]) -> None:
            tail = self.drawn(tail_id)
            if tail is head:
                return
            key = (tail.name, head.name)
            if key not in found:
                found[key], shapes_of[key] = (tail, head, []), set()
            note(key, shape)
            outside = {r for r, _ in self.run_of.get(tail_id, [])}
            for run in runs:
                if run in self.cluster_runs and run not in outside:
                    entering.setdefault((run, head.name), {})[key] = None

        for n in net.nodes:
            head = self.drawn(n.id)
            here = [r for r, _ in self.run_of.get(n.id, [])]
            for i in n.inputs:
                run = self.crossing(i, n.id)
                if run is not None:  # from one copy of a folded run to the next
                    between.setdefault((run, head.name), []).append(self.shape(i))
                    continue
                add(i, head, self.shape(i), here)
        for sink in self.sinks:
            add(sink.io_node, sink, self.shape(sink.io_node), [])
        for slot, shapes in between.items():
            for key in entering.get(slot, {}):
                for shape in shapes:
                    note(key, shape)
        return list(found.values())

    def shape(self, node_id: str) -> tuple[int, ...]:
        """The shape a node's output has (the network's input for INPUT)."""
        if node_id == INPUT:
            return self.tree.net.input_shape
        return self.tree.by_id[node_id].output_shape
