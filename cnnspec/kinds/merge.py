"""Merges: rows that read two or more inputs — ``add``, ``concat`` and ``mul``."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from ..diagnostics import Diagnostic, note
from ..spec.values import OptMaps, OptSize
from .base import LayerKind, Resolved, RowContext, declared, shape_text, size_text
from .row import RowModel


class Add(RowModel):
    """Element-wise sum of its inputs (a residual connection); every input the same shape."""

    type: Literal["add"]
    maps: OptMaps = Field(None, description="Declared maps of the sum (checked).")
    size: OptSize = Field(None, description="Declared size of the sum (checked).")


class Concat(RowModel):
    """Concatenation of its inputs along the maps; equal H×W, or `crop: center`."""

    type: Literal["concat"]
    maps: OptMaps = Field(None, description="Declared maps of the result (checked).")
    size: OptSize = Field(None, description="Declared size of the result (checked).")
    crop: Literal["center"] | None = Field(
        None, description="`center`: cut every input to the last input's H×W, centred (U-Net)."
    )


class Mul(RowModel):
    """Element-wise product of its inputs, broadcast as torch does: each dimension equal, or
    1 (squeeze-and-excitation's C×1×1 gate times a C×H×W map)."""

    type: Literal["mul"]
    maps: OptMaps = Field(None, description="Declared maps of the product (checked).")
    size: OptSize = Field(None, description="Declared size of the product (checked).")


def _input_notes(ctx: RowContext) -> tuple[Diagnostic, ...]:
    return tuple(
        note(f"input '{name}' ({shape_text(shape)}) comes from here", pos)
        for name, shape, pos in ctx.sources
    )


def add_rule(ctx: RowContext, shapes) -> Resolved:
    if len(set(shapes)) > 1:
        listed = ", ".join(f"'{n}' is {shape_text(sh)}" for n, sh, _ in ctx.sources)
        ctx.error(
            f"{ctx.spec_row.type} needs inputs of one shape: {listed}",
            "add-shape",
            "from",
            _input_notes(ctx),
        )
        return Resolved(None)
    declared(ctx, shapes[0], "the sum")
    return Resolved(shapes[0])


def broadcast(shapes: list[tuple[int, ...]]) -> tuple[int, ...] | None:
    """The shape torch's broadcasting gives tensors of ``shapes`` (one rank, each dimension
    equal or 1), or None when they do not broadcast."""
    if len({len(sh) for sh in shapes}) != 1:
        return None
    out = []
    for dims in zip(*shapes):
        wide = {d for d in dims if d != 1}
        if len(wide) > 1:
            return None
        out.append(wide.pop() if wide else 1)
    return tuple(out)


def mul_rule(ctx: RowContext, shapes) -> Resolved:
    out = broadcast(list(shapes))
    if out is None:
        listed = ", ".join(f"'{n}' is {shape_text(sh)}" for n, sh, _ in ctx.sources)
        ctx.error(
            f"mul needs inputs that broadcast (of one rank, each dimension equal or 1): {listed}",
            "mul-shape",
            "from",
            _input_notes(ctx),
        )
        return Resolved(None)
    declared(ctx, out, "the product")
    return Resolved(out)


def concat_rule(ctx: RowContext, shapes) -> Resolved:
    row = ctx.spec_row
    if any(len(sh) != 3 for sh in shapes):
        flat = [f"'{n}' is {shape_text(sh)}" for n, sh, _ in ctx.sources if len(sh) != 3]
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
                f"crop: center cuts every input to the last input's {size_text(target)}, but "
                f"'{name}' is only {size_text(sh[1:])}: a crop cannot grow a tensor",
                "crop-grow",
                "crop",
                _input_notes(ctx),
            )
            return Resolved(None)
    elif len(set(sizes)) > 1:
        listed = ", ".join(f"'{n}' is {shape_text(sh)}" for n, sh, _ in ctx.sources)
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
    declared(ctx, out, "the concatenation")
    return Resolved(out, fields=dict(crop=row.crop))


ADD = LayerKind(
    "add",
    Add,
    add_rule,
    "merge",
    "add",
    inputs=None,
    op="+",
    label="+",
    channels_last=True,
)
CONCAT = LayerKind(
    "concat",
    Concat,
    concat_rule,
    "merge",
    "concat",
    inputs=None,
    maps="sum",
    op="torch.cat",
    hyper=("crop",),
)
MUL = LayerKind(
    "mul",
    Mul,
    mul_rule,
    "merge",
    "mul",
    inputs=None,
    maps="broadcast",
    op="*",
    label="×",
)
