"""Pools: windowed (``maxpool``, ``avgpool``) and adaptive (to a fixed output size)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from ..spec.values import Kernel, OptMaps, OptPoolPadding, OptSize, OptStride, Size
from .base import LayerKind, Resolved, RowContext, check_maps
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
