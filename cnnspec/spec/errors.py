"""Pydantic's validation errors → located :class:`Diagnostic` records a person can act on.

Pydantic reports an error at a ``loc`` through the models (union tags included) with a
terse message; here the ``loc`` is followed through the loaded data to the written
value and its position, and the message says what was expected, what was written,
and (where a close match exists) what was probably meant.
"""

from __future__ import annotations

import difflib
import math
import re
from typing import Any

from ..diagnostics import Diagnostic
from ..expr import is_expr
from ..frontend.load import Document, clip
from ..kinds import LAYER_TYPES, MODEL_FOR_TYPE
from .models import BLOCK, Input, Spec, row_keys
from .values import DIGITS, foreign_digits


def drop_explained(found: list[tuple[Diagnostic, tuple, str | None]]) -> list[Diagnostic]:
    """Drop "a conv row needs 'kernel'" when the same row has "unknown key 'kernal'
    (did you mean 'kernel'?)": the second says all."""
    suggested = {(path[:-1], hint) for _, path, hint in found if hint}
    return [
        d
        for d, path, _ in found
        if not (d.code == "missing" and path and (path[:-1], path[-1]) in suggested)
    ]


def _walk(data: Any, loc: tuple) -> tuple[tuple, Any, Any]:
    """Follow pydantic's ``loc`` through the data, skipping union tags.

    Returns the real path, the value there, and its parent container."""
    path: list = []
    parent: Any = None
    here: Any = data
    for part in loc:
        if isinstance(here, dict) and isinstance(part, str) and part in here:
            parent, here = here, here[part]
            path.append(part)
        elif isinstance(here, list) and isinstance(part, int) and 0 <= part < len(here):
            parent, here = here, here[part]
            path.append(part)
        elif (
            isinstance(here, dict)
            and isinstance(part, str)
            and part not in _TAGS
            and part not in MODEL_FOR_TYPE
        ):
            # a missing or an unknown key: the path names it, the value is absent
            path.append(part)
            parent, here = here, _ABSENT
    return tuple(path), here, parent


_ABSENT = object()
#: pydantic's names for the members of a union, which its ``loc`` holds (besides the
#: row union's tags, the kinds' names)
_TAGS = frozenset({BLOCK, "function-before", "tuple[int, int]", "literal['same']", "str", "bool"})


#: What people call the layer types elsewhere (PyTorch, Keras, papers).
_SYNONYMS = {
    "convolution": "conv",
    "conv2d": "conv",
    "linear": "fc",
    "dense": "fc",
    "fully_connected": "fc",
    "pool": "maxpool",
    "max_pool": "maxpool",
    "maxpool2d": "maxpool",
    "avg_pool": "avgpool",
    "avgpool2d": "avgpool",
    "bn": "batchnorm",
    "batchnorm2d": "batchnorm",
    "batch_norm": "batchnorm",
    "leakyrelu": "leaky_relu",
}


def _row_type(container: Any) -> str | None:
    """The row's layer type, when it names a known one."""
    if isinstance(container, dict):
        kind = container.get("type")
        if isinstance(kind, str) and kind in MODEL_FOR_TYPE:
            return kind
    return None


def _owner(path: tuple, container: Any) -> tuple[str, list[str]]:
    """Who holds the key at ``path``: ("the spec", its fields), ("a conv row", …), …"""
    if len(path) == 1:
        return "the spec", list(Spec.model_fields)
    if len(path) == 2 and path[0] == "input":
        return "'input'", list(Input.model_fields)
    kind = _row_type(container)
    if kind is not None:
        return f"a {kind} row", row_keys(MODEL_FOR_TYPE[kind])
    return "this mapping", []


def _describe(value: Any, raw: str | None) -> str:
    if isinstance(value, bool):
        if raw is not None and raw not in ("true", "false"):
            return f"a boolean: YAML 1.1 reads '{raw}' as {str(value).lower()}; quote it as '{raw}'"
        return "a boolean"
    if isinstance(value, str):
        return f"the string '{clip(value)}'"
    if isinstance(value, float):
        if math.isnan(value):
            return "not-a-number (.nan)"
        if math.isinf(value):
            return "infinity (.inf)"
        return repr(value)
    if value is None:
        return "nothing (null)"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return clip(repr(value))


_EXPONENT_HINT = (
    "YAML 1.1 reads exponent notation as text unless it has a dot and a signed "
    "exponent, like 1.0e+3"
)
_FLOAT_TEXT = re.compile(r"\s*[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)[eE][-+]?[0-9]+\s*\Z")


def located(doc: Document, err: Any) -> tuple[Diagnostic, tuple, str | None]:
    """A pydantic error → (located diagnostic, its path, the key it suggests if any)."""
    path, value, parent = _walk(doc.data, err["loc"])
    etype = err["type"]
    raw = doc.raw.get(path)
    key = path[-1] if path and isinstance(path[-1], str) else None
    hint: list[str] = []
    if etype == "missing":
        where = doc.pos(path[:-1])
        subject, _ = _owner(path, parent)
        message = f"{subject} needs '{key}'"
        code = "missing"
    elif etype == "extra_forbidden":
        where = doc.pos(path, key=True)
        subject, fields = _owner(path, parent)
        fields = [f for f in fields if f != "type"]
        hint = difflib.get_close_matches(str(key), fields, n=1)
        message = f"unknown key '{clip(str(key))}'"
        if hint:
            message += f" (did you mean '{hint[0]}'?)"
        elif fields:
            message += f"; {subject} takes {', '.join(fields)}"
        code = "unknown-key"
    elif etype == "union_tag_invalid":
        where = doc.pos(path + ("type",))
        tag = parent.get("type") if isinstance(parent, dict) else value.get("type")
        blocks = doc.data.get("blocks") if isinstance(doc.data, dict) else None
        message = unknown_type_message(tag, list(blocks) if isinstance(blocks, dict) else [])
        code = "unknown-type"
    elif etype == "union_tag_not_found":
        where = doc.pos(path)
        message = "the row has no 'type'"
        code = "missing"
    else:
        where = doc.pos(path)
        message = _value_message(etype, err, value, raw)
        code = "type" if etype.endswith(("_type", "_parsing")) or "boolean" in message else "value"
    if key is not None and etype not in ("missing", "extra_forbidden"):
        message = f"'{key}': {message}"
    return Diagnostic("error", message, code, where), path, (hint[0] if hint else None)


def _value_message(etype: str, err: dict, value: Any, raw: str | None) -> str:
    ctx = err.get("ctx") or {}
    got = _describe(value, raw)
    if etype == "value_error":
        message = str(ctx.get("error", err["msg"]))
        if message.startswith("expected") and " got " not in message:
            message += f", got {got}"
        return message
    if isinstance(value, str) and foreign_digits(value) and etype.endswith(("_type", "_parsing")):
        number = "an integer" if etype.startswith("int") else "a number"
        return f"expected {number}, got {got}{foreign_digits(value)}"
    if etype in ("int_type", "int_parsing"):
        if isinstance(value, str) and DIGITS.match(value):
            return f"expected an integer, got {got} (remove the quotes)"
        if isinstance(value, str) and "$" in value:
            return f"expected an integer, got {got} (a $param expression belongs in a block)"
        if is_expr(value):
            return f"expected an integer, got {got} (an in_maps expression belongs in a block)"
        if isinstance(value, str) and _FLOAT_TEXT.match(value):
            return f"expected an integer, got {got} ({_EXPONENT_HINT}; write the number out)"
        if isinstance(value, float) and value.is_integer():
            return f"expected an integer, got {got} (write {int(value)})"
        return f"expected an integer, got {got}"
    if etype in ("float_type", "float_parsing"):
        if isinstance(value, str) and _FLOAT_TEXT.match(value):
            return f"expected a number, got {got} ({_EXPONENT_HINT}, or write 0.001)"
        return f"expected a number, got {got}"
    if etype == "bool_type":
        return f"expected true or false, got {got}"
    if etype == "string_type":
        return f"expected text, got {got}"
    if etype == "literal_error":
        expected = ctx.get("expected", "")
        options = re.findall(r"'([^']*)'", expected)
        close = (
            difflib.get_close_matches(value.lower(), options, n=1) if isinstance(value, str) else []
        )
        tail = f" (did you mean '{close[0]}'?)" if close else ""
        return f"expected one of {', '.join(options)}; got {got}{tail}"
    if isinstance(value, float) and not math.isfinite(value):
        return f"expected a finite number, got {got}"
    if etype in ("greater_than_equal", "greater_than"):
        sign = "≥" if etype == "greater_than_equal" else ">"
        bound = ctx.get("ge", ctx.get("gt"))
        return f"must be {sign} {bound}, got {value}"
    if etype in ("less_than_equal", "less_than"):
        bound = ctx.get("le", ctx.get("lt"))
        if etype == "less_than_equal" and isinstance(bound, int) and bound >= 1000:
            return f"{value:,} is beyond the limit of {bound:,}"
        sign = "≤" if etype == "less_than_equal" else "<"
        return f"must be {sign} {bound}, got {value}"
    if etype in ("too_short", "list_type") and isinstance(value, list):
        return "needs at least one row"
    if etype in ("model_type", "model_attributes_type", "dict_type"):
        return f"expected a mapping, got {got}"
    if etype == "list_type":
        return f"expected a list of rows, got {got}"
    if etype == "string_too_long":
        return f"is longer than {ctx.get('max_length')} characters"
    return f"{err['msg']} (got {got})"


def unknown_type_message(tag: Any, blocks: list[str]) -> str:
    if isinstance(tag, str) and tag in blocks:
        return f"block '{clip(tag)}' cannot be used: its name is not a Python identifier"
    known = ", ".join([*LAYER_TYPES, *blocks])
    if tag is None:
        return f"the row's 'type' is empty; known: {known}"
    if not isinstance(tag, str):
        return f"'type' must be a layer type, not {_describe(tag, None)}; known: {known}"
    close = [_SYNONYMS[tag.lower()]] if tag.lower() in _SYNONYMS else []
    close = close or difflib.get_close_matches(tag.lower(), LAYER_TYPES, n=1)
    close = close or difflib.get_close_matches(tag, blocks, n=1)
    message = f"unknown layer type '{clip(tag)}'"
    return message + (f" (did you mean '{close[0]}'?)" if close else f"; known: {known}")
