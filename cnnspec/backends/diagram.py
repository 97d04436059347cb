"""The architecture diagram: a ``graphviz.Digraph`` built from the IR, its DOT text,
and the image Graphviz's ``dot`` renders from it.

Layout (top to bottom, like a textbook figure): the title, the input, one cluster
per VGG-style stage (convolutions closed by a pool), the classifier, the output.
Inside a cluster the rows run left to right and wrap after :data:`LINE_WIDTH`
nodes, so a deep network grows down the page instead of into a long strip.

Safety: node ids are internal (``n0``, ``n1``, …). Every string that comes from
the spec is escaped — HTML entities inside the HTML-like labels, and
``graphviz.escape`` for plain labels — so no title or name can change the graph's
structure. Determinism: the DOT text depends on the IR only.
"""

from __future__ import annotations

import hashlib
import heapq
import html
import itertools
import re
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import graphviz

from ..ir import INPUT, Network, Node, Row
from ..ir import Group as IRGroup
from ..registry import KINDS
from . import format as fmt

#: How many nodes fit side by side in one line of a cluster (a lone activation counts ½).
LINE_WIDTH = 6
FONT = "Helvetica,Arial,sans-serif"

#: The colour of each layer family: (legend text, fill, border).
FAMILIES: dict[str, tuple[str, str, str]] = {
    "conv": ("convolution", "#cfe2f3", "#3d85c6"),
    "maxpool": ("max pool", "#f4cccc", "#cc0000"),
    "avgpool": ("average pool", "#fce5cd", "#e69138"),
    "adaptive": ("adaptive pool", "#d9d2e9", "#674ea7"),
    "batchnorm": ("batch norm", "#fff2cc", "#bf9000"),
    "activation": ("activation", "#ead1dc", "#a64d79"),
    "fc": ("fully connected", "#d9ead3", "#38761d"),
    "dropout": ("dropout", "#efefef", "#666666"),
    "deconv": ("transposed conv", "#c9daf8", "#1155cc"),
    "lrn": ("local response norm", "#f3f3d0", "#8f8f1f"),
    "upsample": ("upsample", "#d0f0ec", "#2f8f83"),
    "flatten": ("flatten", "#ffffff", "#888888"),
    "merge": ("add / concat", "#ffffff", "#444444"),
    "block": ("block (folded)", "#e8eaf6", "#3949ab"),
}
IO_FILL, IO_BORDER = "#ffffff", "#444444"
CLUSTER_FILL, CLUSTER_BORDER = "#f8f9fb", "#9aa4b1"
EDGE_COLOR, EDGE_FONT_COLOR = "#555555", "#333333"


def family(kind: str) -> str:
    """The colour family of a layer kind (see :data:`FAMILIES`)."""
    return KINDS[kind].family


# --------------------------------------------------------------------------- escaping


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def html_text(text: str) -> str:
    """``text`` as HTML-label content: entities for ``& < > " '``, a line break
    for a newline, and U+FFFD for other control characters (which Graphviz rejects)."""
    text = _CONTROL.sub("\ufffd", text.replace("\r\n", "\n").replace("\t", " "))
    return "<br/>".join(html.escape(line, quote=True) for line in text.split("\n"))


def plain_text(text: str) -> str:
    """``text`` as a plain (non-HTML) label: backslashes and ``<…>`` made literal."""
    return graphviz.escape(_CONTROL.sub("\ufffd", text.replace("\r\n", "\n")))


# --------------------------------------------------------------------------- grouping


@dataclass(frozen=True)
class Item:
    """One drawn layer node: a written row, or (with ``collapse``) a run of identical rows."""

    rows: tuple[Row, ...]

    @property
    def first(self) -> Node:
        return self.rows[0].node

    @property
    def output_shape(self) -> tuple[int, ...]:
        return self.rows[-1].output_shape


@dataclass(frozen=True)
class Group:
    """Items drawn together: a stage or the classifier (a cluster), or loose rows."""

    kind: Literal["stage", "classifier", "loose"]
    rows: tuple[Row, ...]
    number: int = 0  # a stage's block number, 1-based


_POOLS = frozenset({"maxpool", "avgpool"})


def groups(net: Network) -> list[Group]:
    """Split the rows into VGG-style stages, loose feature rows and the classifier.

    A stage is every feature row since the previous boundary, closed by a max or
    average pool, holding at least one convolution."""
    rows = list(net.rows())
    before = {n.id for n in net.features}
    features = [r for r in rows if r.node.id in before]
    classifier = [r for r in rows if r.node.id not in before]
    out: list[Group] = []
    pending: list[Row] = []
    number = 0
    for row in features:
        pending.append(row)
        if row.node.kind in _POOLS and any(r.node.kind == "conv" for r in pending):
            number += 1
            out.append(Group("stage", tuple(pending), number))
            pending = []
    if pending:
        out.append(Group("loose", tuple(pending)))
    if classifier:
        out.append(Group("classifier", tuple(classifier)))
    return out


def _identity(row: Row) -> tuple:
    """What a row says, as the table writes it: equal identities fold with ``collapse``."""
    n = row.node
    return (
        n.kind,
        n.torch_class,
        n.output_shape,
        n.kernel,
        n.stride,
        n.padding,
        n.padding_same,
        n.dilation,
        n.groups,
        n.bias,
        n.ceil_mode,
        n.p,
        n.target,
        row.activation.kind if row.activation else None,
    )


def items(rows: Sequence[Row], collapse: bool) -> list[Item]:
    """The nodes drawn for ``rows``: one per row, or one per run of identical rows."""
    out: list[Item] = []
    for row in rows:
        if collapse and out and _identity(out[-1].rows[-1]) == _identity(row):
            out[-1] = Item((*out[-1].rows, row))
        else:
            out.append(Item((row,)))
    return out


def conv_word(node: Node) -> str:
    """VGG's notation for a convolution: ``conv3-256`` (kernel, maps)."""
    return f"conv{fmt.square(node.kernel)}-{node.out_maps}"


def stage_label(number: int, rows: Sequence[Row]) -> str:
    """``block 3 · 3× conv3-256``: the stage's convolutions, runs counted."""
    words = [conv_word(r.node) for r in rows if r.node.kind == "conv"]
    runs: list[list] = []
    for word in words:
        if runs and runs[-1][0] == word:
            runs[-1][1] += 1
        else:
            runs.append([word, 1])
    text = ", ".join(word if n == 1 else f"{n}× {word}" for word, n in runs)
    return f"block {number} · {text}"


def _weight(item: Item) -> float:
    """How wide a node counts for line wrapping: a lone activation is narrow."""
    return 0.5 if item.first.is_activation else 1.0


def _lines(seq: Sequence[Item], width: float = LINE_WIDTH) -> list[list[Item]]:
    """Wrap a group's items into lines of at most ``width`` (see :func:`_weight`).

    A line breaks before a convolution or fully connected layer where it can, so a
    conv keeps its batch norm and activation beside it, and a pool closes the line
    of the last convolution."""
    units: list[list[Item]] = []
    for item in seq:
        starts = item.first.kind in ("conv", "fc")
        if units and not starts:
            units[-1].append(item)
        else:
            units.append([item])
    lines: list[list[Item]] = []
    used = 0.0
    for unit in units:
        for i in range(0, len(unit), int(width)):  # a unit wider than a line is split
            part = unit[i : i + int(width)]
            w = sum(_weight(it) for it in part)
            if lines and used + w <= width:
                lines[-1].extend(part)
                used += w
            else:
                lines.append(list(part))
                used = w
    return lines


# --------------------------------------------------------------------------- labels


def _params_text(item: Item) -> str:
    """``1,792 params``; a folded run lists its rows' counts: ``295,168 + 2×590,080``."""
    runs: list[list[int]] = []
    for row in item.rows:
        if runs and runs[-1][0] == row.params:
            runs[-1][1] += 1
        else:
            runs.append([row.params, 1])
    parts = [fmt.count(p) if n == 1 else f"{n}×{fmt.count(p)}" for p, n in runs]
    return " + ".join(parts) + " params"


def _hyper_text(item: Item) -> str:
    node = item.first
    parts = []
    folded_convs = node.kind == "conv" and len(item.rows) > 1  # their input maps differ
    if node.kind in ("conv", "fc") and not folded_convs:
        parts.append(f"{node.in_maps}→{node.out_maps}")
    hyper = fmt.hyper(node)
    if hyper:
        parts.append(hyper)
    act = item.rows[0].activation
    if act is not None:
        parts.append(fmt.activation_label(act.kind))
    return " · ".join(parts)


def node_label(item: Item) -> str:
    """The HTML-like table label of one layer node."""
    node = item.first
    _, fill, border = FAMILIES[family(node.kind)]
    name = html_text(node.name)
    if len(item.rows) > 1:
        name = f"{name} … {html_text(item.rows[-1].node.name)}"
    kind = html_text(node.torch_class)
    count = f' <font color="{border}"><b>×{len(item.rows)}</b></font>' if len(item.rows) > 1 else ""
    cells = [
        f'<tr><td align="left"><b>{name}</b>{count}</td><td width="6"></td>'
        f'<td align="right"><font color="#444444">{kind}</font></td></tr>'
    ]
    hyper = _hyper_text(item)
    if hyper:
        cells.append(
            f'<tr><td colspan="3"><font point-size="10">{html_text(hyper)}</font></td></tr>'
        )
    cells.append(f'<tr><td colspan="3"><b>{html_text(fmt.shape(item.output_shape))}</b></td></tr>')
    if any(r.params for r in item.rows):
        cells.append(
            f'<tr><td colspan="3"><font point-size="9" color="#555555">'
            f"{html_text(_params_text(item))}</font></td></tr>"
        )
    table = (
        f'<table border="1" cellborder="0" cellspacing="0" cellpadding="3" style="rounded" '
        f'bgcolor="{fill}" color="{border}">' + "".join(cells) + "</table>"
    )
    return f"<{table}>"


def io_label(word: str, shape: tuple[int, ...]) -> str:
    return (
        f'<<table border="1" cellborder="0" cellspacing="0" cellpadding="3" style="rounded" '
        f'bgcolor="{IO_FILL}" color="{IO_BORDER}"><tr><td><b>{html_text(word)}</b></td></tr>'
        f"<tr><td>{html_text(fmt.shape(shape))}</td></tr></table>>"
    )


def title_label(net: Network) -> str:
    title = html_text(net.title or net.name)
    stats = html_text(
        f"{fmt.count(net.params)} params · {fmt.short(net.macs)} MACs · "
        f"{fmt.shape(net.input_shape)} → {fmt.shape(net.output_shape)}"
    )
    return (
        f'<<font point-size="20"><b>{title}</b></font><br/>'
        f'<font point-size="11" color="#555555">{stats}</font>>'
    )


def legend_label(families: Sequence[str]) -> str:
    cells = []
    for fam in families:
        text, fill, border = FAMILIES[fam]
        cells.append(
            f'<td bgcolor="{fill}" color="{border}" border="1" width="14" height="14"></td>'
            f'<td align="left"><font point-size="10">{html_text(text)}</font></td>'
        )
    return (
        '<<table border="0" cellborder="0" cellspacing="4" cellpadding="2">'
        f"<tr>{''.join(cells)}</tr></table>>"
    )


# --------------------------------------------------------------------------- the graph


def _graph_name(net: Network) -> str:
    return net.name if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,99}", net.name) else "network"


def _cluster_attrs(label: str) -> dict[str, str]:
    return {
        "label": plain_text(label),
        "labeljust": "r",
        "style": "rounded,filled",
        "fillcolor": CLUSTER_FILL,
        "color": CLUSTER_BORDER,
        "fontsize": "11",
        "fontcolor": "#333333",
        "margin": "10",
    }


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
    row of the network) as one node; ``collapse`` folds repeats whatever the size."""
    if net.layout == "graph":
        return graph_plan(net, collapse=collapse, expand=expand, depth=depth).digraph
    return _render_chain(net, collapse=collapse)


def _render_chain(net: Network, *, collapse: bool = False) -> graphviz.Digraph:
    g = graphviz.Digraph(
        name=_graph_name(net),
        comment="Generated by cnnspec. Do not edit.",
        graph_attr={
            "rankdir": "TB",
            "label": title_label(net),
            "labelloc": "t",
            "labeljust": "c",
            "fontname": FONT,
            "nodesep": "0.35",
            "ranksep": "0.45",
            "newrank": "true",
            "bgcolor": "white",
            "pad": "0.3",
        },
        node_attr={"shape": "plain", "fontname": FONT, "fontsize": "11"},
        edge_attr={
            "fontname": FONT,
            "fontsize": "9",
            "color": EDGE_COLOR,
            "fontcolor": EDGE_FONT_COLOR,
            "arrowsize": "0.7",
        },
    )
    ids = (f"n{i}" for i in itertools.count())
    first = prev = next(ids)
    g.node(prev, io_label("input", net.input_shape))
    prev_shape = fmt.shape(net.input_shape)
    families: list[str] = []
    # Edges are written after the nodes, in order. A line's first node hangs below
    # the previous line's first node (an invisible, heavy edge keeps the left edge
    # straight); the edge that really joins the lines then pulls on nothing.
    edges: list[tuple[str, str, dict[str, str]]] = []

    def edge(tail: str, head: str, label: str, **attrs: str) -> None:
        edges.append((tail, head, {"label": plain_text(f" {label} "), **attrs}))

    for number, group in enumerate(groups(net)):
        group_items = items(group.rows, collapse)
        for item in group_items:
            fam = family(item.first.kind)
            if fam not in families:
                families.append(fam)
        if group.kind == "loose":
            ctx = g.subgraph(name=f"loose_{number}")
        else:
            label = stage_label(group.number, group.rows) if group.kind == "stage" else "classifier"
            ctx = g.subgraph(name=f"cluster_{number}", graph_attr=_cluster_attrs(label))
        with ctx as sub:
            for line_no, line in enumerate(_lines(group_items)):
                with sub.subgraph(name=f"line_{number}_{line_no}") as rank:
                    rank.attr(rank="same")
                    for col, item in enumerate(line):
                        node_id = next(ids)
                        rank.node(node_id, node_label(item))
                        if group.kind == "classifier" and item is group_items[0]:
                            flat = net.flatten
                            if flat is not None:
                                prev_shape = (
                                    f"{fmt.shape(flat.input_shape)} → "
                                    f"{fmt.shape(flat.output_shape)}"
                                )
                        if col == 0:
                            if prev != first:
                                edges.append((first, node_id, {"style": "invis", "weight": "50"}))
                                edge(prev, node_id, prev_shape, weight="0")
                            else:
                                edge(prev, node_id, prev_shape, weight="50")
                            first = node_id
                        else:
                            edge(prev, node_id, prev_shape)
                        prev, prev_shape = node_id, fmt.shape(item.output_shape)
    out = next(ids)
    g.node(out, io_label("output", net.output_shape))
    edge(prev, out, prev_shape)
    with g.subgraph(name="cluster_legend") as legend:
        legend.attr(label="", style="rounded", color="#cccccc", margin="4")
        legend.node("legend", legend_label(families))
    for tail, head, attrs in edges:
        g.edge(tail, head, **attrs)
    return g


def render_dot(
    net: Network, *, collapse: bool = False, expand: bool = False, depth: int | None = None
) -> str:
    """The deterministic DOT text of the diagram (what ``<stem>.dot`` holds)."""
    return render_diagram(net, collapse=collapse, expand=expand, depth=depth).source


# =========================================================================== graphs
#
# A graph network (layout "graph") is drawn from the IR's edges: one node per
# operation, where a batch norm, an activation, a flatten or a dropout that reads a
# layer's only output rides in that layer's node; merges as small "+" / "concat"
# nodes; each block instance and container a cluster labelled with its module path,
# nested as the module tree nests. Folding keeps a big network on a page:
#
# - a run of identical, consecutive block instances (same block, arguments and
#   structure; input widths may differ, as in a dense block) is drawn once, as a
#   cluster labelled "layer3.1 … 35 · Bottleneck × 35", the edges labelled with the
#   range of shapes the copies see;
# - at a depth D, every block instance or container is one node.
#
# graph_plan picks the first of: everything; repeats folded; repeats folded and
# every block at depth D (deepest first) one node — whose estimated longer side fits
# PAGE. The estimate reads the IR only, so the DOT text never depends on Graphviz.

#: The longer side, in points, a graph diagram is folded to fit (an estimate of it).
PAGE = 3600.0

SKIP_COLOR = "#1a73e8"
MERGE_FILL, MERGE_BORDER = "#ffffff", "#444444"
_RIDER_FAMILIES = frozenset({"batchnorm", "activation"})
_RIDER_KINDS = frozenset({"flatten", "dropout"})
_MERGES = frozenset({"add", "concat"})


@dataclass
class _Scope:
    """A node of the module tree: the top level, a block instance or a container."""

    path: str
    group: IRGroup | None
    items: list[Node | _Scope] = field(default_factory=list)

    @property
    def depth(self) -> int:
        return self.group.depth if self.group else 0


@dataclass
class _Unit:
    """One drawn node."""

    kind: Literal["layer", "merge", "block", "io"]
    nodes: list[Node]  # layer: the lead and its riders; merge: one; block: every node inside
    scope: str  # the module path of the scope it is drawn in
    name: str = ""  # the DOT id: n0, n1, …
    title: str | None = None  # a module path shown instead of the lead's name
    block: str | None = None  # the block type shown with the title
    instances: tuple[IRGroup, ...] = ()  # a folded block: the instances it stands for
    folded: _Scope | None = None  # a folded block: the first instance's module tree
    io: tuple[str, tuple[int, ...]] | None = None  # ("input" | "output", shape)


@dataclass
class _Cluster:
    scope: _Scope
    label: str
    items: list[_Cluster | _Unit]
    count: int = 1  # instances it stands for (a folded run: more than one)

    @property
    def folded(self) -> bool:
        return self.count > 1


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


def _module_tree(net: Network) -> _Scope:
    scopes: dict[str, _Scope] = {"": _Scope("", None)}
    for g in net.groups:
        scopes[g.path] = _Scope(g.path, g)
    parent: dict[str, str] = {}
    for path in scopes:
        if not path:
            continue
        up, parent[path] = path, ""
        while "." in up:
            up = up.rsplit(".", 1)[0]
            if up in scopes:
                parent[path] = up
                break
    attached = {""}

    def attach(path: str) -> None:
        if path not in attached:
            attach(parent[path])
            scopes[parent[path]].items.append(scopes[path])
            attached.add(path)

    for n in net.nodes:
        where = n.scope if n.scope in scopes else ""
        attach(where)
        scopes[where].items.append(n)
    return scopes[""]


class _Graph:
    """The IR as a graph: nodes by id, consumers, instance signatures."""

    def __init__(self, net: Network) -> None:
        self.net = net
        self.by_id = {n.id: n for n in net.nodes}
        self.consumers: dict[str, list[str]] = {n.id: [] for n in net.nodes}
        self.consumers[INPUT] = []
        for n in net.nodes:
            for i in n.inputs:
                self.consumers.setdefault(i, []).append(n.id)
        self.consumers.setdefault(net.output, []).append("output")
        self.tree = _module_tree(net)
        self._sigs: dict[str, tuple] = {}

    def signature(self, scope: _Scope) -> tuple:
        """What must agree for two instances to fold: the block, its arguments, and
        every node's kind, hyper-parameters, output maps and wiring (not input widths)."""
        got = self._sigs.get(scope.path)
        if got is not None:
            return got
        g = scope.group
        assert g is not None
        inside = set(g.nodes)
        pre = g.path + "."

        def rel(i: str) -> str:  # an id inside, relative to the instance; "^" outside
            if i not in inside:
                return "^"
            return i[len(pre) :] if i.startswith(pre) else i

        parts = tuple(
            (
                rel(n.id),
                n.kind,
                n.torch_class,
                n.out_maps,
                n.kernel,
                n.stride,
                n.padding,
                n.dilation,
                n.groups,
                n.bias,
                n.ceil_mode,
                n.p,
                n.target,
                n.crop,
                n.scale,
                n.mode,
                n.functional,
                tuple(rel(i) for i in n.inputs),
            )
            for n in (self.by_id[i] for i in g.nodes)
        )
        sig = (g.kind, g.block, g.args, parts)
        self._sigs[scope.path] = sig
        return sig

    def chained(self, a: _Scope, b: _Scope) -> bool:
        """``b`` reads only ``a``'s one output, and nothing else reads it."""
        assert a.group is not None and b.group is not None
        a_in, b_in = set(a.group.nodes), set(b.group.nodes)
        outs = [i for i in a.group.nodes if any(c not in a_in for c in self.consumers[i])]
        if len(outs) != 1:
            return False
        if any(c not in a_in and c not in b_in for c in self.consumers[outs[0]]):
            return False
        return all(i in b_in or i == outs[0] for n in b.group.nodes for i in self.by_id[n].inputs)

    def runs(self, scope: _Scope, fold: bool) -> list[Node | list[_Scope]]:
        """The scope's items, consecutive identical block instances gathered (with ``fold``)."""
        out: list[Node | list[_Scope]] = []
        for item in scope.items:
            if isinstance(item, Node):
                out.append(item)
                continue
            prev = out[-1] if out else None
            if (
                fold
                and isinstance(prev, list)
                and item.group is not None
                and item.group.kind == "block"
                and self.signature(prev[-1]) == self.signature(item)
                and self.chained(prev[-1], item)
            ):
                prev.append(item)
            else:
                out.append([item])
        return out


def _max_depth(scope: _Scope) -> int:
    return max([scope.depth] + [_max_depth(i) for i in scope.items if isinstance(i, _Scope)])


def _all_nodes(scope: _Scope) -> list[Node]:
    out: list[Node] = []
    for item in scope.items:
        out.extend(_all_nodes(item) if isinstance(item, _Scope) else [item])
    return out


def _block_name(scope: _Scope) -> str | None:
    g = scope.group
    return g.block if g is not None and g.kind == "block" else None


def _run_path(run: Sequence[_Scope]) -> str:
    if len(run) == 1:
        return run[0].path
    last = run[-1].group
    return f"{run[0].path} … {last.name if last else run[-1].path}"


def _short_count(n: int) -> str:
    return fmt.count(n) if n < 10_000 else fmt.short(n)


def _cluster_label(path: str, block: str | None, count: int, params: int) -> str:
    text = path
    if block:
        text += f" · {block}"
    if count > 1:
        text += f" × {count}"
    if params:
        text += f" · {_short_count(params)} params"
    return text


class _Builder:
    """Builds the drawn tree of one fold level, then the Digraph."""

    def __init__(self, graph: _Graph, fold: bool, depth: int | None) -> None:
        self.g = graph
        self.fold = fold
        self.depth = depth
        self.units: list[_Unit] = []
        self.unit_of: dict[str, _Unit] = {}  # IR id (representatives) → unit
        self.alias: dict[str, str] = {}  # IR id of a folded copy → its representative's id
        self.variants: dict[str, list[Node]] = {}  # representative id → the copies' nodes
        self.runs: list[tuple[str, ...]] = []
        self.cluster_runs: set[int] = set()  # the runs drawn as a cluster
        #: IR id in folded runs → (run number, the instance's module path) for each
        self.run_of: dict[str, list[tuple[int, str]]] = {}
        self.tail: dict[str, _Unit] = {}  # unit by its last node's id (riders attach there)
        net = graph.net
        self.input = self._add(_Unit("io", [], "", io=("input", net.input_shape)))
        self.unit_of[INPUT] = self.input
        self.root = self._scope_items(graph.tree)
        self.output = self._add(_Unit("io", [], "", io=("output", net.output_shape)))

    def _add(self, unit: _Unit) -> _Unit:
        unit.name = f"n{len(self.units)}"
        self.units.append(unit)
        return unit

    # ------------------------------------------------------------------ the tree

    def _scope_items(self, scope: _Scope) -> list[_Cluster | _Unit]:
        items: list[_Cluster | _Unit] = []
        for entry in self.g.runs(scope, self.fold):
            if isinstance(entry, Node):
                unit = self._node(entry, scope.path)
                if unit is not None:
                    items.append(unit)
                continue
            first = entry[0]
            if len(entry) > 1:
                number = len(self.runs)
                self.runs.append(tuple(s.path for s in entry))
                for inst in entry:
                    assert inst.group is not None
                    for i in inst.group.nodes:
                        self.run_of.setdefault(i, []).append((number, inst.path))
                # a copy's node stands for its representative's; where an outer
                # run folded this one already, the copies it stands for come along
                pre, rep_nodes = first.path, first.group.nodes if first.group else ()
                for i in rep_nodes:
                    self.variants.setdefault(i, [self.g.by_id[i]])
                for inst in entry[1:]:
                    assert inst.group is not None
                    for i in inst.group.nodes:
                        rep = pre + i[len(inst.path) :]
                        self.alias[i] = rep
                        self.variants[rep].extend(self.variants.pop(i, [self.g.by_id[i]]))
            params = sum(s.group.params for s in entry if s.group)
            if self.depth is not None and first.depth >= self.depth:
                unit = self._add(
                    _Unit(
                        "block",
                        _all_nodes(first),
                        scope.path,
                        title=_run_path(entry),
                        block=_block_name(first) or "Sequential",
                        instances=tuple(s.group for s in entry if s.group),
                        folded=first,
                    )
                )
                for n in unit.nodes:
                    self.unit_of[n.id] = unit
                items.append(unit)
                continue
            if len(entry) > 1:
                self.cluster_runs.add(len(self.runs) - 1)
            inner = self._scope_items(first)
            label = _cluster_label(_run_path(entry), _block_name(first), len(entry), params)
            cluster = _Cluster(first, label, inner, count=len(entry))
            items.append(self._dissolve(cluster, entry))
        return items

    def _dissolve(self, cluster: _Cluster, run: list[_Scope]) -> _Cluster | _Unit:
        """A cluster around one thing is that thing, titled with the cluster's path."""
        if len(cluster.items) != 1:
            return cluster
        only = cluster.items[0]
        scope = cluster.scope
        container = _block_name(scope) is None
        if (
            isinstance(only, _Unit)
            and len(run) == 1
            and (only.kind == "layer" or (only.kind == "block" and container))
        ):
            if only.kind == "layer":
                only.title, only.block = scope.path, _block_name(scope) or "Sequential"
            else:  # a container around one folded block
                only.title = scope.path
            only.scope = scope.path.rsplit(".", 1)[0] if "." in scope.path else ""
            return only
        if isinstance(only, _Cluster) and len(run) == 1 and container:
            # a container around one block or one run of blocks: one cluster
            inner = only.scope
            params = scope.group.params if scope.group else 0
            only.label = _cluster_label(scope.path, _block_name(inner), only.count, params)
            return only
        return cluster

    def _node(self, n: Node, scope: str) -> _Unit | None:
        """The unit drawing ``n``; None when it rides in an earlier unit."""
        fam = family(n.kind)
        if (fam in _RIDER_FAMILIES or n.kind in _RIDER_KINDS) and len(n.inputs) == 1:
            src = n.inputs[0]
            host = self.tail.get(src)
            if (
                host is not None
                and (host.kind == "layer" or (host.kind == "merge" and fam == "activation"))
                and host.scope == scope
                and self.g.consumers.get(src) == [n.id]
            ):
                host.nodes.append(n)
                del self.tail[src]
                self.tail[n.id] = host
                self.unit_of[n.id] = host
                return None
        kind: Literal["layer", "merge"] = "merge" if n.kind in _MERGES else "layer"
        unit = self._add(_Unit(kind, [n], scope))
        self.unit_of[n.id] = unit
        self.tail[n.id] = unit
        return unit

    # ------------------------------------------------------------------ the edges

    def drawn(self, node_id: str) -> _Unit:
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

    def edges(self) -> list[tuple[_Unit, _Unit, list[tuple[int, ...]]]]:
        """Drawn edges in order of first appearance, with every shape that flows along each."""
        net = self.g.net
        found: dict[tuple[str, str], tuple[_Unit, _Unit, list[tuple[int, ...]]]] = {}

        # A folded run drawn as a cluster: the edges that enter it stand for every
        # copy's input, so they carry the shapes of the edges between copies too.
        entering: dict[tuple[int, str], list[tuple[str, str]]] = {}
        between: dict[tuple[int, str], list[tuple[int, ...]]] = {}

        def add(tail_id: str, head: _Unit, shape: tuple[int, ...], runs: list[int]) -> None:
            tail = self.drawn(tail_id)
            if tail is head:
                return
            key = (tail.name, head.name)
            if key not in found:
                found[key] = (tail, head, [])
            if shape not in found[key][2]:
                found[key][2].append(shape)
            outside = {r for r, _ in self.run_of.get(tail_id, [])}
            for run in runs:
                if run in self.cluster_runs and run not in outside:
                    entering.setdefault((run, head.name), []).append(key)

        for n in net.nodes:
            head = self.drawn(n.id)
            here = [r for r, _ in self.run_of.get(n.id, [])]
            for i in n.inputs:
                run = self.crossing(i, n.id)
                if run is not None:  # from one copy of a folded run to the next
                    between.setdefault((run, head.name), []).append(self.shape(i))
                    continue
                add(i, head, self.shape(i), here)
        add(net.output, self.output, self.shape(net.output), [])
        for slot, shapes in between.items():
            for key in entering.get(slot, []):
                for shape in shapes:
                    if shape not in found[key][2]:
                        found[key][2].append(shape)
        return list(found.values())

    def shape(self, node_id: str) -> tuple[int, ...]:
        """The shape a node's output has (the network's input for INPUT)."""
        if node_id == INPUT:
            return self.g.net.input_shape
        return self.g.by_id[node_id].output_shape


def _range(values: Sequence[int]) -> str:
    lo, hi = min(values), max(values)
    return fmt.count(lo) if lo == hi else f"{fmt.count(lo)}…{fmt.count(hi)}"


def _shapes_text(shapes: Sequence[tuple[int, ...]]) -> str:
    """One shape, or each dimension's range: ``96…256×56×56``."""
    if len(shapes) == 1:
        return fmt.shape(shapes[0])
    if len({len(s) for s in shapes}) != 1:
        return " | ".join(fmt.shape(s) for s in shapes)
    dims = []
    for values in zip(*shapes):
        lo, hi = min(values), max(values)
        dims.append(str(lo) if lo == hi else f"{lo}…{hi}")
    return "×".join(dims)


def _plain_range(values: Sequence[int]) -> str:
    lo, hi = min(values), max(values)
    return str(lo) if lo == hi else f"{lo}…{hi}"


# --------------------------------------------------------------------------- graph labels


def _rel(path: str, parent: str) -> str:
    return path[len(parent) + 1 :] if parent and path.startswith(parent + ".") else path


def _wrap(parts: Sequence[str], width: int = 34, sep: str = " · ") -> list[str]:
    lines: list[str] = []
    for part in parts:
        if lines and len(lines[-1]) + len(sep) + len(part) <= width:
            lines[-1] += sep + part
        else:
            lines.append(part)
    return lines


def _contents(scope: _Scope) -> list[str]:
    """A container's items as words, repeats counted: ``ConvBNReLU6 ×2 → Conv2d``."""
    words: list[str] = []
    for item in scope.items:
        if isinstance(item, _Scope):
            words.append(_block_name(item) or "Sequential")
        else:
            words.append(item.torch_class or item.kind)
    out: list[list] = []
    for word in words:
        if out and out[-1][0] == word:
            out[-1][1] += 1
        else:
            out.append([word, 1])
    return [w if n == 1 else f"{w} ×{n}" for w, n in out]


def _table(fill: str, border: str, rows: Sequence[str], *, width: int = 0) -> str:
    extra = f' width="{width}"' if width else ""
    return (
        f'<<table border="1" cellborder="0" cellspacing="0" cellpadding="2" style="rounded" '
        f'bgcolor="{fill}" color="{border}"{extra}>' + "".join(rows) + "</table>>"
    )


def _header(name: str, count: int, right: str, border: str) -> str:
    mark = f' <font color="{border}"><b>×{count}</b></font>' if count > 1 else ""
    return (
        f'<tr><td align="left"><b>{html_text(name)}</b>{mark}</td><td width="6"></td>'
        f'<td align="right"><font color="#444444">{html_text(right)}</font></td></tr>'
    )


def _small(text: str, size: int = 10, color: str = "#222222") -> str:
    return (
        f'<tr><td colspan="3"><font point-size="{size}" color="{color}">'
        f"{html_text(text)}</font></td></tr>"
    )


def _graph_hyper(n: Node) -> str:
    """``k3 s1 p1`` and what :func:`format.hyper` leaves out: a transposed conv's output
    padding, LRN's constants, an upsample's factor and mode."""
    text = fmt.hyper(n)
    if n.output_padding not in (None, (0, 0)):
        text += f" op{fmt.square(n.output_padding)}"
    if n.lrn is not None:
        size, alpha, beta, k = n.lrn
        text = f"size {size} α={alpha:g} β={beta:g} k={k:g}"
    if n.kind == "upsample":
        how = f"×{n.scale:g}" if n.scale is not None else "to size"
        text = " ".join(w for w in (how, n.mode or "") if w)
    return text


def _shares_line(body: Sequence[str], params: str | None, last: bool = False) -> int | None:
    """The body line the params count fits after, if any: the first that has room
    (``last``: only the last line, after a list that reads in order)."""
    if params:
        for i in [len(body) - 1] if last else range(len(body)):
            if i >= 0 and len(body[i]) + 3 + len(params) <= 42:
                return i
    return None


def _word(n: Node) -> str:
    """How a rider is named in its host's label."""
    if n.kind == "flatten":
        return f"flatten → {fmt.shape(n.output_shape)}"
    if n.kind == "dropout":
        return f"Dropout p={n.p:g}" if n.p is not None else "Dropout"
    return n.torch_class or n.kind


class _Labels:
    """The labels of one built diagram, and the text lines each holds (for the estimate)."""

    def __init__(self, b: _Builder) -> None:
        self.b = b

    def copies(self, unit: _Unit) -> list[list[Node]]:
        """The unit's nodes in every copy it stands for (one list per copy)."""
        per = [self.b.variants.get(n.id, [n]) for n in unit.nodes]
        count = max((len(v) for v in per), default=1)
        return [[v[k] if k < len(v) else v[0] for v in per] for k in range(count)]

    def lines(self, unit: _Unit, parent: str) -> tuple[str, int, list[str], str | None]:
        """(header name, copies, body lines, params text) of a layer or block unit."""
        if unit.kind == "block":
            assert unit.title is not None
            count = len(unit.instances)
            first = unit.instances[0]
            if first.args:
                body = _wrap([f"{k} {v}" for k, v in first.args])
            else:  # a container: what it holds, in order (one kind: in the header)
                assert unit.folded is not None
                contents = _contents(unit.folded)
                body = [] if len(contents) == 1 else _wrap(contents, sep=" → ")
            total = sum(g.params for g in unit.instances)
            params = f"{fmt.count(total)} params" if total else None
            return _rel(unit.title, parent), count, body, params
        copies = self.copies(unit)
        lead = unit.nodes[0]
        leads = [c[0] for c in copies]
        parts = []
        if lead.in_maps is not None and lead.out_maps is not None:
            ins = _plain_range([n.in_maps or 0 for n in leads])
            parts.append(f"{ins}→{_plain_range([n.out_maps or 0 for n in leads])}")
        hyper = _graph_hyper(lead)
        if hyper:
            parts.append(hyper)
        body = [" · ".join(parts)] if parts else []
        riders = unit.nodes if unit.title else unit.nodes[1:]
        if riders:
            words = [_word(n) for n in riders]
            body.append(("" if unit.title else "+ ") + " · ".join(words))
        counts = [sum(n.params for n in c) for c in copies]
        params = f"{_range(counts)} params" if any(counts) else None
        name = _rel(unit.title, parent) if unit.title else lead.name
        return name, 1, body, params

    def right(self, unit: _Unit) -> str:
        if unit.kind == "block" and unit.folded and not unit.instances[0].args:
            contents = _contents(unit.folded)
            if len(contents) == 1:  # a container of one kind: "Bottleneck × 36"
                return contents[0].replace(" ×", " × ")
        if unit.title:
            return unit.block or ""
        lead = unit.nodes[0]
        return lead.torch_class or lead.kind

    def colours(self, unit: _Unit) -> tuple[str, str, str]:
        fam = "block" if unit.kind == "block" else family(unit.nodes[0].kind)
        _, fill, border = FAMILIES[fam]
        return fam, fill, border

    def node(self, unit: _Unit, parent: str) -> tuple[str, dict[str, str]]:
        """The label and attributes of a drawn node."""
        if unit.kind == "io":
            assert unit.io is not None
            return io_label(*unit.io), {}
        if unit.kind == "merge":
            n = unit.nodes[0]
            if len(unit.nodes) > 1:  # an activation rides on it: "+ → ReLU"
                _, fill, border = FAMILIES["activation"]
                word = "+" if n.kind == "add" else "concat"
                riders = " → ".join(r.torch_class for r in unit.nodes[1:])
                return f"<<b>{word}</b> → {html_text(riders)}>", {
                    "shape": "box",
                    "style": "rounded,filled",
                    "height": "0.25",
                    "margin": "0.06,0.02",
                    "fontsize": "10",
                    "fillcolor": fill,
                    "color": border,
                    "tooltip": plain_text(" → ".join(r.id for r in unit.nodes)),
                }
            if n.kind == "add":
                return "+", {
                    "shape": "circle",
                    "width": "0.3",
                    "fixedsize": "true",
                    "fontsize": "14",
                    "style": "filled",
                    "fillcolor": MERGE_FILL,
                    "color": MERGE_BORDER,
                    "tooltip": plain_text(n.id),
                }
            word = "concat" + (" (crop)" if n.crop else "")
            return word, {
                "shape": "box",
                "style": "rounded,filled",
                "height": "0.25",
                "margin": "0.06,0.02",
                "fontsize": "10",
                "fillcolor": MERGE_FILL,
                "color": MERGE_BORDER,
                "tooltip": plain_text(n.id),
            }
        _, fill, border = self.colours(unit)
        name, count, body, params = self.lines(unit, parent)
        rows = [_header(name, count, self.right(unit), border)]
        shared = _shares_line(body, params, last=unit.kind == "block")
        for i, line in enumerate(body):
            text = f'<font point-size="10" color="#222222">{html_text(line)}</font>'
            if i == shared:
                text += f' <font point-size="9" color="#555555">· {html_text(params or "")}</font>'
            rows.append(f'<tr><td colspan="3">{text}</td></tr>')
        if params and shared is None:
            rows.append(_small(params, 9, "#555555"))
        return _table(fill, border, rows), {}

    def size(self, unit: _Unit, parent: str) -> tuple[float, float]:
        """Estimated (width, height) in points of a drawn node."""
        if unit.kind == "io":
            return 90.0, 40.0
        if unit.kind == "merge":
            return (
                (22.0, 22.0)
                if len(unit.nodes) == 1 and unit.nodes[0].kind == "add"
                else (60.0, 18.0)
            )
        name, count, body, params = self.lines(unit, parent)
        head = len(name) + len(self.right(unit)) + (4 if count > 1 else 0) + 2
        shared = _shares_line(body, params, last=unit.kind == "block")
        if shared is not None:
            body = [f"{line} · {params}" if i == shared else line for i, line in enumerate(body)]
        elif params:
            body = [*body, params]
        chars = max([head] + [len(line) for line in body])
        return 16 + 6.1 * chars, 10 + 15.0 * (1 + len(body))


# --------------------------------------------------------------------------- graph layout


def _topological(units: Sequence[_Unit], edges: Sequence[tuple[_Unit, _Unit, list]]) -> list[_Unit]:
    """The units, tails before heads; otherwise in the order they were made."""
    index = {u.name: k for k, u in enumerate(units)}
    succ: dict[str, list[str]] = {u.name: [] for u in units}
    waiting = {u.name: 0 for u in units}
    for tail, head, _ in edges:
        succ[tail.name].append(head.name)
        waiting[head.name] += 1
    ready = [k for k, u in enumerate(units) if not waiting[u.name]]
    heapq.heapify(ready)
    out: list[_Unit] = []
    while ready:
        unit = units[heapq.heappop(ready)]
        out.append(unit)
        for s in succ[unit.name]:
            waiting[s] -= 1
            if not waiting[s]:
                heapq.heappush(ready, index[s])
    assert len(out) == len(units), "the drawn graph has a cycle"
    return out


def _skips(
    units: Sequence[_Unit], edges: Sequence[tuple[_Unit, _Unit, list]]
) -> set[tuple[str, str]]:
    """Edges t → h where h is also reached from t along another path: the shortcuts.

    A search from t's other successors goes no further than h's place in a
    topological order, so a local shortcut costs a local search."""
    order = {u.name: k for k, u in enumerate(_topological(units, edges))}
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


def _spine(
    units: Sequence[_Unit], edges: Sequence[tuple[_Unit, _Unit, list]], end: str
) -> set[str]:
    """The longest path from the input to the output (the first one, on a tie): drawn
    straight, so that branches and shortcuts run beside it."""
    preds: dict[str, list[str]] = {u.name: [] for u in units}
    for tail, head, _ in edges:
        preds[head.name].append(tail.name)
    length: dict[str, int] = {}
    best: dict[str, str | None] = {}
    for u in _topological(units, edges):
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
    items: Sequence[_Cluster | _Unit], above: tuple[int, ...], out: dict[str, tuple[int, ...]]
) -> None:
    for item in items:
        if isinstance(item, _Unit):
            out[item.name] = above
        else:
            _chains(item.items, (*above, id(item)), out)


def _parents(items: Sequence[_Cluster | _Unit], parent: str, out: dict[str, str]) -> None:
    for item in items:
        if isinstance(item, _Unit):
            out[item.name] = parent
        else:
            _parents(item.items, item.scope.path, out)


#: The height estimate, fitted to what Graphviz 2.43 draws for the ResNets,
#: GoogLeNets, DenseNets and SqueezeNets of specs/ at every fold level (within about
#: 120 pt; MobileNetV2's is about 10 % high): the title and margins, a factor on the
#: labels' heights, the gap between ranks, each cluster boundary crossed; and the gap
#: between two nodes side by side.
_TOP, _NODE_SCALE, _RANK_GAP, _CLUSTER, _NODE_GAP = 86.0, 1.12, 9.3, 30.0, 18.0
#: Legend entries per row.
_LEGEND_ROW = 5


def _estimate(
    b: _Builder, labels: _Labels, edges: Sequence[tuple[_Unit, _Unit, list]], legend: float
) -> tuple[float, float]:
    """The diagram's (width, height) in points, estimated from the drawn graph."""
    chains: dict[str, tuple[int, ...]] = {}
    _chains(b.root, (), chains)
    parents: dict[str, str] = {}
    _parents(b.root, "", parents)
    chains[b.input.name] = chains[b.output.name] = ()
    parents[b.input.name] = parents[b.output.name] = ""
    preds: dict[str, list[str]] = {u.name: [] for u in b.units}
    for tail, head, _ in edges:
        preds[head.name].append(tail.name)
    top: dict[str, float] = {}
    rank: dict[str, int] = {}
    sizes = {u.name: labels.size(u, parents[u.name]) for u in b.units}
    height = 0.0
    for u in _topological(b.units, edges):
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
    for u in b.units:
        widths[rank[u.name]] = widths.get(rank[u.name], 0.0) + sizes[u.name][0] + _NODE_GAP
    width = max(widths.values(), default=0.0) + 40
    return round(max(width, legend + 150)), round(height)


def _families(b: _Builder, labels: _Labels) -> list[str]:
    """The colour families the diagram uses, in order of first use."""
    out: list[str] = []
    for u in b.units:
        if u.kind in ("layer", "block"):
            fam = labels.colours(u)[0]
            if fam not in out:
                out.append(fam)
    return out


def _graph_cluster_attrs(label: str, folded: bool) -> dict[str, str]:
    attrs = {
        "label": plain_text(label),
        "labeljust": "l",
        "style": "rounded,filled",
        "fillcolor": CLUSTER_FILL,
        "color": CLUSTER_BORDER,
        "fontsize": "10",
        "fontcolor": "#333333",
        "margin": "6",
    }
    if folded:
        attrs.update(fillcolor="#eef0fa", color=FAMILIES["block"][2], penwidth="2")
    return attrs


def _legend_entries(families: Sequence[str], skips: bool) -> list[tuple[str, str]]:
    """(swatch cell, text) per legend entry."""
    out = []
    for fam in families:
        text, fill, border = FAMILIES[fam]
        out.append(
            (f'<td bgcolor="{fill}" color="{border}" border="1" width="14" height="14"></td>', text)
        )
    if skips:
        out.append((f'<td><font color="{SKIP_COLOR}"><b>——</b></font></td>', "shortcut"))
    return out


def _legend_width(entries: Sequence[tuple[str, str]]) -> float:
    rows = [entries[i : i + _LEGEND_ROW] for i in range(0, len(entries), _LEGEND_ROW)]
    return max((sum(34 + 5.6 * len(text) for _, text in row) for row in rows), default=0.0)


def _graph_legend(entries: Sequence[tuple[str, str]]) -> str:
    rows = []
    for i in range(0, len(entries), _LEGEND_ROW):
        cells = "".join(
            f'{swatch}<td align="left"><font point-size="10">{html_text(text)}</font></td>'
            for swatch, text in entries[i : i + _LEGEND_ROW]
        )
        rows.append(f"<tr>{cells}</tr>")
    return (
        '<<table border="0" cellborder="0" cellspacing="4" cellpadding="2">'
        + "".join(rows)
        + "</table>>"
    )


def _emit(net: Network, b: _Builder, labels: _Labels, edges, skips) -> graphviz.Digraph:
    g = graphviz.Digraph(
        name=_graph_name(net),
        comment="Generated by cnnspec. Do not edit.",
        graph_attr={
            "rankdir": "TB",
            "label": title_label(net),
            "labelloc": "t",
            "labeljust": "c",
            "fontname": FONT,
            "nodesep": "0.25",
            "ranksep": "0.2",
            "newrank": "true",
            "ordering": "out",
            "bgcolor": "white",
            "pad": "0.3",
        },
        node_attr={"shape": "plain", "fontname": FONT, "fontsize": "11"},
        edge_attr={
            "fontname": FONT,
            "fontsize": "9",
            "color": EDGE_COLOR,
            "fontcolor": EDGE_FONT_COLOR,
            "arrowsize": "0.6",
        },
    )
    clusters = itertools.count()
    spine = _spine(b.units, edges, b.output.name)

    def node(ctx: graphviz.Digraph, unit: _Unit, parent: str) -> None:
        label, attrs = labels.node(unit, parent)
        if unit.name in spine:
            attrs = {**attrs, "group": "spine"}
        ctx.node(unit.name, label, **attrs)

    def emit(ctx: graphviz.Digraph, items: Sequence[_Cluster | _Unit], parent: str) -> None:
        for item in items:
            if isinstance(item, _Unit):
                node(ctx, item, parent)
                continue
            with ctx.subgraph(
                name=f"cluster_{next(clusters)}",
                graph_attr=_graph_cluster_attrs(item.label, item.folded),
            ) as sub:
                emit(sub, item.items, item.scope.path)

    node(g, b.input, "")
    emit(g, b.root, "")
    node(g, b.output, "")
    with g.subgraph(name="cluster_legend") as legend:
        legend.attr(label="", style="rounded", color="#cccccc", margin="4")
        legend.node("legend", _graph_legend(_legend_entries(_families(b, labels), bool(skips))))
    levels = _u_levels(edges)  # DOT ids: skip source → crop concat
    for tail_name, head_name in levels.items():
        with g.subgraph() as level:  # the decoder's level beside the encoder's
            level.attr(rank="same")
            level.node(tail_name)
            level.node(head_name)
    for tail, head, shapes in edges:
        attrs = {"label": plain_text(f" {_shapes_text(shapes)} ")}
        if (tail.name, head.name) in skips:
            attrs.update(color=SKIP_COLOR, fontcolor=SKIP_COLOR, penwidth="1.4")
        else:
            attrs["weight"] = "4"
        if head.name in levels.values() and levels.get(tail.name) != head.name:
            attrs["constraint"] = "false"  # the way back up the U
        g.edge(tail.name, head.name, **attrs)
    return g


def _u_levels(edges) -> dict[str, str]:
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


def _layout(graph: _Graph, fold: bool, depth: int | None):
    """One fold level built: (builder, labels, edges, estimated size)."""
    b = _Builder(graph, fold, depth)
    labels = _Labels(b)
    edges = b.edges()
    legend = _legend_width(_legend_entries(_families(b, labels), bool(_skips(b.units, edges))))
    return b, labels, edges, _estimate(b, labels, edges, legend)


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
    graph = _Graph(net)
    deepest = _max_depth(graph.tree)
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
        b, labels, edges, estimate = _layout(graph, fold, limit)
        if max(estimate) <= PAGE:
            break
    skips = _skips(b.units, edges)
    digraph = _emit(net, b, labels, edges, skips)
    drawn = {INPUT: b.input.name, "output": b.output.name}
    for n in net.nodes:
        drawn[n.id] = b.drawn(n.id).name
    return GraphPlan(digraph, drawn, tuple(b.runs), limit, fold, estimate)


# --------------------------------------------------------------------------- images


#: The comment Graphviz writes into every SVG, naming its version (and build date).
_GRAPHVIZ_COMMENT = re.compile(rb"<!-- Generated by graphviz version [^>]*?-->\n?")
#: The comment cnnspec writes instead: the digest of the DOT text the SVG was drawn from.
_STAMP = re.compile(rb"<!-- cnnspec: drawn from DOT text with sha256 ([0-9a-f]{64}) -->")


def dot_digest(dot_text: str) -> str:
    return hashlib.sha256(dot_text.encode()).hexdigest()


def stamp_svg(svg: bytes, dot_text: str) -> bytes:
    """``svg`` with Graphviz's version comment replaced by the digest of ``dot_text``.

    The SVG then names what it was drawn from, not which Graphviz drew it: two
    machines with different Graphviz versions agree on whether it is current
    (:func:`svg_is_current`)."""
    stamp = f"<!-- cnnspec: drawn from DOT text with sha256 {dot_digest(dot_text)} -->\n"
    out, found = _GRAPHVIZ_COMMENT.subn(stamp.encode(), svg, count=1)
    if not found:
        at = svg.find(b"<svg")
        out = svg[:at] + stamp.encode() + svg[at:] if at >= 0 else svg
    return out


def svg_is_current(svg: bytes | None, dot_text: str) -> bool:
    """Whether ``svg`` was drawn from ``dot_text`` (by any Graphviz version)."""
    if not svg:
        return False
    found = _STAMP.search(svg[:4096])
    return found is not None and found.group(1).decode() == dot_digest(dot_text)


class RenderError(OSError):
    """Graphviz's ``dot`` is installed but failed to render a diagram."""


def render_image(dot_text: str, fmt: str = "svg") -> bytes | None:
    """Render DOT text with Graphviz's ``dot``: the image bytes, or None when ``dot``
    is not installed (the caller warns). An SVG carries the digest of ``dot_text``
    instead of Graphviz's version (:func:`stamp_svg`)."""
    exe = shutil.which("dot")
    if exe is None:
        return None
    try:
        done = subprocess.run(
            [exe, f"-T{fmt}"], input=dot_text.encode(), capture_output=True, timeout=60
        )
    except subprocess.TimeoutExpired:
        raise RenderError(f"dot -T{fmt} took longer than 60 s") from None
    if done.returncode != 0:
        message = done.stderr.decode(errors="replace").strip()
        raise RenderError(f"dot -T{fmt} failed: {message}")
    return stamp_svg(done.stdout, dot_text) if fmt == "svg" else done.stdout
