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

import functools
import math
from dataclasses import dataclass, field, replace
from typing import Any

from .diagnostics import Diagnostic, Pos, note
from .ir import Network
from .load import Document
from .schema import FC, MAX_EXTENT, Conv, Spec

#: Most rows after `repeat` expansion.
MAX_ROWS = 100_000

SPATIAL = frozenset(
    {"conv", "deconv", "maxpool", "avgpool", "adaptive_avgpool", "adaptive_maxpool", "upsample"}
)


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
        return _out(self.w, self.f, self.s, self.p, self.d, self.ceil, self.extra)

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
        tail = max(0, self.w - 1 - last)
        # a window narrower than the stride skips pixels between windows by design (a 1×1
        # stride-2 projection reads every other row): where there are windows to be
        # between, a tail no longer than that gap is the same skipping, not a loss to the
        # rounding
        gap = self.s - (self.d * (self.f - 1) + 1)
        return 0 if out > 1 and tail <= gap else tail

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


def _out(w: int, f: int, s: int, p: int, d: int, ceil: bool, extra: int) -> int | None:
    """:attr:`Axis.out` of an axis with these numbers, without building the Axis."""
    n = w + 2 * p + extra - d * (f - 1) - 1
    if not ceil:
        out = n // s + 1
    else:
        out = -(-n // s) + 1
        if (out - 1) * s >= w + p:
            out -= 1
    return out if out >= 1 else None


def _smallest_padding(axis: Axis, want: int, top: int) -> int | None:
    """The smallest padding in 0…top that makes ``axis`` give ``want``, if any.

    The output size never shrinks as the padding grows, so a binary search finds it
    (a kernel of 100,000 dilated by 100,000 would take 10¹⁰ steps one by one)."""
    a = axis
    return _smallest_padding_of(a.w, a.f, a.s, a.d, a.ceil, a.extra, want, top)


@functools.lru_cache(maxsize=1024)
def _smallest_padding_of(
    w: int, f: int, s: int, d: int, ceil: bool, extra: int, want: int, top: int
) -> int | None:
    lo, hi = 0, top + 1
    while lo < hi:
        mid = (lo + hi) // 2
        if (_out(w, f, s, mid, d, ceil, extra) or 0) >= want:
            hi = mid
        else:
            lo = mid + 1
    return lo if lo <= top and _out(w, f, s, lo, d, ceil, extra) == want else None


def _reachable(axis: Axis, top: int) -> str:
    """The sizes paddings 0…top give, for a "no padding reaches it" message."""
    shown = list(range(min(top, 5) + 1))
    if top > 5:
        shown.append(top)
    parts: list[str] = []
    for p in shown:
        out = replace(axis, p=p).out
        if out is not None:
            gap = "…, " if p == top and top > 5 and parts else ""
            parts.append(f"{gap}{out} (padding {p})")
    return ", ".join(parts) or "none"


def _size(pair: tuple) -> str:
    return "×".join(str(v) for v in pair)


def _shape(shape: tuple[int, ...]) -> str:
    return "×".join(str(v) for v in shape)


def _arith(axes: tuple[Axis, ...]) -> str:
    h, w = axes
    if h == w:
        return f"{h.formula()} = {h.value()}"
    return f"height {h.formula()} = {h.value()}, width {w.formula()} = {w.value()}"


# --------------------------------------------------------------------------- row context


def opt(model: Any, name: str) -> Any:
    """``getattr(model, name, None)`` for a row model, without the cost of a miss: pydantic
    answers an attribute a model lacks in its ``__getattr__``, by raising AttributeError."""
    fields = getattr(model, "__dict__", None)
    cls = type(model)
    names = _CLASS_NAMES.get(cls)
    if names is None:
        names = _CLASS_NAMES[cls] = frozenset(n for k in cls.__mro__ for n in vars(k))
    if fields is None or name in names:
        return getattr(model, name, None)
    if name in fields:
        return fields[name]
    extra = getattr(model, "__pydantic_extra__", None)
    return extra.get(name) if extra else None


#: a class → every attribute name its classes define (which getattr finds there)
_CLASS_NAMES: dict[type, frozenset[str]] = {}


@dataclass
class RowContext:
    """What a shape rule knows about the row it resolves, and how it reports."""

    spec_row: Any
    number: int
    name: str
    path: tuple
    doc: Document
    diagnostics: list[Diagnostic]
    #: related places every diagnostic of this row carries ("instantiated from layer2.0")
    notes: tuple[Diagnostic, ...] = ()
    #: the rows that feed a merge, for its notes: (name, shape, position)
    sources: tuple[tuple[str, tuple[int, ...], Pos], ...] = ()
    #: the network's input H×W (for `size: input`); None inside blocks
    input_size: tuple[int, int] | None = None

    @property
    def label(self) -> str:
        return f"layer {self.number} '{self.name}' ({self.spec_row.type})"

    def at(self, key: str | None = None) -> Pos:
        return self.doc.pos(self.path + (key,) if key else self.path)

    def error(
        self, message: str, code: str, key: str | None = None, notes: tuple[Diagnostic, ...] = ()
    ) -> None:
        self.diagnostics.append(
            Diagnostic("error", message, code, self.at(key), self.label, notes + self.notes)
        )

    def warn(self, message: str, code: str, key: str | None = None) -> None:
        self.diagnostics.append(
            Diagnostic("warning", message, code, self.at(key), self.label, self.notes)
        )


@dataclass
class Resolved:
    """A shape rule's answer: the output shape and the node's resolved fields."""

    output_shape: tuple[int, ...] | None
    params: int = 0
    macs: int = 0
    fields: dict = field(default_factory=dict)


# --------------------------------------------------------------------------- shape rules


def _check_maps(ctx: RowContext, c: int) -> None:
    declared = opt(ctx.spec_row, "maps")
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
                most = max(b for b in beyond if b is not None)
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


def _deconv_out(w: int, k: int, s: int, p: int, d: int, op: int) -> int:
    return (w - 1) * s - 2 * p + d * (k - 1) + op + 1


def _deconv_formula(w: int, k: int, s: int, p: Any, d: int, op: Any) -> str:
    dil = f"{d}·({k} − 1)" if d != 1 else f"({k} − 1)"
    return f"({w} − 1)·{s} − 2·{p} + {dil} + {op} + 1"


def deconv_rule(ctx: RowContext, shape) -> Resolved:
    """A transposed convolution: out = (W − 1)·S − 2P + D·(K − 1) + output_padding + 1."""
    row = ctx.spec_row
    c, h, w = shape
    if c % row.groups or row.maps % row.groups:
        ctx.error(
            f"groups={row.groups} must divide both the input maps ({c}) and the output maps "
            f"({row.maps})",
            "groups",
            "groups",
        )
    padding = (0, 0) if row.padding is None else row.padding
    if padding == "same":
        ctx.error("padding 'same' is not defined for a deconv", "padding-same", "padding")
        return Resolved(None)
    out_pad = row.output_padding
    inferred = False
    axes = list(zip((h, w), row.kernel, row.stride, row.dilation))
    if row.size is not None and (row.padding is None or out_pad is None):
        found = []
        for (n, k, st, d), want, given_p in zip(axes, row.size, padding):
            base = _deconv_out(n, k, st, 0, d, 0)
            if row.padding is not None:
                options = [(given_p, want - _deconv_out(n, k, st, given_p, d, 0))]
            else:
                gap = base - want  # 2P − output_padding
                p = max(0, (gap + 1) // 2)
                options = [(p, 2 * p - gap)]
            p, op = options[0]
            if p < 0 or op < 0 or op >= max(st, d):
                need = f"{(base - want) / 2:g}" if row.padding is None else None
                if row.padding is None and base < want:
                    why = f"it would need padding {need}: a deconv cannot pad its output outward"
                else:
                    why = (
                        f"output_padding would have to be {op}, but it must be below "
                        f"max(stride, dilation) = {max(st, d)}"
                    )
                ctx.error(
                    f"no padding P and output padding OP give "
                    f"{_deconv_formula(n, k, st, 'P', d, 'OP')} = {want}, as the row "
                    f"declares; {why}",
                    "no-padding",
                    "size",
                )
                return Resolved(None)
            found.append((p, op))
        padding = (found[0][0], found[1][0])
        out_pad = (found[0][1], found[1][1])
        inferred = row.padding is None
    out_pad = out_pad or (0, 0)
    for (_, _, st, d), op in zip(axes, out_pad):
        if op >= max(st, d):
            ctx.error(
                f"output_padding {op} must be below max(stride, dilation) = {max(st, d)} "
                "(PyTorch's rule)",
                "output-padding",
                "output_padding",
            )
            return Resolved(None)
    out = tuple(
        _deconv_out(n, k, st, p, d, op) for (n, k, st, d), p, op in zip(axes, padding, out_pad)
    )
    if any(o < 1 for o in out):
        formula = _deconv_formula(
            h, row.kernel[0], row.stride[0], padding[0], row.dilation[0], out_pad[0]
        )
        ctx.error(
            f"{formula} = {out[0]}: an output needs at least 1",
            "kernel-too-large",
            "padding",
        )
        return Resolved(None)
    if row.size is not None and out != tuple(row.size):
        arith = "; ".join(
            f"{_deconv_formula(n, k, st, p, d, op)} = {o}"
            for (n, k, st, d), p, op, o in zip(axes, padding, out_pad, out)
        )
        ctx.error(f"{arith}, but the row declares {_size(row.size)}", "size-mismatch", "size")
        return Resolved(None)
    per_group = row.maps // row.groups if row.maps % row.groups == 0 else row.maps
    weights = c * per_group * row.kernel[0] * row.kernel[1]
    bias = row.maps if row.bias else 0
    oh, ow = out
    return Resolved(
        (row.maps, oh, ow),
        params=weights + bias,
        # every input element meets (C_out/groups)·K_h·K_w weights; plus one per output
        # element for the bias (torchinfo counts on the output size: stride² too high)
        macs=weights * h * w + bias * oh * ow,
        fields=dict(
            in_maps=c,
            out_maps=row.maps,
            kernel=row.kernel,
            stride=row.stride,
            padding=padding,
            padding_inferred=inferred,
            output_padding=out_pad,
            dilation=row.dilation,
            groups=row.groups,
            bias=row.bias,
        ),
    )


def upsample_rule(ctx: RowContext, shape) -> Resolved:
    row = ctx.spec_row
    _check_maps(ctx, shape[0])
    c, h, w = shape
    if row.scale is None and row.size is None:
        ctx.error("an upsample row needs `scale` or `size`", "missing")
        return Resolved(None)
    if row.align_corners is not None and row.mode != "bilinear":
        ctx.error("align_corners applies to bilinear upsampling only", "value", "align_corners")
        return Resolved(None)
    size = row.size
    functional = size == "input"
    if functional:
        size = ctx.input_size
        if size is None:
            ctx.error(
                "`size: input` means the network's input; use it outside blocks", "value", "size"
            )
            return Resolved(None)
    if row.scale is not None:
        out = (math.floor(h * row.scale), math.floor(w * row.scale))
        if size is not None and tuple(size) != out:
            ctx.error(
                f"{h}×{row.scale:g} = {h * row.scale:g} and {w}×{row.scale:g} = "
                f"{w * row.scale:g} give {_size(out)}, but the row declares {_size(size)}",
                "size-mismatch",
                "size",
            )
            return Resolved(None)
        target = None
    else:
        out = tuple(size)
        target = tuple(size)
    return Resolved(
        (c, *out),
        fields=dict(
            target=None if functional else target,
            scale=row.scale,
            mode=row.mode,
            align_corners=row.align_corners,
            functional=functional,
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
    row = ctx.spec_row
    return Resolved(
        shape,
        params=params,
        macs=params,
        fields=dict(
            in_maps=shape[0],
            eps=row.eps,
            momentum=row.momentum,
            torch_class="BatchNorm1d" if len(shape) == 1 else "BatchNorm2d",
        ),
    )


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


def lrn_rule(ctx: RowContext, shape) -> Resolved:
    row = ctx.spec_row
    return Resolved(shape, fields=dict(lrn=(row.n, row.alpha, row.beta, row.k)))


def _declared(ctx: RowContext, out: tuple[int, ...], what: str) -> None:
    """A merge's or a block's declared maps and size against what it computes."""
    row = ctx.spec_row
    maps, size = opt(row, "maps"), opt(row, "size")
    if maps is not None and len(out) == 3 and maps != out[0]:
        ctx.error(f"{what} has {out[0]} maps, but the row declares {maps}", "maps-mismatch", "maps")
    if size is not None and len(out) == 3 and tuple(size) != out[1:]:
        ctx.error(
            f"{what} is {_size(out[1:])}, but the row declares {_size(size)}",
            "size-mismatch",
            "size",
        )


def _input_notes(ctx: RowContext) -> tuple[Diagnostic, ...]:
    return tuple(
        note(f"input '{name}' ({_shape(shape)}) comes from here", pos)
        for name, shape, pos in ctx.sources
    )


def add_rule(ctx: RowContext, shapes) -> Resolved:
    if len(set(shapes)) > 1:
        listed = ", ".join(f"'{n}' is {_shape(sh)}" for n, sh, _ in ctx.sources)
        ctx.error(
            f"add needs inputs of one shape: {listed}",
            "add-shape",
            "from",
            _input_notes(ctx),
        )
        return Resolved(None)
    _declared(ctx, shapes[0], "the sum")
    return Resolved(shapes[0])


def concat_rule(ctx: RowContext, shapes) -> Resolved:
    row = ctx.spec_row
    if any(len(sh) != 3 for sh in shapes):
        flat = [f"'{n}' is {_shape(sh)}" for n, sh, _ in ctx.sources if len(sh) != 3]
        ctx.error(
            f"concat joins maps×H×W tensors along the maps; {', '.join(flat)}",
            "concat-shape",
            "from",
            _input_notes(ctx),
        )
        return Resolved(None)
    sizes = [sh[1:] for sh in shapes]
    target = sizes[-1]
    if row.crop == "center":
        small = [(n, sh) for n, sh, _ in ctx.sources if sh[1] < target[0] or sh[2] < target[1]]
        if small:
            name, sh = small[0]
            ctx.error(
                f"crop: center cuts every input to the last input's {_size(target)}, but "
                f"'{name}' is only {_size(sh[1:])}: a crop cannot grow a tensor",
                "crop-grow",
                "crop",
                _input_notes(ctx),
            )
            return Resolved(None)
    elif len(set(sizes)) > 1:
        listed = ", ".join(f"'{n}' is {_shape(sh)}" for n, sh, _ in ctx.sources)
        fits = all(h >= target[0] and w >= target[1] for h, w in sizes)
        hint = " (crop: center cuts them to the last input's size)" if fits else ""
        ctx.error(
            f"concat needs inputs of one H×W: {listed}{hint}",
            "concat-shape",
            "from",
            _input_notes(ctx),
        )
        return Resolved(None)
    out = (sum(sh[0] for sh in shapes), *target)
    _declared(ctx, out, "the concatenation")
    return Resolved(out, fields=dict(crop=row.crop))


# --------------------------------------------------------------------------- the walk


def check(spec: Spec, doc: Document, *, source: str = "<spec>", strict: bool = False) -> Network:
    """Resolve and check every row; raise :class:`SpecError` listing every problem."""
    from .graph import check_spec

    return check_spec(spec, doc, source=source, strict=strict)
