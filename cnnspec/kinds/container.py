"""Containers: ``sequential``, rows that run in order inside one nn.Sequential, and
``list``, parallel rows in one nn.ModuleList, each reading its own input.

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


class ModuleList(RowModel):
    """A list: parallel rows in one nn.ModuleList, each reading its own input."""

    type: Literal["list"]
    layers: list[Layer] = Field(
        min_length=1,
        description="The list's members, in order: each reads the list's input unless its "
        "`from:` names other rows of the scope the list is written in; read from outside "
        "as `name.0`, `name.1`, …",
    )


#: resolved by the walker: each member is walked on its own input, its module path the
#: list's and its index; the torch backend writes the nn.ModuleList itself (no macro)
LIST = LayerKind(
    "list",
    ModuleList,
    None,
    "container",
    "",
    maps="inner",
    torch_class="ModuleList",
    macro=None,
)
