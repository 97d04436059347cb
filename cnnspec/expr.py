"""Integer expressions over block params: ``$planes * 4``, ``$t * in_maps``,
``$stride != 1 or in_maps != $planes``.

An expression is parsed with :mod:`ast` and walked by an allow-list: integer and
boolean constants, the names of the block's params (written ``$name``) and
``in_maps`` (the maps of the block's input), ``+ - * // / %``, unary ``-`` and
``not``, comparisons, ``and``/``or`` and ``a if c else b``. Nothing is ever
passed to ``eval``. ``/`` must divide exactly.

The same tree is written back as Python source (``planes * 4``) for the
generated block classes, so the code a person reads is the spec's own formula.
"""

from __future__ import annotations

import ast
import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass

#: The name an expression uses for the maps of the block's input.
IN_MAPS = "in_maps"

#: Longest expression text (a sanity limit, like the spec's other limits).
MAX_EXPR = 200

#: The largest value an expression may produce along the way.
MAX_VALUE = 10**12

_PARAM = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")
_IN_MAPS_WORD = re.compile(r"(?<![A-Za-z0-9_$])in_maps(?![A-Za-z0-9_])")

#: What ``$`` becomes while the text is parsed, so that a name written with ``$`` (a param)
#: stays apart from one written without (only ``in_maps`` may be): a letter no expression
#: holds, since an expression is ASCII.
_MARK = "\u0436"


class ExprError(ValueError):
    """An expression that cannot be evaluated; the message says why, for a person."""


def is_expr(value: object) -> bool:
    """A spec value is an expression when it is text holding a ``$param`` or the name
    ``in_maps`` (``maps: in_maps``, ``in_maps // 4``, ``$t * in_maps``)."""
    return isinstance(value, str) and ("$" in value or _IN_MAPS_WORD.search(value) is not None)


@dataclass(frozen=True, eq=False)
class Expr:
    """A parsed expression: its text as written, and its tree over plain names."""

    text: str
    tree: ast.Expression

    @functools.cached_property
    def names(self) -> tuple[str, ...]:
        """The params it reads (without ``$``), in order of first use; ``in_maps`` too."""
        seen: list[str] = []
        for node in ast.walk(self.tree):
            if isinstance(node, ast.Name) and node.id not in seen:
                seen.append(node.id)
        return tuple(seen)

    @functools.cached_property
    def source(self) -> str:
        """The expression as Python source over the generated constructor's arguments."""
        return ast.unparse(_Pythonize().visit(_copy(self.tree)))

    def python(self) -> str:
        return self.source

    def evaluate(self, env: Mapping[str, object]) -> object:
        return _eval(self.tree.body, env)


def _copy(tree: ast.Expression) -> ast.Expression:
    return ast.parse(ast.unparse(tree), mode="eval")


class _Pythonize(ast.NodeTransformer):
    """``/`` (exact by the evaluator's rule) becomes ``//`` so Python keeps an int."""

    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
        self.generic_visit(node)
        if isinstance(node.op, ast.Div):
            node.op = ast.FloorDiv()
        return node


def parse(text: str, params: Mapping[str, object] | None = None) -> Expr:
    """Parse ``text`` (``$a * 2``); ``params`` (when given) are the names it may use."""
    expr = _parse(text)
    if params is not None:
        for name in expr.names:
            if name != IN_MAPS and name not in params:
                raise ExprError(_unknown(name, params))
    return expr


@functools.lru_cache(maxsize=4096)
def _parse(text: str) -> Expr:
    if len(text) > MAX_EXPR:
        raise ExprError(f"the expression is longer than {MAX_EXPR} characters")
    if not text.isascii():
        raise ExprError(f"'{text.strip()}' is not an expression (expressions are written in ASCII)")
    dollared = set(_PARAM.findall(text))
    source = _PARAM.sub(_MARK + r"\1", text)
    if "$" in source:
        raise ExprError("'$' must be followed by a param name")
    try:
        tree = ast.parse(source.strip(), mode="eval")
    except SyntaxError:
        raise ExprError(f"'{text.strip()}' is not an expression") from None
    bare = []  # names written without `$`: only in_maps may be
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            if node.id.startswith(_MARK):
                node.id = node.id[len(_MARK) :]
            elif node.id != IN_MAPS:
                bare.append(node.id)
    _allowed(tree.body, frozenset(dollared))
    if bare:
        raise ExprError(f"unknown name '{bare[0]}' (a param is written ${bare[0]})")
    return Expr(text, tree)


def _unknown(name: str, params: Mapping[str, object]) -> str:
    import difflib

    close = difflib.get_close_matches(name, list(params), n=1)
    if close:
        return f"unknown param ${name} (did you mean ${close[0]}?)"
    known = ", ".join(f"${p}" for p in params if p != IN_MAPS) or "none"
    return f"unknown param ${name}; the block's params: {known}"


_BINOPS = (ast.Add, ast.Sub, ast.Mult, ast.FloorDiv, ast.Div, ast.Mod)
_CMPOPS = (ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE)


def _allowed(node: ast.AST, params: frozenset[str] = frozenset()) -> None:
    if isinstance(node, ast.Constant):
        if isinstance(node.value, bool) or isinstance(node.value, int):
            return
        raise ExprError(f"only integers and true/false may appear, not {node.value!r}")
    if isinstance(node, ast.Name):
        return
    if isinstance(node, ast.BinOp) and isinstance(node.op, _BINOPS):
        _allowed(node.left, params)
        _allowed(node.right, params)
        return
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd, ast.Not)):
        _allowed(node.operand, params)
        return
    if isinstance(node, ast.BoolOp):
        for v in node.values:
            _allowed(v, params)
        return
    if isinstance(node, ast.Compare) and all(isinstance(op, _CMPOPS) for op in node.ops):
        _allowed(node.left, params)
        for c in node.comparators:
            _allowed(c, params)
        return
    if isinstance(node, ast.IfExp):
        for part in (node.test, node.body, node.orelse):
            _allowed(part, params)
        return
    what = type(node).__name__
    raise ExprError(f"'{_show(node, params)}' is not allowed in an expression ({what})")


def _show(node: ast.AST, params: frozenset[str] | None = None) -> str:
    """A sub-expression as the spec writes it: params with their ``$``."""
    tree = ast.parse(ast.unparse(node), mode="eval")
    for n in ast.walk(tree):
        if isinstance(n, ast.Name) and n.id != IN_MAPS and (params is None or n.id in params):
            n.id = "$" + n.id
    return ast.unparse(tree)


def _eval(node: ast.AST, env: Mapping[str, object]) -> object:
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name):
        if node.id not in env:
            raise ExprError(_unknown(node.id, env))
        return env[node.id]
    if isinstance(node, ast.BinOp):
        a, b = _int(_eval(node.left, env)), _int(_eval(node.right, env))
        if isinstance(node.op, ast.Add):
            out = a + b
        elif isinstance(node.op, ast.Sub):
            out = a - b
        elif isinstance(node.op, ast.Mult):
            out = a * b
        else:
            if b == 0:
                raise ExprError(f"division by zero in {_show(node)} ({a} / {b})")
            if isinstance(node.op, ast.Div) and a % b:
                raise ExprError(
                    f"{_show(node)} = {a}/{b} is not a whole number (write // to round down)"
                )
            out = a % b if isinstance(node.op, ast.Mod) else a // b
        if abs(out) > MAX_VALUE:
            raise ExprError(f"{_show(node)} = {out} is beyond the limit of {MAX_VALUE:,}")
        return out
    if isinstance(node, ast.UnaryOp):
        v = _eval(node.operand, env)
        if isinstance(node.op, ast.Not):
            return not v
        return -_int(v) if isinstance(node.op, ast.USub) else _int(v)
    if isinstance(node, ast.BoolOp):
        if isinstance(node.op, ast.And):
            result: object = True
            for v in node.values:
                result = _eval(v, env)
                if not result:
                    return result
            return result
        result = False
        for v in node.values:
            result = _eval(v, env)
            if result:
                return result
        return result
    if isinstance(node, ast.Compare):
        left = _eval(node.left, env)
        for op, comp in zip(node.ops, node.comparators):
            right = _eval(comp, env)
            ok = {
                ast.Eq: lambda x, y: x == y,
                ast.NotEq: lambda x, y: x != y,
                ast.Lt: lambda x, y: x < y,
                ast.LtE: lambda x, y: x <= y,
                ast.Gt: lambda x, y: x > y,
                ast.GtE: lambda x, y: x >= y,
            }[type(op)](left, right)
            if not ok:
                return False
            left = right
        return True
    if isinstance(node, ast.IfExp):
        return _eval(node.body if _eval(node.test, env) else node.orelse, env)
    raise ExprError(f"'{ast.unparse(node)}' is not allowed")  # pragma: no cover


def _int(v: object) -> int:
    if isinstance(v, tuple):
        raise ExprError(
            f"a pair param {v} is no number: a row takes it whole (`kernel: $kernel`), or "
            "the pair's axes are params of their own"
        )
    if isinstance(v, bool) or not isinstance(v, int):
        raise ExprError(f"expected a number, got {v!r}")
    return v


def substitute(text: str, env: Mapping[str, object]) -> object:
    """Evaluate an expression written in a spec value (``"$planes * 4"``)."""
    return parse(text).evaluate(env)


class Sym(str):
    """A value in a generated block class that is a Python expression, not a literal.

    It is a ``str`` so templates print it as it is; it equals no number, so a
    template's ``stride != (1, 1)`` test keeps the argument."""

    __slots__ = ()

    def __repr__(self) -> str:
        return str(self)
