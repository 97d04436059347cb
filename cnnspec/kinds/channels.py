"""Operations on the maps themselves: ``split`` (one part of them) and ``channel_shuffle``
(ShuffleNet's interleaving of groups of maps). Neither has a module or parameters; the
generated ``forward`` writes them as expressions (:data:`LayerKind.forward`)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from ..spec.values import MAX_MAPS, Maps, OptMaps
from .base import LayerKind, Resolved, RowContext, shape_text
from .row import RowModel


class Split(RowModel):
    """One of `parts` equal parts of the input's maps (ShuffleNetV2's channel split)."""

    type: Literal["split"]
    parts: Annotated[int, Field(ge=1, le=MAX_MAPS)] = Field(
        description="Into how many equal parts the maps are cut; it must divide them "
        "(torch.chunk along the maps)."
    )
    part: Annotated[int, Field(ge=0, le=MAX_MAPS)] = Field(
        description="Which part the row passes on, counted from 0 (the first maps): "
        "`parts: 2, part: 1` is the second half."
    )
    maps: OptMaps = Field(
        None, description="Declared maps of the part (checked: the input's maps / parts)."
    )


class ChannelShuffle(RowModel):
    """ShuffleNet's channel shuffle: the maps in `groups` groups, interleaved."""

    type: Literal["channel_shuffle"]
    groups: Maps = Field(
        description="The groups the maps are read as; it must divide them. Map j of group "
        "g moves to position j·groups + g (reshape to groups × maps/groups, transpose, "
        "flatten)."
    )
    maps: OptMaps = Field(None, description="Declared maps (checked: a shuffle keeps them).")


def _check_declared(ctx: RowContext, maps: int) -> None:
    declared = ctx.spec_row.maps
    if declared is not None and declared != maps:
        ctx.error(f"the row declares {declared} maps, but it gives {maps}", "maps-mismatch", "maps")


def split_rule(ctx: RowContext, shape) -> Resolved:
    row: Split = ctx.spec_row
    c = shape[0]
    if row.part >= row.parts:
        ctx.error(
            f"part {row.part} of {row.parts}: the parts are numbered 0 … {row.parts - 1}",
            "value",
            "part",
        )
        return Resolved(None)
    if c % row.parts:
        ctx.error(
            f"parts={row.parts} must divide the {c} maps of its input "
            f"({shape_text(shape)}) into equal parts: {c} / {row.parts} = {c / row.parts:g}",
            "split-parts",
            "parts",
        )
        return Resolved(None)
    out = (c // row.parts, *shape[1:])
    _check_declared(ctx, out[0])
    return Resolved(out, fields=dict(parts=row.parts, part=row.part))


def shuffle_rule(ctx: RowContext, shape) -> Resolved:
    row: ChannelShuffle = ctx.spec_row
    c = shape[0]
    if c % row.groups:
        ctx.error(
            f"groups={row.groups} must divide the {c} maps of its input "
            f"({shape_text(shape)}) into equal groups: {c} / {row.groups} = {c / row.groups:g}",
            "shuffle-groups",
            "groups",
        )
        return Resolved(None)
    _check_declared(ctx, c)
    return Resolved(shape, fields=dict(groups=row.groups))


SPLIT = LayerKind(
    "split",
    Split,
    split_rule,
    "channels",
    "split / shuffle",
    maps="part",
    op="chunk",
    forward="split_forward",
    hyper=("parts", "part"),
    keys={"parts": "parts", "part": "part"},
)
CHANNEL_SHUFFLE = LayerKind(
    "channel_shuffle",
    ChannelShuffle,
    shuffle_rule,
    "channels",
    "split / shuffle",
    elementwise=True,
    op="channel_shuffle",
    forward="channel_shuffle_forward",
    label="shuffle",
    hyper=("groups",),
    keys={"groups": "groups"},
)
