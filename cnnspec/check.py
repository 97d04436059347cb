"""Stage 3: :class:`Spec` → :class:`Network`, the checked IR.

The checker walks the rows in order carrying one piece of state — the shape
of the tensor so far — and applies one *shape rule* per layer type. A rule
resolves the row (infers padding, computes in-features), checks what the row
declares against the output-size formula, and reports every disagreement
with the arithmetic spelled out. All problems are collected; after a size
mismatch the walk goes on with the size PyTorch computes (so one wrong size is
one diagnostic), and after an error that leaves no output size, with none.

The output-size formula, per axis (PyTorch's, and the textbook's ``(W − F + 2P)/S + 1``
when D = 1)::

    out = floor((W + 2P − D·(F − 1) − 1) / S) + 1
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from .diagnostics import Diagnostic, Pos, SpecError
from .ir import Network, Node
from .load import Document
from .schema import FC, MAX_EXTENT, Conv, Spec

#: Most rows after `repeat` expansion.
MAX_ROWS = 100_000

SPATIAL = frozenset({"conv", "maxpool", "avgpool", "adaptive_avgpool", "adaptive_maxpool"})


# --------------------------------------------------------------------------- arithmetic


@dataclass(frozen=True)
class Axis:
    """One axis of a sliding window: input extent W, kernel F, stride S, padding P, dilation D.

    ``extra`` is padding after the input only: PyTorch's ``padding='same'`` with an even
    effective kernel pads ``D·(F − 1) // 2`` before and one more after."""

    w: int
    f: int
    s: int
    p: int
    d: int = 1
    ceil: bool = False
    extra: int = 0

    @property
    def span(self) -> int:
        return self.w + 2 * self.p + self.extra - self.d * (self.f - 1) - 1

    @property
    def rounded_up(self) -> int:
        """``ceil(span / S) + 1``, before PyTorch drops a window that starts past the input."""
        return -(-self.span // self.s) + 1

    @property
    def out(self) -> int | None:
        """PyTorch's output size, or None when it is below 1 (the kernel overhangs the input).

        In ceil mode this is ATen's ``pooling_output_shape``: round up, but the last
        window must start inside the input or its left padding."""
        n = self.span
        if not self.ceil:
            out = n // self.s + 1
        else:
            out = self.rounded_up
            if (out - 1) * self.s >= self.w + self.p:
                out -= 1
        return out if out >= 1 else None

    @property
    def exact(self) -> bool:
        return self.span % self.s == 0

    @property
    def lost(self) -> int:
        """How many input pixels at the end of the axis no window reaches.

        The last window starts at ``(out − 1)·S − P`` and its last tap is ``D·(F − 1)``
        further on; whatever lies beyond it is dropped. Only input pixels count: when
        the dropped part is padding alone, nothing of the input is lost."""
        out = self.out
        if out is None:
            return 0
        last = (out - 1) * self.s - self.p + self.d * (self.f - 1)
        return max(0, self.w - 1 - last)

    def formula(self, padding: str | None = None) -> str:
        """The output-size formula with this axis's numbers (``padding`` replaces P's value)."""
        p = self.p if padding is None else padding
        extra = f" + {self.extra}" if self.extra else ""
        if self.d == 1:
            body = f"{self.w} − {self.f} + 2·{p}{extra}"
        else:
            body = f"{self.w} + 2·{p}{extra} − {self.d}·({self.f} − 1) − 1"
        if self.ceil:
            return f"ceil(({body})/{self.s}) + 1"
        return f"({body})/{self.s} + 1"

    def value(self) -> str:
        """The formula's exact value before PyTorch rounds it: ``23``, ``111.5``, ``31/3``.

        In ceil mode, the rounded-up value, and what PyTorch makes of it when the last
        window would start past the input."""
        if self.ceil:
            up, out = self.rounded_up, self.out
            if out is not None and out != up:
                return (
                    f"{out} (not {up}: PyTorch drops a last window that would start past the input)"
                )
            return str(up)
        return _exact(self.span + self.s, self.s)


def _exact(num: int, den: int) -> str:
    """The rational number num/den written exactly: ``2``, ``5.5``, ``1.999``, ``31/3``."""
    g = math.gcd(num, den)
    num, den = num // g, den // g
    if den < 0:
        num, den = -num, -den
    if den == 1:
        return str(num)
    for places in (1, 2, 3):
        if 10**places % den == 0:
            scaled = abs(num) * (10**places // den)
            whole, frac = divmod(scaled, 10**places)
            return f"{'-' if num < 0 else ''}{whole}.{frac:0{places}d}"
    return f"{num}/{den}"


def _smallest_padding(axis: Axis, want: int, top: int) -> int | None:
    """The smallest padding in 0…top that makes ``axis`` give ``want``, if any.

    The output size never shrinks as the padding grows, so a binary search finds it
    (a kernel of 100,000 dilated by 100,000 would take 10¹⁰ steps one by one)."""
    lo, hi = 0, top + 1
    while lo < hi:
        mid = (lo + hi) // 2
        if (replace(axis, p=mid).out or 0) >= want:
            hi = mid
        else:
            lo = mid + 1
    return lo if lo <= top and replace(axis, p=lo).out == want else None


def _reachable(axis: Axis, top: int) -> str:
    """The sizes paddings 0…top give, for a "no padding reaches it" message."""
    shown = list(range(min(top, 5) + 1))
    if top > 5:
        shown.append(top)
    parts = []
    for p in shown:
        out = replace(axis, p=p).out
        if out is not None:
            gap = "…, " if p == top and top > 5 and parts else ""
            parts.append(f"{gap}{out} (padding {p})")
    return ", ".join(parts) or "none"


def _size(pair: tuple[int, ...]) -> str:
    return "×".join(str(v) for v in pair)


def _shape(shape: tuple[int, ...]) -> str:
    return "×".join(str(v) for v in shape)


def _arith(axes: tuple[Axis, Axis]) -> str:
    h, w = axes
    if h == w:
        return f"{h.formula()} = {h.value()}"
    return f"height {h.formula()} = {h.value()}, width {w.formula()} = {w.value()}"


# --------------------------------------------------------------------------- row context


@dataclass
class RowContext:
    """What a shape rule knows about the row it resolves, and how it reports."""

    spec_row: Any
    number: int
    name: str
    path: tuple
    doc: Document
    diagnostics: list[Diagnostic]

    @property
    def label(self) -> str:
        return f"layer {self.number} '{self.name}' ({self.spec_row.type})"

    def at(self, key: str | None = None) -> Pos:
        return self.doc.pos(self.path + (key,) if key else self.path)

    def error(self, message: str, code: str, key: str | None = None) -> None:
        self.diagnostics.append(Diagnostic("error", message, code, self.at(key), self.label))

    def warn(self, message: str, code: str, key: str | None = None) -> None:
        self.diagnostics.append(Diagnostic("warning", message, code, self.at(key), self.label))


@dataclass
class Resolved:
    """A shape rule's answer: the output shape and the node's resolved fields."""

    output_shape: tuple[int, ...] | None
    params: int = 0
    macs: int = 0
    fields: dict = field(default_factory=dict)


# --------------------------------------------------------------------------- shape rules


def _check_maps(ctx: RowContext, c: int) -> None:
    declared = getattr(ctx.spec_row, "maps", None)
    if declared is not None and declared != c:
        kind = "batch norm" if ctx.spec_row.type == "batchnorm" else "pooling"
        ctx.error(
            f"the row declares {declared} maps, but its input has {c} ({kind} keeps the "
            "number of maps)",
            "maps-mismatch",
            "maps",
        )


def _window(ctx: RowContext, shape, kernel, stride, dilation, *, pool: bool, ceil: bool):
    """Resolve padding and the output size for a conv or pool row.

    Returns ``(output shape, padding, inferred, same)``, or None when the row's output
    is unknown (PyTorch would refuse the layer, or no padding yields the declared size).
    After a size mismatch the output is what PyTorch computes, not what the row
    declares, so that one wrong size is one diagnostic."""
    row = ctx.spec_row
    c, h, w = shape
    declared = row.size
    padding = row.padding
    inferred = same = False
    extra = (0, 0)
    # how far a window reaches past its first tap: D·(F − 1)
    reach = tuple(d * (k - 1) for k, d in zip(kernel, dilation))
    # inference tries paddings up to D·(F − 1) (a conv) or half the kernel (a pool)
    top = tuple(k // 2 if pool else r for k, r in zip(kernel, reach))

    if padding == "same":
        if stride != (1, 1):
            ctx.error("padding 'same' needs stride 1", "padding-same", "padding")
            return None
        # PyTorch's own rule: D·(F − 1) in all, half before and the odd one after
        padding = tuple(r // 2 for r in reach)
        extra = tuple(r % 2 for r in reach)
        if any(r - r // 2 > MAX_EXTENT for r in reach):
            most = max(r - r // 2 for r in reach)
            ctx.error(
                f"padding 'same' needs a padding of {most:,} here (kernel {_size(kernel)}, "
                f"dilation {_size(dilation)}), beyond the limit of {MAX_EXTENT:,}",
                "too-large",
                "padding",
            )
            return None
        same = True
    elif padding is None and declared is not None:
        capped = tuple(min(t, MAX_EXTENT) for t in top)
        axes0 = tuple(
            Axis(n, k, st, 0, d, ceil) for n, k, st, d in zip((h, w), kernel, stride, dilation)
        )
        found = [_smallest_padding(a, want, t) for a, want, t in zip(axes0, declared, capped)]
        if None in found:
            beyond = [_smallest_padding(a, want, t) for a, want, t in zip(axes0, declared, top)]
            if None not in beyond:
                most = max(beyond)
                ctx.error(
                    f"the padding that gives {_size(declared)} is {most:,}, beyond the limit "
                    f"of {MAX_EXTENT:,}",
                    "too-large",
                    "size",
                )
                return None
            options = [_reachable(a, t) for a, t in zip(axes0, capped)]
            if options[0] == options[1] and axes0[0] == axes0[1]:
                sought = f"{axes0[0].formula('P')} = {declared[0]}"
                reach_text = f"reachable: {options[0]}"
            else:
                sought = (
                    f"{axes0[0].formula('P')} = {declared[0]} (height) and "
                    f"{axes0[1].formula('P')} = {declared[1]} (width)"
                )
                reach_text = f"reachable heights: {options[0]}; widths: {options[1]}"
            ctx.error(
                f"no padding P gives {sought}, as the row declares; {reach_text}",
                "no-padding",
                "size",
            )
            return None
        padding = tuple(found)
        inferred = True
    elif padding is None:
        padding = (0, 0)

    if pool and any(2 * p > k for p, k in zip(padding, kernel)):
        ctx.error(
            f"padding {_size(padding)} is more than half the kernel {_size(kernel)}; "
            "PyTorch refuses such a pool",
            "pool-padding",
            "padding",
        )
        return None

    axes = tuple(
        Axis(n, k, s, p, d, ceil, e)
        for n, k, s, p, d, e in zip((h, w), kernel, stride, padding, dilation, extra)
    )
    if any(a.out is None for a in axes):
        eff = tuple(r + 1 for r in reach)
        dil = f" (dilated to {_size(eff)})" if eff != tuple(kernel) else ""
        if padding == (0, 0):
            against = f"the input {h}×{w}"
        else:
            padded = "×".join(f"{n + 2 * p}" for n, p in zip((h, w), padding))
            against = f"the padded input {padded} ({h}×{w}, padding {_size(padding)})"
        ctx.error(
            f"kernel {_size(kernel)}{dil} is larger than {against}: {_arith(axes)}, "
            "and an output needs at least 1",
            "kernel-too-large",
            "kernel",
        )
        return None
    out = (axes[0].out, axes[1].out)
    if declared is not None and out != tuple(declared):
        hint = ""
        if not all(a.exact or a.ceil for a in axes):
            hint = f" (PyTorch floors it to {_size(out)})"
            rounded_up = tuple(replace(a, ceil=True).out for a in axes)
            if pool and rounded_up == tuple(declared):
                hint = (
                    f" (PyTorch floors it to {_size(out)}; ceil_mode: true gives {_size(declared)})"
                )
        ctx.error(
            f"{_arith(axes)}, but the row declares {_size(declared)}{hint}",
            "size-mismatch",
            "size",
        )
        return (c, *out), padding, inferred, same
    lossy = [(axis, a) for axis, a in zip(("rows", "columns"), axes) if a.lost]
    if lossy:
        if len(lossy) == 2 and axes[0] == axes[1]:
            n = axes[0].lost
            what = "row and column" if n == 1 else f"{n} rows and columns"
            arith = f"{axes[0].formula()} = {axes[0].value()}"
        else:
            what = " and ".join(
                (axis[:-1] if a.lost == 1 else f"{a.lost} {axis}") for axis, a in lossy
            )
            arith = "; ".join(f"{a.formula()} = {a.value()}" for _, a in lossy)
        if ceil:  # the value says why: a last window that would start past the input
            reason = f"{arith}, so"
        else:
            reason = f"{arith} is not whole: PyTorch floors it to {_size(out)}, so"
        ctx.warn(
            f"{reason} the last {what} of the input never reach the output",
            "inexact",
            "size" if declared else "stride",
        )
    return (c, *out), padding, inferred, same


def conv_rule(ctx: RowContext, shape) -> Resolved:
    row: Conv = ctx.spec_row
    c = shape[0]
    if c % row.groups or row.maps % row.groups:
        ctx.error(
            f"groups={row.groups} must divide both the input maps ({c}) and the output maps "
            f"({row.maps})",
            "groups",
            "groups",
        )
    window = _window(ctx, shape, row.kernel, row.stride, row.dilation, pool=False, ceil=False)
    if window is None:
        return Resolved(None)
    (_, oh, ow), padding, inferred, same = window
    per_group = c // row.groups if c % row.groups == 0 else c
    params = row.maps * per_group * row.kernel[0] * row.kernel[1] + (row.maps if row.bias else 0)
    return Resolved(
        (row.maps, oh, ow),
        params=params,
        macs=params * oh * ow,
        fields=dict(
            in_maps=c,
            out_maps=row.maps,
            kernel=row.kernel,
            stride=row.stride,
            padding=padding,
            padding_inferred=inferred,
            padding_same=same,
            dilation=row.dilation,
            groups=row.groups,
            bias=row.bias,
        ),
    )


def pool_rule(ctx: RowContext, shape) -> Resolved:
    row = ctx.spec_row
    _check_maps(ctx, shape[0])
    stride = row.stride or row.kernel
    window = _window(ctx, shape, row.kernel, stride, (1, 1), pool=True, ceil=row.ceil_mode)
    if window is None:
        return Resolved(None)
    out, padding, inferred, _ = window
    return Resolved(
        out,
        fields=dict(
            kernel=row.kernel,
            stride=stride,
            padding=padding,
            padding_inferred=inferred,
            ceil_mode=row.ceil_mode,
        ),
    )


def adaptive_pool_rule(ctx: RowContext, shape) -> Resolved:
    _check_maps(ctx, shape[0])
    return Resolved((shape[0], *ctx.spec_row.size), fields=dict(target=ctx.spec_row.size))


def batchnorm_rule(ctx: RowContext, shape) -> Resolved:
    _check_maps(ctx, shape[0])
    params = 2 * shape[0]
    return Resolved(shape, params=params, macs=params, fields=dict(in_maps=shape[0]))


def fc_rule(ctx: RowContext, shape) -> Resolved:
    row: FC = ctx.spec_row
    (features,) = shape
    params = features * row.size + (row.size if row.bias else 0)
    return Resolved(
        (row.size,),
        params=params,
        macs=params,
        fields=dict(in_maps=features, out_maps=row.size, bias=row.bias),
    )


def dropout_rule(ctx: RowContext, shape) -> Resolved:
    return Resolved(shape, fields=dict(p=ctx.spec_row.p))


def activation_rule(ctx: RowContext, shape) -> Resolved:
    return Resolved(shape)


#: One shape rule per layer type. `flatten` is the walker's own business.
RULES: dict[str, Callable[[RowContext, tuple], Resolved]] = {
    "conv": conv_rule,
    "maxpool": pool_rule,
    "avgpool": pool_rule,
    "adaptive_avgpool": adaptive_pool_rule,
    "adaptive_maxpool": adaptive_pool_rule,
    "fc": fc_rule,
    "dropout": dropout_rule,
    "batchnorm": batchnorm_rule,
    "relu": activation_rule,
    "leaky_relu": activation_rule,
    "sigmoid": activation_rule,
    "tanh": activation_rule,
    "softmax": activation_rule,
}


# --------------------------------------------------------------------------- the walk


@dataclass
class _Written:
    """A row after `repeat` expansion."""

    row: Any
    number: int
    path: tuple
    origin: tuple[int, int]
    name: str = ""
    act_name: str = ""


def _expand(spec: Spec, doc: Document, diagnostics: list[Diagnostic]) -> list[_Written]:
    rows: list[_Written] = []
    total = sum(r.repeat for r in spec.layers)
    if total > MAX_ROWS:
        diagnostics.append(
            Diagnostic(
                "error",
                f"the spec expands to {total:,} rows; the limit is {MAX_ROWS:,}",
                "too-large",
                doc.pos(("layers",)),
            )
        )
        return []
    for i, row in enumerate(spec.layers):
        for copy in range(1, row.repeat + 1):
            named = row
            if row.name is not None and row.repeat > 1:
                named = replace_name(row, f"{row.name}_{copy}")
            rows.append(_Written(named, len(rows) + 1, ("layers", i), (i, copy)))
    return rows


def replace_name(row, name: str):
    return row.model_copy(update={"name": name})


def _name_rows(rows: list[_Written], doc: Document, diagnostics: list[Diagnostic]) -> None:
    """Give every row (and every activation shorthand) a unique module name."""
    taken: dict[str, int] = {}
    for w in rows:
        name = w.row.name
        if name is None:
            continue
        if name in taken:
            first = taken[name]
            diagnostics.append(
                Diagnostic(
                    "error",
                    f"name '{name}' is already used by layer {first}",
                    "duplicate-name",
                    doc.pos(w.path + ("name",)),
                    f"layer {w.number} '{name}' ({w.row.type})",
                )
            )
        else:
            taken[name] = w.number
        w.name = name
    counters: dict[str, int] = {}

    def fresh(kind: str) -> str:
        while True:
            counters[kind] = counters.get(kind, 0) + 1
            candidate = f"{kind}{counters[kind]}"
            if candidate not in taken:
                taken[candidate] = 0
                return candidate

    for w in rows:
        if not w.name:
            w.name = fresh(w.row.type)
        act = getattr(w.row, "activation", None)
        if act not in (None, "none"):
            w.act_name = fresh(act)


def check(spec: Spec, doc: Document, *, source: str = "<spec>", strict: bool = False) -> Network:
    """Resolve and check every row; raise :class:`SpecError` listing every problem."""
    diagnostics: list[Diagnostic] = []
    rows = _expand(spec, doc, diagnostics)
    _name_rows(rows, doc, diagnostics)

    input_shape = (spec.input.maps, *spec.input.size)
    shape: tuple[int, ...] | None = input_shape  # None once an error leaves it unknown
    nodes: list[Node] = []
    flatten_at: int | None = None
    flatten_from: tuple[int, ...] | None = None
    flattened_by: str | None = None
    last_row = max((w.number for w in rows if w.row.type != "flatten"), default=0)

    def add(w: _Written, ctx: RowContext, kind: str, name: str, res: Resolved, in_shape, of=None):
        nodes.append(
            Node(
                index=len(nodes) + 1,
                name=name,
                kind=kind,
                row=w.number,
                pos=ctx.at(),
                input=nodes[-1].name if nodes else "input",
                input_shape=in_shape,
                output_shape=res.output_shape,
                section="classifier" if flatten_at is not None else "features",
                params=res.params,
                macs=res.macs,
                activation_of=of,
                origin=w.origin,
                **res.fields,
            )
        )

    for w in rows:
        kind = w.row.type
        act = getattr(w.row, "activation", None)
        act = None if act == "none" else act
        ctx = RowContext(w.row, w.number, w.name, w.path, doc, diagnostics)
        if (kind == "softmax" or act == "softmax") and w.number != last_row:
            ctx.error(
                "softmax may only be the last layer (it turns the final scores into "
                "probabilities over dim=1)",
                "softmax-position",
                "activation" if act == "softmax" else None,
            )
        if kind in SPATIAL and flattened_by is not None:
            ctx.error(
                f"a {kind} row after the flatten ({flattened_by}); spatial layers must come "
                "before the first fc",
                "spatial-after-flatten",
            )
            shape = None
            continue
        if kind == "flatten" or (kind == "fc" and flattened_by is None):
            if kind == "flatten" and flattened_by is not None:
                ctx.error(f"the input is already flattened ({flattened_by})", "flatten-twice")
                continue
            flattened_by = f"at layer {w.number} '{w.name}'"
            flatten_at = len(nodes) + 1
            if shape is not None:
                flatten_from = shape
                shape = (math.prod(shape),)
            if kind == "flatten":
                continue
        if shape is None:  # an earlier error left the shape unknown: only structure is checked
            continue
        res = RULES[kind](ctx, shape)
        if res.output_shape is None:
            shape = None
            continue
        add(w, ctx, kind, w.name, res, shape)
        shape = res.output_shape
        if act is not None:
            add(w, ctx, act, w.act_name, Resolved(shape), shape, of=w.name)

    if rows and not last_row:
        diagnostics.append(
            Diagnostic(
                "error", "the spec has no layers besides the flatten", "empty", doc.pos(("layers",))
            )
        )
    if strict:
        diagnostics = [
            replace(d, severity="error", message=d.message + " (--strict)")
            if d.severity == "warning"
            else d
            for d in diagnostics
        ]
    if any(d.severity == "error" for d in diagnostics):
        raise SpecError(diagnostics, source)

    return Network(
        name=spec.name,
        title=spec.title,
        layout=spec.layout,
        source=source,
        input_shape=input_shape,
        output_shape=shape,
        nodes=tuple(nodes),
        flatten_at=flatten_at,
        flatten_from=flatten_from,
        flatten_features=math.prod(flatten_from) if flatten_from else None,
        params=sum(n.params for n in nodes),
        macs=sum(n.macs for n in nodes),
        warnings=tuple(sorted(diagnostics, key=Diagnostic.sort_key)),
    )
