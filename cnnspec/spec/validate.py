"""Stage 2: plain data → :class:`Spec`, every problem located.

Table blocks are expanded into rows first; then pydantic validates the data against
the document models, and its errors are translated (:mod:`cnnspec.spec.errors`);
last come the checks pydantic cannot make: unknown row types, block and param names.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from ..diagnostics import Diagnostic
from ..expr import uses_copy
from ..frontend.load import Document, clip
from ..frontend.table import expand_table
from ..kinds import CONTAINERS, MODEL_FOR_TYPE
from .errors import drop_explained, located, unknown_type_message
from .models import BLOCK, Library, Spec, row_keys, row_tag
from .values import check_identifier, class_name, fits_param_type


def _columns() -> frozenset[str]:
    """Every key a row of some type takes: the columns a table header may name."""
    return frozenset(k for model in MODEL_FOR_TYPE.values() for k in row_keys(model))


def validate(doc: Document) -> tuple[Spec | None, list[Diagnostic]]:
    """Validate loaded data against :class:`Spec`; errors come back located."""
    if not isinstance(doc.data, dict):
        what = "a list" if isinstance(doc.data, list) else f"'{clip(str(doc.data))}'"
        return None, [
            Diagnostic(
                "error",
                f"a spec is a mapping with name, input and layers, not {what}",
                "schema",
                doc.pos(()),
            )
        ]
    blocks = doc.data.get("blocks")
    known = _columns() | _block_params(blocks)
    problems, done = block_tables(doc)
    if not done:
        return None, problems
    if isinstance(doc.data.get("table"), str):
        problems += expand_table(doc, doc.data["table"], known)
        # A table whose rows could not be read at all ends here; otherwise the rows
        # that were read are validated too, so that every problem is reported at once.
        if problems and ("table" in doc.data or not doc.data.get("layers")):
            return None, problems
    block_names = [b for b in blocks if isinstance(b, str)] if isinstance(blocks, dict) else []
    unknown = unknown_types(doc, block_names)
    try:
        spec = Spec.model_validate(doc.data)
    except ValidationError as exc:
        found = [located(doc, err) for err in exc.errors(include_url=False)]
        return None, problems + drop_explained(found) + unknown
    problems += unknown + block_checks(doc, spec)
    if spec.layers is None:
        problems.append(Diagnostic("error", "the spec has no 'layers'", "missing", doc.pos(())))
    if spec.input is None:
        problems.append(
            Diagnostic(
                "error", "the spec has no 'input' (nor an image row)", "missing", doc.pos(())
            )
        )
    return (None, problems) if problems else (spec, [])


def block_tables(doc: Document) -> tuple[list[Diagnostic], bool]:
    """Expand every block's `table:` into its rows; the problems, and whether every table
    was read (a table that could not be read at all stops the validation)."""
    problems: list[Diagnostic] = []
    blocks = doc.data.get("blocks") if isinstance(doc.data, dict) else None
    known = _columns() | _block_params(blocks)
    if isinstance(blocks, dict):
        for bname, block in blocks.items():
            if isinstance(block, dict) and isinstance(block.get("table"), str):
                problems += expand_table(doc, block["table"], known, ("blocks", bname))
                if "table" in block:
                    return problems, False
                block.pop("table", None)
    return problems, True


def _rows_in(data: Any, path: tuple) -> list[tuple[tuple, dict]]:
    """Every row under ``path`` (a list of rows), containers' rows included."""
    out: list[tuple[tuple, dict]] = []
    stack = [(path, data)]
    while stack:
        where, rows = stack.pop()
        if not isinstance(rows, list):
            continue
        for i, row in enumerate(rows):
            if isinstance(row, dict):
                out.append((where + (i,), row))
                if isinstance(row.get("type"), str) and row["type"] in CONTAINERS:
                    stack.append((where + (i, "layers"), row.get("layers")))
    return out


def all_rows(data: dict) -> list[tuple[tuple, dict]]:
    """Every row of a spec's data: the network's and every block's, with their paths."""
    found = _rows_in(data.get("layers"), ("layers",))
    blocks = data.get("blocks")
    if isinstance(blocks, dict):
        for name, block in blocks.items():
            if isinstance(block, dict):
                found += _rows_in(block.get("layers"), ("blocks", name, "layers"))
    return found


def unknown_types(doc: Document, blocks: list[str]) -> list[Diagnostic]:
    """Rows whose type is an identifier but neither a layer type nor a block's name."""
    out = []
    for path, row in all_rows(doc.data) if isinstance(doc.data, dict) else []:
        tag = row.get("type")
        if row_tag(row) == BLOCK and tag not in blocks:
            message = unknown_type_message(tag, blocks)
            out.append(Diagnostic("error", message, "unknown-type", doc.pos(path + ("type",))))
    return out


#: Keys of a block row that are not the block's params.
BLOCK_ROW_KEYS = frozenset(
    {"type", "name", "repeat", "from", "if", "maps", "size", "params", "macs", "first", "names"}
)
#: Names a param may not take: they would hide a name the generated class uses.
RESERVED_PARAMS = frozenset(
    {"in_maps", "self", "nn", "torch", "x", "out", "super", "OrderedDict", "center_crop"}
    | {"make_divisible", "math", "round", "min", "max", "StochasticDepth", "channel_shuffle"}
    | {"copy"}  # the copy index of a repeated row, and the generated loop's variable
)


def block_checks(doc: Document, spec: Spec | Library) -> list[Diagnostic]:
    """Block names and param names: identifiers that fit in the generated code."""
    out: list[Diagnostic] = []
    blocks = spec.blocks or {}
    for name, block in blocks.items():
        where = doc.pos(("blocks", name), key=True)
        try:
            class_name(name)
            if name in MODEL_FOR_TYPE:
                raise ValueError(f"'{name}' is a layer type; a block needs a name of its own")
            if name == spec.name:
                raise ValueError(f"'{name}' is the network's own name")
        except ValueError as exc:
            out.append(Diagnostic("error", f"block name: {exc}", "block-name", where))
        for param, decl in block.params.items():
            at = doc.pos(("blocks", name, "params", param), key=True)
            try:
                check_identifier(param, "param")
                if param in BLOCK_ROW_KEYS or param in RESERVED_PARAMS or param in blocks:
                    raise ValueError(f"param '{param}' would hide a key or name cnnspec uses")
            except ValueError as exc:
                out.append(Diagnostic("error", str(exc), "block-param", at))
            if decl.default is not None and not fits_param_type(decl.default, decl.type):
                out.append(
                    Diagnostic(
                        "error",
                        f"the default {_literal(decl.default)} of '{param}' is not "
                        + _type_phrase(decl.type),
                        "block-param",
                        doc.pos(("blocks", name, "params", param, "default")),
                    )
                )
        if block.layers is None and block.table is None:
            out.append(Diagnostic("error", f"block '{name}' has no 'layers'", "missing", where))
        if block.children == "indexed":
            out += _from_in_indexed(doc, name, block.layers or [])
    return out + copy_checks(doc)


#: Keys of a row whose values no expression reads (substitution leaves them as written).
_VERBATIM = frozenset({"type", "name", "from", "if", "names", "crop", "layers"})


def copy_checks(doc: Document) -> list[Diagnostic]:
    """``$copy``, a copy's index, only in the params (and ``first:``) of a repeated block
    row: each copy is bound with its own index."""
    out: list[Diagnostic] = []
    for path, row in all_rows(doc.data) if isinstance(doc.data, dict) else []:
        for key, value in row.items():
            if key in _VERBATIM:
                continue
            values = value.items() if key == "first" and isinstance(value, dict) else [(key, value)]
            for sub, v in values:
                if not uses_copy(v):
                    continue
                at = path + ((key, sub) if key == "first" else (key,))
                why = _copy_misplaced(row, key)
                if why is not None:
                    message = f"'{key}': $copy, the index of a copy, {why}"
                    out.append(Diagnostic("error", message, "copy-index", doc.pos(at)))
    return out


def _copy_misplaced(row: dict, key: str) -> str | None:
    """Why ``$copy`` may not be in ``key`` of ``row`` (None: it may)."""
    if row_tag(row) != BLOCK:
        return "is for the params of a repeated block row (a layer row's copies are alike)"
    if "repeat" not in row:
        return "is for the params of a repeated row; this row has no `repeat`"
    if key in BLOCK_ROW_KEYS and key != "first":
        return f"is for the params of each copy; the row's `{key}` is one for all its copies"
    return None


def _from_in_indexed(doc: Document, name: str, rows: list[dict[str, Any]]) -> list[Diagnostic]:
    """An indexed block is an nn.Sequential: its rows run as a chain, none reads another
    row (merges included: they read the rows their `from:` names)."""
    return [
        Diagnostic(
            "error",
            f"block '{name}' has indexed children (an nn.Sequential): its rows read the "
            "previous row; `from` is for named scopes (blocks with named children, and the "
            "network)",
            "from-in-sequential",
            doc.pos(("blocks", name, "layers", i, "from")),
        )
        for i, row in enumerate(rows)
        if "from" in row
    ]


def _literal(value: Any) -> str:
    """A default as the spec writes it: ``true``, ``3``, ``0.5``."""
    return str(value).lower() if isinstance(value, bool) else repr(value)


def _block_params(blocks: Any) -> frozenset[str]:
    """The params of every block: more columns a table may name."""
    if not isinstance(blocks, dict):
        return frozenset()
    params = {
        p
        for b in blocks.values()
        if isinstance(b, dict) and isinstance(b.get("params"), dict)
        for p in b["params"]
        if isinstance(p, str)
    }
    return frozenset(params | {f"first.{p}" for p in params})


def _type_phrase(type_name: str) -> str:
    if type_name == "pair":
        return "a pair of non-negative integers"
    return f"{'an' if type_name == 'int' else 'a'} {type_name}"
