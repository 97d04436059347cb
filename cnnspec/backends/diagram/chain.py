"""The diagram of a chain (layout ``sequential`` or ``flat``).

Top to bottom, like a textbook figure: the title, the input, one cluster per
VGG-style stage (convolutions closed by a pool), the classifier, the output. Inside a
cluster the rows run left to right and wrap after :data:`LINE_WIDTH` nodes, so a deep
network grows down the page instead of into a long strip.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Literal

import graphviz

from ...ir import Network, Node, Row
from ...kinds import KINDS, STAGE_ENDS
from .. import format as fmt
from .emit import add_legend, digraph, legend_entries, legend_label, subgraph
from .labels import io_label
from .style import FAMILIES, cluster_style, family, html_text, plain_text

#: How many nodes fit side by side in one line of a cluster (a lone activation counts ½).
LINE_WIDTH = 6

# --------------------------------------------------------------------------- stages


@dataclass(frozen=True)
class Box:
    """One drawn layer node: a written row, or (with ``collapse``) a run of identical rows."""

    rows: tuple[Row, ...]

    @property
    def first(self) -> Node:
        return self.rows[0].node

    @property
    def output_shape(self) -> tuple[int, ...]:
        return self.rows[-1].output_shape


@dataclass(frozen=True)
class Stage:
    """Boxes drawn together: a VGG-style stage or the classifier (a cluster), or loose rows."""

    role: Literal["stage", "classifier", "loose"]
    rows: tuple[Row, ...]
    number: int = 0  # a stage's block number, 1-based


def weight_layer(node: Node) -> bool:
    """A textbook's weight layer (VGG counts convolutions and fully connected layers):
    a kind whose record has a weight rule (the weights a paper prints)."""
    return KINDS[node.kind].weights is not None


def convolution(node: Node) -> bool:
    """A convolution as a stage counts it: a spatial weight layer."""
    return weight_layer(node) and KINDS[node.kind].spatial


def stages(net: Network) -> list[Stage]:
    """Split the rows into VGG-style stages, loose feature rows and the classifier.

    A stage is every feature row since the previous boundary, closed by a kind that
    ends a stage (a max or average pool), holding at least one convolution."""
    rows = list(net.rows())
    before = {n.id for n in net.features}
    features = [r for r in rows if r.node.id in before]
    classifier = [r for r in rows if r.node.id not in before]
    out: list[Stage] = []
    pending: list[Row] = []
    convs = False  # whether pending holds a convolution
    number = 0
    for row in features:
        pending.append(row)
        convs = convs or convolution(row.node)
        if row.node.kind in STAGE_ENDS and convs:
            number += 1
            out.append(Stage("stage", tuple(pending), number))
            pending, convs = [], False
    if pending:
        out.append(Stage("loose", tuple(pending)))
    if classifier:
        out.append(Stage("classifier", tuple(classifier)))
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


def boxes(rows: Sequence[Row], collapse: bool) -> list[Box]:
    """The nodes drawn for ``rows``: one per row, or one per run of identical rows."""
    out: list[Box] = []
    for row in rows:
        if collapse and out and _identity(out[-1].rows[-1]) == _identity(row):
            out[-1] = Box((*out[-1].rows, row))
        else:
            out.append(Box((row,)))
    return out


def _weight(box: Box) -> float:
    """How wide a node counts for line wrapping: a lone activation is narrow."""
    return 0.5 if box.first.is_activation else 1.0


def _lines(seq: Sequence[Box], width: float = LINE_WIDTH) -> list[list[Box]]:
    """Wrap a stage's boxes into lines of at most ``width`` (see :func:`_weight`).

    A line breaks before a convolution or fully connected layer where it can, so a
    conv keeps its batch norm and activation beside it, and a pool closes the line
    of the last convolution."""
    units: list[list[Box]] = []
    for box in seq:
        starts = weight_layer(box.first)
        if units and not starts:
            units[-1].append(box)
        else:
            units.append([box])
    lines: list[list[Box]] = []
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


def conv_word(node: Node) -> str:
    """VGG's notation for a convolution: ``conv3-256`` (kernel, maps)."""
    return f"conv{fmt.square(node.kernel)}-{node.out_maps}"


def stage_label(number: int, rows: Sequence[Row]) -> str:
    """``block 3 · 3× conv3-256``: the stage's convolutions, runs counted."""
    words = [conv_word(r.node) for r in rows if convolution(r.node)]
    runs: list[list] = []
    for word in words:
        if runs and runs[-1][0] == word:
            runs[-1][1] += 1
        else:
            runs.append([word, 1])
    text = ", ".join(word if n == 1 else f"{n}× {word}" for word, n in runs)
    return f"block {number} · {text}"


def _params_text(box: Box) -> str:
    """``1,792 params``; a folded run lists its rows' counts: ``295,168 + 2×590,080``."""
    runs: list[list[int]] = []
    for row in box.rows:
        if runs and runs[-1][0] == row.params:
            runs[-1][1] += 1
        else:
            runs.append([row.params, 1])
    parts = [fmt.count(p) if n == 1 else f"{n}×{fmt.count(p)}" for p, n in runs]
    return " + ".join(parts) + " params"


def _hyper_text(box: Box) -> str:
    node = box.first
    parts = []
    folded_convs = convolution(node) and len(box.rows) > 1  # their input maps differ
    if weight_layer(node) and not folded_convs:
        parts.append(f"{node.in_maps}→{node.out_maps}")
    hyper = fmt.hyper(node)
    if hyper:
        parts.append(hyper)
    act = box.rows[0].activation
    if act is not None:
        parts.append(fmt.activation_label(act.kind))
    return " · ".join(parts)


def box_label(box: Box) -> str:
    """The HTML-like table label of one layer node."""
    node = box.first
    _, fill, border = FAMILIES[family(node.kind)]
    name = html_text(node.name)
    if len(box.rows) > 1:
        name = f"{name} … {html_text(box.rows[-1].node.name)}"
    kind = html_text(node.torch_class)
    count = f' <font color="{border}"><b>×{len(box.rows)}</b></font>' if len(box.rows) > 1 else ""
    cells = [
        f'<tr><td align="left"><b>{name}</b>{count}</td><td width="6"></td>'
        f'<td align="right"><font color="#444444">{kind}</font></td></tr>'
    ]
    hyper = _hyper_text(box)
    if hyper:
        cells.append(
            f'<tr><td colspan="3"><font point-size="10">{html_text(hyper)}</font></td></tr>'
        )
    cells.append(f'<tr><td colspan="3"><b>{html_text(fmt.shape(box.output_shape))}</b></td></tr>')
    if any(r.params for r in box.rows):
        cells.append(
            f'<tr><td colspan="3"><font point-size="9" color="#555555">'
            f"{html_text(_params_text(box))}</font></td></tr>"
        )
    table = (
        f'<table border="1" cellborder="0" cellspacing="0" cellpadding="3" style="rounded" '
        f'bgcolor="{fill}" color="{border}">' + "".join(cells) + "</table>"
    )
    return f"<{table}>"


# --------------------------------------------------------------------------- the drawing


class _Wiring:
    """The chain's edges, in order (they are written after the nodes).

    A line's first node hangs below the previous line's first node (an invisible,
    heavy edge keeps the left edge straight); the edge that really joins the lines
    then pulls on nothing."""

    def __init__(self, first: str, shape: str) -> None:
        self.first = self.prev = first  # the current line's first node; the last node
        self.prev_shape = shape  # the edge label out of the last node
        self.edges: list[tuple[str, str, dict[str, str]]] = []

    def edge(self, tail: str, head: str, label: str, **attrs: str) -> None:
        self.edges.append((tail, head, {"label": plain_text(f" {label} "), **attrs}))

    def join(self, node_id: str, starts_line: bool, shape: str) -> None:
        """The edge into ``node_id`` (whose output has ``shape``), now the last node."""
        if starts_line:
            if self.prev != self.first:
                self.edges.append((self.first, node_id, {"style": "invis", "weight": "50"}))
                self.edge(self.prev, node_id, self.prev_shape, weight="0")
            else:
                self.edge(self.prev, node_id, self.prev_shape, weight="50")
            self.first = node_id
        else:
            self.edge(self.prev, node_id, self.prev_shape)
        self.prev, self.prev_shape = node_id, shape


def render_chain(net: Network, *, collapse: bool = False) -> graphviz.Digraph:
    """The diagram of a chain; ``collapse`` folds each run of identical rows."""
    g = digraph(net, nodesep="0.35", ranksep="0.45", arrowsize="0.7")
    ids = (f"n{i}" for i in itertools.count())
    first = next(ids)
    g.node(first, io_label("input", net.input_shape))
    wiring = _Wiring(first, fmt.shape(net.input_shape))
    families: list[str] = []
    for number, stage in enumerate(stages(net)):
        drawn = boxes(stage.rows, collapse)
        for box in drawn:
            fam = family(box.first.kind)
            if fam not in families:
                families.append(fam)
        _draw_stage(g, net, number, stage, drawn, ids, wiring)
    out = next(ids)
    g.node(out, io_label("output", net.output_shape))
    wiring.edge(wiring.prev, out, wiring.prev_shape)
    add_legend(g, legend_label(legend_entries(families, skips=False), per_row=None))
    for tail, head, attrs in wiring.edges:
        g.edge(tail, head, **attrs)
    return g


def _draw_stage(
    g: graphviz.Digraph,
    net: Network,
    number: int,
    stage: Stage,
    drawn: Sequence[Box],
    ids: Iterator[str],
    wiring: _Wiring,
) -> None:
    """One stage's boxes, line by line, in its cluster (loose rows: in no cluster)."""
    if stage.role == "loose":
        ctx = subgraph(g, f"loose_{number}")
    else:
        label = stage_label(stage.number, stage.rows) if stage.role == "stage" else "classifier"
        style = cluster_style(label, labeljust="r", fontsize="11", margin="10")
        ctx = subgraph(g, f"cluster_{number}", style)
    with ctx as sub:
        for line_no, line in enumerate(_lines(drawn)):
            with subgraph(sub, f"line_{number}_{line_no}") as rank:
                rank.attr(rank="same")
                for col, box in enumerate(line):
                    node_id = next(ids)
                    rank.node(node_id, box_label(box))
                    flat = net.flatten if stage.role == "classifier" and box is drawn[0] else None
                    if flat is not None:  # the first classifier row: the flatten's shapes
                        wiring.prev_shape = (
                            f"{fmt.shape(flat.input_shape)} → {fmt.shape(flat.output_shape)}"
                        )
                    wiring.join(node_id, col == 0, fmt.shape(box.output_shape))
