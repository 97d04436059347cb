"""A tensor's maps as a Python expression over a generated class's arguments.

Inside a block class the maps of a tensor are known only as a formula over the
class's constructor arguments: ``in_maps``, ``planes * 4``, ``in_maps + 2 * growth``.
These helpers build those formulas: a sum of several, and the substitution of an
instance's arguments into the formula its block returns.
"""

from __future__ import annotations

import ast
import functools
from typing import Any

from ... import expr as ex

#: maps as they travel through a lowering: a number, or Python text
Maps = str | int


def sum_maps(syms: list[Maps]) -> Maps:
    """The maps of a concatenation: the sum of its inputs'."""
    if all(isinstance(s, int) for s in syms):
        return sum(syms)  # type: ignore[arg-type]
    parts = []
    for s in syms:
        text = str(s)
        parts.append(f"({text})" if any(w in text for w in (" if ", " or ", " and ")) else text)
    return " + ".join(parts)


def part_maps(sym: Maps, parts: Maps) -> Maps:
    """The maps of one of ``parts`` equal parts (a split): ``in_maps // 2``."""
    if isinstance(sym, int) and isinstance(parts, int):
        return sym // parts
    return f"{paren(sym)} // {paren(parts)}"


def paren(sym: Maps) -> str:
    text = str(sym)
    return f"({text})" if " " in text else text


def as_value(value: Maps) -> Any:
    """A number as it is; text as an expression a template prints as it is."""
    return value if isinstance(value, int) else ex.Sym(value)


def subst(sym: Maps, mapping: dict[str, Maps]) -> Maps:
    """``planes * 4`` with planes → ``64`` becomes ``256``; with planes → ``w`` ``w * 4``."""
    if isinstance(sym, int):
        return sym
    # The answer depends on whether every argument is a literal (then the maps are a
    # number) and on the arguments ``sym`` reads: memoized on just those.
    literal = all(isinstance(v, int) or _is_literal(str(v)) for v in mapping.values())
    used = tuple((n, mapping[n]) for n in _names_in(sym) if n in mapping)
    return _subst_used(sym, literal, used)


@functools.lru_cache(maxsize=4096)
def _is_literal(text: str) -> bool:
    try:
        ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return False
    return True


@functools.lru_cache(maxsize=4096)
def _names_in(sym: str) -> tuple[str, ...]:
    """The names ``sym`` reads, in order."""
    names: list[str] = []
    for n in ast.walk(ast.parse(sym, mode="eval")):
        if isinstance(n, ast.Name) and n.id not in names:
            names.append(n.id)
    return tuple(names)


@functools.lru_cache(maxsize=4096)
def _subst_used(sym: str, literal: bool, used: tuple) -> Maps:
    values = dict(used)
    if literal:  # every argument is a literal: the maps are a number
        env = {k: v if isinstance(v, int) else ast.literal_eval(str(v)) for k, v in used}
        try:
            result = ex.parse(dollar(sym)).evaluate(env)
            if isinstance(result, int) and not isinstance(result, bool):
                return result
        except ex.ExprError:
            pass
    tree = _Sub(values).visit(ast.parse(sym, mode="eval"))
    return _collected(tree) or ast.unparse(tree)


def _collected(tree: ast.Expression) -> str | None:
    """A sum that names one term twice, with like terms collected: ``in_maps + growth +
    growth`` → ``in_maps + 2 * growth``; None for any other expression (written as it is).

    A dense block's maps are its input's plus ``growth`` per layer: without this the
    expression, and the time to substitute into it, grow with every layer (and Python's
    parser gives up on the nesting past about a thousand)."""
    terms: list[ast.AST] = []
    stack = [tree.body]
    while stack:
        n = stack.pop()
        if isinstance(n, ast.BinOp) and isinstance(n.op, ast.Add):
            stack += (n.right, n.left)
        else:
            terms.append(n)
    coefficients: dict[str, int] = {}  # name → how many; "" for the constant
    for t in terms:
        name, k = _term(t)
        if name is None:
            return None
        coefficients[name] = coefficients.get(name, 0) + k
    if len(coefficients) == len(terms):
        return None  # nothing to collect
    parts = []
    for name, k in coefficients.items():
        parts.append(str(k) if name == "" else name if k == 1 else f"{k} * {name}")
    return " + ".join(parts)


def _term(t: ast.AST) -> tuple[str | None, int]:
    """(name, coefficient) of ``name``, ``k * name``, ``name * k`` or ``k`` (name "")."""
    if isinstance(t, ast.Name):
        return t.id, 1
    if isinstance(t, ast.Constant) and type(t.value) is int and t.value >= 0:
        return "", t.value
    if isinstance(t, ast.BinOp) and isinstance(t.op, ast.Mult):
        a, b = t.left, t.right
        if isinstance(a, ast.Name):
            a, b = b, a
        if isinstance(b, ast.Name) and isinstance(a, ast.Constant) and type(a.value) is int:
            if a.value > 0:
                return b.id, a.value
    return None, 0


class _Sub(ast.NodeTransformer):
    """Names → the (parenthesised) text they stand for."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.values = values

    def visit_Name(self, node: ast.Name) -> ast.AST:
        if node.id in self.values:
            return ast.parse(f"({self.values[node.id]})", mode="eval").body
        return node


@functools.lru_cache(maxsize=4096)
def dollar(python: str) -> str:
    """Python text over plain names → the evaluator's ``$name`` form (``math.ceil(n * d)``
    → ``ceil($n * $d)``)."""
    tree = ast.parse(python, mode="eval")
    calls = set()
    for n in ast.walk(tree):
        if isinstance(n, ast.Call):
            if isinstance(n.func, ast.Attribute):
                n.func = ast.Name(n.func.attr, ast.Load())
            calls.add(id(n.func))
    for n in ast.walk(tree):
        if isinstance(n, ast.Name) and n.id != ex.IN_MAPS and id(n) not in calls:
            n.id = "$" + n.id
    return ast.unparse(tree)


#: in a loop over the copies of a repeated block: the maps the next copy reads
RUNNING = "_copy_maps"


class _Identities(ast.NodeTransformer):
    """``1 * x``, ``x * 1``, ``x // 1``, ``x + 0``, ``0 + x``, ``x - 0`` → ``x``: exact for
    integers, so a rule such as ``1 * maps`` (a width factor of 1) reads as keeping them."""

    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
        self.generic_visit(node)
        one = {ast.Mult: (1, 1), ast.FloorDiv: (None, 1), ast.Add: (0, 0), ast.Sub: (None, 0)}
        left_id, right_id = one.get(type(node.op), (None, None))
        if _is_const(node.right, right_id):
            return node.left
        if _is_const(node.left, left_id):
            return node.right
        return node


def _is_const(node: ast.AST, value: int | None) -> bool:
    return value is not None and isinstance(node, ast.Constant) and node.value == value


def _without_identities(sym: Maps) -> Maps:
    if isinstance(sym, int):
        return sym
    before = ast.parse(sym, mode="eval")
    tree = _Identities().visit(ast.parse(sym, mode="eval"))
    if ast.dump(tree) == ast.dump(before):  # nothing to drop: the text as it was written
        return sym
    body = tree.body
    if isinstance(body, ast.Constant) and isinstance(body.value, int):
        return body.value
    return ast.unparse(tree)


def repeated_maps(first: Maps, step: Maps, count: str) -> Maps | None:
    """The maps after ``count`` copies, the first giving ``first`` and each other turning
    the :data:`RUNNING` maps into ``step``: ``first`` when ``step`` keeps them, the
    others' when it ignores them, ``first + (count - 1) * d`` when it adds ``d`` to them
    (a dense block); None for any other rule (no closed form to write)."""
    step = _without_identities(step)
    if str(subst(step, {RUNNING: first})) == str(first):
        return first
    if isinstance(step, int) or RUNNING not in _names_in(step):
        return f"{paren(step)} if {count} > 1 else {paren(first)}"
    tree = ast.parse(step, mode="eval")
    terms: list[ast.AST] = []
    stack = [tree.body]
    while stack:
        n = stack.pop()
        if isinstance(n, ast.BinOp) and isinstance(n.op, ast.Add):
            stack += (n.right, n.left)
        else:
            terms.append(n)
    others = [t for t in terms if not (isinstance(t, ast.Name) and t.id == RUNNING)]
    if len(others) != len(terms) - 1:
        return None
    rest = [ast.unparse(t) for t in others]
    if any(RUNNING in _names_in(r) for r in rest):
        return None
    added = sum_maps([int(r) if r.isdigit() else r for r in rest])
    return sum_maps([first, f"({count} - 1) * {paren(added)}"])
