"""Resizing: ``upsample`` (nn.Upsample, or its functional form to the input's size)."""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, WithJsonSchema

from ..spec.values import Maps, no_bool, pair_schema, parse_pair
from .base import LayerKind, Resolved, RowContext, check_maps, size_text
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


class Upsample(RowModel):
    """Upsampling (nn.Upsample): by a `scale`, or to a `size` (`size: input` means the
    network's input size, as FCN's last bilinear upsampling)."""

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
    mode: Literal["nearest", "bilinear"] = Field("nearest", description="nearest or bilinear.")
    align_corners: bool | None = Field(
        None, description="bilinear only: as in PyTorch (default: PyTorch's, false)."
    )


def upsample_rule(ctx: RowContext, shape) -> Resolved:
    row = ctx.spec_row
    check_maps(ctx, shape[0], "pooling")
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


UPSAMPLE = LayerKind(
    "upsample",
    Upsample,
    upsample_rule,
    "upsample",
    "upsample",
    spatial=True,
    torch_class="Upsample",
    op="interpolate",
    hyper=("target", "scale", "mode", "align_corners", "functional"),
    keys={"target": "size", "scale": "scale"},
)
