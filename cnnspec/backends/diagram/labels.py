"""The text of the drawing: the title and the input/output labels (both renderers),
and a graph's node, cluster and edge labels with the text lines each holds (the size
estimate reads them)."""

from __future__ import annotations

from collections.abc import Sequence

from ...ir import Network, Node
from ...kinds import FLATTENS, KINDS
from .. import format as fmt
from .drawing import Cluster, Drawing, Unit
from .style import (
    FAMILIES,
    IO_BORDER,
    IO_FILL,
    MERGE_BORDER,
    MERGE_FILL,
    family,
    html_text,
    plain_text,
)
from .tree import Scope, block_name


def io_label(word: str, shape: tuple[int, ...], note: str = "") -> str:
    extra = f"<tr><td>{html_text(note)}</td></tr>" if note else ""
    return (
        f'<<table border="1" cellborder="0" cellspacing="0" cellpadding="3" style="rounded" '
        f'bgcolor="{IO_FILL}" color="{IO_BORDER}"><tr><td><b>{html_text(word)}</b></td></tr>'
        f"<tr><td>{html_text(fmt.shape(shape))}</td></tr>{extra}</table>>"
    )


def title_label(net: Network) -> str:
    title = html_text(net.title or net.name)
    stats = html_text(
        f"{fmt.count(net.params)} params · {fmt.short(net.macs)} MACs · "
        f"{fmt.shape(net.input_shape)} → "
        + (f"{len(net.outputs)} outputs" if net.outputs else fmt.shape(net.output_shape))
    )
    return (
        f'<<font point-size="20"><b>{title}</b></font><br/>'
        f'<font point-size="11" color="#555555">{stats}</font>>'
    )


# --------------------------------------------------------------------------- graph clusters


def _short_count(n: int) -> str:
    return fmt.count(n) if n < 10_000 else fmt.short(n)


def cluster_label(cluster: Cluster) -> str:
    """``layer3.1 … 35 · Bottleneck × 35 · 39.4 M params``."""
    text = cluster.title
    if cluster.block:
        text += f" · {cluster.block}"
    if cluster.count > 1:
        text += f" × {cluster.count}"
    if cluster.params:
        text += f" · {_short_count(cluster.params)} params"
    return text


# --------------------------------------------------------------------------- ranges


def _range(values: Sequence[int]) -> str:
    lo, hi = min(values), max(values)
    return fmt.count(lo) if lo == hi else f"{fmt.count(lo)}…{fmt.count(hi)}"


def shapes_text(shapes: Sequence[tuple[int, ...]]) -> str:
    """An edge's label: one shape, or each dimension's range: ``96…256×56×56``."""
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


def _contents(scope: Scope) -> list[str]:
    """A container's items as words, repeats counted: ``ConvBNReLU6 ×2 → Conv2d``."""
    words: list[str] = []
    for item in scope.items:
        if isinstance(item, Scope):
            words.append(block_name(item) or "Sequential")
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
    if n.mode is not None:  # a resize: its factor (or "to size") and its mode
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
    if n.kind in FLATTENS:
        return f"{n.kind} → {fmt.shape(n.output_shape)}"
    word = n.torch_class or n.kind
    return f"{word} p={n.p:g}" if n.p is not None else word


def _merge_label(unit: Unit) -> tuple[str, dict[str, str]]:
    """A merge's label and attributes: a small "+" or "concat" node (with the
    activation that rides on it)."""
    n = unit.nodes[0]
    if len(unit.nodes) > 1:  # an activation rides on it: "+ → ReLU"
        _, fill, border = FAMILIES[family(unit.nodes[1].kind)]
        word = html_text(KINDS[n.kind].label)
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
    if KINDS[n.kind].combines:  # its symbol in a small circle
        return plain_text(KINDS[n.kind].label), {
            "shape": "circle",
            "width": "0.3",
            "fixedsize": "true",
            "fontsize": "14",
            "style": "filled",
            "fillcolor": MERGE_FILL,
            "color": MERGE_BORDER,
            "tooltip": plain_text(n.id),
        }
    word = KINDS[n.kind].label + (" (crop)" if n.crop else "")
    return plain_text(word), {
        "shape": "box",
        "style": "rounded,filled",
        "height": "0.25",
        "margin": "0.06,0.02",
        "fontsize": "10",
        "fillcolor": MERGE_FILL,
        "color": MERGE_BORDER,
        "tooltip": plain_text(n.id),
    }


class Labels:
    """The labels of one built diagram, and the text lines each holds (for the estimate)."""

    def __init__(self, drawing: Drawing) -> None:
        self.drawing = drawing

    def copies(self, unit: Unit) -> list[list[Node]]:
        """The unit's nodes in every copy it stands for (one list per copy)."""
        per = [self.drawing.variants.get(n.id, [n]) for n in unit.nodes]
        count = max((len(v) for v in per), default=1)
        return [[v[k] if k < len(v) else v[0] for v in per] for k in range(count)]

    def lines(self, unit: Unit, parent: str) -> tuple[str, int, list[str], str | None]:
        """(header name, copies, body lines, params text) of a layer or block unit."""
        if unit.role == "block":
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

    def right(self, unit: Unit) -> str:
        if unit.role == "block" and unit.folded and not unit.instances[0].args:
            contents = _contents(unit.folded)
            if len(contents) == 1:  # a container of one kind: "Bottleneck × 36"
                return contents[0].replace(" ×", " × ")
        if unit.title:
            return unit.block or ""
        lead = unit.nodes[0]
        return lead.torch_class or lead.kind

    def colours(self, unit: Unit) -> tuple[str, str, str]:
        fam = "block" if unit.role == "block" else family(unit.nodes[0].kind)
        _, fill, border = FAMILIES[fam]
        return fam, fill, border

    def node(self, unit: Unit, parent: str) -> tuple[str, dict[str, str]]:
        """The label and attributes of a drawn node."""
        if unit.role == "io":
            assert unit.io is not None
            return io_label(*unit.io, unit.io_note), {}
        if unit.role == "merge":
            return _merge_label(unit)
        _, fill, border = self.colours(unit)
        name, count, body, params = self.lines(unit, parent)
        rows = [_header(name, count, self.right(unit), border)]
        shared = _shares_line(body, params, last=unit.role == "block")
        for i, line in enumerate(body):
            text = f'<font point-size="10" color="#222222">{html_text(line)}</font>'
            if i == shared:
                text += f' <font point-size="9" color="#555555">· {html_text(params or "")}</font>'
            rows.append(f'<tr><td colspan="3">{text}</td></tr>')
        if params and shared is None:
            rows.append(_small(params, 9, "#555555"))
        return _table(fill, border, rows), {}

    def size(self, unit: Unit, parent: str) -> tuple[float, float]:
        """Estimated (width, height) in points of a drawn node."""
        if unit.role == "io":
            return 90.0, 40.0
        if unit.role == "merge":
            return (
                (22.0, 22.0)
                if len(unit.nodes) == 1 and KINDS[unit.nodes[0].kind].combines
                else (60.0, 18.0)
            )
        name, count, body, params = self.lines(unit, parent)
        head = len(name) + len(self.right(unit)) + (4 if count > 1 else 0) + 2
        shared = _shares_line(body, params, last=unit.role == "block")
        if shared is not None:
            body = [f"{line} · {params}" if i == shared else line for i, line in enumerate(body)]
        elif params:
            body = [*body, params]
        chars = max([head] + [len(line) for line in body])
        return 16 + 6.1 * chars, 10 + 15.0 * (1 + len(body))
