"""The architecture diagram: a ``graphviz.Digraph`` built from the IR, its DOT text,
and the image Graphviz's ``dot`` renders from it.

Two renderers: a chain (layout ``sequential`` or ``flat``) is drawn as a textbook
figure, stage by stage (:mod:`.chain`); a graph (layout ``graph``) from the IR's
edges, folded to fit a page (:mod:`.plan`). The modules, in the order a graph's
diagram is made:

- :mod:`.tree`: the module tree, and which block instances fold;
- :mod:`.drawing`: one fold level drawn: units (drawn nodes), clusters, edges;
- :mod:`.labels`: every label's text (and the lines the size estimate counts);
- :mod:`.placement`: topological order, shortcuts, the spine, the size estimate;
- :mod:`.emit`: the DOT text (both renderers' frame and legend);
- :mod:`.style`: families, colours, fonts and the escaping of spec text;
- :mod:`.image`: running ``dot``, and the digest stamp that ties an SVG to its DOT.

Safety: node ids are internal (``n0``, ``n1``, …) and every string from the spec is
escaped, so no title or name can change the graph's structure. Determinism: the DOT
text depends on the IR only.
"""

from __future__ import annotations

import graphviz

from ...deep import deep_stack
from ...ir import Network
from .chain import LINE_WIDTH, Box, Stage, boxes, render_chain, stage_label, stages
from .image import GraphvizError, dot_digest, render_image, stamp_svg, svg_is_current
from .plan import PAGE, GraphPlan, graph_plan
from .style import FAMILIES, SKIP_COLOR, family, html_text, plain_text

__all__ = [
    "FAMILIES",
    "LINE_WIDTH",
    "PAGE",
    "SKIP_COLOR",
    "Box",
    "GraphPlan",
    "GraphvizError",
    "Stage",
    "boxes",
    "dot_digest",
    "family",
    "graph_plan",
    "html_text",
    "plain_text",
    "render_diagram",
    "render_dot",
    "render_image",
    "stage_label",
    "stages",
    "stamp_svg",
    "svg_is_current",
]


@deep_stack
def render_diagram(
    net: Network, *, collapse: bool = False, expand: bool = False, depth: int | None = None
) -> graphviz.Digraph:
    """The architecture diagram of ``net`` as a ``graphviz.Digraph``.

    A chain (layout ``sequential`` or ``flat``): ``collapse`` folds each run of
    identical rows (as written: same layer, sizes and activation) into one node
    marked ``×N``; ``expand`` and ``depth`` change nothing.

    A graph (layout ``graph``): see :func:`graph_plan` — by default repeated block
    instances fold, then deeper blocks, until the diagram fits a page; ``expand``
    draws everything; ``depth=N`` draws every block or container at depth N (1: a
    row of the network) as one node; ``collapse`` folds repeats whatever the size.
    ``expand`` with ``depth`` draws every instance down to depth N, never folding;
    ``collapse`` with ``expand`` contradicts itself: a ValueError."""
    if collapse and expand:
        raise ValueError("collapse folds repeats and expand draws every one: give one of them")
    if net.layout == "graph":
        return graph_plan(net, collapse=collapse, expand=expand, depth=depth).digraph
    return render_chain(net, collapse=collapse)


@deep_stack
def render_dot(
    net: Network, *, collapse: bool = False, expand: bool = False, depth: int | None = None
) -> str:
    """The deterministic DOT text of the diagram (what ``<stem>.dot`` holds)."""
    return render_diagram(net, collapse=collapse, expand=expand, depth=depth).source
