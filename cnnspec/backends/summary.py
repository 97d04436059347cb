"""Summaries of a checked network: text (like torchsummary), markdown (the book's
table form) and JSON (for tools). Every number is read off the IR."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from ..ir import Group, Network, Node
from ..kinds import FLATTENS
from . import format as fmt


def summary_json(net: Network) -> dict:
    """The summary as data. A graph network's entries also carry ``id`` (what
    ``inputs`` name) and ``scope`` (the path of the block or container holding the
    node), and a ``groups`` list gives every block instance and container with its
    subtotals. A chain's summary keeps exactly its fields."""
    graph = net.layout == "graph"
    layers = []
    for node in net.nodes:
        entry: dict = {"index": node.index}
        if graph:  # names repeat across blocks: `inputs` refer to these ids
            entry["id"] = node.id
        entry |= {
            "name": node.name,
            "type": node.kind,
            "module": node.torch_class or None,
            "path": node.path,
            "inputs": list(node.inputs),
            "depth": node.depth,
        }
        if graph:
            entry["scope"] = node.scope
        entry |= {
            "input_shape": list(node.input_shape),
            "output_shape": list(node.output_shape),
        }
        if node.kernel is not None:
            entry["kernel"] = list(node.kernel)
            entry["stride"] = list(node.stride or ())
            entry["padding"] = list(node.padding or ())
            entry["padding_inferred"] = node.padding_inferred
            if node.padding_same:
                entry["padding_same"] = True
        if node.dilation not in (None, (1, 1)):
            entry["dilation"] = list(node.dilation)
        if node.groups != 1:
            entry["groups"] = node.groups
        if node.p is not None:
            entry["p"] = node.p
        entry["params"] = node.params
        entry["macs"] = node.macs
        if net.training_only(node):  # not run in eval: its MACs are not the network's
            entry["training_only"] = True
        layers.append(entry)
    data = {
        "name": net.name,
        "input_shape": list(net.input_shape),
        "output_shape": list(net.output_shape),
        "params": net.params,
        "macs": net.macs,
        "layers": layers,
    }
    if graph:
        data["groups"] = [_group_json(g) for g in net.groups]
    if net.training_outputs:
        data["training_outputs"] = list(net.training_outputs)
    if net.outputs:
        data["outputs"] = outputs_json(net)
        data["outputs_as"] = "dict" if net.outputs_dict else "tuple"
    return data


def _group_json(g: Group) -> dict:
    entry: dict = {
        "path": g.path,
        "name": g.name,
        "kind": g.kind,
        "block": g.block,
        "depth": g.depth,
        "input_shape": list(g.input_shape),
        "output_shape": list(g.output_shape),
        "params": g.params,
        "macs": g.macs,
    }
    if g.args:
        entry["args"] = dict(g.args)
    return entry


def render_json(net: Network) -> str:
    """One key per line, one layer per line: readable, and diffable, and still plain JSON."""
    data = summary_json(net)
    layers = data.pop("layers")
    groups = data.pop("groups", None)
    lines = [f"  {json.dumps(k)}: {json.dumps(v)}," for k, v in data.items()]
    body = ",\n".join(f"    {json.dumps(layer, ensure_ascii=False)}" for layer in layers)
    text = "{\n" + "\n".join(lines) + '\n  "layers": [\n' + body + "\n  ]"
    if groups is not None:
        listed = ",\n".join(f"    {json.dumps(g, ensure_ascii=False)}" for g in groups)
        text += ',\n  "groups": [' + ("\n" + listed + "\n  ]" if groups else "]")
    return text + "\n}\n"


def render_text(net: Network, depth: int | None = None) -> str:
    """The per-layer table. A graph network's is a tree (see :func:`render_graph_text`);
    ``depth`` folds it below that many levels (a chain has one level)."""
    if net.layout == "graph":
        return render_graph_text(net, depth)
    header = ("#", "Layer (type)", "Output shape", "Kernel", "Stride", "Padding", "Params", "MACs")
    rows = []
    for n in net.nodes:
        if n.kind in FLATTENS:
            flat = f"{fmt.shape(n.input_shape)} → {fmt.shape(n.output_shape)}"
            rows.append(("", n.kind, flat, "", "", "", "", ""))
            continue
        padding = fmt.padding(n, fmt.pair) + ("*" if n.padding_inferred else "")
        rows.append(
            (
                str(n.index),
                f"{n.name} ({n.torch_class})",
                fmt.shape(n.output_shape),
                fmt.pair(n.kernel),
                fmt.pair(n.stride),
                padding if n.padding is not None else "-",
                fmt.count(n.params),
                fmt.count(n.macs),
            )
        )
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    right = {0, 6, 7}

    def line(cells) -> str:
        return "  ".join(
            c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths))
        ).rstrip()

    rule = "-" * len(line(header))
    out = [f"{net.name}" + (f" — {net.title}" if net.title else ""), rule, line(header), rule]
    out.append(line(("", "input", fmt.shape(net.input_shape), "", "", "", "", "")))
    for r in rows:
        out.append(line(r))
    out.append(rule)
    out.append(f"Input: {fmt.shape(net.input_shape)}   Output: {fmt.shape(net.output_shape)}")
    out.append(f"Params: {fmt.count(net.params)}")
    out.append(f"MACs:   {fmt.count(net.macs)} ({fmt.short(net.macs)}, one image)")
    if any(n.padding_inferred for n in net.nodes):
        out.append("* padding inferred from the declared size")
    return "\n".join(out) + "\n"


def _markdown_head(net: Network) -> list[str]:
    """The title, the book's column heads and the image row, for both table forms."""
    head = [
        "Layer",
        "Type",
        "Feature maps",
        "Size",
        "Kernel size",
        "Stride",
        "Padding",
        "Activation",
        "Params",
    ]
    return [
        f"**{net.title or net.name}**",
        "",
        "| " + " | ".join(head) + " |",
        "|" + "|".join(["---"] * 2 + ["---:"] * 2 + ["---"] * 4 + ["---:"]) + "|",
        f"| image | input | {net.input_shape[0]} | {fmt.shape(net.input_shape[1:])} "
        "| - | - | - | - | - |",
    ]


def render_markdown(net: Network) -> str:
    """The book's table: layer type, feature maps, size, kernel size, stride, activation."""
    if net.layout == "graph":
        return render_graph_markdown(net)
    lines = _markdown_head(net)
    for row in net.rows():
        n = row.node
        spatial = len(n.output_shape) == 3
        maps = str(n.output_shape[0]) if spatial else "-"
        size = fmt.shape(n.output_shape[1:]) if spatial else str(n.output_shape[0])
        act = fmt.activation_label(row.activation.kind if row.activation else None)
        if n.is_activation:
            act = fmt.activation_label(n.kind)
        padding = "-"
        if n.padding is not None:
            padding = fmt.padding(n) + (" (inferred)" if n.padding_inferred else "")
        cells = [
            n.name,
            n.kind,
            maps,
            size,
            fmt.pair(n.kernel),
            fmt.square(n.stride),
            padding,
            act,
            fmt.count(row.params),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    lines += [
        "",
        f"Params: {fmt.count(net.params)} · MACs: {fmt.count(net.macs)} · "
        f"output: {fmt.shape(net.output_shape)}",
    ]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- graphs


@dataclass
class Item:
    """One row of a graph network's module tree: a group (block instance or
    container) with its children, or a node (a leaf: a module or an operation)."""

    level: int  # 0 for the network's own rows
    group: Group | None = None
    node: Node | None = None
    children: list[Item] = field(default_factory=list)

    @property
    def params(self) -> int:
        return self.group.params if self.group else self.node.params  # type: ignore[union-attr]

    @property
    def output_shape(self) -> tuple[int, ...]:
        return (self.group or self.node).output_shape  # type: ignore[union-attr]


def tree(net: Network) -> list[Item]:
    """The network's rows as a tree, in execution order: each group holds its nodes
    and inner groups, ordered by the first node they run."""
    order = {n.id: i for i, n in enumerate(net.nodes)}
    groups = {g.path: g for g in net.groups}

    def parent_of_group(path: str) -> str:
        parts = path.split(".")
        for cut in range(len(parts) - 1, 0, -1):
            above = ".".join(parts[:cut])
            if above in groups:
                return above
        return ""

    items: dict[str, Item] = {"": Item(level=-1)}
    for g in net.groups:  # outer before inner
        items[g.path] = Item(level=0, group=g)
    for g in net.groups:
        items[parent_of_group(g.path)].children.append(items[g.path])
    for n in net.nodes:
        scope = n.scope if n.scope in groups else ""
        items[scope].children.append(Item(level=0, node=n))

    def first(item: Item) -> float:
        if item.node is not None:
            return order[item.node.id]
        ids = [order[i] for i in item.group.nodes if i in order]  # type: ignore[union-attr]
        return min(ids) if ids else float("inf")

    def settle(item: Item, level: int) -> None:
        item.children.sort(key=first)  # stable: an empty group stays after its siblings
        for child in item.children:
            child.level = level
            settle(child, level + 1)

    root = items[""]
    settle(root, 0)
    return root.children


def walk(items: list[Item], depth: int | None = None):
    """The items in order, a group before its children; none at ``depth`` or below."""
    for item in items:
        if depth is not None and item.level >= depth:
            continue
        yield item
        yield from walk(item.children, depth)


def _repeated(g: Group, children: list[Item]) -> str | None:
    """``BasicBlock`` when ``g`` is the container of a repeated block row
    (``repeat: 2``): its children are instances of one block, written on its row."""
    if g.kind != "sequential" or not children:
        return None
    kinds = {c.group.block if c.group else None for c in children}
    if len(kinds) != 1 or None in kinds:
        return None
    if any(c.group.pos != g.pos for c in children):  # type: ignore[union-attr]
        return None  # a written container whose rows happen to be blocks
    return kinds.pop()


def group_type(item: Item, container: str = "Sequential") -> str:
    """A group's type as a person reads it: the block (``BasicBlock``), a repeated
    block (``BasicBlock ×2``), or ``container`` for a written container."""
    g = item.group
    assert g is not None
    block = _repeated(g, item.children)
    if block is not None:
        return f"{block} ×{len(item.children)}"
    if g.kind == "list":
        return "ModuleList" if container == "Sequential" else "list"
    return g.block or container


def _leaf_label(n: Node) -> str:
    """``conv1 (Conv2d)``, named by the module's attribute (``0`` inside an indexed
    container); an operation without a module by its row name and kind."""
    if n.path is not None:
        return f"{n.path.rsplit('.', 1)[-1]} ({n.torch_class})"
    return n.name if n.name == n.kind else f"{n.name} ({n.kind})"


def render_graph_text(net: Network, depth: int | None = None) -> str:
    """The module tree as torchinfo prints it: one row per module, indented by
    nesting; a block instance or container is a row of its own, above its children,
    with its subtotals. ``depth`` shows that many levels: a group at the last one
    stands folded for everything inside it."""
    items = tree(net)
    shown = list(walk(items, depth))
    header = ["#", "Layer (type)", "Output shape", "Kernel", "Stride", "Padding", "Params", "MACs"]
    rows = []
    for item in shown:
        indent = "  " * item.level
        g, n = item.group, item.node
        if g is not None:
            cells = [
                "",
                # named by its attribute, as a leaf is: the index inside an indexed container
                f"{indent}{g.path.rsplit('.', 1)[-1]} ({group_type(item)})",
                fmt.shape(g.output_shape),
                "",
                "",
                "",
                fmt.count(g.params),
                fmt.count(g.macs),
            ]
        else:
            assert n is not None
            output = fmt.shape(n.output_shape)
            if n.kind in FLATTENS:
                output = f"{fmt.shape(n.input_shape)} → {output}"
            padding = "-"
            if n.padding is not None:
                padding = fmt.pair(n.padding) + ("*" if n.padding_inferred else "")
            cells = [
                "" if n.index is None else str(n.index),
                f"{indent}{_leaf_label(n)}",
                output,
                fmt.pair(n.kernel),
                fmt.pair(n.stride),
                padding,
                fmt.count(n.params),
                fmt.count(n.macs),
            ]
        rows.append(cells)
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    right = {0, 6, 7}

    def line(cells) -> str:
        return "  ".join(
            c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths))
        ).rstrip()

    rule = "-" * len(line(header))
    out = [f"{net.name}" + (f" — {net.title}" if net.title else ""), rule, line(header), rule]
    out.append(line(["", "input", fmt.shape(net.input_shape)] + [""] * (len(header) - 3)))
    out += [line(r) for r in rows]
    out.append(rule)
    out += _io_lines(net)
    out.append(f"Params: {fmt.count(net.params)}")
    out.append(f"MACs:   {fmt.count(net.macs)} ({fmt.short(net.macs)}, one image)")
    if depth is not None and any(item.level >= depth for item in walk(items)):
        out.append(f"--depth {depth}: rows nested deeper are folded into their block's row")
    if any(i.node.padding_inferred for i in shown if i.node is not None):
        out.append("* padding inferred from the declared size")
    return "\n".join(out) + "\n"


def _io_lines(net: Network) -> list[str]:
    """``Input: … Output: …``; with `outputs:` one line per output (shape and stride)."""
    if not net.outputs:
        return [f"Input: {fmt.shape(net.input_shape)}   Output: {fmt.shape(net.output_shape)}"]
    form = "dict" if net.outputs_dict else "tuple"
    out = [f"Input: {fmt.shape(net.input_shape)}   Outputs ({form}):"]
    for o in net.outputs:
        label = fmt.output_label(o.key or o.row, o.shape, net.input_shape)
        out.append(f"  {label}" + (f"  <- {o.row}" if o.key is not None else ""))
    return out


def outputs_json(net: Network) -> list[dict]:
    """Every output: its name (its key in a dict, its row's name in a tuple), row, shape
    and stride relative to the input (None for a vector)."""
    return [
        {
            "name": o.key if o.key is not None else o.row,
            "row": o.row,
            "shape": list(o.shape),
            "stride": fmt.stride(net.input_shape, o.shape),
        }
        for o in net.outputs
    ]


def _top_rows(items: list[Item]):
    """The network's own rows for the book's table: (item, activation node or None).
    An `activation:` joins its row; an implicit flatten (before an fc) is no row."""
    nodes = [i.node for i in items if i.node is not None]
    written: dict[tuple, list[Node]] = {}
    for n in nodes:
        written.setdefault((n.origin, n.pos), []).append(n)
    skip = set()
    joined: dict[str, Node] = {}
    for n in nodes:
        if n.activation_of is not None:
            joined[n.activation_of] = n
            skip.add(n.id)
        elif n.kind in FLATTENS and len(written[(n.origin, n.pos)]) > 1:
            skip.add(n.id)  # the fc's implicit flatten, not a written row
    for item in items:
        if item.node is not None and item.node.id in skip:
            continue
        yield item, (joined.get(item.node.id) if item.node is not None else None)


def render_graph_markdown(net: Network) -> str:
    """The book's table for a graph network: one line per row the network writes; a
    block row (a block instance, a repeated block, a container) is one line, its
    type the block's name, with its maps, size and params."""
    lines = _markdown_head(net)
    for item, activation in _top_rows(tree(net)):
        shape = item.output_shape
        spatial = len(shape) == 3
        maps = str(shape[0]) if spatial else "-"
        size = fmt.shape(shape[1:]) if spatial else str(shape[0])
        if item.group is not None:
            cells = [
                item.group.name,
                group_type(item, "sequential"),
                maps,
                size,
                "-",
                "-",
                "-",
                "-",
            ]
            params = item.group.params
        else:
            n = item.node
            assert n is not None
            act = fmt.activation_label(activation.kind if activation else None)
            if n.is_activation:
                act = fmt.activation_label(n.kind)
            padding = "-"
            if n.padding is not None:
                padding = fmt.square(n.padding) + (" (inferred)" if n.padding_inferred else "")
            cells = [
                n.name,
                n.kind,
                maps,
                size,
                fmt.pair(n.kernel),
                fmt.square(n.stride),
                padding,
                act,
            ]
            params = n.params + (activation.params if activation else 0)
        lines.append("| " + " | ".join([*cells, fmt.count(params)]) + " |")
    lines += [
        "",
        f"Params: {fmt.count(net.params)} · MACs: {fmt.count(net.macs)} · "
        f"output: {fmt.shape(net.output_shape)}",
    ]
    return "\n".join(lines) + "\n"


RENDERERS = {"text": render_text, "markdown": render_markdown, "json": render_json}
