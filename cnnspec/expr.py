"""Expressions over block params: ``$planes * 4``, ``$t * in_maps``,
``$stride != 1 or in_maps != $planes``, ``make_divisible($c * $width, 8)``.

An expression is parsed with :mod:`ast` and walked by an allow-list: integer, float
and boolean constants, the names of the block's params (written ``$name``) and
``in_maps`` (the maps of the block's input), ``+ - * // / % **``, unary ``-`` and
``not``, comparisons, ``and``/``or``, ``a if c else b`` and calls of the functions
in :data:`FUNCTIONS`. Nothing is ever passed to ``eval``.

Integers stay integers: between two of them ``/`` must divide exactly. A float (a
``float`` param, a constant such as ``1.1``) makes the arithmetic it takes part in
float arithmetic, as in Python; ``make_divisible``, ``ceil``, ``floor`` and ``round``
turn a float back into an integer, which a row needs wherever it counts something
(maps, a kernel, a repeat). ``log`` is always a float (of a positive number, in an
optional base); ``**`` of two integers needs an exponent of at least 0, so that it stays
an integer, and its result is bounded like every other step.

The same tree is written back as Python source (``planes * 4``) for the
generated block classes, so the code a person reads is the spec's own formula
(``ceil``, ``floor`` and ``log`` as ``math.ceil``, ``math.floor`` and ``math.log``,
``**`` as itself, ``make_divisible`` as a
call of the helper the generated module defines, :data:`MAKE_DIVISIBLE_SOURCE`).
"""

from __future__ import annotations

import ast
import functools
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

#: The name an expression uses for the maps of the block's input.
IN_MAPS = "in_maps"

#: The name an expression in a repeated block row uses for the copy's 0-based index
#: (written ``$copy``, like a param).
COPY = "copy"

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


def make_divisible(value: float, divisor: int, min_value: int | None = None) -> int:
    """``value`` rounded to the nearest multiple of ``divisor`` (a half rounds up), but
    at least ``min_value`` (default: ``divisor``) and never below 90% of ``value``: the
    rounding of channel counts that MobileNet and EfficientNet use for their widths."""
    least = divisor if min_value is None else min_value
    rounded = max(least, int(value + divisor / 2) // divisor * divisor)
    return rounded + divisor if rounded < 0.9 * value else rounded


#: The source of the helper a generated module defines when a block's expression calls
#: ``make_divisible``: the same arithmetic as :func:`make_divisible`, step for step.
MAKE_DIVISIBLE_SOURCE = '''\
def make_divisible(value: float, divisor: int, min_value: int | None = None) -> int:
    """``value`` rounded to the nearest multiple of ``divisor``, at least ``min_value``
    (default: ``divisor``) and not below 90% of ``value``."""
    least = divisor if min_value is None else min_value
    rounded = max(least, int(value + divisor / 2) // divisor * divisor)
    return rounded + divisor if rounded < 0.9 * value else rounded
'''

#: The functions an expression may call: name → (least and most arguments, what it
#: computes, the name the generated Python calls it by).
FUNCTIONS: dict[str, tuple[int, int, Callable[..., object], str]] = {
    "make_divisible": (2, 3, make_divisible, "make_divisible"),
    "ceil": (1, 1, math.ceil, "math.ceil"),
    "floor": (1, 1, math.floor, "math.floor"),
    "round": (1, 1, round, "round"),
    "log": (1, 2, math.log, "math.log"),
    "min": (2, 8, min, "min"),
    "max": (2, 8, max, "max"),
}


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
        calls = {id(n.func) for n in ast.walk(self.tree) if isinstance(n, ast.Call)}
        for node in ast.walk(self.tree):
            if isinstance(node, ast.Name) and id(node) not in calls and node.id not in seen:
                seen.append(node.id)
        return tuple(seen)

    @functools.cached_property
    def source(self) -> str:
        """The expression as Python source over the generated constructor's arguments,
        every param taken for an int."""
        return self.python()

    def python(
        self, env: Mapping[str, object] | None = None, names: Mapping[str, str] | None = None
    ) -> str:
        """The expression as Python source; ``env`` (an instance's values) says which
        params are floats, where ``/`` stays a true division; ``names`` puts source in
        for names (the copy index: its number, or the generated loop's variable)."""
        used = tuple(sorted((k, v) for k, v in (names or {}).items() if k in self.names))
        return _python(self, _float_names(self, env), used)

    @functools.cached_property
    def functions(self) -> frozenset[str]:
        """The functions it calls."""
        return frozenset(
            n.func.id
            for n in ast.walk(self.tree)
            if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)
        )

    def evaluate(self, env: Mapping[str, object]) -> object:
        return _eval(self.tree.body, env)

    def explain(self, env: Mapping[str, object]) -> str:
        """The arithmetic it does in ``env``: ``$c * $width`` → ``32 * 1.1 = 35.2``."""
        tree = _copy(self.tree)
        calls = {id(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
        shown = _Values(env, calls).visit(tree)
        return f"{ast.unparse(shown)} = {_number(self.evaluate(env))}"


def _float_names(expr: Expr, env: Mapping[str, object] | None) -> frozenset[str]:
    if not env:
        return frozenset()
    return frozenset(n for n in expr.names if isinstance(env.get(n), float))


@functools.lru_cache(maxsize=4096)
def _python(expr: Expr, floats: frozenset[str], names: tuple[tuple[str, str], ...] = ()) -> str:
    tree = _Pythonize(floats, dict(names)).visit(_copy(expr.tree))
    return _unparse(tree)


def _unparse(tree: ast.AST) -> str:
    """``ast.unparse``, but with the spacing of a formatter (ruff's, black's): a power of
    simple operands (names, numbers, a signed exponent) is written without spaces,
    ``wm**i``, any other with them, ``wm ** (i + 0.5)``."""
    found: list[str] = []

    class Tight(ast.NodeTransformer):
        def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
            self.generic_visit(node)
            if not (
                isinstance(node.op, ast.Pow)
                and _simple_power(node.left, base=True)
                and _simple_power(node.right, base=False)
            ):
                return node
            found.append(f"{ast.unparse(node.left)}**{ast.unparse(node.right)}")
            return ast.Name(f"{_MARK}{len(found) - 1}{_MARK}", ast.Load())

    # a power that is the base of another keeps its parentheses, (a**b) ** c, and one
    # under a unary operator gets them, -(a**2)
    for node in ast.walk(tree):
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow) and _is_pow(node.left):
            node.left = ast.Call(ast.Name(_MARK, ast.Load()), [node.left], [])
        if isinstance(node, ast.UnaryOp) and _is_pow(node.operand):
            node.operand = ast.Call(ast.Name(_MARK, ast.Load()), [node.operand], [])
    text = ast.unparse(Tight().visit(tree))
    for i in reversed(range(len(found))):  # an outer power holds the inner ones' marks
        text = text.replace(f"{_MARK}{i}{_MARK}", found[i], 1)
    return text.replace(_MARK + "(", "(")


def _is_pow(node: ast.AST) -> bool:
    return isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow)


def _simple_power(node: ast.AST, base: bool) -> bool:
    """An operand a formatter writes a power of without spaces."""
    if isinstance(node, ast.Name):
        return not base or not node.id.startswith(_MARK)  # an exponent may be a power itself
    if isinstance(node, ast.Constant):
        return isinstance(node.value, (int, float)) and not isinstance(node.value, bool)
    if isinstance(node, ast.Attribute):
        return _simple_power(node.value, base)
    if isinstance(node, ast.UnaryOp) and not base:
        return isinstance(node.op, (ast.USub, ast.UAdd)) and _simple_power(node.operand, base)
    return False


def _number(value: object) -> str:
    return repr(value) if isinstance(value, float) else str(value)


def _copy(tree: ast.Expression) -> ast.Expression:
    return ast.parse(ast.unparse(tree), mode="eval")


class _Values(ast.NodeTransformer):
    """Each name replaced by its value (the arithmetic a diagnostic shows)."""

    def __init__(self, env: Mapping[str, object], calls: set[int]) -> None:
        self.env, self.calls = env, calls

    def visit_Name(self, node: ast.Name) -> ast.AST:
        if id(node) in self.calls or node.id not in self.env:
            return node
        value = self.env[node.id]
        return ast.Constant(value if isinstance(value, (bool, int, float)) else str(value))


class _Pythonize(ast.NodeTransformer):
    """``/`` between integers (exact by the evaluator's rule) becomes ``//`` so Python
    keeps an int; with a float operand it stays a true division. ``ceil`` and ``floor``
    are ``math.ceil`` and ``math.floor``."""

    def __init__(self, floats: frozenset[str], names: Mapping[str, str]) -> None:
        self.floats, self.names = floats, names

    def visit_Name(self, node: ast.Name) -> ast.AST:
        if node.id in self.names:
            return ast.parse(self.names[node.id], mode="eval").body
        return node

    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
        integer = isinstance(node.op, ast.Div) and not (
            _is_float(node.left, self.floats) or _is_float(node.right, self.floats)
        )
        self.generic_visit(node)
        if integer:
            node.op = ast.FloorDiv()
        return node

    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        assert isinstance(node.func, ast.Name)
        target = FUNCTIONS[node.func.id][3]
        if "." in target:
            module, attr = target.split(".")
            node.func = ast.Attribute(ast.Name(module, ast.Load()), attr, ast.Load())
        return node


#: the functions whose result is always an integer
_INTEGER_FUNCTIONS = frozenset({"make_divisible", "ceil", "floor", "round"})

#: the functions whose result is always a float
_FLOAT_FUNCTIONS = frozenset({"log"})


def _is_float(node: ast.AST, floats: frozenset[str]) -> bool:
    """Whether ``node`` is float arithmetic, the names in ``floats`` being floats (the
    evaluator and the generated Python agree on this, whatever the values)."""
    if isinstance(node, ast.Constant):
        return isinstance(node.value, float)
    if isinstance(node, ast.Name):
        return node.id in floats
    if isinstance(node, ast.BinOp):
        return _is_float(node.left, floats) or _is_float(node.right, floats)
    if isinstance(node, ast.UnaryOp):
        return not isinstance(node.op, ast.Not) and _is_float(node.operand, floats)
    if isinstance(node, ast.IfExp):
        return _is_float(node.body, floats) or _is_float(node.orelse, floats)
    if isinstance(node, ast.BoolOp):
        return any(_is_float(v, floats) for v in node.values)
    if isinstance(node, ast.Call):
        assert isinstance(node.func, ast.Name)
        if node.func.id in _INTEGER_FUNCTIONS:
            return False
        if node.func.id in _FLOAT_FUNCTIONS:
            return True
        return any(_is_float(a, floats) for a in node.args)
    return False  # comparisons and logic: booleans


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
    bare = []  # names written without `$`: only in_maps (and a called function) may be
    calls = {id(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and id(node) in calls:
            continue
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


_BINOPS = (ast.Add, ast.Sub, ast.Mult, ast.FloorDiv, ast.Div, ast.Mod, ast.Pow)
_CMPOPS = (ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE)


def _allowed(node: ast.AST, params: frozenset[str] = frozenset()) -> None:
    if isinstance(node, ast.Constant):
        if isinstance(node.value, (bool, int)):
            return
        if isinstance(node.value, float) and math.isfinite(node.value):
            return
        raise ExprError(f"only numbers and true/false may appear, not {node.value!r}")
    if isinstance(node, ast.Call):
        _allowed_call(node, params)
        return
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


def _allowed_call(node: ast.Call, params: frozenset[str]) -> None:
    """A call of one of :data:`FUNCTIONS`, by its bare name, with positional arguments."""
    func = node.func
    name = func.id if isinstance(func, ast.Name) else None
    if name is None or name.startswith(_MARK) or name not in FUNCTIONS:
        known = ", ".join(FUNCTIONS)
        raise ExprError(
            f"'{_show(func, params)}' is not a function an expression may call ({known})"
        )
    least, most = FUNCTIONS[name][:2]
    if node.keywords or any(isinstance(a, ast.Starred) for a in node.args):
        raise ExprError(f"{name}() takes its arguments by position")
    if not least <= len(node.args) <= most:
        count = str(least) if least == most else f"{least} to {most}"
        plural = "argument" if count == "1" else "arguments"
        raise ExprError(f"{name}() takes {count} {plural}, not {len(node.args)}")
    for a in node.args:
        _allowed(a, params)


def _show(node: ast.AST, params: frozenset[str] | None = None) -> str:
    """A sub-expression as the spec writes it: params with their ``$``."""
    tree = ast.parse(ast.unparse(node).replace(_MARK, ""), mode="eval")
    calls = {id(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
    for n in ast.walk(tree):
        if not isinstance(n, ast.Name) or id(n) in calls or n.id == IN_MAPS:
            continue
        if params is None or n.id in params:
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
        return _limit(node, _binop(node, _num(_eval(node.left, env)), _num(_eval(node.right, env))))
    if isinstance(node, ast.Call):
        assert isinstance(node.func, ast.Name)
        name = node.func.id
        args = [_num(_eval(a, env)) for a in node.args]
        out = _call(name, args, node)
        if name in ("min", "max") and _is_float(node, _floats(env)):
            out = float(out)  # the type does not depend on which argument wins
        return _limit(node, out)
    if isinstance(node, ast.UnaryOp):
        v = _eval(node.operand, env)
        if isinstance(node.op, ast.Not):
            return not v
        return -_num(v) if isinstance(node.op, ast.USub) else _num(v)
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
        chosen = _eval(node.body if _eval(node.test, env) else node.orelse, env)
        if _is_float(node, _floats(env)) and type(chosen) is int:
            return float(chosen)  # either branch: one type, as the generated code's division sees
        return chosen
    raise ExprError(f"'{ast.unparse(node)}' is not allowed")  # pragma: no cover


def _floats(env: Mapping[str, object]) -> frozenset[str]:
    return frozenset(k for k, v in env.items() if isinstance(v, float))


def _binop(node: ast.BinOp, a: int | float, b: int | float) -> int | float:
    """One arithmetic step: integers stay integers (``/`` exact), a float makes it float."""
    if isinstance(node.op, ast.Add):
        return a + b
    if isinstance(node.op, ast.Sub):
        return a - b
    if isinstance(node.op, ast.Mult):
        return a * b
    if isinstance(node.op, ast.Pow):
        return _power(node, a, b)
    if b == 0:
        raise ExprError(f"division by zero in {_show(node)} ({_number(a)} / {_number(b)})")
    integer = isinstance(a, int) and isinstance(b, int)
    if isinstance(node.op, ast.Div):
        if not integer:
            return a / b
        if a % b:
            raise ExprError(
                f"{_show(node)} = {a}/{b} is not a whole number (write // to round down)"
            )
        return a // b
    return a % b if isinstance(node.op, ast.Mod) else a // b


def _power(node: ast.BinOp, a: int | float, b: int | float) -> int | float:
    """``a ** b``: of two integers an integer (the exponent at least 0), else a float;
    never a complex number, and never a value beyond :data:`MAX_VALUE`."""
    text, base = _show(node), f"({_number(a)})" if a < 0 else _number(a)
    shown = f"{text} = {base} ** {_number(b)}" if "$" in text else text
    if isinstance(a, int) and isinstance(b, int):
        if b < 0:
            raise ExprError(
                f"{shown}: a power of integers needs an exponent of at least 0 "
                "(write a float base, 2.0 ** -1, for a fraction)"
            )
        if abs(a) > 1 and b * math.log2(abs(a)) > math.log2(MAX_VALUE) + 1:
            raise ExprError(f"{shown} is beyond the limit of {MAX_VALUE:,}")
        return a**b
    if a < 0 and not float(b).is_integer():
        raise ExprError(f"{shown}: a negative number has no real power of a fraction")
    if a == 0 and b < 0:
        raise ExprError(f"division by zero in {shown}")
    try:
        out = float(a) ** b
    except OverflowError:
        raise ExprError(f"{shown} is beyond the limit of {MAX_VALUE:,}") from None
    return out


def _log(args: list[int | float]) -> float:
    """``log(x)`` or ``log(x, base)``, of a positive x in a positive base other than 1."""
    x = args[0]
    if x <= 0:
        raise ExprError(f"log of {_number(x)}: a logarithm needs a number above 0")
    if len(args) == 1:
        return math.log(x)
    base = args[1]
    if base <= 0 or base == 1:
        raise ExprError(f"log in base {_number(base)}: a base is above 0 and not 1")
    return math.log(x, base)


def _call(name: str, args: list[int | float], node: ast.Call) -> int | float:
    if name == "log":
        return _log(args)
    if name == "make_divisible":
        for what, v in zip(("divisor", "min_value"), args[1:]):
            if not isinstance(v, int) or v < 1:
                raise ExprError(
                    f"make_divisible's {what} is a whole number of at least 1, not {_number(v)}"
                )
    func = FUNCTIONS[name][2]
    out = func(*args)
    assert isinstance(out, (int, float))
    return out


def _limit(node: ast.AST, out: int | float) -> int | float:
    if abs(out) > MAX_VALUE:
        raise ExprError(f"{_show(node)} = {_number(out)} is beyond the limit of {MAX_VALUE:,}")
    return out


def _num(v: object) -> int | float:
    if isinstance(v, tuple):
        raise ExprError(
            f"a pair param {v} is no number: a row takes it whole (`kernel: $kernel`), or "
            "the pair's axes are params of their own"
        )
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise ExprError(f"expected a number, got {v!r}")
    return v


def uses_copy(value: object) -> bool:
    """Whether a spec value (text, or a list of them) is an expression reading the copy
    index, ``$copy``; one that does not parse reads nothing (its error is the walk's)."""
    if isinstance(value, list):
        return any(uses_copy(v) for v in value)
    if not is_expr(value):
        return False
    try:
        return COPY in _parse(str(value)).names
    except ExprError:
        return False


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
