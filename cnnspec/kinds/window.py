"""The sliding-window arithmetic of convolutions and pools, and padding inference.

The output-size formula, per axis (PyTorch's, and the textbook's ``(W − F + 2P)/S + 1``
when D = 1)::

    out = floor((W + 2P − D·(F − 1) − 1) / S) + 1

:func:`window` resolves a conv's or a pool's padding and output size from its row and
reports every disagreement with the arithmetic spelled out; after a size mismatch the
walk goes on with the size PyTorch computes (so one wrong size is one diagnostic).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, replace

from ..spec.values import MAX_EXTENT
from .base import RowContext, size_text

Pair = tuple[int, int]


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


def _arith(axes: tuple[Axis, ...]) -> str:
    h, w = axes
    if h == w:
        return f"{h.formula()} = {h.value()}"
    return f"height {h.formula()} = {h.value()}, width {w.formula()} = {w.value()}"


# --------------------------------------------------------------------------- a row's window


@dataclass(frozen=True)
class Resolution:
    """A window row's resolved padding: ``padding`` before the input, ``extra`` after it
    too (PyTorch's 'same' with an even effective kernel), whether it was ``inferred``
    from the declared size, and whether the row wrote ``same``."""

    padding: Pair
    extra: Pair = (0, 0)
    inferred: bool = False
    same: bool = False


def window(ctx: RowContext, shape, kernel, stride, dilation, *, pool: bool, ceil: bool):
    """Resolve padding and the output size for a conv or pool row.

    Returns ``(output shape, padding, inferred, same)``, or None when the row's output
    is unknown (PyTorch would refuse the layer, or no padding yields the declared size).
    After a size mismatch the output is what PyTorch computes, not what the row
    declares, so that one wrong size is one diagnostic."""
    c, h, w = shape
    declared = ctx.spec_row.size
    # how far a window reaches past its first tap: D·(F − 1)
    reach = tuple(d * (k - 1) for k, d in zip(kernel, dilation))
    found = _resolve_padding(ctx, (h, w), kernel, stride, dilation, reach, pool=pool, ceil=ceil)
    if found is None:
        return None
    padding = found.padding
    if pool and any(2 * p > k for p, k in zip(padding, kernel)):
        ctx.error(
            f"padding {size_text(padding)} is more than half the kernel {size_text(kernel)}; "
            "PyTorch refuses such a pool",
            "pool-padding",
            "padding",
        )
        return None
    axes = tuple(
        Axis(n, k, s, p, d, ceil, e)
        for n, k, s, p, d, e in zip((h, w), kernel, stride, padding, dilation, found.extra)
    )
    if any(a.out is None for a in axes):
        _kernel_too_large(ctx, axes, (h, w), kernel, padding, reach)
        return None
    out = (axes[0].out, axes[1].out)
    if declared is not None and out != tuple(declared):
        _size_mismatch(ctx, axes, out, declared, pool=pool)
    else:
        _warn_lost(ctx, axes, out, declared, ceil=ceil)
    return (c, *out), padding, found.inferred, found.same


def _resolve_padding(
    ctx: RowContext, hw: Pair, kernel, stride, dilation, reach, *, pool: bool, ceil: bool
) -> Resolution | None:
    """The row's padding: as written, PyTorch's 'same', inferred from a declared size, or
    0; None (reported) when 'same' or the declared size cannot be had."""
    padding = ctx.spec_row.padding
    declared = ctx.spec_row.size
    if padding == "same":
        return _same_padding(ctx, kernel, stride, dilation, reach)
    if padding is None and declared is not None:
        # inference tries paddings up to D·(F − 1) (a conv) or half the kernel (a pool)
        top = tuple(k // 2 if pool else r for k, r in zip(kernel, reach))
        axes0 = tuple(
            Axis(n, k, st, 0, d, ceil) for n, k, st, d in zip(hw, kernel, stride, dilation)
        )
        return _inferred_padding(ctx, axes0, declared, top)
    return Resolution((0, 0) if padding is None else padding)


def _same_padding(ctx: RowContext, kernel, stride, dilation, reach) -> Resolution | None:
    if stride != (1, 1):
        ctx.error("padding 'same' needs stride 1", "padding-same", "padding")
        return None
    if any(r - r // 2 > MAX_EXTENT for r in reach):
        most = max(r - r // 2 for r in reach)
        ctx.error(
            f"padding 'same' needs a padding of {most:,} here (kernel {size_text(kernel)}, "
            f"dilation {size_text(dilation)}), beyond the limit of {MAX_EXTENT:,}",
            "too-large",
            "padding",
        )
        return None
    # PyTorch's own rule: D·(F − 1) in all, half before and the odd one after
    before = (reach[0] // 2, reach[1] // 2)
    after = (reach[0] % 2, reach[1] % 2)
    return Resolution(before, after, same=True)


def _inferred_padding(
    ctx: RowContext, axes0: tuple[Axis, ...], declared, top: tuple[int, ...]
) -> Resolution | None:
    """The smallest padding per axis that gives the declared size, or None (reported)."""
    capped = tuple(min(t, MAX_EXTENT) for t in top)
    found = [_smallest_padding(a, want, t) for a, want, t in zip(axes0, declared, capped)]
    if None not in found:
        return Resolution((found[0], found[1]), inferred=True)  # type: ignore[arg-type]
    beyond = [_smallest_padding(a, want, t) for a, want, t in zip(axes0, declared, top)]
    if None not in beyond:
        most = max(b for b in beyond if b is not None)
        ctx.error(
            f"the padding that gives {size_text(declared)} is {most:,}, beyond the limit "
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


def _kernel_too_large(
    ctx: RowContext, axes: tuple[Axis, ...], hw: Pair, kernel, padding: Pair, reach
) -> None:
    h, w = hw
    eff = tuple(r + 1 for r in reach)
    dil = f" (dilated to {size_text(eff)})" if eff != tuple(kernel) else ""
    if padding == (0, 0):
        against = f"the input {h}×{w}"
    else:
        padded = "×".join(f"{n + 2 * p}" for n, p in zip((h, w), padding))
        against = f"the padded input {padded} ({h}×{w}, padding {size_text(padding)})"
    ctx.error(
        f"kernel {size_text(kernel)}{dil} is larger than {against}: {_arith(axes)}, "
        "and an output needs at least 1",
        "kernel-too-large",
        "kernel",
    )


def _size_mismatch(ctx: RowContext, axes: tuple[Axis, ...], out, declared, *, pool: bool) -> None:
    hint = ""
    if not all(a.exact or a.ceil for a in axes):
        hint = f" (PyTorch floors it to {size_text(out)})"
        rounded_up = tuple(replace(a, ceil=True).out for a in axes)
        if pool and rounded_up == tuple(declared):
            hint = (
                f" (PyTorch floors it to {size_text(out)}; ceil_mode: true gives "
                f"{size_text(declared)})"
            )
    ctx.error(
        f"{_arith(axes)}, but the row declares {size_text(declared)}{hint}",
        "size-mismatch",
        "size",
    )


def _warn_lost(ctx: RowContext, axes: tuple[Axis, ...], out, declared, *, ceil: bool) -> None:
    """Warn when the last rows or columns of the input never reach the output."""
    lossy = [(axis, a) for axis, a in zip(("rows", "columns"), axes) if a.lost]
    if not lossy:
        return
    if len(lossy) == 2 and axes[0] == axes[1]:
        n = axes[0].lost
        what = "row and column" if n == 1 else f"{n} rows and columns"
        arith = f"{axes[0].formula()} = {axes[0].value()}"
    else:
        what = " and ".join((axis[:-1] if a.lost == 1 else f"{a.lost} {axis}") for axis, a in lossy)
        arith = "; ".join(f"{a.formula()} = {a.value()}" for _, a in lossy)
    if ceil:  # the value says why: a last window that would start past the input
        reason = f"{arith}, so"
    else:
        reason = f"{arith} is not whole: PyTorch floors it to {size_text(out)}, so"
    ctx.warn(
        f"{reason} the last {what} of the input never reach the output",
        "inexact",
        "size" if declared else "stride",
    )
