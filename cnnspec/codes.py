"""Every diagnostic code cnnspec reports, in one place.

A diagnostic ends with its code in brackets (``[size-mismatch]``). This table is
the list a user reads in ``docs/spec-format.md`` ("Diagnostic codes"): the docs
section is generated from it (``python -m cnnspec.codes``), and a test keeps the
two equal and makes sure every code the compiler emits is here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class Code:
    stage: Literal["load", "schema", "check", "graph"]
    severity: Literal["error", "warning"]
    meaning: str


CODES: dict[str, Code] = {
    # ---- reading the file (load.py, pipeline.py)
    "unreadable": Code(
        "load", "error", "The spec file cannot be read (missing, a directory, a FIFO, …)."
    ),
    "encoding": Code("load", "error", "The file is not UTF-8 text."),
    "file-too-large": Code("load", "error", "The file is larger than 4 MiB."),
    "too-deep": Code(
        "load", "error", "The YAML nests deeper than 64 levels, or modules deeper than 3,000."
    ),
    "too-large": Code("load", "error", "Too many rows, nodes or included files."),
    "yaml-syntax": Code("load", "error", "The text is not valid YAML."),
    "yaml-documents": Code("load", "error", "The file holds more than one YAML document."),
    "yaml-key": Code("load", "error", "A mapping key that is not plain text."),
    "yaml-tag": Code("load", "error", "A YAML tag (`!!python/…`, anchors' tricks): refused."),
    "yaml-type": Code("load", "error", "A YAML value of a kind a spec never holds."),
    "yaml-number": Code("load", "error", "A number with more digits than any field takes."),
    "duplicate-key": Code("load", "error", "The same key twice in one mapping."),
    "include": Code("load", "error", "An `include:` file is missing or holds more than blocks."),
    "duplicate-block": Code("load", "error", "A block defined twice (here and in an include)."),
    # ---- the spec's structure and types (schema.py, table.py)
    "schema": Code("schema", "error", "The file is not a mapping with name, input and layers."),
    "missing": Code("schema", "error", "A required key is missing."),
    "library": Code(
        "schema",
        "error",
        "The file holds blocks only (a library): `check` checks it, `compile` needs a network.",
    ),
    "unknown-key": Code("schema", "error", "A key (or table column) no row of this type takes."),
    "unknown-type": Code("schema", "error", "A row type that is neither a layer nor a block."),
    "type": Code("schema", "error", 'A value of the wrong type (`maps: "6"`, `name: no`).'),
    "value": Code("schema", "error", "A value out of range or not among the allowed ones."),
    "table": Code("schema", "error", "A `table:` block that cannot be read as rows."),
    "block-name": Code("schema", "error", "A block name that cannot be a class name."),
    "block-param": Code("graph", "error", "A block param unknown, missing or of another type."),
    # ---- shapes (check.py)
    "size-mismatch": Code("check", "error", "The declared size differs from the formula's."),
    "maps-mismatch": Code("check", "error", "The declared maps differ from the incoming maps."),
    "no-padding": Code("check", "error", "No padding yields the declared size."),
    "like": Code(
        "check", "error", "An upsample's `like:` beside `scale`, or naming a row with no H×W."
    ),
    "kernel-too-large": Code("check", "error", "The kernel overhangs the (padded) input."),
    "pool-padding": Code("check", "error", "A pool's padding exceeds half its kernel."),
    "padding-same": Code("check", "error", "`padding: same` where PyTorch refuses it."),
    "output-padding": Code("check", "error", "A deconv's output_padding ≥ max(stride, dilation)."),
    "groups": Code("check", "error", "`groups` does not divide the input and output maps."),
    "parameter-position": Code(
        "check", "error", "A layer scale in an nn.Sequential or a chain: it needs a named module."
    ),
    "norm-groups": Code("check", "error", "A group norm's `groups` does not divide the maps."),
    "channels-last": Code(
        "check", "error", "A row that reads maps×H×W given channels-last data, or the reverse."
    ),
    "split-parts": Code("check", "error", "A split's `parts` does not divide its input's maps."),
    "shuffle-groups": Code(
        "check", "error", "A channel shuffle's `groups` does not divide its input's maps."
    ),
    "spp-input": Code(
        "check", "error", "A pyramid pool's input smaller than its largest level's bins."
    ),
    "reshape-input": Code("check", "error", "A reshape of a tensor that is not a vector."),
    "reshape-size": Code("check", "error", "A reshape whose shape does not hold the input."),
    "inexact": Code("check", "warning", "A division that is not whole: PyTorch floors it."),
    "empty": Code("check", "error", "No layers besides the flatten."),
    "flatten-twice": Code("check", "error", "A flatten of an already flat tensor."),
    "spatial-after-flatten": Code("check", "error", "A conv or pool after the flatten."),
    "softmax-position": Code("check", "error", "A softmax that is not the last layer."),
    "duplicate-name": Code("check", "error", "Two rows of one scope with the same name."),
    # ---- graphs (graph.py)
    "unknown-from": Code("graph", "error", "`from:` (or `like:`) names no row of this scope."),
    "used-before-defined": Code(
        "graph", "error", "`from:` (or `like:`) names a row defined further down."
    ),
    "add-shape": Code("graph", "error", "`add` of inputs whose shapes differ."),
    "concat-shape": Code("graph", "error", "`concat` of inputs whose H×W differ."),
    "crop-grow": Code("graph", "error", "`crop: center` would have to grow a smaller input."),
    "mul-shape": Code("graph", "error", "`mul` of inputs whose shapes do not broadcast."),
    "merge-inputs": Code("graph", "error", "A merge with fewer than two inputs."),
    "expr": Code("graph", "error", "An expression that cannot be evaluated."),
    "copy-index": Code(
        "schema", "error", "`$copy` (a copy's index) outside the params of a repeated block row."
    ),
    "expr-int": Code(
        "graph", "error", "A float where a row needs a whole number (maps, a repeat)."
    ),
    "if-read": Code("graph", "error", "A merge read by name while its `if:` is false."),
    "repeat-override": Code("graph", "error", "`first:`/`names:` on a row without `repeat`."),
    "block-recursion": Code("graph", "error", "A block that instantiates itself."),
    "block-varies": Code("graph", "error", "A block whose instances need different code."),
    "from-in-sequential": Code(
        "graph", "error", "`from:` or `like:` inside a sequential container or an indexed block."
    ),
    "from-into": Code(
        "graph",
        "error",
        "A `from:` path into a container that names none of its rows, or into a block.",
    ),
    "list-read": Code(
        "graph", "error", "A `list` read as one tensor: its members are read as `name.i`."
    ),
    "list-member": Code(
        "graph", "error", "A `list` member that is not one module reading one input."
    ),
    "op-in-sequential": Code(
        "graph", "error", "A split or channel shuffle (no module) inside an nn.Sequential."
    ),
    "fc-in-sequential": Code(
        "graph", "error", "An fc reading maps×H×W inside an nn.Sequential: write its flatten."
    ),
    "layout": Code("graph", "error", "`layout:` on a spec that names its own modules."),
    "unused": Code("graph", "warning", "A row whose output nothing reads."),
    "training-output": Code(
        "graph",
        "error",
        "A `training_outputs` name that is no top-level row, a main output, read by a row, "
        "or a key of the dict `outputs`.",
    ),
    "output": Code(
        "graph",
        "error",
        "An `outputs` entry that is no top-level row, is absent, or is listed twice.",
    ),
    "printed-params": Code("graph", "warning", "A printed parameter count does not recompute."),
    "printed-macs": Code("graph", "warning", "A printed multiply-add count does not recompute."),
}

BEGIN = "<!-- codes: generated by `python -m cnnspec.codes`; do not edit by hand -->"
END = "<!-- codes: end -->"


def markdown() -> str:
    """The docs' table of codes."""
    lines = [BEGIN, "", "| code | severity | meaning |", "|---|---|---|"]
    for stage in ("load", "schema", "check", "graph"):
        for name, code in CODES.items():
            if code.stage == stage:
                lines.append(f"| `{name}` | {code.severity} | {code.meaning} |")
    return "\n".join([*lines, "", END])


def update(text: str) -> str:
    """``text`` (a docs page) with its generated section replaced."""
    start, end = text.index(BEGIN), text.index(END) + len(END)
    return text[:start] + markdown() + text[end:]


if __name__ == "__main__":  # pragma: no cover
    from pathlib import Path

    page = Path(__file__).resolve().parent.parent / "docs" / "spec-format.md"
    page.write_text(update(page.read_text(encoding="utf-8")), encoding="utf-8")
    print(f"wrote {page}")
