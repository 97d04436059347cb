"""Normalizations: ``batchnorm`` (over maps or features), ``layernorm`` (over the maps at
each position), ``groupnorm`` (over groups of maps) and ``lrn`` (across maps)."""

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


class LayerNorm(RowModel):
    """Layer normalisation over the maps at each position: on maps×H×W data the
    generated LayerNorm2d (nn.LayerNorm applied channels-last), on channels-last data
    (after a permute) or a vector nn.LayerNorm over the last axis."""

    type: Literal["layernorm"]
    maps: OptMaps = Field(None, description=MAPS_CHECKED)
    eps: float = Field(1e-5, gt=0.0, lt=1.0, description="Added to the variance, default 1e-5.")


class GroupNorm(RowModel):
    """Group normalisation (nn.GroupNorm): the maps in `groups` groups, each normalised
    over its maps and positions."""

    type: Literal["groupnorm"]
    groups: Annotated[int, Field(ge=1, le=MAX_MAPS)] = Field(
        description="Number of groups; must divide the maps."
    )
    maps: OptMaps = Field(None, description=MAPS_CHECKED)
    eps: float = Field(1e-5, gt=0.0, lt=1.0, description="Added to the variance, default 1e-5.")


def layernorm_rule(ctx: RowContext, shape) -> Resolved:
    maps = shape[-1] if ctx.channels_last or len(shape) == 1 else shape[0]
    check_maps(ctx, maps, "layer norm")
    two_d = len(shape) == 3 and not ctx.channels_last
    return Resolved(
        shape,
        params=2 * maps,
        fields=dict(
            in_maps=maps, eps=ctx.spec_row.eps, torch_class="LayerNorm2d" if two_d else "LayerNorm"
        ),
    )


def groupnorm_rule(ctx: RowContext, shape) -> Resolved:
    row: GroupNorm = ctx.spec_row
    check_maps(ctx, shape[0], "group norm")
    if shape[0] % row.groups:
        ctx.error(
            f"groups={row.groups} must divide the maps ({shape[0]}): {shape[0]} / {row.groups} "
            f"= {shape[0] / row.groups:g}",
            "norm-groups",
            "groups",
        )
        return Resolved(None)
    return Resolved(
        shape, params=2 * shape[0], fields=dict(in_maps=shape[0], groups=row.groups, eps=row.eps)
    )


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
LAYERNORM = LayerKind(
    "layernorm",
    LayerNorm,
    layernorm_rule,
    "layernorm",
    "layer norm",
    macs=param_macs,
    elementwise=True,
    torch_class="LayerNorm",
    hyper=("in_maps", "eps", "torch_class"),
    keys={"eps": "eps"},
    rider=True,
    channels_last=True,
)
GROUPNORM = LayerKind(
    "groupnorm",
    GroupNorm,
    groupnorm_rule,
    "groupnorm",
    "group norm",
    macs=param_macs,
    elementwise=True,
    torch_class="GroupNorm",
    hyper=("in_maps", "groups", "eps"),
    keys={"eps": "eps", "groups": "groups"},
    rider=True,
)


class Scale(RowModel):
    """A learned per-channel scale (ConvNeXt's layer scale): an nn.Parameter of shape
    maps×1×1 on the block (or network) holding the row, named like the row
    (`<block>.layer_scale`); the input is multiplied by it."""

    type: Literal["scale"]
    init: float = Field(
        1.0, allow_inf_nan=False, description="The initial value of every element, default 1."
    )
    maps: OptMaps = Field(None, description=MAPS_CHECKED)


def scale_rule(ctx: RowContext, shape) -> Resolved:
    check_maps(ctx, shape[0], "a scale")
    return Resolved(shape, params=shape[0], fields=dict(in_maps=shape[0], init=ctx.spec_row.init))


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
#: MACs: one per parameter (torchinfo counts none: it knows no parameter of that name)
SCALE = LayerKind(
    "scale",
    Scale,
    scale_rule,
    "scale",
    "layer scale",
    macs=param_macs,
    spatial=True,
    elementwise=True,
    hyper=("in_maps", "init"),
    keys={"init": "init"},
    rider=True,
    parameter=True,
    label="Parameter",
    macro="scale",
)
