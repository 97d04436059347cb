"""Python statements laid out the way ``ruff format`` lays them out (line length 100).

The generated module files must be ``ruff format``-stable without running a
formatter, so the backends build each statement as a small tree — a
:class:`Call` is a bracketed expression with its arguments, anything else is an
atom (text) — and :func:`lines` splits it as ruff (and black) would:

- the statement fits on its line (its trailing comment included): one line;
- else it is split at its last bracket pair: a call's arguments on the next
  line, indented, when they fit there (never a list's or a tuple's elements);
- else one argument per line, each with a trailing comma (laid out the same
  way in turn); a sole argument keeps no comma and is laid out on its own.

A comment inside the brackets (a shape comment on an element) or a magic
trailing comma (``explode``) keeps the brackets split, one element per line.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

#: ruff's line length for this project (pyproject.toml), which the output respects.
LINE_LENGTH = 100


def char_width(ch: str) -> int:
    """Columns a printable character takes, as ruff counts them for the line length."""
    if unicodedata.combining(ch) or unicodedata.category(ch) in ("Mn", "Me"):
        return 0
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def width(text: str) -> int:
    return sum(char_width(ch) for ch in text)


@dataclass(frozen=True)
class Call:
    """``head(arg, …)``; with ``brackets="[]"`` and no head a list, ``"()"`` a tuple."""

    head: str
    args: tuple[Code, ...]
    brackets: str = "()"
    #: a trailing comment per argument ("" for none); any keeps one argument per line
    comments: tuple[str, ...] = ()
    #: a magic trailing comma: one argument per line even when they would fit
    explode: bool = False


Code = str | Call


def flat(expr: Code) -> str:
    """The expression on one line."""
    if isinstance(expr, str):
        return expr
    inner = ", ".join(flat(a) for a in expr.args)
    return f"{expr.head}{expr.brackets[0]}{inner}{expr.brackets[1]}"


def split_kept(expr: Code) -> bool:
    """Whether a comment or a magic trailing comma inside keeps the brackets split."""
    if isinstance(expr, str):
        return False
    return expr.explode or any(expr.comments) or any(split_kept(a) for a in expr.args)


def comment_text(comment: str) -> str:
    return f"  # {comment}" if comment else ""


def lines(
    expr: Code, indent: int, prefix: str = "", suffix: str = "", comment: str = ""
) -> list[str]:
    """``{prefix}{expr}{suffix}  # {comment}`` at ``indent``, as ruff formats it."""
    pad = " " * indent
    end = suffix + comment_text(comment)
    one = f"{pad}{prefix}{flat(expr)}{end}"
    if isinstance(expr, str) and width(one) > LINE_LENGTH and prefix.endswith(("= ", "return ")):
        return _parenthesized(expr, indent, prefix, end)
    if isinstance(expr, str) or not expr.args:
        return [one]
    if not split_kept(expr) and width(one) <= LINE_LENGTH:
        return [one]
    opener, closer = expr.brackets[0], expr.brackets[1]
    head = f"{pad}{prefix}{expr.head}{opener}"
    tail = f"{pad}{closer}{end}"
    inner = indent + 4
    hugged = " " * inner + ", ".join(flat(a) for a in expr.args)
    collection = not expr.head and len(expr.args) > 1  # a list or tuple display
    if not split_kept(expr) and not collection and width(hugged) <= LINE_LENGTH:
        return [head, hugged, tail]
    if len(expr.args) == 1 and not expr.explode and not any(expr.comments):
        return [head, *lines(expr.args[0], inner), tail]
    comments = expr.comments or ("",) * len(expr.args)
    body = [line for a, c in zip(expr.args, comments) for line in lines(a, inner, "", ",", c)]
    return [head, *body, tail]


#: binary operators ruff splits a long expression at, lowest priority first
_OPERATORS = (
    (" or ", " and "),
    (" == ", " != ", " <= ", " >= ", " < ", " > "),
    (" + ", " - "),
    (" * ", " // ", " / ", " % "),
)


def _operands(expr: str) -> list[str] | None:
    """``a and b`` → ``["a", "and b"]``: the expression cut before each top-level operator
    of its lowest priority (None when it has no such operator, or a conditional one)."""
    for ops in _OPERATORS:
        parts, depth, start, i = [], 0, 0, 0
        while i < len(expr):
            ch = expr[i]
            if ch in "([{":
                depth += 1
            elif ch in ")]}":
                depth -= 1
            elif depth == 0 and (expr.startswith(" if ", i) or expr.startswith(" lambda", i)):
                return None
            elif depth == 0 and any(expr.startswith(op, i) for op in ops):
                parts.append(expr[start:i])
                start = i + 1
            i += 1
        if parts:
            return [*parts, expr[start:]]
    return None


def _parenthesized(expr: str, indent: int, prefix: str, end: str) -> list[str]:
    """A long expression without brackets of its own, in parentheses: on one line, or
    one operand a line (``a`` / ``and b``) when that line is still too long."""
    pad = " " * indent
    inner = " " * (indent + 4)
    return [f"{pad}{prefix}(", *(inner + part for part in _split(expr, indent + 4)), f"{pad}){end}"]


def _split(expr: str, indent: int) -> list[str]:
    """``expr`` as lines at ``indent``: whole when it fits, else cut before its operators
    (``a`` / ``or b and c`` / …), an operand still too long cut again the same way."""
    operands = _operands(expr) if indent + width(expr) > LINE_LENGTH else None
    if not operands:
        return [expr]
    return [line for part in operands for line in _split(part, indent)]


def condition_lines(keyword: str, condition: str, indent: int, end: str = ":") -> list[str]:
    """``if cond:`` (or ``name = cond``), in parentheses on their own lines when too long."""
    one = f"{' ' * indent}{keyword}{condition}{end}"
    if width(one) <= LINE_LENGTH:
        return [one]
    return _parenthesized(condition, indent, keyword, end)


def split_args(text: str) -> list[str]:
    """The top-level arguments of a call's argument text (brackets and strings respected)."""
    parts, depth, start, quote = [], 0, 0, ""
    for i, ch in enumerate(text):
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "\"'":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(text[start:i].strip())
            start = i + 1
    parts.append(text[start:].strip())
    return [p for p in parts if p]


def parse_call(text: str) -> Code:
    """``nn.Conv2d(3, 64, kernel_size=3)`` → a :class:`Call` (one level: the arguments
    stay atoms)."""
    text = text.strip()
    head, sep, rest = text.partition("(")
    if not sep or not rest.endswith(")"):
        return text
    return Call(head, tuple(split_args(rest[:-1])))
