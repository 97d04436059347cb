"""Normalizations: ``batchnorm`` (over maps or features) and ``lrn`` (across maps)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from ..spec.values import MAX_MAPS, OptMaps
from .base import LayerKind, Resolved, RowContext, check_maps, param_macs
from .row import MAPS_CHECKED, RowModel


class BatchNorm(RowModel):
    """Batch normalisation (nn.BatchNorm2d, or nn.BatchNorm1d after the flatten)."""

    type: Literal["batchnorm"]
    maps: OptMaps = Field(None, description=MAPS_CHECKED)
    eps: float = Field(1e-5, gt=0.0, lt=1.0, description="Added to the variance, default 1e-5.")
    momentum: float = Field(
        0.1, gt=0.0, le=1.0, description="Running statistics' momentum, default 0.1."
    )


class LRN(RowModel):
    """Local response normalisation across maps (nn.LocalResponseNorm), as in AlexNet,
    GoogLeNet and VGG's A-LRN."""

    type: Literal["lrn"]
    n: Annotated[int, Field(ge=1, le=MAX_MAPS)] = Field(
        5, description="Neighbouring maps normalised over, default 5."
    )
    alpha: float = Field(1e-4, ge=0.0, description="Scale α, default 1e-4.")
    beta: float = Field(0.75, ge=0.0, description="Exponent β, default 0.75.")
    k: float = Field(1.0, ge=0.0, description="Additive constant k, default 1.")


def batchnorm_rule(ctx: RowContext, shape) -> Resolved:
    check_maps(ctx, shape[0], "batch norm")
    row = ctx.spec_row
    return Resolved(
        shape,
        params=2 * shape[0],
        fields=dict(
            in_maps=shape[0],
            eps=row.eps,
            momentum=row.momentum,
            torch_class="BatchNorm1d" if len(shape) == 1 else "BatchNorm2d",
        ),
    )


def lrn_rule(ctx: RowContext, shape) -> Resolved:
    row = ctx.spec_row
    return Resolved(shape, fields=dict(lrn=(row.n, row.alpha, row.beta, row.k)))


BATCHNORM = LayerKind(
    "batchnorm",
    BatchNorm,
    batchnorm_rule,
    "batchnorm",
    "batch norm",
    macs=param_macs,
    elementwise=True,
    torch_class="BatchNorm2d",
    hyper=("in_maps", "eps", "momentum", "torch_class"),
    keys={"eps": "eps", "momentum": "momentum"},
    rider=True,
)
LRN_KIND = LayerKind(
    "lrn",
    LRN,
    lrn_rule,
    "lrn",
    "local response norm",
    spatial=True,
    elementwise=True,
    torch_class="LocalResponseNorm",
    hyper=("lrn",),
)
