"""The pydantic model every layer kind's row model extends: the keys every row takes.

The models say what a row *may* hold; whether the rows fit together is the shape
rules' business. Types are strict — ``maps: "6"``, ``maps: 6.0``, ``maps: true`` are
errors, not coercions — and unknown keys are errors. Field descriptions are the
spec-format reference: ``cnnspec schema`` exports them as JSON Schema, so editors
show them on hover.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field

from ..spec.values import MAX_REPEAT, Condition, OptName, Printed, Sources


class RowModel(BaseModel):
    """The keys every row takes (a kind's model adds its own, and its `type` tag)."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)

    if TYPE_CHECKING:  # every row model declares its own `type` (a Literal tag)
        type: str

    name: OptName = Field(
        None,
        description="Module attribute name: an ASCII identifier, unique in the spec. "
        "Default: the type and a counter (conv1, relu2, …).",
    )
    repeat: int = Field(
        1,
        ge=1,
        le=MAX_REPEAT,
        description="Stands for this many copies of the row; a name gets _1 … _N appended.",
    )
    from_: Sources | None = Field(
        None,
        alias="from",
        description="The name (or list of names) of earlier rows in the same scope whose "
        "outputs feed this row; `input` is the scope's input. Default: the previous row.",
    )
    if_: Condition | None = Field(
        None,
        alias="if",
        description="The row exists only when this condition over the block's params holds "
        "(`$stride != 1`); when it does not, rows that read it read its (first) input.",
    )
    params: Printed | None = Field(
        None,
        description="The parameter count a paper prints for this row (`159K`, `1.2M`, 2400): "
        "compared with the computed count under the spec's `printed` convention; a "
        "difference is a warning showing both.",
    )
    macs: Printed | None = Field(
        None,
        description="The multiply-adds a paper prints for this row (`128M`, `1.8e9`), "
        "compared like `params`.",
    )


#: The description of an optional `maps` that a shape-keeping kind checks.
MAPS_CHECKED = "Feature maps. Optional; when given it must equal the incoming maps."
#: The description of an optional `size` that a windowed kind checks and infers from.
SIZE_CHECKED = (
    "Declared output size (H×W). Optional; when given it must equal what the "
    "output-size formula yields, and missing padding is inferred from it."
)
#: The description of the `activation` shorthand.
ACTIVATION_AFTER = "Activation applied after this row (a shorthand for an extra row)."
