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


def skips(order: Sequence[Unit], edges: Sequence[Edge]) -> set[tuple[str, str]]:
    """Edges t → h where h is also reached from t along another path: the shortcuts.

    ``order`` is the units in a topological order. One search per tail with two or
    more heads, from all of them at once, marks what is reached from a head along one
    edge or more; a marked head is reached along another path (no path of one edge or
    more leads from a node back to itself), so the edge to it is a shortcut. The
    search goes no further than the tail's last head in ``order``: a local shortcut
    costs a local search, and a tail with n heads one search, not n."""
    place = {u.name: k for k, u in enumerate(order)}
    succ: dict[str, list[str]] = {}
    for tail, head, _ in edges:
        succ.setdefault(tail.name, []).append(head.name)
    out: set[tuple[str, str]] = set()
    for name, heads in succ.items():
        if len(heads) < 2:
            continue
        last = max(place[h] for h in heads)
        reached: set[str] = set()
        stack = list(heads)
        while stack:
            for s in succ.get(stack.pop(), ()):
                if s not in reached and place[s] <= last:
                    reached.add(s)
                    stack.append(s)
        out.update((name, h) for h in heads if h in reached)
    return out


def spine(order: Sequence[Unit], edges: Sequence[Edge], end: str) -> set[str]:
    """The longest path from the input to the output (the first one, on a tie): drawn
    straight, so that branches and shortcuts run beside it. ``order``: the units in a
    topological order."""
    preds: dict[str, list[str]] = {u.name: [] for u in order}
    for tail, head, _ in edges:
        preds[head.name].append(tail.name)
    length: dict[str, int] = {}
    best: dict[str, str | None] = {}
    for u in order:
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
    drawing: Drawing,
    labels: Labels,
    order: Sequence[Unit],
    edges: Sequence[Edge],
    legend: float,
) -> tuple[float, float]:
    """The diagram's (width, height) in points, estimated from the drawn graph
    (``order``: its units in a topological order; ``legend``: the legend's width)."""
    chains: dict[str, tuple[int, ...]] = {}
    _chains(drawing.root, (), chains)
    parents: dict[str, str] = {}
    _parents(drawing.root, "", parents)
    for io in (drawing.input, *drawing.sinks):
        chains[io.name], parents[io.name] = (), ""
    preds: dict[str, list[str]] = {u.name: [] for u in drawing.units}
    for tail, head, _ in edges:
        preds[head.name].append(tail.name)
    top: dict[str, float] = {}
    rank: dict[str, int] = {}
    sizes = {u.name: labels.size(u, parents[u.name]) for u in drawing.units}
    height = 0.0
    for u in order:
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

    Returns skip source → crop concat (DOT ids), for every concat with ``crop: center``,
    in order of first appearance; a map that two crop concats read first goes beside
    the one whose last edge comes later."""
    into: dict[str, tuple[str, list[Unit]]] = {}  # crop concat → (source id, tails)
    last: dict[str, int] = {}  # crop concat → its last edge's place
    for k, (tail, head, _) in enumerate(edges):
        if head.role != "merge" or not head.nodes or head.nodes[0].crop != "center":
            continue
        concat = head.nodes[0]
        if len(concat.inputs) >= 2:
            into.setdefault(head.name, (concat.inputs[0], []))[1].append(tail)
            last[head.name] = k
    levels: dict[str, str] = {}
    ids: dict[str, set[str]] = {}  # unit → the IR ids it draws
    for head_name, (source, tails) in into.items():
        for tail in tails:
            if tail.name not in ids:
                ids[tail.name] = {n.id for n in tail.nodes}
            if source in ids[tail.name]:
                now = levels.get(tail.name)
                if now is None or last[head_name] > last[now]:
                    levels[tail.name] = head_name
    return levels
