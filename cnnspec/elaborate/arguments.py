"""A block row's arguments: the params it gives, the defaults, and its first copy's.

Each value is checked against its param's type; a row's `$expr` value is kept as the
expression it was written as (the generated class computes it from its own params).
"""

from __future__ import annotations

import difflib
from typing import Any

from .. import expr as ex
from ..diagnostics import note
from ..ir import BlockArgs
from ..kinds.base import RowContext
from ..spec.models import BlockRow, BlockSpec
from ..spec.values import fits_param_type, param_value
from .scope import Scope, Written, article, lookup
from .state import WalkState


def bind(
    state: WalkState,
    scope: Scope,
    w: Written,
    block: BlockSpec,
    ctx: RowContext,
    copy: int | None = None,
) -> BlockArgs | None:
    """The instance's params: their values, and which the row writes (and how); ``copy``,
    the index of the copy of a repeated row, for the params that read it (``$copy``)."""
    row: BlockRow = w.row
    given = dict(row.model_extra or {})
    defined = note(
        f"block '{row.type}' is defined here", state.doc.pos(("blocks", row.type), key=True)
    )
    ok = _known(state, scope, w, block, given, ctx, defined)
    values: dict[str, Any] = {}
    written: dict[str, ex.Expr] = {}
    raw_row = lookup(state.doc.data, w.path) or {}
    for name, decl in block.params.items():
        if name in given:
            raw = raw_row.get(name, given[name]) if isinstance(raw_row, dict) else given[name]
            value = given[name]
            env = scope.env or {}
            if copy is not None and ex.uses_copy(raw):
                env = {**env, ex.COPY: copy}
                try:
                    value = ex.parse(raw, env).evaluate(env)
                except ex.ExprError as exc:
                    ctx.error(f"'{name}' of copy {copy}: {exc}", "expr", name)
                    return None
            if isinstance(raw, str) and ex.is_expr(raw) and scope.env is not None:
                try:
                    written[name] = ex.parse(raw, env)
                except ex.ExprError:
                    pass
            fits = fits_param_type(value, decl.type)
            if not fits:
                shown = _describe(value)
                if name in written and isinstance(value, float):
                    shown = f"{raw.strip()} = {written[name].explain(scope.env or {})}"
                state.error(
                    f"param '{name}' of block '{row.type}' is {article(decl.type)}, got {shown}",
                    "block-param",
                    state.doc.pos(w.path + (name,)),
                    scope,
                    ctx.label,
                    (defined,),
                )
                ok = False
            values[name] = as_param(value, decl.type) if fits else value
        elif decl.default is not None:
            values[name] = as_param(decl.default, decl.type)
        else:
            state.error(
                f"block '{row.type}' needs param '{name}' ({decl.type})",
                "block-param",
                state.doc.pos(w.path),
                scope,
                ctx.label,
                (defined,),
            )
            ok = False
    if not ok:
        return None
    given_names = tuple(n for n in block.params if n in given)
    return BlockArgs(tuple(values.items()), given_names, tuple(written.items()))


def _known(
    state: WalkState,
    scope: Scope,
    w: Written,
    block: BlockSpec,
    given: dict,
    ctx: RowContext,
    defined,
) -> bool:
    """Whether every key the row gives is a param of the block (else each is reported)."""
    ok = True
    for key in given:
        if key not in block.params:
            close = difflib.get_close_matches(key, list(block.params), n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            known = ", ".join(block.params) or "none"
            state.error(
                f"block '{w.row.type}' has no param '{key}'{hint}; its params: {known}",
                "block-param",
                state.doc.pos(w.path + (key,), key=True),
                scope,
                ctx.label,
                (defined,),
            )
            ok = False
    return ok


def bind_first(
    state: WalkState, scope: Scope, w: Written, block: BlockSpec, ctx: RowContext, args: BlockArgs
) -> BlockArgs | None:
    """The first copy's params: ``first:`` overrides those of every copy."""
    row: BlockRow = w.row
    name = row.type
    values = dict(args.values)
    given = list(args.given)
    written = dict(args.written)
    env = {**(scope.env or {}), ex.COPY: 0}  # the first copy's index
    for key, value in (row.first or {}).items():
        if key not in block.params:
            close = difflib.get_close_matches(key, list(block.params), n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            state.error(
                f"block '{name}' has no param '{key}'{hint}",
                "block-param",
                state.doc.pos(w.path + ("first", key), key=True),
                scope,
                ctx.label,
            )
            return None
        raw = lookup(state.doc.data, w.path + ("first", key))
        parsed = None
        if isinstance(raw, str) and ex.is_expr(raw):
            try:
                parsed = ex.parse(raw, env)
                value = parsed.evaluate(env)
            except ex.ExprError as exc:
                ctx.error(f"'first': {exc}", "expr", "first")
                return None
        if not fits_param_type(value, block.params[key].type):
            ctx.error(
                f"param '{key}' of block '{name}' is {article(block.params[key].type)}, "
                f"got {_describe(value)}",
                "block-param",
                "first",
            )
            return None
        values[key] = as_param(value, block.params[key].type)
        if key not in given:
            given.append(key)
        if parsed is None or scope.env is None:
            written.pop(key, None)
        else:
            written[key] = parsed
    return BlockArgs(tuple(values.items()), tuple(given), tuple(written.items()))


def as_param(value: Any, type_name: str) -> Any:
    """A value of a param's type as the walk carries it: an int given for a float param is
    that float (``1`` is ``1.0``), so that a param's arithmetic is of one kind in every
    instance; a pair a tuple (``3`` is ``(3, 3)``). ``value`` fits the type."""
    if type_name == "float" and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return param_value(value, type_name)


def _describe(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, str):
        return f"the string '{value}'"
    return repr(value)
