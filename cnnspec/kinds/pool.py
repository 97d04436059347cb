"""Pools: windowed (``maxpool``, ``avgpool``), adaptive (to a fixed output size), and
spatial pyramid pooling (``spp``: several adaptive pools, one fixed-length vector)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from ..spec.values import MAX_EXTENT, Kernel, OptMaps, OptPoolPadding, OptSize, OptStride, Size
from .base import LayerKind, Resolved, RowContext, check_maps, size_text
from .row import MAPS_CHECKED, SIZE_CHECKED, RowModel
from .window import window

_POOL_PADDING = (
    "Zero padding per side: int or HxW, at most half the kernel (PyTorch's rule). When "
    "absent and `size` is declared, the smallest padding that yields `size` is inferred; "
    "otherwise 0."
)


class _Pool(RowModel):
    maps: OptMaps = Field(None, description=MAPS_CHECKED)
    size: OptSize = Field(None, description=SIZE_CHECKED)
    kernel: Kernel = Field(description="Window size: 2, 2x2 or [2, 2].")
    stride: OptStride = Field(None, description="Stride; default: the kernel size.")
    padding: OptPoolPadding = Field(None, description=_POOL_PADDING)
    ceil_mode: bool = Field(False, description="Round the output size up, as in PyTorch.")


class MaxPool(_Pool):
    """Max pooling (nn.MaxPool2d)."""

    type: Literal["maxpool"]


class AvgPool(_Pool):
    """Average pooling (nn.AvgPool2d)."""

    type: Literal["avgpool"]


class _AdaptivePool(RowModel):
    maps: OptMaps = Field(None, description=MAPS_CHECKED)
    size: Size = Field(description="Target output size (H×W).")


class AdaptiveAvgPool(_AdaptivePool):
    """Adaptive average pooling to a fixed size (nn.AdaptiveAvgPool2d)."""

    type: Literal["adaptive_avgpool"]


class AdaptiveMaxPool(_AdaptivePool):
    """Adaptive max pooling to a fixed size (nn.AdaptiveMaxPool2d)."""

    type: Literal["adaptive_maxpool"]


_SPP_LEVELS = (
    "The pyramid's levels, in the order the output concatenates them: each the number of "
    "bins per side (n gives n×n bins), as SPP-net's `[6, 3, 2, 1]`."
)
_SPP_SIZE = (
    "Optional: the output vector's length, C·Σn² (12,800 for 256 maps and levels 6, 3, "
    "2, 1); checked."
)


class SPP(RowModel):
    """Spatial pyramid pooling (SPP-net): each level's n×n adaptive pool of the input,
    flattened, the levels concatenated in order: maps×H×W → C·Σn² features, the same
    length for every input size at least the largest level (the generated module's
    PyramidPool2d, no state)."""

    type: Literal["spp"]
    levels: list[Annotated[int, Field(ge=1, le=MAX_EXTENT)]] = Field(
        min_length=1, max_length=16, description=_SPP_LEVELS
    )
    pool: Literal["max", "avg"] = Field(
        "max", description="max (default, as SPP-net) or avg: how each bin is pooled."
    )
    size: Annotated[int, Field(ge=1)] | None = Field(None, description=_SPP_SIZE)


def pool_rule(ctx: RowContext, shape) -> Resolved:
    row = ctx.spec_row
    check_maps(ctx, shape[0], "pooling")
    stride = row.stride or row.kernel
    found = window(ctx, shape, row.kernel, stride, (1, 1), pool=True, ceil=row.ceil_mode)
    if found is None:
        return Resolved(None)
    out, padding, inferred, _ = found
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
    check_maps(ctx, shape[0], "pooling")
    return Resolved((shape[0], *ctx.spec_row.size), fields=dict(target=ctx.spec_row.size))


def spp_rule(ctx: RowContext, shape) -> Resolved:
    """C·Σn² features; an input smaller than the largest level is an error (some bin
    would hold no pixel of its own)."""
    row: SPP = ctx.spec_row
    c, h, w = shape
    largest = max(row.levels)
    if h < largest or w < largest:
        ctx.error(
            f"the input is {size_text((h, w))}, smaller than the largest level's "
            f"{largest}×{largest} bins: each bin needs a pixel of its own",
            "spp-input",
            "levels",
        )
        return Resolved(None)
    bins = sum(n * n for n in row.levels)
    out = c * bins
    if row.size is not None and row.size != out:
        terms = " + ".join(f"{n}²" for n in row.levels)
        ctx.error(
            f"the pyramid gives {c} maps × ({terms} = {bins} bins) = {out:,} features, but "
            f"the row declares {row.size:,}",
            "size-mismatch",
            "size",
        )
    return Resolved((out,), fields=dict(levels=tuple(row.levels), pool=row.pool))


def _windowed(name: str, model: type, torch_class: str, legend: str) -> LayerKind:
    return LayerKind(
        name,
        model,
        pool_rule,
        name,
        legend,
        spatial=True,
        torch_class=torch_class,
        hyper=("kernel", "stride", "padding", "ceil_mode"),
        keys={k: k for k in ("kernel", "stride", "padding", "ceil_mode")},
        closes_stage=True,
    )


def _adaptive(name: str, model: type, torch_class: str) -> LayerKind:
    return LayerKind(
        name,
        model,
        adaptive_pool_rule,
        "adaptive",
        "adaptive pool",
        spatial=True,
        torch_class=torch_class,
        hyper=("target",),
        keys={"target": "size"},
    )


MAXPOOL = _windowed("maxpool", MaxPool, "MaxPool2d", "max pool")
AVGPOOL = _windowed("avgpool", AvgPool, "AvgPool2d", "average pool")
ADAPTIVE_AVGPOOL = _adaptive("adaptive_avgpool", AdaptiveAvgPool, "AdaptiveAvgPool2d")
ADAPTIVE_MAXPOOL = _adaptive("adaptive_maxpool", AdaptiveMaxPool, "AdaptiveMaxPool2d")
#: its output is a vector: the walk's features end here, as at a flatten
SPP_KIND = LayerKind(
    "spp",
    SPP,
    spp_rule,
    "pyramid",
    "spatial pyramid pool",
    spatial=True,
    maps="declared",
    maps_key="size",
    torch_class="PyramidPool2d",
    hyper=("levels", "pool"),
    keys={"levels": "levels"},
)
