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

import html
import itertools
import re
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import graphviz

from ..ir import ACTIVATION_KINDS, Network, Node, Row
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
}
IO_FILL, IO_BORDER = "#ffffff", "#444444"
CLUSTER_FILL, CLUSTER_BORDER = "#f8f9fb", "#9aa4b1"
EDGE_COLOR, EDGE_FONT_COLOR = "#555555", "#333333"


def family(kind: str) -> str:
    """The colour family of a layer kind (see :data:`FAMILIES`)."""
    if kind in ACTIVATION_KINDS:
        return "activation"
    if kind.startswith("adaptive_"):
        return "adaptive"
    return kind


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
    features = [r for r in rows if r.node.section == "features"]
    classifier = [r for r in rows if r.node.section == "classifier"]
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


def render_diagram(net: Network, *, collapse: bool = False) -> graphviz.Digraph:
    """The architecture diagram of ``net`` as a ``graphviz.Digraph``.

    ``collapse`` folds each run of identical rows (as written: same layer, sizes and
    activation) into one node marked ``×N``."""
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
                            if net.flatten_from:
                                prev_shape = (
                                    f"{fmt.shape(net.flatten_from)} → {net.flatten_features}"
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


def render_dot(net: Network, *, collapse: bool = False) -> str:
    """The deterministic DOT text of the diagram (what ``<stem>.dot`` holds)."""
    return render_diagram(net, collapse=collapse).source


# --------------------------------------------------------------------------- images


class RenderError(OSError):
    """Graphviz's ``dot`` is installed but failed to render a diagram."""


def render_image(dot_text: str, fmt: str = "svg") -> bytes | None:
    """Render DOT text with Graphviz's ``dot``: the image bytes, or None when ``dot``
    is not installed (the caller warns)."""
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
    return done.stdout
