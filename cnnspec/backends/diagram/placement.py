"""Where a graph's units go: a topological order, the shortcuts (drawn in their own
colour), the spine (drawn straight), U-Net's levels (side by side), and the estimate
of the drawing's size that picks the fold level. Everything reads the drawn graph
only, so the DOT text never depends on Graphviz."""

from __future__ import annotations

import heapq
from collections.abc import Sequence

from .drawing import Cluster, Drawing, Edge, Unit
from .labels import Labels


def topological(units: Sequence[Unit], edges: Sequence[Edge]) -> list[Unit]:
    """The units, tails before heads; otherwise in the order they were made."""
    index = {u.name: k for k, u in enumerate(units)}
    succ: dict[str, list[str]] = {u.name: [] for u in units}
    waiting = {u.name: 0 for u in units}
    for tail, head, _ in edges:
        succ[tail.name].append(head.name)
        waiting[head.name] += 1
    ready = [k for k, u in enumerate(units) if not waiting[u.name]]
    heapq.heapify(ready)
    out: list[Unit] = []
    while ready:
        unit = units[heapq.heappop(ready)]
        out.append(unit)
        for s in succ[unit.name]:
            waiting[s] -= 1
            if not waiting[s]:
                heapq.heappush(ready, index[s])
    assert len(out) == len(units), "the drawn graph has a cycle"
    return out


def skips(units: Sequence[Unit], edges: Sequence[Edge]) -> set[tuple[str, str]]:
    """Edges t → h where h is also reached from t along another path: the shortcuts.

    A search from t's other successors goes no further than h's place in a
    topological order, so a local shortcut costs a local search."""
    order = {u.name: k for k, u in enumerate(topological(units, edges))}
    succ: dict[str, list[str]] = {u.name: [] for u in units}
    for tail, head, _ in edges:
        succ[tail.name].append(head.name)

    def reaches(start: str, goal: str) -> bool:
        seen, stack = {start}, [start]
        while stack:
            at = stack.pop()
            if at == goal:
                return True
            for s in succ[at]:
                if s not in seen and order[s] <= order[goal]:
                    seen.add(s)
                    stack.append(s)
        return False

    out = set()
    for tail, head, _ in edges:
        others = [s for s in succ[tail.name] if s != head.name]
        if any(reaches(s, head.name) for s in others):
            out.add((tail.name, head.name))
    return out


def spine(units: Sequence[Unit], edges: Sequence[Edge], end: str) -> set[str]:
    """The longest path from the input to the output (the first one, on a tie): drawn
    straight, so that branches and shortcuts run beside it."""
    preds: dict[str, list[str]] = {u.name: [] for u in units}
    for tail, head, _ in edges:
        preds[head.name].append(tail.name)
    length: dict[str, int] = {}
    best: dict[str, str | None] = {}
    for u in topological(units, edges):
        length[u.name], best[u.name] = 0, None
        for p in preds[u.name]:
            if length[p] + 1 > length[u.name]:
                length[u.name], best[u.name] = length[p] + 1, p
    out: set[str] = set()
    at: str | None = end
    while at is not None:
        out.add(at)
        at = best[at]
    return out


def _chains(
    items: Sequence[Cluster | Unit], above: tuple[int, ...], out: dict[str, tuple[int, ...]]
) -> None:
    for item in items:
        if isinstance(item, Unit):
            out[item.name] = above
        else:
            _chains(item.items, (*above, id(item)), out)


def _parents(items: Sequence[Cluster | Unit], parent: str, out: dict[str, str]) -> None:
    for item in items:
        if isinstance(item, Unit):
            out[item.name] = parent
        else:
            _parents(item.items, item.scope.path, out)


#: The height estimate, fitted to what Graphviz 2.43 draws for the ResNets,
#: GoogLeNets, DenseNets and SqueezeNets of specs/ at every fold level (within about
#: 120 pt; MobileNetV2's is about 10 % high): the title and margins, a factor on the
#: labels' heights, the gap between ranks, each cluster boundary crossed; and the gap
#: between two nodes side by side.
_TOP, _NODE_SCALE, _RANK_GAP, _CLUSTER, _NODE_GAP = 86.0, 1.12, 9.3, 30.0, 18.0


def estimate(
    drawing: Drawing, labels: Labels, edges: Sequence[Edge], legend: float
) -> tuple[float, float]:
    """The diagram's (width, height) in points, estimated from the drawn graph."""
    chains: dict[str, tuple[int, ...]] = {}
    _chains(drawing.root, (), chains)
    parents: dict[str, str] = {}
    _parents(drawing.root, "", parents)
    chains[drawing.input.name] = chains[drawing.output.name] = ()
    parents[drawing.input.name] = parents[drawing.output.name] = ""
    preds: dict[str, list[str]] = {u.name: [] for u in drawing.units}
    for tail, head, _ in edges:
        preds[head.name].append(tail.name)
    top: dict[str, float] = {}
    rank: dict[str, int] = {}
    sizes = {u.name: labels.size(u, parents[u.name]) for u in drawing.units}
    height = 0.0
    for u in topological(drawing.units, edges):
        start, r = _TOP, 0  # the title
        here = chains[u.name]
        for p in preds[u.name]:
            there = chains[p]
            shared = 0
            while shared < min(len(here), len(there)) and here[shared] == there[shared]:
                shared += 1
            clusters = len(there) - shared + len(here) - shared
            start = max(start, top[p] + sizes[p][1] * _NODE_SCALE + _RANK_GAP + _CLUSTER * clusters)
            r = max(r, rank[p] + 1)
        top[u.name], rank[u.name] = start, r
        height = max(height, start + sizes[u.name][1] * _NODE_SCALE)
    widths: dict[int, float] = {}
    for u in drawing.units:
        widths[rank[u.name]] = widths.get(rank[u.name], 0.0) + sizes[u.name][0] + _NODE_GAP
    width = max(widths.values(), default=0.0) + 40
    return round(max(width, legend + 150)), round(height)


def u_levels(edges: Sequence[Edge]) -> dict[str, str]:
    """U-Net's U: a crop-and-concat joins the encoder's map of its level, so it is
    drawn beside that map (the same rank), and the decoder climbs back up.

    Returns skip source → crop concat, for every concat with ``crop: center``."""
    levels: dict[str, str] = {}
    for _tail, head, _shapes in edges:
        if head.kind != "merge" or not head.nodes or head.nodes[0].crop != "center":
            continue
        concat = head.nodes[0]
        if len(concat.inputs) < 2:
            continue
        for tail, h, _ in edges:
            if h is head and concat.inputs[0] in {n.id for n in tail.nodes}:
                levels[tail.name] = head.name
    return levels
