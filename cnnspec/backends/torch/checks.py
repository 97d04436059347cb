"""Names and expressions become code: the IR's are checked before they are written.

The schema has made sure already; these checks make sure no name that is not an
identifier, and no expression that is more than arithmetic over the class's own
arguments, can reach the generated source whatever built the IR.
"""

from __future__ import annotations

import ast
import dataclasses
import keyword
import re

from ... import expr as ex
from ...expr import FUNCTIONS, Sym
from ...ir import Member, Network
from .errors import RenderError
from .maps import RUNNING
from .writer import RESERVED

#: what an expression of a block may hold: arithmetic, comparisons and logic over names
_EXPR_NODES = (
    ast.Expression,
    ast.Tuple,  # a pair param's value, (1, 7)
    ast.BinOp,
    ast.UnaryOp,
    ast.BoolOp,
    ast.Compare,
    ast.IfExp,
    ast.Constant,
    ast.Name,
    ast.Call,
    ast.operator,
    ast.unaryop,
    ast.boolop,
    ast.cmpop,
    ast.expr_context,
)


#: the functions an expression may call, as the generated code writes them
_CALLS = frozenset(target for *_, target in FUNCTIONS.values())


def _callee(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
        return f"{node.value.id}.{node.attr}"
    return ""


def _check_expr(text: str, names: set[str], what: str) -> None:
    """An expression from the IR becomes code: arithmetic over the class's params only,
    and calls of the expression functions."""
    try:
        tree = ast.parse(str(text).strip(), mode="eval")
    except SyntaxError:
        raise RenderError(f"internal error: {what} {text!r} is not an expression") from None
    callees: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            if _callee(node.func) not in _CALLS or node.keywords:
                raise RenderError(f"internal error: {what} {text!r} calls {_callee(node.func)!r}")
            callees.update(id(n) for n in ast.walk(node.func))
    for node in ast.walk(tree):
        if id(node) in callees:
            continue
        if not isinstance(node, _EXPR_NODES):
            raise RenderError(f"internal error: {what} {text!r} holds {type(node).__name__}")
        if isinstance(node, ast.Name) and node.id not in names:
            raise RenderError(f"internal error: {what} {text!r} reads {node.id!r}")
        if isinstance(node, ast.Constant) and not isinstance(node.value, (int, float)):
            raise RenderError(f"internal error: {what} {text!r} holds {node.value!r}")


def _check_args(args: tuple[str, ...], names: set[str], what: str) -> None:
    for text in args:
        key, sep, value = str(text).partition("=")
        if sep and key.strip().isidentifier() and not value.startswith("="):
            _check_identifier(key.strip())
            text = value
        _check_expr(text, names, what)


def _check_identifier(name: object) -> None:
    if not (isinstance(name, str) and name.isidentifier() and name.isascii()):
        raise RenderError(f"internal error: {name!r} is not an identifier")
    if keyword.iskeyword(name):
        raise RenderError(f"internal error: {name!r} is a Python keyword")


def _check_copy(name: str) -> None:
    """A copy's name is a key in a string literal: letters, digits, ``_`` and ``-``."""
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_-]*", name) or keyword.iskeyword(name):
        raise RenderError(f"internal error: {name!r} is not a copy name")


def _check_member(member: Member, names: set[str]) -> None:
    _check_identifier(member.name)
    if member.cond is not None:
        _check_expr(member.cond, names, "condition")
    if member.repeat is not None:
        _check_expr(member.repeat, names, "repeat count")
    if member.loop is not None:
        _check_expr(member.loop[0], names, "maps")
        _check_expr(member.loop[1], names | {RUNNING}, "maps")
    if member.block is not None:
        _check_identifier(member.block)
    _check_args(member.args, names, "argument")
    running = names | {RUNNING} if member.loop is not None else names
    for k, (copy, args) in enumerate(member.copies):
        # the loop's copies may read its variable, the copy's index
        reads = running | {ex.COPY} if k and member.indexed and member.repeat else running
        if copy is not None:  # a name, or the `names:` pattern of a loop's copies
            _check_copy(copy.replace("{i}", "1").replace("{i0}", "0") if member.repeat else copy)
        _check_args(args, reads, "argument")
    if member.node is not None:
        for field in dataclasses.fields(member.node):
            value = getattr(member.node, field.name)
            for item in value if isinstance(value, tuple) else (value,):
                if isinstance(item, Sym):
                    _check_expr(item, names, f"{member.name}.{field.name}")
    for kid in member.children:
        _check_member(kid, names)


def check_names(net: Network) -> None:
    """Names become code: accept only identifiers (the schema has already made sure),
    and, in a graph, expressions that read nothing but the class's arguments."""
    from ...spec.values import GENERATED_GLOBALS

    for name in (net.name, *(node.name for node in net.nodes)):
        _check_identifier(name)
    if net.name in GENERATED_GLOBALS:
        raise RenderError(f"internal error: a class named {net.name!r} would not run")
    classes = {c.name for c in net.classes}
    for cls in net.classes:
        _check_identifier(cls.name)
        params = {p.name for p in cls.params}
        for p in cls.params:
            _check_identifier(p.name)
            if p.name in RESERVED or p.name in classes:
                raise RenderError(f"internal error: param {p.name!r} of {cls.name} shadows a name")
            if p.default is not None:
                _check_expr(p.default, set(), "default")
            if p.type not in ("int", "bool", "float", "pair"):
                raise RenderError(f"internal error: param {p.name!r} has type {p.type!r}")
        names = params | ({"in_maps"} if cls.takes_in_maps else set())
        for member in cls.members:
            _check_member(member, names)
