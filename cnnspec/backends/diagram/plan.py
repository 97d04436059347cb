"""The diagram of a graph network (layout ``graph``), folded to fit a page.

Drawn from the IR's edges (see :mod:`.drawing`): one node per operation, merges as
small nodes, each block instance and container a cluster. :func:`graph_plan` picks the
first fold level of: everything; repeats folded; repeats folded and every block at
depth D (deepest first) one node — whose estimated longer side fits :data:`PAGE`. The
estimate reads the IR only, so the DOT text never depends on Graphviz.
"""

from __future__ import annotations

from dataclasses import dataclass

import graphviz

from ...ir import INPUT, Network
from .drawing import Drawing, Edge, Unit
from .emit import emit_graph, families, legend_entries, legend_width
from .labels import Labels
from .placement import estimate, skips, topological
from .tree import ModuleTree, max_depth

#: The longer side, in points, a graph diagram is folded to fit (an estimate of it).
PAGE = 3600.0


@dataclass
class GraphPlan:
    """A graph diagram: the Digraph and how the IR maps onto it (tests read this)."""

    digraph: graphviz.Digraph
    #: the DOT node that draws each IR node id ("input" and "output" included)
    drawn: dict[str, str]
    #: the folded runs of instances, as module paths (each run is drawn once)
    runs: tuple[tuple[str, ...], ...]
    #: blocks and containers at this depth (1: the network's own rows) are one node
    #: each, everything inside them folded (None: none are)
    depth: int | None
    folded: bool  # repeats folded
    estimate: tuple[float, float]  # estimated (width, height) in points


@dataclass
class _Level:
    """One fold level drawn, placed and measured."""

    drawing: Drawing
    labels: Labels
    edges: list[Edge]
    order: list[Unit]  # the units in a topological order
    skips: set[tuple[str, str]]  # the shortcuts
    size: tuple[float, float]  # the estimated (width, height) in points


def _draw_level(tree: ModuleTree, fold: bool, depth: int | None) -> _Level:
    drawing = Drawing(tree, fold, depth)
    labels = Labels(drawing)
    edges = drawing.edges()
    order = topological(drawing.units, edges)
    shortcuts = skips(order, edges)
    legend = legend_width(legend_entries(families(drawing, labels), bool(shortcuts)))
    size = estimate(drawing, labels, order, edges, legend)
    return _Level(drawing, labels, edges, order, shortcuts, size)


def graph_plan(
    net: Network, *, collapse: bool = False, expand: bool = False, depth: int | None = None
) -> GraphPlan:
    """The diagram of a graph network, and how its IR nodes map onto the drawing.

    Levels, tried in order until the estimated longer side fits :data:`PAGE` (the
    last is drawn if none does): everything; repeats folded; repeats folded and
    every block or container at depth D one node, D from the deepest up to 1.

    ``expand`` draws everything (down to ``depth``, if given); ``depth`` fixes the
    depth (blocks and containers at depth ``depth`` are one node each; 1: the
    network's own rows) and folds repeats only where the diagram would pass the
    page; ``collapse`` folds repeats whatever the size."""
    if depth is not None and depth < 1:
        raise ValueError(f"depth must be 1 or more, not {depth}")
    tree = ModuleTree(net)
    deepest = max_depth(tree.root)
    levels: list[tuple[bool, int | None]]
    if expand:
        levels = [(False, depth)]
    elif collapse:
        levels = [(True, depth)]
    elif depth is not None:
        levels = [(False, depth), (True, depth)]
    else:
        levels = [(False, None), (True, None)] + [(True, d) for d in range(deepest, 0, -1)]
    for fold, limit in levels:
        level = _draw_level(tree, fold, limit)
        if max(level.size) <= PAGE:
            break
    drawing = level.drawing
    digraph = emit_graph(net, drawing, level.labels, level.order, level.edges, level.skips)
    drawn = {INPUT: drawing.input.name, "output": drawing.output.name}
    for n in net.nodes:
        drawn[n.id] = drawing.drawn(n.id).name
    return GraphPlan(digraph, drawn, tuple(drawing.runs), limit, fold, level.size)
