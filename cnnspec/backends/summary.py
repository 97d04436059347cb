"""Summaries of a checked network: text (like torchsummary), markdown (the book's
table form) and JSON (for tools). Every number is read off the IR."""

from __future__ import annotations

import json

from ..ir import Network
from . import format as fmt


def summary_json(net: Network) -> dict:
    layers = []
    for node in net.nodes:
        entry: dict = {
            "index": node.index,
            "name": node.name,
            "type": node.kind,
            "module": node.torch_class,
            "input_shape": list(node.input_shape),
            "output_shape": list(node.output_shape),
        }
        if node.kernel is not None:
            entry["kernel"] = list(node.kernel)
            entry["stride"] = list(node.stride)
            entry["padding"] = list(node.padding)
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
        layers.append(entry)
    return {
        "name": net.name,
        "input_shape": list(net.input_shape),
        "output_shape": list(net.output_shape),
        "params": net.params,
        "macs": net.macs,
        "layers": layers,
    }


def render_json(net: Network) -> str:
    """One key per line, one layer per line: readable, and diffable, and still plain JSON."""
    data = summary_json(net)
    layers = data.pop("layers")
    lines = [f"  {json.dumps(k)}: {json.dumps(v)}," for k, v in data.items()]
    body = ",\n".join(f"    {json.dumps(layer, ensure_ascii=False)}" for layer in layers)
    return "{\n" + "\n".join(lines) + '\n  "layers": [\n' + body + "\n  ]\n}\n"


def render_text(net: Network) -> str:
    header = ("#", "Layer (type)", "Output shape", "Kernel", "Stride", "Padding", "Params", "MACs")
    rows = []
    for n in net.nodes:
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
    for i, r in enumerate(rows):
        if net.flatten_at is not None and net.flatten_at == i + 1:
            flat = f"{fmt.shape(net.flatten_from)} → {net.flatten_features}"
            out.append(line(("", "flatten", flat, "", "", "", "", "")))
        out.append(line(r))
    out.append(rule)
    out.append(f"Input: {fmt.shape(net.input_shape)}   Output: {fmt.shape(net.output_shape)}")
    out.append(f"Params: {fmt.count(net.params)}")
    out.append(f"MACs:   {fmt.count(net.macs)} ({fmt.short(net.macs)}, one image)")
    if any(n.padding_inferred for n in net.nodes):
        out.append("* padding inferred from the declared size")
    return "\n".join(out) + "\n"


def render_markdown(net: Network) -> str:
    """The book's table: layer type, feature maps, size, kernel size, stride, activation."""
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
    lines = [
        f"**{net.title or net.name}**",
        "",
        "| " + " | ".join(head) + " |",
        "|" + "|".join(["---"] * 2 + ["---:"] * 2 + ["---"] * 4 + ["---:"]) + "|",
        f"| image | input | {net.input_shape[0]} | {fmt.shape(net.input_shape[1:])} "
        "| - | - | - | - | - |",
    ]
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


RENDERERS = {"text": render_text, "markdown": render_markdown, "json": render_json}
