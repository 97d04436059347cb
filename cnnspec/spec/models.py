"""The document models: :class:`Spec` (a network), :class:`BlockSpec`, and the row union.

``Layer``, the model of one row, is a union tagged by the row's `type`: the row model
of every kind in :data:`cnnspec.kinds.KINDS`, and :class:`BlockRow` for a row whose
type names a block. The union is built from the kinds whenever a model that holds
rows is built, and those models are rebuilt when a kind is registered or removed.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Annotated, Any, Literal, Union

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    GetCoreSchemaHandler,
    Tag,
    WithJsonSchema,
)
from pydantic._internal._mock_val_ser import set_model_mocks
from pydantic_core import PydanticCustomError

from ..expr import is_expr
from ..kinds import LAYER_TYPES, MODEL_FOR_TYPE, on_change
from ..kinds.container import ModuleList, Sequential
from ..kinds.row import RowModel
from .values import (
    MAX_REPEAT,
    PARAM_TYPES,
    ClassName,
    Maps,
    NotNull,
    OptMaps,
    OptSize,
    Printed,
    Size,
    parse_pair,
)


class BlockRow(RowModel):
    """An instance of a block defined under `blocks:`; its other keys are the block's params."""

    model_config = ConfigDict(strict=True, extra="allow", frozen=True, populate_by_name=True)

    type: str = Field(
        description="The block's name.",
        json_schema_extra=lambda schema: schema.update({"not": {"enum": list(LAYER_TYPES)}}),
    )
    repeat: int | None = Field(  # type: ignore[assignment]
        None,
        ge=1,
        le=MAX_REPEAT,
        description="N instances in an nn.Sequential (children 0 … N−1, or named by `names`).",
    )
    maps: OptMaps = Field(None, description="Declared output maps (checked).")
    size: OptSize = Field(None, description="Declared output size (checked).")
    first: dict[str, Any] | None = Field(
        None, description="Params that differ in the first copy of a repeated block: {stride: 2}."
    )
    names: str | None = Field(
        None,
        description=(
            "Names of the copies, with {i} for 1, 2, … (`denselayer{i}`) or {i0} for 0, 1, …"
            " (`block1-{i0}`); letters, digits, _ and -."
        ),
    )


#: The tag of a row whose type is not a layer type: an instance of a block.
BLOCK = "block"


def row_tag(value: Any) -> str | None:
    if not isinstance(value, (dict, BaseModel)):
        return BLOCK  # not a mapping: the block row model says so
    kind = value.get("type") if isinstance(value, dict) else getattr(value, "type", None)
    if kind is None:
        return None
    if isinstance(kind, str) and kind in MODEL_FOR_TYPE:
        return kind
    if isinstance(kind, str) and kind.isidentifier() and kind.isascii():
        return BLOCK
    return "?"  # not a tag: reported as an unknown type


def row_union() -> Any:
    """The type of one row: the registered kinds' row models and the block row, tagged."""
    return Annotated[
        Union[  # noqa: UP007 (a tagged union needs the Union form)
            tuple(Annotated[m, Tag(t)] for t, m in MODEL_FOR_TYPE.items())
            + (Annotated[BlockRow, Tag(BLOCK)],)
        ],
        Discriminator(row_tag),
    ]


if TYPE_CHECKING:  # pragma: no cover
    Layer = RowModel  # every row model is a RowModel; pydantic sees the tagged union
else:

    class Layer:
        """A row: pydantic validates it against :func:`row_union` as it stands when the
        model holding it is built."""

        @classmethod
        def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> Any:
            return handler.generate_schema(row_union())


Sequential.model_rebuild(_types_namespace={"Layer": Layer})
ModuleList.model_rebuild(_types_namespace={"Layer": Layer})


#: Keys every row takes that a person rarely needs: listed last in messages.
_GRAPH_KEYS = ("from", "if", "params", "macs")


def row_keys(model: type[BaseModel]) -> list[str]:
    """The keys a row model takes, as written in a spec (``from``, not ``from_``)."""
    keys = [f.alias or name for name, f in model.model_fields.items()]
    return [k for k in keys if k not in _GRAPH_KEYS] + [k for k in keys if k in _GRAPH_KEYS]


def _param_default(value: Any) -> Any:
    """A default is a literal: one error for anything else (not one per type it is not).
    A pair's is two integers, ``[0, 3]`` (kept as a tuple) or ``0x3``."""
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, list) and len(value) == 2:
        return tuple(value)
    if isinstance(value, str) and not is_expr(value):
        try:
            return parse_pair(value, what="pair", minimum=0)
        except ValueError:
            pass
    why = ": a default cannot read params or in_maps" if is_expr(value) else ""
    raise PydanticCustomError(
        "default_type", f"expected a number, true/false or a pair [a, b]{why}"
    )


class ParamSpec(BaseModel):
    """A block param: its type, and a default that makes it optional."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)

    type: Literal["int", "bool", "float", "pair"] = Field(
        description="int, bool, float, or pair: two integers (a kernel, a padding or a "
        "stride per axis, `[1, 7]` or `1x7`; an int stands for both)."
    )
    default: Annotated[
        int | bool | float | tuple[int, int] | None,
        BeforeValidator(_param_default),
        WithJsonSchema(
            {
                "anyOf": [
                    {"type": ["integer", "number", "boolean"]},
                    {"type": "array", "items": {"type": "integer"}, "minItems": 2, "maxItems": 2},
                    {"type": "string"},
                ]
            }
        ),
    ] = Field(None, description="Value when a row omits it.")
    description: str | None = Field(None, max_length=2000, description="What it means.")


def _param_spec(value: Any) -> Any:
    if isinstance(value, str):
        return {"type": value}
    return value


class BlockSpec(BaseModel):
    """A named, parametrized sub-network; a row whose type is its name instantiates it."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)

    title: str | None = Field(None, max_length=2000, description="Free text: the docstring.")
    params: dict[
        str,
        Annotated[
            ParamSpec,
            BeforeValidator(_param_spec),
            WithJsonSchema({"anyOf": [{"enum": list(PARAM_TYPES)}, ParamSpec.model_json_schema()]}),
        ],
    ] = Field(
        default_factory=dict,
        description="Typed params: `planes: int`, or `{type: int, default: 1}`; `kernel: "
        "pair` for two integers (`[1, 7]`). Rows use them as `$planes`, in expressions such "
        "as `$planes * 4` or `$t * in_maps`; a pair stands alone (`kernel: $kernel`).",
    )
    children: Literal["named", "indexed"] = Field(
        "named",
        description="named: every row with a module is an attribute named by the row "
        "(torchvision's BasicBlock); indexed: the block is an nn.Sequential, children 0, 1, …",
    )
    layers: list[dict[str, Any]] | None = Field(
        None,
        min_length=1,
        description="The block's rows, in order: the same row types as the network's, with "
        "`$param` expressions; checked for every instance.",
    )
    table: str | None = Field(None, description="The rows as a table block, as for `table`.")


class PrintedConvention(BaseModel):
    """How the paper counts the figures its table prints (rows' `params` and `macs`)."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)

    counts: Literal["all", "weights"] = Field(
        "all",
        description="all: every parameter (weights, biases, norms), MACs with biases, as "
        "cnnspec counts; weights: conv and fc weights only, MACs without biases.",
    )
    K: Literal[1000, 1024] = Field(1000, description="What K stands for: 1000 or 1024.")
    M: Literal[1000000, 1048576] = Field(1000000, description="What M stands for.")
    G: Literal[1000000000, 1073741824] = Field(1000000000, description="What G stands for.")
    tolerance: float = Field(
        0.0,
        ge=0.0,
        le=0.5,
        description="How far (relative) a printed figure may be from the count and still "
        "agree, beyond the rounding of its last digit: 0.02 for a paper whose figures are "
        "approximate. Default 0.",
    )


class Input(BaseModel):
    """The input image: the table's "image" row."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)

    maps: Maps = Field(description="Input channels (1 for grey, 3 for RGB).")
    size: Size = Field(description="Input height × width, e.g. 224x224.")


#: a key of the dict `outputs:` returns: short text without control characters
OUTPUT_KEY = r"^[^\x00-\x1f\x7f]{1,100}$"


def _outputs(value: Any) -> Any:
    """`outputs:` as a whole: a list of row names or a mapping key → row name, one error
    for anything else (not one per form it is not)."""
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return value
    if isinstance(value, dict) and value and all(isinstance(v, str) for v in value.values()):
        bad = [k for k in value if not isinstance(k, str) or not re.match(OUTPUT_KEY, k)]
        if not bad:
            return value
        raise PydanticCustomError(
            "output_key", f"an output's key is text of 1 to 100 characters, not {bad[0]!r}"
        )
    raise PydanticCustomError(
        "outputs_type",
        "expected a non-empty list of row names (a tuple) or a mapping key → row name (a dict)",
    )


class Spec(BaseModel):
    """A CNN described as a table: one row per layer."""

    model_config = ConfigDict(
        strict=True,
        extra="forbid",
        frozen=True,
        title="cnnspec network",
    )

    name: ClassName = Field(description="Class name of the generated nn.Module.")
    title: Annotated[Annotated[str, Field(max_length=2000)] | None, NotNull] = Field(
        None, description="Free text for the docstring and the diagram title."
    )
    layout: Literal["sequential", "flat"] = Field(
        "sequential",
        description="sequential: features → flatten → classifier (torchvision's layout); "
        "flat: one attribute per row, named by the row's name.",
    )
    input: Annotated[Input | None, NotNull] = Field(
        None, description="The input image; a table block may give it as an `image` row."
    )
    layers: Annotated[Annotated[list[Layer], Field(min_length=1)] | None, NotNull] = Field(
        None, description="The rows, in order. Either this or `table`."
    )
    table: Annotated[str | None, NotNull] = Field(
        None,
        description="The rows typed as a textbook prints them: a header row naming the "
        "columns, then one whitespace-separated line per layer; '-' for an empty cell.",
    )
    include: list[str] | str | None = Field(
        None,
        description="Files (relative to this one) whose `blocks:` this spec uses, so that "
        "specs share blocks instead of copying them.",
    )
    blocks: dict[str, BlockSpec] | None = Field(
        None,
        description="Named, parametrized sub-networks (ResNet's BasicBlock, an inception "
        "module); each becomes one generated class.",
    )
    printed: PrintedConvention | None = Field(
        None,
        description="How the paper counts the `params` and `macs` figures rows declare.",
    )
    training_outputs: Annotated[list[str] | None, NotNull] = Field(
        None,
        description="Top-level rows computed only in training (auxiliary classifiers): "
        "forward returns (main output, these…) in training mode and the main output (the "
        "last row) in eval mode. No row may read them; their MACs are not the network's.",
    )
    outputs: Annotated[
        list[str] | dict[str, str] | None,
        BeforeValidator(_outputs),
        WithJsonSchema(
            {
                "anyOf": [
                    {"type": "array", "items": {"type": "string"}, "minItems": 1},
                    {
                        "type": "object",
                        "additionalProperties": {"type": "string"},
                        "propertyNames": {"pattern": OUTPUT_KEY, "minLength": 1},
                        "minProperties": 1,
                    },
                ]
            }
        ),
    ] = Field(
        None,
        description="The rows the network returns, when it returns several (a backbone's "
        "levels, a second head): a list of row names (forward returns a tuple in that "
        "order) or a mapping key → row name (forward returns a dict with those keys in "
        "that order, as torchvision's backbones return '0'…'3'). Without it, the network "
        "returns its last row.",
    )
    params: Printed | None = Field(
        None,
        description="The whole network's parameter count as the paper prints it (`138M`), "
        "compared with cnnspec's count under `printed`; a difference is a warning.",
    )
    macs: Printed | None = Field(
        None,
        description="The whole network's multiply-adds as the paper prints it (`3.8e9`).",
    )


class Library(BaseModel):
    """A file of blocks only: what `include:` brings into a spec."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True, title="cnnspec blocks")

    title: str | None = Field(None, max_length=2000, description="Free text.")
    include: list[str] | str | None = Field(None, description="Libraries this one builds on.")
    blocks: dict[str, BlockSpec] = Field(description="The named, parametrized sub-networks.")

    #: a library names no network, so no block can clash with its name
    name: None = None
    layers: None = None


def _rebuild() -> None:
    """The models that hold rows, rebuilt with the row union of the kinds registered now."""
    # the two containers hold each other: the list's old schema must not be reused
    # inside the sequential's new one (nor the reverse), so both are set back first
    set_model_mocks(ModuleList)
    set_model_mocks(Sequential)
    Sequential.model_rebuild(force=True, _types_namespace={"Layer": Layer})
    ModuleList.model_rebuild(force=True, _types_namespace={"Layer": Layer})
    Spec.model_rebuild(force=True)


on_change(_rebuild)
