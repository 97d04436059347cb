"""The classifier's kinds: ``flatten``, ``fc`` (nn.Linear) and ``dropout``; and
``stochastic_depth``, the dropout of a residual branch."""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

from pydantic import Field

from ..spec.values import MAX_MAPS, Probability
from .activation import OptActivation
from .base import LayerKind, Resolved, RowContext
from .row import ACTIVATION_AFTER, RowModel


class FC(RowModel):
    """A fully connected layer (nn.Linear); the first one flattens its input."""

    type: Literal["fc"]
    size: Annotated[int, Field(ge=1, le=MAX_MAPS)] = Field(description="Number of units.")
    bias: bool = Field(True, description="Learn an additive bias.")
    activation: OptActivation = Field(None, description=ACTIVATION_AFTER)


class Dropout(RowModel):
    """Dropout (nn.Dropout)."""

    type: Literal["dropout"]
    p: Probability = Field(0.5, ge=0.0, lt=1.0, description="Drop probability, default 0.5.")


class StochasticDepth(RowModel):
    """Stochastic depth (Huang et al. 2016): in training, drops its input — one sample
    at a time (`mode: row`) or the whole batch (`mode: batch`) — with probability `p`,
    scaling what it keeps by 1 / (1 − p); the identity in eval. No params. Put on a
    residual branch before its add, it drops the branch (torchvision.ops.StochasticDepth)."""

    type: Literal["stochastic_depth"]
    p: Probability = Field(
        ge=0.0, le=1.0, description="Drop probability in [0, 1] (1 drops every input)."
    )
    mode: Literal["row", "batch"] = Field(
        "row", description="row: each sample drawn on its own (default); batch: one draw."
    )


class Flatten(RowModel):
    """Marks where the feature extractor ends and the classifier begins."""

    type: Literal["flatten"]


def fc_rule(ctx: RowContext, shape) -> Resolved:
    """A vector's units; on channels-last data (H×W×maps), the maps at each position (a
    1×1 convolution's arithmetic: nn.Linear over the last axis)."""
    row: FC = ctx.spec_row
    features = shape[-1]
    params = features * row.size + (row.size if row.bias else 0)
    return Resolved(
        (*shape[:-1], row.size),
        params=params,
        fields=dict(in_maps=features, out_maps=row.size, bias=row.bias),
    )


def fc_macs(shape: Any, res: Resolved) -> int:
    """One multiply-accumulate per weight and bias, at every position it is applied at:
    once for a vector, H·W times over channels-last data."""
    return res.params * math.prod(shape[:-1])


def dropout_rule(ctx: RowContext, shape) -> Resolved:
    return Resolved(shape, fields=dict(p=ctx.spec_row.p))


def stochastic_depth_rule(ctx: RowContext, shape) -> Resolved:
    row: StochasticDepth = ctx.spec_row
    return Resolved(shape, fields=dict(p=row.p, mode=row.mode))


def fc_weights(node: Any) -> int:
    """The weights a paper prints for a fully connected layer: inputs × units."""
    return node.in_maps * node.out_maps if node.in_maps and node.out_maps else 0


FC_KIND = LayerKind(
    "fc",
    FC,
    fc_rule,
    "fc",
    "fully connected",
    macs=fc_macs,
    weights=fc_weights,
    flat_input=True,
    channels_last=True,
    maps="declared",
    maps_key="size",
    torch_class="Linear",
    hyper=("in_maps", "out_maps", "bias"),
    keys={"bias": "bias"},
)
DROPOUT = LayerKind(
    "dropout",
    Dropout,
    dropout_rule,
    "dropout",
    "dropout",
    elementwise=True,
    torch_class="Dropout",
    hyper=("p",),
    keys={"p": "p"},
    rider=True,
    channels_last=True,
)
#: a class of the generated module's own (it must not import torchvision)
STOCHASTIC_DEPTH = LayerKind(
    "stochastic_depth",
    StochasticDepth,
    stochastic_depth_rule,
    "dropout",
    "dropout",
    elementwise=True,
    torch_class="StochasticDepth",
    label="StochasticDepth",
    hyper=("p", "mode"),
    keys={"p": "p", "mode": "mode"},
    rider=True,
)
#: resolved by the walker itself: the flatten changes the walk's state (what follows is
#: the classifier), not only the shape
FLATTEN = LayerKind(
    "flatten",
    Flatten,
    None,
    "flatten",
    "flatten",
    maps="flat",
    op="torch.flatten",
    rider=True,
    channels_last=True,
    # a module only inside an nn.Sequential (a container, an indexed block): nn.Flatten
    macro="flatten",
)
