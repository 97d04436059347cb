"""Resizing: ``upsample`` (nn.Upsample, or its functional form to the input's size)."""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, WithJsonSchema

from ..spec.values import Maps, check_identifier, no_bool, pair_schema, parse_pair
from .base import LayerKind, Resolved, RowContext, check_maps, shape_text, size_text
from .row import MAPS_CHECKED, RowModel


def _scale(value: Any) -> Any:
    no_bool(value)
    if isinstance(value, (int, float)) and math.isfinite(value) and 0 < value <= 1000:
        return float(value)
    raise ValueError(f"expected a scale factor such as 2 or 0.5, got {value!r}")


def _target(value: Any) -> Any:
    if isinstance(value, str) and value.strip().lower() == "input":
        return "input"
    return parse_pair(value, what="size", minimum=1)


def _like(value: Any) -> Any:
    if not isinstance(value, str):
        raise ValueError("expected the name of an earlier row (or `input`)")
    return check_identifier(value, "row name")


class Upsample(RowModel):
    """Upsampling (nn.Upsample): by a `scale`, or to a `size` (`size: input` means the
    network's input size, as FCN's last bilinear upsampling), or to the H×W of another
    row's output (`like: lateral`, as FPN's top-down path)."""

    type: Literal["upsample"]
    maps: Maps | None = Field(None, description=MAPS_CHECKED)
    scale: Annotated[float, BeforeValidator(_scale)] | None = Field(
        None, description="Scale factor per axis (2 doubles H and W)."
    )
    size: (
        Annotated[
            tuple[int, int] | Literal["input"],
            BeforeValidator(_target),
            WithJsonSchema(pair_schema(1, [{"const": "input"}])),
        ]
        | None
    ) = Field(
        None,
        description="Target size (H×W), or `input` for the network's input size. With "
        "`scale` too, it is the declared result and is checked.",
    )
    like: Annotated[str, BeforeValidator(_like), WithJsonSchema({"type": "string"})] | None = Field(
        None,
        description="The name of an earlier row in the same scope (`input`: the scope's "
        "input): the output takes that row's H×W at every input size, "
        "`interpolate(x, size=other.shape[-2:])`. With `size` too, the size is a claim, "
        "checked.",
    )
    mode: Literal["nearest", "bilinear"] = Field("nearest", description="nearest or bilinear.")
    align_corners: bool | None = Field(
        None, description="bilinear only: as in PyTorch (default: PyTorch's, false)."
    )


def upsample_rule(ctx: RowContext, shape) -> Resolved:
    row = ctx.spec_row
    check_maps(ctx, shape[0], "pooling")
    c, h, w = shape
    if row.align_corners is not None and row.mode != "bilinear":
        ctx.error("align_corners applies to bilinear upsampling only", "value", "align_corners")
        return Resolved(None)
    if row.like is not None:
        return _like_rule(ctx, shape)
    if row.scale is None and row.size is None:
        ctx.error("an upsample row needs `scale`, `size` or `like`", "missing")
        return Resolved(None)
    size = row.size
    functional = size == "input"
    if functional:
        size = ctx.input_size
        if size is None:
            ctx.error(
                "`size: input` means the network's input, which a block's or a container's "
                "rows do not see; write it in the network's rows (in a block, `like: input` "
                "takes the block's input size)",
                "value",
                "size",
            )
            return Resolved(None)
    if row.scale is not None:
        out = (math.floor(h * row.scale), math.floor(w * row.scale))
        if size is not None and tuple(size) != out:
            ctx.error(
                f"{h}×{row.scale:g} = {h * row.scale:g} and {w}×{row.scale:g} = "
                f"{w * row.scale:g} give {size_text(out)}, but the row declares {size_text(size)}",
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


def _like_rule(ctx: RowContext, shape) -> Resolved:
    """`like: other`: the output is the input's maps at ``other``'s H×W (the walker puts
    that row's shape in ``ctx.like``)."""
    row = ctx.spec_row
    if row.scale is not None or row.size == "input":
        key = "scale" if row.scale is not None else "size"
        ctx.error(
            f"`like` gives the output's size; leave out `{key}`"
            + (" (`like: input` is the scope's input)" if key == "size" else ""),
            "like",
            key,
        )
        return Resolved(None)
    if ctx.like is None:  # the walker reported why the row named has no shape
        return Resolved(None)
    name, other = ctx.like
    if len(other) != 3 or ctx.like_channels_last:
        what = "a vector" if len(other) != 3 else "channels-last (after a permute)"
        ctx.error(
            f"`like: {name}` takes the H×W of a maps×H×W tensor, but '{name}' is "
            f"{shape_text(other)}, {what}",
            "like",
            "like",
        )
        return Resolved(None)
    out = tuple(other[1:])
    if row.size is not None and tuple(row.size) != out:
        ctx.error(
            f"'{name}' is {size_text(out)}, but the row declares {size_text(row.size)}",
            "size-mismatch",
            "size",
        )
        return Resolved(None)
    c = shape[0]
    fields = dict(target=None, scale=None, mode=row.mode, align_corners=row.align_corners)
    return Resolved((c, *out), fields=dict(fields, functional=True, like=name))


UPSAMPLE = LayerKind(
    "upsample",
    Upsample,
    upsample_rule,
    "upsample",
    "upsample",
    spatial=True,
    torch_class="Upsample",
    op="interpolate",
    hyper=("target", "scale", "mode", "align_corners", "functional", "like"),
    keys={"target": "size", "scale": "scale"},
)
