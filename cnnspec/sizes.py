"""Which input sizes a checked network accepts (``cnnspec check --sizes``).

The checker resolves a network at the one input size its spec declares. The module it
generates runs at other sizes too, or fails where a window overhangs its input, where an
`add` meets two maps a rounding made unequal, or where an fc after the flatten gets
another number of features. This module walks the resolved nodes once per axis with
every size from 1 to :data:`LIMIT` at a time — each node maps the whole column of its
input's sizes to its output's, by the same formulas the shape rules use (no torch) —
and writes the sizes that reach the output as a rule a person reads: "any H ≥ 32",
"H = 32k, k ≥ 1", "H ≥ 63 and odd", "only H = 224".

One axis is varied at a time, the other held at the spec's declared size: the axes are
independent except through an fc after the flatten, which fixes their product.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from .ir import INPUT, Network, Node
from .kinds.window import _out

#: the sizes tried per axis: 1 … LIMIT
LIMIT = 2048

Column = list[int]  # index n: the size at this point for an input of size n (0: fails)


@dataclass(frozen=True)
class Sizes:
    """The input sizes of one axis (0: H, 1: W) that reach the output, the other axis
    held at ``held``; ``unknown`` names a kind this walk cannot follow (then ``sizes``
    is empty)."""

    axis: int
    held: int
    sizes: tuple[int, ...]
    limit: int
    unknown: str = ""

    @property
    def rule(self) -> str:
        name = "HW"[self.axis]
        if self.unknown:
            return f"not known ({self.unknown} is not analysed)"
        return describe(self.sizes, self.limit, name)


def accepted(net: Network, axis: int, limit: int = LIMIT) -> Sizes:
    """The sizes 1 … ``limit`` of input axis ``axis`` at which ``net`` runs."""
    base = net.input_shape[1 + axis]
    n0 = max(base, 1)
    top = max(limit, n0)
    cols: dict[str, Column] = {INPUT: list(range(top + 1))}
    for node in net.nodes:
        step = _STEPS.get(node.kind)
        ins = [cols[i] for i in node.inputs]
        if step is None:
            step = _identity if _keeps_size(node) else None
        if step is None:
            return Sizes(axis, net.input_shape[2 - axis], (), limit, node.kind)
        cols[node.id] = step(node, ins, axis, n0, cols[INPUT])
    out = cols[net.output]
    _MEMO.clear()
    sizes = tuple(n for n in range(1, limit + 1) if out[n] > 0)
    return Sizes(axis, net.input_shape[2 - axis], sizes, limit)


def report(net: Network, limit: int = LIMIT) -> list[str]:
    """The lines ``check --sizes`` prints: one per axis, or one for a square network
    whose axes follow one rule."""
    if len(net.input_shape) != 3:
        return ["input sizes: the input has no H×W"]
    h, w = accepted(net, 0, limit), accepted(net, 1, limit)
    tried = f"(tried 1–{limit}"
    if net.input_shape[1] == net.input_shape[2] and h.sizes == w.sizes and not h.unknown:
        rule = h.rule.replace("H", "H (and W)", 1)
        return [f"input sizes: {rule} {tried}, the other axis at {h.held})"]
    return [f"input sizes: {s.rule} {tried}, {'WH'[s.axis]} = {s.held})" for s in (h, w)]


# --------------------------------------------------------------------------- the steps


def _keeps_size(node: Node) -> bool:
    """A kind with no step of its own that keeps H×W (an activation, a norm, a merge of
    one shape): its output size is its first input's."""
    i, o = node.input_shape, node.output_shape
    return len(i) == len(o) and (len(i) != 3 or i[1:] == o[1:])


def _identity(node: Node, ins: list[Column], axis: int, n0: int, x: Column) -> Column:
    return ins[0]


def _window(node: Node, ins: list[Column], axis: int, n0: int, x: Column) -> Column:
    if node.padding_same:  # PyTorch's padding='same' keeps every size
        return ins[0]
    assert node.kernel is not None and node.stride is not None and node.padding is not None
    k, s, p = node.kernel[axis], node.stride[axis], node.padding[axis]
    d = node.dilation[axis] if node.dilation else 1
    if s == 1 and 2 * p == d * (k - 1):  # a 1×1 or a padded 3×3 at stride 1 keeps the size
        return ins[0]
    return _windowed(ins[0], k, s, p, d, bool(node.ceil_mode))


#: the columns the windows made, by (input column's id, kernel, stride, padding,
#: dilation, ceil): a network repeats its windows (every block's stride-2 conv and its
#: projection read one column), and each is computed once per walk
_MEMO: dict[tuple, tuple[Column, Column]] = {}


def _windowed(col: Column, k: int, s: int, p: int, d: int, ceil: bool) -> Column:
    key = (id(col), k, s, p, d, ceil)
    hit = _MEMO.get(key)
    if hit is not None and hit[0] is col:
        return hit[1]
    if ceil:
        out = [_out(n, k, s, p, d, True, 0) or 0 if n > 0 else 0 for n in col]
    else:
        span = 2 * p - d * (k - 1) - 1
        out = [(n + span) // s + 1 if n > 0 and n + span >= 0 else 0 for n in col]
    _MEMO[key] = (col, out)
    return out


def _deconv(node: Node, ins: list[Column], axis: int, n0: int, x: Column) -> Column:
    assert node.kernel is not None and node.stride is not None and node.padding is not None
    k, s, p = node.kernel[axis], node.stride[axis], node.padding[axis]
    d = node.dilation[axis] if node.dilation else 1
    op = node.output_padding[axis] if node.output_padding else 0
    grow = d * (k - 1) + op + 1 - 2 * p
    return [max((n - 1) * s + grow, 0) if n > 0 else 0 for n in ins[0]]


def _adaptive(node: Node, ins: list[Column], axis: int, n0: int, x: Column) -> Column:
    assert node.target is not None
    t = node.target[axis]
    return [t if n > 0 else 0 for n in ins[0]]


def _upsample(node: Node, ins: list[Column], axis: int, n0: int, x: Column) -> Column:
    if node.like is not None:  # the size of its second input
        return [m if n > 0 else 0 for n, m in zip(ins[0], ins[1])]
    if node.functional:  # `size: input`: the network's input
        return [m if n > 0 else 0 for n, m in zip(ins[0], x)]
    if node.target is not None:
        t = node.target[axis]
        return [t if n > 0 else 0 for n in ins[0]]
    assert node.scale is not None
    return [math.floor(n * node.scale) if n > 0 else 0 for n in ins[0]]


def _add(node: Node, ins: list[Column], axis: int, n0: int, x: Column) -> Column:
    first, *rest = ins
    if all(c == first for c in rest):  # a residual block's two paths, most often
        return first
    out = first
    for c in rest:
        out = [a if a > 0 and a == b else 0 for a, b in zip(out, c)]
    return out


def _mul(node: Node, ins: list[Column], axis: int, n0: int, x: Column) -> Column:
    """Broadcast: the inputs' sizes equal, or 1."""
    out = ins[0]
    for c in ins[1:]:
        out = [
            (a if b in (1, a) else b if a == 1 else 0) if a > 0 and b > 0 else 0
            for a, b in zip(out, c)
        ]
    return out


def _concat(node: Node, ins: list[Column], axis: int, n0: int, x: Column) -> Column:
    if node.crop != "center":
        return _add(node, ins, axis, n0, x)
    *others, last = ins
    return [n if n > 0 and all(c[i] >= n for c in others) else 0 for i, n in enumerate(last)]


def _flat(node: Node, ins: list[Column], axis: int, n0: int, x: Column) -> Column:
    """After the flatten, a column holds the axis's size still: an fc (its in-features
    fixed) accepts the sizes where it equals the declared input's, and gives 1."""
    if node.kind == "flatten" or len(node.input_shape) != 1:
        return ins[0]
    ref = ins[0][n0]
    return [1 if n == ref and n > 0 else 0 for n in ins[0]]


def _spp(node: Node, ins: list[Column], axis: int, n0: int, x: Column) -> Column:
    """A pyramid gives one fixed-length vector from any input at least as large as its
    largest level (an fc after it then accepts every such size)."""
    assert node.levels is not None
    top = max(node.levels)
    return [1 if n >= top else 0 for n in ins[0]]


def _reshape(node: Node, ins: list[Column], axis: int, n0: int, x: Column) -> Column:
    """A vector read as maps×H×W: the declared H (W) wherever the vector arrives."""
    assert node.reshape is not None
    t = node.reshape[1 + axis]
    return [t if n > 0 else 0 for n in ins[0]]


Step = Callable[[Node, list[Column], int, int, Column], Column]

_STEPS: dict[str, Step] = {
    "conv": _window,
    "maxpool": _window,
    "avgpool": _window,
    "deconv": _deconv,
    "adaptive_avgpool": _adaptive,
    "adaptive_maxpool": _adaptive,
    "spp": _spp,
    "reshape": _reshape,
    "upsample": _upsample,
    "add": _add,
    "mul": _mul,
    "concat": _concat,
    "flatten": _flat,
    "fc": _flat,
    "permute": _identity,  # the axis keeps its size wherever the layout puts it
}


# --------------------------------------------------------------------------- the rule


def _periodic(sizes: tuple[int, ...], limit: int, m: int) -> tuple[int, list[int]] | None:
    """The smallest ``a`` from which membership repeats with period ``m`` up to the limit,
    and the residues mod ``m`` of the sizes from ``a`` on (None: no period ``m`` holds
    over at least two periods)."""
    if sizes[-1] <= limit - m:  # a period holds to the limit: a size in its last period
        return None
    have = bytearray(limit + 1)
    for v in sizes:
        have[v] = 1
    a = limit - m
    while a >= 1 and have[a] == have[a + m]:
        a -= 1
    a += 1
    while a <= limit and not have[a]:
        a += 1
    if limit - a + 1 < 2 * m:
        return None
    return a, sorted({v % m for v in range(a, a + m) if have[v]})


def _terms(m: int, residues: list[int]) -> str:
    return " or ".join(f"{m}k" + (f" + {r}" if r else "") for r in residues)


def _listed(values: list[int], name: str) -> str:
    if len(values) <= 8:
        return f"{name} = " + ", ".join(str(v) for v in values)
    runs: list[tuple[int, int]] = []
    for v in values:
        if runs and runs[-1][1] == v - 1:
            runs[-1] = (runs[-1][0], v)
        else:
            runs.append((v, v))
    text = ", ".join(f"{a}–{b}" if a != b else str(a) for a, b in runs[:6])
    return f"{name} in {text}{', …' if len(runs) > 6 else ''}"


def describe(sizes: tuple[int, ...], limit: int, name: str = "H") -> str:
    """A rule a person reads for a set of sizes in 1 … ``limit``."""
    if not sizes:
        return f"no {name} in 1–{limit}"
    if len(sizes) == 1:
        return f"only {name} = {sizes[0]}"
    best: tuple[int, int, int, list[int]] | None = None  # (sizes below the tail, m, a, residues)
    for m in range(1, 257):
        found = _periodic(sizes, limit, m)
        if found is None:
            continue
        a, residues = found
        extra = sum(1 for v in sizes if v < a)
        if best is None or extra < best[0]:
            best = (extra, m, a, residues)
        if extra == 0:
            break
    if best is None or best[0] > 8:
        return _listed(list(sizes), name)
    extra, m, a, residues = best
    if m == 1:
        rule = f"any {name} ≥ {a}"
    elif m == 2 and len(residues) == 1:
        rule = f"{name} ≥ {a} and {'odd' if residues[0] else 'even'}"
    elif len(residues) == 1:
        r = residues[0]
        rule = f"{name} = {_terms(m, residues)}, k ≥ {(a - r) // m}"
    else:
        rule = f"{name} = {_terms(m, residues)} (k ≥ 0), {name} ≥ {a}"
    if extra:
        rule += ", or " + _listed([v for v in sizes if v < a], name)
    return rule
