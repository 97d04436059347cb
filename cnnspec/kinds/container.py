"""Containers: ``sequential``, rows that run in order inside one nn.Sequential.

Its rows may be of any kind, so its model names the row union, which
:mod:`cnnspec.spec.models` builds from every kind and then completes this model with.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field

from ..spec.values import OptMaps, OptSize
from .base import LayerKind
from .row import RowModel

if TYPE_CHECKING:  # every row model is a RowModel; pydantic sees the tagged union
    from .row import RowModel as Layer


class Sequential(RowModel):
    """A container: its rows run in order inside one nn.Sequential."""

    type: Literal["sequential"]
    maps: OptMaps = Field(None, description="Declared output maps (checked).")
    size: OptSize = Field(None, description="Declared output size (checked).")
    children: Literal["indexed", "named"] = Field(
        "indexed",
        description="indexed: children are 0, 1, … (nn.Sequential); named: children are the "
        "rows' names (nn.Sequential of an OrderedDict).",
    )
    layers: list[Layer] = Field(min_length=1, description="The container's rows, in order.")


#: resolved by the walker, which walks its rows in a scope of their own; the torch
#: backend writes the nn.Sequential itself (no macro)
SEQUENTIAL = LayerKind(
    "sequential",
    Sequential,
    None,
    "container",
    "",
    maps="inner",
    torch_class="Sequential",
    macro=None,
)
