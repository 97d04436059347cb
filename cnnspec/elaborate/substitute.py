"""A block's rows for one instance: its params substituted into the raw rows, validated.

A block's rows are written with expressions (``maps: $planes * 4``); each instance
evaluates them with its own params and validates the result as a row. A row's result
depends on the params only through the names its expressions read, so it is kept by
those names' values, and validated rows by their data.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from pydantic import TypeAdapter, ValidationError

from .. import expr as ex
from ..diagnostics import Diagnostic
from ..frontend.load import Document
from ..kinds import on_change
from ..spec.errors import drop_explained, located
from ..spec.models import BlockRow, Layer

if TYPE_CHECKING:  # pragma: no cover
    from ..spec.models import BlockSpec
    from .scope import Scope
    from .state import WalkState

_LAYER = TypeAdapter(Layer)


def _rebuild() -> None:
    """The row validator, rebuilt with the kinds registered now."""
    global _LAYER
    _LAYER = TypeAdapter(Layer)


on_change(_rebuild)

#: keys of a block row that substitution leaves as written
VERBATIM = ("type", "name", "from", "if", "names", "crop")

#: keys of a repeated row that hold for all its copies (no copy index)
ONE_FOR_ALL = ("repeat", "maps", "size", "params", "macs", "layers")


class Materializer:
    """Substitutes and validates block rows, once per distinct result."""

    def __init__(self, state: WalkState, defs: dict[str, BlockSpec]) -> None:
        self.state = state
        self.doc = state.doc
        self.defs = defs
        #: (path, the substituted data) → the validated row
        self.validated: dict[tuple, Any] = {}
        #: a block row's path → the names its expressions read (None: one is unparsable)
        self.row_names: dict[tuple, Any] = {}
        #: (path, the values of those names) → the validated row
        self.materialized: dict[tuple, Any] = {}

    def materialize(self, scope: Scope, path: tuple, raw: Any) -> Any:
        """A block's row with this instance's params substituted, validated."""
        env = scope.env or {}
        names = self.row_names.get(path, False)
        if names is False:
            names = self.row_names[path] = _expr_names(raw)
        if names is not None:
            # the row's data depends on the env only through the names its expressions use
            short = (path, tuple((n, type(env.get(n)).__name__, env.get(n)) for n in names))
            model = self.materialized.get(short)
            if model is None:
                model = self._materialize(scope, path, raw, env)
                if model is not None:
                    self.materialized[short] = model
            return model
        return self._materialize(scope, path, raw, env)

    def _materialize(self, scope: Scope, path: tuple, raw: Any, env: dict) -> Any:
        problems: list[Diagnostic] = []
        self.floats: dict[tuple, str] = {}
        data = self.substitute(raw, path, env, problems, scope)
        diagnostics = self.state.diagnostics
        if problems:
            diagnostics.extend(problems)
            return None
        key = (path, _freeze(data))
        if key in self.validated:
            return self.validated[key]
        try:
            model = _LAYER.validate_python(data)
        except ValidationError as exc:
            doc = self.doc
            view = Document(_nest(path, data), doc.text, doc.value_pos, doc.key_pos, doc.raw)
            found = []
            for err in exc.errors(include_url=False):
                found.append(located(view, {**err, "loc": path + tuple(err["loc"])}))
            for d in drop_explained(_whole(found, self.floats)):
                diagnostics.append(d.with_notes(scope.notes))
            return None
        if isinstance(model, BlockRow) and model.type not in self.defs:
            return None  # reported by the schema stage
        self.validated[key] = model
        return model

    def substitute(self, raw: Any, path: tuple, env: dict, problems: list, scope: Scope) -> Any:
        if isinstance(raw, dict):
            out = {}
            # a repeated row's params may read the copy's index: here copy 0's (the walk
            # binds each copy's params with its own)
            copied = {**env, ex.COPY: 0} if "repeat" in raw else env
            for k, val in raw.items():
                if k in VERBATIM:
                    out[k] = val
                elif copied is not env and k not in ONE_FOR_ALL:
                    out[k] = self.substitute(val, path + (k,), copied, problems, scope)
                elif k == "layers" and isinstance(val, list):
                    out[k] = [
                        self.substitute(r, path + (k, j), env, problems, scope)
                        for j, r in enumerate(val)
                    ]
                else:
                    out[k] = self.substitute(val, path + (k,), env, problems, scope)
            return out
        if isinstance(raw, list):
            return [
                self.substitute(r, path + (j,), env, problems, scope) for j, r in enumerate(raw)
            ]
        if ex.is_expr(raw):
            try:
                parsed = ex.parse(raw, env)
                value = parsed.evaluate(env)
                if isinstance(value, float):
                    self.floats[path] = f"{raw.strip()} = {parsed.explain(env)}"
                # a pair param stands for the row's two-item list (`kernel: $kernel`)
                return list(value) if isinstance(value, tuple) else value
            except ex.ExprError as exc:
                key = next((p for p in reversed(path) if isinstance(p, str)), "")
                problems.append(
                    Diagnostic(
                        "error", f"'{key}': {exc}", "expr", self.doc.pos(path), None, scope.notes
                    )
                )
                return raw
        return raw


def _whole(found: list, floats: dict[tuple, str]) -> list:
    """A row key that needs a whole number got an expression's float: the diagnostic
    shows the expression's arithmetic, and how to round it."""
    if not floats:
        return found
    out = []
    for d, where, hint in found:
        for path, arithmetic in floats.items():
            if path[: len(where)] == where or where[: len(path)] == path:
                key = next((p for p in reversed(path) if isinstance(p, str)), "")
                message = (
                    f"'{key}' needs a whole number, but {arithmetic} (make_divisible, "
                    "ceil, floor or round make one)"
                )
                code = "expr-int"
                d = dataclasses.replace(d, message=message, code=code)
                break
        out.append((d, where, hint))
    return out


def written_exprs(raw: Any) -> tuple[tuple[str, object], ...]:
    """The values a raw row writes as expressions, by key, parsed: ``maps: $planes * 4``
    → ``("maps", Expr)``; a pair with one, a tuple of expressions and literals."""
    if not isinstance(raw, dict):
        return ()
    found: list[tuple[str, object]] = []
    try:
        for key, value in raw.items():
            if key in VERBATIM:
                continue
            if isinstance(value, str) and ex.is_expr(value):
                found.append((key, ex.parse(value)))
            elif isinstance(value, list) and any(map(ex.is_expr, value)):
                found.append((key, tuple(ex.parse(x) if ex.is_expr(x) else x for x in value)))
    except ex.ExprError:
        return ()  # an expression substitution has reported; the walk stops there
    return tuple(found)


def _expr_names(raw: Any) -> tuple[str, ...] | None:
    """The names the expressions in a raw block row read (None when one does not parse:
    the row is then substituted afresh each time, to report it)."""
    found: list[str] = []
    stack = [raw]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(v for k, v in item.items() if k not in VERBATIM)
        elif isinstance(item, list):
            stack.extend(item)
        elif ex.is_expr(item):
            try:
                names = ex.parse(item).names
            except ex.ExprError:
                return None
            found.extend(n for n in names if n not in found)
    return tuple(found)


def _freeze(data: Any) -> Any:
    if isinstance(data, dict):
        return tuple((k, _freeze(v)) for k, v in data.items())
    if isinstance(data, list):
        return ("__list__", *(_freeze(v) for v in data))
    return (type(data).__name__, data)


def _nest(path: tuple, data: Any) -> Any:
    for part in reversed(path):
        if isinstance(part, int):
            data = [None] * part + [data]
        else:
            data = {part: data}
    return data
