"""The instances of a block merged into one class, or the reason they cannot be.

cnnspec writes one class per block. Each instance's walk gives the class's rows as
that instance has them; the merge keeps what every instance agrees on, keeps a
row's condition where only some instances have it, and chooses, where instances
write one value two ways, the expression that gives every instance its own value.
Where they truly differ, the block is reported (``[block-varies]``).
"""

from __future__ import annotations

from typing import Any

from ... import expr as ex
from ...diagnostics import Diagnostic
from ...frozen import evolve
from ...ir import INPUT, BlockDecl, Member
from ...kinds import HYPER
from .maps import dollar

#: one row of one walk: the member, whether this walk has it, its condition
Walked = tuple[Member, bool, str | None]


def merge_members(
    decl: BlockDecl,
    runs: list[list[Walked]],
    problems: list[Diagnostic],
    refused: list[tuple[str, str]] | None = None,
) -> tuple[Member, ...] | None:
    """The class's members, merged from every instance's (None: reported in ``problems``;
    ``refused`` gets the rows no instance has that cannot be written, see ClassDef)."""
    refused = [] if refused is None else refused
    first = runs[0]
    if any(
        len(r) != len(first) or [m.name for m, _, _ in r] != [m.name for m, _, _ in first]
        for r in runs
    ):
        problems.append(
            Diagnostic(
                "error",
                f"the instances of block '{decl.name}' have different rows (a `repeat` or a "
                "condition that changes the block's structure); cnnspec writes one class per "
                "block",
                "block-varies",
                decl.pos,
            )
        )
        return None
    merged: list[tuple[Member, bool, str | None]] = []
    #: the block's conditions: a value may differ between instances through one of them
    conds = tuple(dict.fromkeys(c for _, _, c in first if c))
    for i, (member, _, cond) in enumerate(first):
        states = [r[i][1] for r in runs]
        present = [r[i][0] for r in runs if r[i][1]]
        if not present and cond is not None and all(r[i][0].node is not None for r in runs):
            # no instance has it, but it resolves as if its condition held: the class has
            # it under its condition, as its signature promises
            present = [r[i][0] for r in runs]
        if not present:  # no instance has it: no code (its readers read its input)
            if cond is not None:  # and where its condition holds, the class refuses
                refused.append((cond, member.name))
            merged.append((member, False, None))
            continue
        try:
            chosen = merge_column(present, conds, refused, cond)
        except Varies as exc:
            problems.append(
                Diagnostic(
                    "error",
                    f"row '{exc.name or member.name}' of block '{decl.name}' differs between "
                    f"instances ({exc}); write it with the block's params",
                    "block-varies",
                    decl.pos,
                )
            )
            return None
        # a row written with `if:` keeps its condition in the class, even where every
        # instance has it: the class reads like the block (torchvision's `if bn:`)
        merged.append((chosen, all(states) and cond is None, cond))
    return finish(merged)


def finish(merged: list[tuple[Member, bool, str | None]]) -> tuple[Member, ...]:
    """Drop rows no instance has (their readers read their input), attach conditions."""
    gone: dict[str, str] = {}
    out = []
    for member, always, cond in merged:
        if not always and cond is None:  # no instance has it: no code
            gone[member.name] = member.inputs[0] if member.inputs else INPUT
            continue
        inputs = tuple(follow(n, gone) for n in member.inputs)
        out.append(evolve(member, inputs=inputs, cond=None if always else cond))
    return tuple(out)


def follow(name: str, gone: dict[str, str]) -> str:
    """What ``name`` stands for once the rows in ``gone`` (name → its input) are left out."""
    while name in gone:
        name = gone[name]
    return name


def passthrough(name: str, walked: list[Walked], kept: tuple[Member, ...]) -> str:
    """The member a class returns: the block's last row, or — where no instance has that
    row — what it passes on (its first input), and so on."""
    names = {m.name for m in kept}
    inputs = {m.name: m.inputs for m, _, _ in walked}
    while name != INPUT and name not in names and inputs.get(name):
        name = inputs[name][0]
    return name


def all_children(members: list[Walked]) -> tuple[Member, ...]:
    """A container's children as walked in one instance: absent ones kept (and marked),
    so that instances can be merged child by child."""
    return tuple(evolve(m, cond=cond, present=present) for m, present, cond in members)


# --------------------------------------------------------------------------- one row


class Varies(ValueError):
    def __init__(self, message: str, name: str | None = None) -> None:
        super().__init__(message)
        self.name = name


def _normal(m: Member) -> Member:
    """What must agree between instances, children aside: no shape comment, no presence."""
    return evolve(m, shape="", cond=None, present=True, children=())


def _normal_key(m: Member) -> tuple:
    """What ``_normal(m) == _normal(other)`` compares, without building the copies: every
    compared field of Member but shape, cond, present and children."""
    return (
        m.name,
        m.kind,
        m.inputs,
        m.node,
        m.block,
        m.args,
        m.copies,
        m.repeat,
        m.loop,
        m.named,
        m.module,
        m.taps,
    )


def merge_column(
    column: list[Member],
    conds: tuple[str, ...] = (),
    refused: list[tuple[str, str]] | None = None,
    within: str | None = None,
) -> Member:
    """One row as every instance that has it walked it → the row of the class.

    Shape comments that differ become generic; a container's children present in every
    instance lose their condition, those present in some keep it, the others go. A value
    may be chosen by one of the block's conditions ``conds`` (see :func:`_reconcile`).
    A child no instance has that cannot be written goes to ``refused`` with its
    condition (and the row's, ``within``)."""
    column = _reconcile(column, conds)
    chosen = column[0]
    key = _normal_key(chosen)
    for other in column[1:]:
        if other is not chosen and _normal_key(other) != key:
            raise Varies(_difference(_normal(chosen), _normal(other)), chosen.name)
        if [c.name for c in other.children] != [c.name for c in chosen.children]:
            raise Varies("its rows", chosen.name)
    shape = chosen.shape
    if any(m.shape != shape for m in column):
        shape = _vary_shape(shape)
    children = []
    for j in range(len(chosen.children)):
        kids = [m.children[j] for m in column]
        present = [k for k in kids if k.present]
        if not present and kids[0].cond and all(k.node is not None for k in kids):
            present = kids  # as in a block's own rows: kept under its condition
        cond = kids[0].cond
        if cond and within:
            cond = f"({within}) and ({cond})"
        if not present:
            if cond and refused is not None:
                refused.append((cond, f"{chosen.name}.{kids[0].name}"))
            continue
        try:
            merged = merge_column(present, conds, refused, cond or within)
        except Varies as exc:
            raise Varies(str(exc), f"{chosen.name}.{exc.name}") from None
        children.append(evolve(merged, cond=kids[0].cond, present=True))
    return evolve(chosen, shape=shape, children=tuple(children))


def _vary_shape(text: str) -> str:
    maps, _, _ = text.partition("×")
    return f"{maps}×…" if "×" in text else text


def _difference(a: Member, b: Member) -> str:
    if a.node is not None and b.node is not None:
        for k in HYPER:
            x, y = getattr(a.node, k), getattr(b.node, k)
            if x != y:
                return f"{k} {_show(x)} here, {_show(y)} there"
    if a.args != b.args or a.copies != b.copies:
        return "its arguments"
    return "its shape"


def _show(v: Any) -> str:
    if isinstance(v, tuple) and len(v) == 2 and v[0] == v[1]:
        return str(v[0])
    return str(v)


# --------------------------------------------------------------------------- one value, two ways


def _agrees(value: Any, env: dict, actual: Any) -> bool:
    """Does a class's value (a literal, an expression, a pair of them) give ``actual``
    in an instance whose params are ``env``?"""
    if isinstance(value, tuple):
        return isinstance(actual, tuple) and all(_agrees(v, env, a) for v, a in zip(value, actual))
    if isinstance(value, ex.Sym):
        try:
            return ex.parse(dollar(value)).evaluate(env) == actual
        except (ex.ExprError, SyntaxError):
            return False
    return value == actual


def _either(a: Any, b: Any, cond: str) -> Any:
    """``a if cond else b`` as a class's value (pairs element by element)."""
    if isinstance(a, tuple) and isinstance(b, tuple) and len(a) == len(b):
        return tuple(x if x == y else _either(x, y, cond) for x, y in zip(a, b))
    a, b, cond = (f"({v})" if " if " in str(v) else str(v) for v in (a, b, cond))
    return ex.Sym(f"{a} if {cond} else {b}")


def _candidates(values: set, conds: tuple[str, ...]) -> list[Any]:
    """The values a class may write for a field its instances resolve to ``values``: one
    of them, or — where a row before it exists only under a condition (its maps are
    in_maps where the row is absent, the row's where present) — two chosen by one."""
    ordered = sorted(values, key=str)
    pairs = [(a, b) for a in ordered for b in ordered if a != b and None not in (a, b)]
    return ordered + [_either(a, b, c) for c in conds for a, b in pairs]


def _reconcile(column: list[Member], conds: tuple[str, ...] = ()) -> list[Member]:
    """Instances may write one value two ways (``in_maps`` where t = 1, ``t * in_maps``
    where t = 6): keep the expression that gives every instance its real value."""
    column = _reconcile_args(column)
    nodes = [m.node for m in column]
    if any(n is None for n in nodes) or any(m.actual is None for m in column):
        return column
    fixed: dict[str, Any] = {}
    distinct = list({id(n): n for n in nodes}.values())  # instances often share one Node
    if len(distinct) < 2:
        return column
    for name in HYPER:
        values = {getattr(n, name) for n in distinct}
        if len(values) < 2:
            continue
        for candidate in _candidates(values, conds):
            if all(_agrees(candidate, dict(m.env), getattr(m.actual, name)) for m in column):
                fixed[name] = candidate
                break
    if not fixed:
        return column
    return [evolve(m, node=evolve(m.node, **fixed)) for m in column]


def _value_of(text: str, env: dict) -> Any:
    """A constructor argument's value in an instance (``stride=s`` → the value of s)."""
    body = text.split("=", 1)[1] if "=" in text and "==" not in text else text
    try:
        return ex.parse(dollar(body)).evaluate(env)
    except (ex.ExprError, SyntaxError):
        return None


def _pick(texts: list[str], envs: list[dict]) -> str | None:
    """The argument text that gives every instance the value its own text gives it."""
    wanted = [_value_of(t, e) for t, e in zip(texts, envs)]
    for candidate in sorted(set(texts)):
        if all(_value_of(candidate, e) == v for e, v in zip(envs, wanted)):
            return candidate
    return None


def _reconcile_args(column: list[Member]) -> list[Member]:
    """Block calls whose argument texts differ between instances, as node fields may."""
    if len(column) < 2 or column[0].block is None:
        return column
    envs = [dict(m.env) for m in column]
    lists = [[m.args, *(a for _, a in m.copies)] for m in column]
    if any(len(x) != len(lists[0]) or list(map(len, x)) != list(map(len, lists[0])) for x in lists):
        return column
    fixed = []
    for i in range(len(lists[0])):
        args = []
        for j in range(len(lists[0][i])):
            texts = [x[i][j] for x in lists]
            if len(set(texts)) == 1:
                args.append(texts[0])
                continue
            if len({t.split("=", 1)[0] if "=" in t else "" for t in texts}) != 1:
                return column
            chosen = _pick(texts, envs)
            if chosen is None:
                return column
            args.append(chosen)
        fixed.append(tuple(args))
    out = []
    for m in column:
        copies = tuple((name, a) for (name, _), a in zip(m.copies, fixed[1:]))
        out.append(evolve(m, args=fixed[0], copies=copies))
    return out
