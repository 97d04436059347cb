"""Layout: ``permute``, between maps×H×W data and channels-last data (H×W×maps); and
``reshape``, a vector read as a tensor of a declared shape (YOLOv1's 1,470 → 30×7×7).

Channels-last data is what ConvNeXt's block feeds its layer norm and pointwise linear
layers: after ``permute: [0, 2, 3, 1]`` a layer norm and an fc act on the maps at each
position, and ``[0, 3, 1, 2]`` brings the maps back to the front. The walk tracks the
layout: a row that reads maps×H×W (a convolution, a pool, a batch norm, …) given
channels-last data is an error.
"""

from __future__ import annotations

import math
from typing import Annotated, Literal

from pydantic import Field

from ..spec.values import MAX_MAPS
from .base import LayerKind, Resolved, RowContext, shape_text
from .row import RowModel

#: the two permutations: to channels-last, and back
TO_LAST = (0, 2, 3, 1)
TO_FIRST = (0, 3, 1, 2)


class Permute(RowModel):
    """The input's dimensions reordered (a generated Permute module, no state): to
    channels-last `[0, 2, 3, 1]`, or back `[0, 3, 1, 2]`."""

    type: Literal["permute"]
    dims: list[Literal[0, 1, 2, 3]] = Field(
        description="The input's dimensions in their new order, the batch first: "
        "`[0, 2, 3, 1]` (maps×H×W to channels-last) or `[0, 3, 1, 2]` (back)."
    )


def permute_rule(ctx: RowContext, shape) -> Resolved:
    dims = tuple(ctx.spec_row.dims)
    if dims not in (TO_LAST, TO_FIRST):
        ctx.error(
            f"dims {list(dims)}: a permute goes to channels-last {list(TO_LAST)} or back "
            f"{list(TO_FIRST)}",
            "value",
            "dims",
        )
        return Resolved(None)
    if len(shape) != 3:
        ctx.error(
            f"a permute needs a maps×H×W or channels-last input, not {shape_text(shape)}",
            "spatial-after-flatten",
        )
        return Resolved(None)
    to_last = dims == TO_LAST
    if to_last == ctx.channels_last:
        have = "channels-last" if ctx.channels_last else "maps×H×W"
        ctx.error(f"dims {list(dims)} on data that is {have} already", "channels-last", "dims")
        return Resolved(None)
    out = tuple(shape[d - 1] for d in dims[1:])
    return Resolved(out, fields=dict(dims=dims), channels_last=to_last)


PERMUTE = LayerKind(
    "permute",
    Permute,
    permute_rule,
    "layout",
    "permute",
    torch_class="Permute",
    hyper=("dims",),
    rider=True,
    channels_last=True,
)


class Reshape(RowModel):
    """A vector read as a maps×H×W tensor of `shape` (nn.Unflatten of the features,
    no state): YOLOv1's 1,470 outputs as 30×7×7. It reads a vector (after the flatten or
    an fc); rows after it are element-wise (an activation)."""

    type: Literal["reshape"]
    shape: list[Annotated[int, Field(ge=1, le=MAX_MAPS)]] = Field(
        min_length=3,
        max_length=3,
        description="The output's maps, height and width, maps first (`[30, 7, 7]`); "
        "their product must be the input vector's length.",
    )


def reshape_rule(ctx: RowContext, shape) -> Resolved:
    out = tuple(ctx.spec_row.shape)
    if len(shape) != 1:
        ctx.error(
            f"a reshape reads a vector, not {shape_text(shape)}: write a flatten (or an fc) "
            "before it",
            "reshape-input",
        )
        return Resolved(None)
    if math.prod(out) != shape[0]:
        ctx.error(
            f"shape {shape_text(out)} holds {math.prod(out):,} elements, but the input "
            f"vector has {shape[0]:,}",
            "reshape-size",
            "shape",
        )
        return Resolved(None)
    return Resolved(out, fields=dict(reshape=out))


RESHAPE = LayerKind(
    "reshape",
    Reshape,
    reshape_rule,
    "layout",
    "reshape",
    maps="declared",
    maps_key="shape",  # its first item
    torch_class="Unflatten",
    hyper=("reshape",),
    keys={"reshape": "shape"},
    rider=True,
)
