"""Stage 2: plain data → :class:`Spec`, pydantic models of the spec format.

The models say what a row *may* hold; whether the rows fit together is the
checker's business. Types are strict — ``maps: "6"``, ``maps: 6.0``,
``maps: true`` are errors, not coercions — and unknown keys are errors.

Field descriptions here are the spec-format reference: ``cnnspec schema``
exports them as JSON Schema, so editors show them on hover.

Adding a layer type: one model here (and in ``Layer``), one shape rule in
``check.py``, one macro in ``cnnspec/templates/_layers.jinja``.
"""

from __future__ import annotations

import difflib
import keyword
import math
import re
import unicodedata
from typing import TYPE_CHECKING, Annotated, Any, Literal, Union

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationError,
    WithJsonSchema,
)

from .diagnostics import Diagnostic
from .load import Document, clip
from .table import expand_table

#: Largest number of maps or units a row may declare.
MAX_MAPS = 1_000_000
#: Largest spatial size, kernel, stride, dilation or padding (written or inferred).
MAX_EXTENT = 100_000
#: Largest ``repeat``.
MAX_REPEAT = 10_000

#: Longest layer or class name (a generated line must fit in 100 columns).
MAX_NAME_LENGTH = 40

ACTIVATIONS = ("relu", "relu6", "leaky_relu", "sigmoid", "tanh", "softmax")

# Attribute names a layer may not take: nn.Module's own members, which a layer of that
# name would replace in a flat model (a test compares this list with dir(torch.nn.Module)
# and builds a model for every name it lets through).
RESERVED_NAMES = frozenset(
    """
    T_destination call_super_init dump_patches training forward add_module apply bfloat16
    buffers children compile cpu cuda double eval extra_repr float get_buffer
    get_extra_state get_parameter get_submodule half ipu load_state_dict modules mtia
    named_buffers named_children named_modules named_parameters parameters
    register_backward_hook register_buffer register_forward_hook register_forward_pre_hook
    register_full_backward_hook register_full_backward_pre_hook
    register_load_state_dict_post_hook register_load_state_dict_pre_hook register_module
    register_parameter register_state_dict_post_hook register_state_dict_pre_hook
    requires_grad_ set_extra_state set_submodule share_memory state_dict to to_empty train
    type xpu zero_grad
    """.split()
)

#: The globals the generated module's code looks up when it runs, and what a class of
#: that name would replace: ``class super(nn.Module)`` makes ``super().__init__()`` call
#: the class itself, forever. A test derives this set from the generated source.
GENERATED_GLOBALS = {
    "torch": "the generated module's `import torch`",
    "nn": "the generated module's `from torch import nn`",
    "super": "the builtin super() that the generated __init__ calls",
    "range": "the builtin range() a block's computed repeat loops over",
    "list": "the builtin list a block's optional container children are gathered in",
    "OrderedDict": "the generated module's `from collections import OrderedDict`",
    "center_crop": "the generated module's center_crop helper (U-Net's copy-and-crop)",
}


# --------------------------------------------------------------------------- values


def _no_bool(value: Any) -> None:
    if isinstance(value, bool):
        raise ValueError("expected a number, got a boolean")


_PAIR = re.compile(r"\s*([0-9]+)\s*[x×X*]\s*([0-9]+)\s*\Z")
_DIGITS = re.compile(r"\s*[-+]?[0-9]+\s*\Z")


def _foreign_digits(text: str) -> str:
    """A hint when ``text`` holds digits other than 0–9 (full-width ４, Arabic-Indic ٤, …),
    which Python's int() would read but a spec does not: numbers are written in ASCII."""
    foreign = [ch for ch in text if ch.isdecimal() and not ch.isascii()]
    if not foreign:
        return ""
    label = unicodedata.name(foreign[0], f"U+{ord(foreign[0]):04X}")
    ascii_text = "".join(str(unicodedata.decimal(ch)) if ch.isdecimal() else ch for ch in text)
    return f" ({label} is not one of the digits 0–9; write '{clip(ascii_text.strip())}')"


def _pair(value: Any, *, what: str, minimum: int) -> tuple[int, int]:
    """``5``, ``"5x5"``, ``"5×5"``, ``[5, 5]`` → ``(5, 5)``."""
    _no_bool(value)
    if isinstance(value, int):
        pair = (value, value)
    elif isinstance(value, str):
        match = _PAIR.match(value)
        if match:
            if max(len(match[1]), len(match[2])) > 9:
                raise ValueError(f"'{clip(value)}' is beyond the limit of {MAX_EXTENT:,}")
            pair = (int(match[1]), int(match[2]))
        elif _foreign_digits(value):
            raise ValueError(
                f"expected a {what} like 5 or 5x5, got '{clip(value)}'{_foreign_digits(value)}"
            )
        elif _DIGITS.match(value):
            raise ValueError(f"expected a {what} like 5 or 5x5, got the string '{clip(value)}'")
        else:
            raise ValueError(f"expected a {what} like 5, 5x5 or [5, 5], got '{clip(value)}'")
    elif isinstance(value, (list, tuple)):
        if len(value) != 2 or not all(
            isinstance(v, int) and not isinstance(v, bool) for v in value
        ):
            foreign = next((_foreign_digits(v) for v in value if isinstance(v, str)), "")
            raise ValueError(
                f"expected a {what} as two integers [H, W], got {clip(repr(list(value)))}{foreign}"
            )
        pair = (value[0], value[1])
    elif isinstance(value, float):
        raise ValueError(f"expected a {what} as an integer, got {value!r}")
    else:
        got = "a mapping" if isinstance(value, dict) else "nothing (null)"
        raise ValueError(f"expected a {what} like 5, 5x5 or [5, 5], got {got}")
    for v in pair:
        if v < minimum:
            raise ValueError(f"a {what} must be at least {minimum}, got {v}")
        if v > MAX_EXTENT:
            raise ValueError(f"a {what} of {v} is beyond the limit of {MAX_EXTENT:,}")
    return pair


def _any_case(*words: str) -> str:
    """A JSON Schema pattern matching ``words`` in any case, without the ``(?i)`` flag
    that ECMAScript regular expressions (editors' schema validators) do not know."""
    spelled = ["".join(f"[{c.upper()}{c.lower()}]" if c.isalpha() else c for c in w) for w in words]
    return rf"^\s*({'|'.join(spelled)})\s*$"


def _pair_schema(minimum: int, extra: list | None = None) -> dict:
    options = [
        {"type": "integer", "minimum": minimum, "maximum": MAX_EXTENT},
        {"type": "string", "pattern": r"^\s*[0-9]+\s*[x×X*]\s*[0-9]+\s*$"},
        {
            "type": "array",
            "items": {"type": "integer", "minimum": minimum, "maximum": MAX_EXTENT},
            "minItems": 2,
            "maxItems": 2,
        },
    ]
    return {"anyOf": options + (extra or [])}


def _padding(value: Any) -> tuple[int, int] | Literal["same"]:
    if isinstance(value, str) and value.strip().lower() == "same":
        return "same"
    return _pair(value, what="padding", minimum=0)


def _pool_padding(value: Any) -> tuple[int, int]:
    if isinstance(value, str) and value.strip().lower() == "same":
        raise ValueError(
            "a pool takes no 'same' (PyTorch's pools have no padding='same'); write the "
            "padding as a number: (K − 1)/2 keeps the size of an odd kernel K with stride 1"
        )
    return _pair(value, what="padding", minimum=0)


Size = Annotated[
    tuple[int, int],
    BeforeValidator(lambda v: _pair(v, what="size", minimum=1)),
    WithJsonSchema(_pair_schema(1)),
]
Kernel = Annotated[
    tuple[int, int],
    BeforeValidator(lambda v: _pair(v, what="kernel", minimum=1)),
    WithJsonSchema(_pair_schema(1)),
]
Stride = Annotated[
    tuple[int, int],
    BeforeValidator(lambda v: _pair(v, what="stride", minimum=1)),
    WithJsonSchema(_pair_schema(1)),
]
Dilation = Annotated[
    tuple[int, int],
    BeforeValidator(lambda v: _pair(v, what="dilation", minimum=1)),
    WithJsonSchema(_pair_schema(1)),
]
Padding = Annotated[
    tuple[int, int] | Literal["same"],
    BeforeValidator(_padding),
    WithJsonSchema(_pair_schema(0, [{"type": "string", "pattern": _any_case("same")}])),
]
PoolPadding = Annotated[
    tuple[int, int],
    BeforeValidator(_pool_padding),
    WithJsonSchema(_pair_schema(0)),
]


def _refuse_null(value: Any) -> Any:
    """An optional key left empty (``padding:``, ``maps: ~``) is an error, as everywhere:
    types are strict, and leaving the key out is how a spec says "the default"."""
    if value is None:
        raise ValueError(
            "expected a value, got nothing (null); to leave it unset, leave the key out"
        )
    return value


#: An optional field: absent means its default; an explicit null is an error.
NotNull = BeforeValidator(_refuse_null)


def _activation(value: Any) -> Any:
    return value.strip().lower() if isinstance(value, str) else value


Activation = Annotated[
    Literal["relu", "relu6", "leaky_relu", "sigmoid", "tanh", "softmax", "none"],
    BeforeValidator(_activation),
    WithJsonSchema(
        {
            "type": "string",
            "description": "case-insensitive",
            "pattern": _any_case(*ACTIVATIONS, "none"),
        }
    ),
]


def check_identifier(value: Any, what: str = "name") -> str:
    """A Python identifier that is safe as a module attribute or class name."""
    if not isinstance(value, str):
        raise ValueError(f"expected a {what} as text")
    shown = clip(value)
    for ch in value:
        if ord(ch) > 127:
            label = unicodedata.name(ch, f"U+{ord(ch):04X}")
            char = f"'{ch}' " if ch.isprintable() else ""
            raise ValueError(
                f"{what} '{shown}' contains the non-ASCII character {char}({label}); "
                "names must be ASCII identifiers"
            )
    if not value.isidentifier():
        raise ValueError(
            f"{what} '{shown}' is not a Python identifier (letters, digits and _, "
            "not starting with a digit)"
        )
    if keyword.iskeyword(value) or keyword.issoftkeyword(value):
        soft = " (a soft keyword)" if keyword.issoftkeyword(value) else ""
        raise ValueError(f"{what} '{value}' is a Python keyword{soft}")
    if value.startswith("_"):
        raise ValueError(f"{what} '{shown}' starts with '_'; such names are PyTorch's own")
    if len(value) > MAX_NAME_LENGTH:
        raise ValueError(
            f"{what} '{shown}' is {len(value)} characters long; the limit is {MAX_NAME_LENGTH} "
            "(so that every generated line fits in 100 columns)"
        )
    return value


def _layer_name(value: Any) -> str:
    value = check_identifier(value)
    if value in RESERVED_NAMES:
        raise ValueError(f"name '{value}' is already an attribute of every nn.Module")
    return value


def _class_name(value: Any) -> str:
    value = check_identifier(value, "name")
    if value in GENERATED_GLOBALS:
        raise ValueError(
            f"a class named '{value}' would replace {GENERATED_GLOBALS[value]}, and the "
            "module could not run"
        )
    return value


Name = Annotated[
    str,
    BeforeValidator(_layer_name),
    WithJsonSchema({"type": "string", "pattern": "^[A-Za-z][A-Za-z0-9_]*$"}),
]
ClassName = Annotated[
    str,
    BeforeValidator(_class_name),
    WithJsonSchema({"type": "string", "pattern": "^[A-Za-z][A-Za-z0-9_]*$"}),
]


def _sources(value: Any) -> Any:
    if isinstance(value, str):
        return (check_identifier(value, "row name"),)
    if isinstance(value, list):
        if not value:
            raise ValueError("expected at least one row name")
        for v in value:
            if isinstance(v, int) and not isinstance(v, bool):
                raise ValueError(
                    f"expected row names, got the number {v} (`from` takes names, not positions)"
                )
        return tuple(check_identifier(v, "row name") for v in value)
    raise ValueError("expected a row name or a list of row names")


Sources = Annotated[
    tuple[str, ...],
    BeforeValidator(_sources),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string"},
                {"type": "array", "items": {"type": "string"}, "minItems": 1},
            ]
        }
    ),
]


def _condition(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        return value
    raise ValueError("expected a condition such as '$stride != 1', or true/false")


Condition = Annotated[
    str | bool,
    BeforeValidator(_condition),
    WithJsonSchema({"anyOf": [{"type": "string"}, {"type": "boolean"}]}),
]

_PRINTED = re.compile(r"\s*(\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)\s*([KMGkmg]?)\s*\Z")


def _printed(value: Any) -> Any:
    _no_bool(value)
    if isinstance(value, (int, float)):
        if not math.isfinite(value) or value < 0:
            raise ValueError(f"expected a count such as 159K, got {value!r}")
        return str(value)
    if isinstance(value, str) and _PRINTED.match(value):
        return value.strip()
    raise ValueError(f"expected a count as printed, such as 159K, 128M or 1.8e9, got {value!r}")


Printed = Annotated[
    str,
    BeforeValidator(_printed),
    WithJsonSchema(
        {"anyOf": [{"type": "number"}, {"type": "string", "pattern": _PRINTED.pattern}]}
    ),
]


def printed_value(text: str, units: dict[str, float]) -> tuple[float, float]:
    """``"159K"`` → (159, 1024) under ``units``: the printed number and its unit."""
    match = _PRINTED.match(text)
    assert match is not None
    return float(match[1]), float(units.get(match[2].upper(), 1))


Maps = Annotated[int, Field(ge=1, le=MAX_MAPS)]


def _plus_zero(value: float) -> float:
    """``-0.0`` is 0: a number is its value, whatever sign a zero was written with."""
    return value + 0.0


#: A probability: a float, an int (0) read as one; -0.0 is 0.0.
Probability = Annotated[float, AfterValidator(_plus_zero)]

# Optional fields (absent: the default; an explicit null: an error). json_schema()
# leaves null out of the JSON Schema, as the validator does.
OptName = Annotated[Name | None, NotNull]
OptMaps = Annotated[Maps | None, NotNull]
OptSize = Annotated[Size | None, NotNull]
OptStride = Annotated[Stride | None, NotNull]
OptPadding = Annotated[Padding | None, NotNull]
OptPoolPadding = Annotated[PoolPadding | None, NotNull]
OptActivation = Annotated[Activation | None, NotNull]

# --------------------------------------------------------------------------- rows


class _Row(BaseModel):
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


_MAPS_CHECKED = "Feature maps. Optional; when given it must equal the incoming maps."
_SIZE_CHECKED = (
    "Declared output size (H×W). Optional; when given it must equal what the "
    "output-size formula yields, and missing padding is inferred from it."
)
_PADDING = (
    "Zero padding per side: int, HxW, or 'same' (stride 1; PyTorch's padding='same'). "
    "When absent and `size` is declared, the smallest padding that yields `size` is "
    "inferred; otherwise 0."
)
_POOL_PADDING = (
    "Zero padding per side: int or HxW, at most half the kernel (PyTorch's rule). When "
    "absent and `size` is declared, the smallest padding that yields `size` is inferred; "
    "otherwise 0."
)


class Conv(_Row):
    """A 2-D convolution (nn.Conv2d)."""

    type: Literal["conv"]
    maps: Maps = Field(description="Output feature maps (channels).")
    size: OptSize = Field(None, description=_SIZE_CHECKED)
    kernel: Kernel = Field(description="Kernel size: 5, 5x5, 5×5 or [5, 5].")
    stride: Stride = Field((1, 1), description="Stride, default 1.")
    padding: OptPadding = Field(None, description=_PADDING)
    dilation: Dilation = Field((1, 1), description="Spacing between kernel taps, default 1.")
    groups: Maps = Field(1, description="Blocked connections; must divide in and out maps.")
    bias: bool = Field(True, description="Learn an additive bias.")
    activation: OptActivation = Field(
        None, description="Activation applied after this row (a shorthand for an extra row)."
    )


class Deconv(_Row):
    """A transposed 2-D convolution (nn.ConvTranspose2d): U-Net's up-convolution."""

    type: Literal["deconv"]
    maps: Maps = Field(description="Output feature maps (channels).")
    size: Size | None = Field(
        None,
        description="Declared output size (H×W). Optional; when given it must equal "
        "(W − 1)·S − 2P + D·(K − 1) + output_padding + 1, and missing padding and "
        "output_padding are inferred from it.",
    )
    kernel: Kernel = Field(description="Kernel size: 2, 2x2 or [2, 2].")
    stride: Stride = Field((1, 1), description="Stride, default 1.")
    padding: Padding | None = Field(
        None, description="Padding taken off each side of the output (int or HxW); default 0."
    )
    output_padding: (
        Annotated[
            tuple[int, int],
            BeforeValidator(lambda v: _pair(v, what="output padding", minimum=0)),
            WithJsonSchema(_pair_schema(0)),
        ]
        | None
    ) = Field(
        None,
        description="Extra rows/columns added on one side (below max(stride, dilation)).",
    )
    dilation: Dilation = Field((1, 1), description="Spacing between kernel taps, default 1.")
    groups: Maps = Field(1, description="Blocked connections; must divide in and out maps.")
    bias: bool = Field(True, description="Learn an additive bias.")
    activation: Activation | None = Field(
        None, description="Activation applied after this row (a shorthand for an extra row)."
    )


def _scale(value: Any) -> Any:
    _no_bool(value)
    if isinstance(value, (int, float)) and math.isfinite(value) and 0 < value <= 1000:
        return float(value)
    raise ValueError(f"expected a scale factor such as 2 or 0.5, got {value!r}")


def _target(value: Any) -> Any:
    if isinstance(value, str) and value.strip().lower() == "input":
        return "input"
    return _pair(value, what="size", minimum=1)


class Upsample(_Row):
    """Upsampling (nn.Upsample): by a `scale`, or to a `size` (`size: input` means the
    network's input size, as FCN's last bilinear upsampling)."""

    type: Literal["upsample"]
    maps: Maps | None = Field(None, description=_MAPS_CHECKED)
    scale: Annotated[float, BeforeValidator(_scale)] | None = Field(
        None, description="Scale factor per axis (2 doubles H and W)."
    )
    size: (
        Annotated[
            tuple[int, int] | Literal["input"],
            BeforeValidator(_target),
            WithJsonSchema(_pair_schema(1, [{"const": "input"}])),
        ]
        | None
    ) = Field(
        None,
        description="Target size (H×W), or `input` for the network's input size. With "
        "`scale` too, it is the declared result and is checked.",
    )
    mode: Literal["nearest", "bilinear"] = Field("nearest", description="nearest or bilinear.")
    align_corners: bool | None = Field(
        None, description="bilinear only: as in PyTorch (default: PyTorch's, false)."
    )


class _Pool(_Row):
    maps: OptMaps = Field(None, description=_MAPS_CHECKED)
    size: OptSize = Field(None, description=_SIZE_CHECKED)
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


class _AdaptivePool(_Row):
    maps: OptMaps = Field(None, description=_MAPS_CHECKED)
    size: Size = Field(description="Target output size (H×W).")


class AdaptiveAvgPool(_AdaptivePool):
    """Adaptive average pooling to a fixed size (nn.AdaptiveAvgPool2d)."""

    type: Literal["adaptive_avgpool"]


class AdaptiveMaxPool(_AdaptivePool):
    """Adaptive max pooling to a fixed size (nn.AdaptiveMaxPool2d)."""

    type: Literal["adaptive_maxpool"]


class FC(_Row):
    """A fully connected layer (nn.Linear); the first one flattens its input."""

    type: Literal["fc"]
    size: Annotated[int, Field(ge=1, le=MAX_MAPS)] = Field(description="Number of units.")
    bias: bool = Field(True, description="Learn an additive bias.")
    activation: OptActivation = Field(
        None, description="Activation applied after this row (a shorthand for an extra row)."
    )


class Dropout(_Row):
    """Dropout (nn.Dropout)."""

    type: Literal["dropout"]
    p: Probability = Field(0.5, ge=0.0, lt=1.0, description="Drop probability, default 0.5.")


class BatchNorm(_Row):
    """Batch normalisation (nn.BatchNorm2d, or nn.BatchNorm1d after the flatten)."""

    type: Literal["batchnorm"]
    maps: OptMaps = Field(None, description=_MAPS_CHECKED)
    eps: float = Field(1e-5, gt=0.0, lt=1.0, description="Added to the variance, default 1e-5.")
    momentum: float = Field(
        0.1, gt=0.0, le=1.0, description="Running statistics' momentum, default 0.1."
    )


class LRN(_Row):
    """Local response normalisation across maps (nn.LocalResponseNorm), as in AlexNet,
    GoogLeNet and VGG's A-LRN."""

    type: Literal["lrn"]
    n: Annotated[int, Field(ge=1, le=MAX_MAPS)] = Field(
        5, description="Neighbouring maps normalised over, default 5."
    )
    alpha: float = Field(1e-4, ge=0.0, description="Scale α, default 1e-4.")
    beta: float = Field(0.75, ge=0.0, description="Exponent β, default 0.75.")
    k: float = Field(1.0, ge=0.0, description="Additive constant k, default 1.")


class Add(_Row):
    """Element-wise sum of its inputs (a residual connection); every input the same shape."""

    type: Literal["add"]
    maps: OptMaps = Field(None, description="Declared maps of the sum (checked).")
    size: OptSize = Field(None, description="Declared size of the sum (checked).")


class Concat(_Row):
    """Concatenation of its inputs along the maps; equal H×W, or `crop: center`."""

    type: Literal["concat"]
    maps: OptMaps = Field(None, description="Declared maps of the result (checked).")
    size: OptSize = Field(None, description="Declared size of the result (checked).")
    crop: Literal["center"] | None = Field(
        None, description="`center`: cut every input to the last input's H×W, centred (U-Net)."
    )


class Sequential(_Row):
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


class BlockRow(_Row):
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
        description="Names of the copies, with {i} for 1, 2, …: `denselayer{i}`.",
    )


class Flatten(_Row):
    """Marks where the feature extractor ends and the classifier begins."""

    type: Literal["flatten"]


class ReLU(_Row):
    type: Literal["relu"]


class ReLU6(_Row):
    type: Literal["relu6"]


class LeakyReLU(_Row):
    type: Literal["leaky_relu"]


class Sigmoid(_Row):
    type: Literal["sigmoid"]


class Tanh(_Row):
    type: Literal["tanh"]


class Softmax(_Row):
    """Softmax over the class dimension (dim=1); only as the last layer."""

    type: Literal["softmax"]


#: The row model of every layer type (block rows excepted): the registry's first column.
_MODEL_FOR_TYPE: dict[str, type[_Row]] = {
    "conv": Conv,
    "deconv": Deconv,
    "maxpool": MaxPool,
    "avgpool": AvgPool,
    "adaptive_avgpool": AdaptiveAvgPool,
    "adaptive_maxpool": AdaptiveMaxPool,
    "fc": FC,
    "dropout": Dropout,
    "batchnorm": BatchNorm,
    "lrn": LRN,
    "upsample": Upsample,
    "flatten": Flatten,
    "add": Add,
    "concat": Concat,
    "sequential": Sequential,
    "relu": ReLU,
    "relu6": ReLU6,
    "leaky_relu": LeakyReLU,
    "sigmoid": Sigmoid,
    "tanh": Tanh,
    "softmax": Softmax,
}

LAYER_TYPES: tuple[str, ...] = tuple(_MODEL_FOR_TYPE)

#: The tag of a row whose type is not a layer type: an instance of a block.
BLOCK = "block"


def _row_tag(value: Any) -> str | None:
    if not isinstance(value, (dict, BaseModel)):
        return BLOCK  # not a mapping: the block row model says so
    kind = value.get("type") if isinstance(value, dict) else getattr(value, "type", None)
    if kind is None:
        return None
    if isinstance(kind, str) and kind in _MODEL_FOR_TYPE:
        return kind
    if isinstance(kind, str) and kind.isidentifier() and kind.isascii():
        return BLOCK
    return "?"  # not a tag: reported as an unknown type


if TYPE_CHECKING:  # pragma: no cover
    Layer = _Row  # every row model is a _Row; pydantic sees the tagged union below
else:
    Layer = Annotated[
        Union[  # noqa: UP007 (a tagged union needs the Union form)
            tuple(Annotated[m, Tag(t)] for t, m in _MODEL_FOR_TYPE.items())
            + (Annotated[BlockRow, Tag(BLOCK)],)
        ],
        Discriminator(_row_tag),
    ]
Sequential.model_rebuild()


class ParamSpec(BaseModel):
    """A block param: its type, and a default that makes it optional."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)

    type: Literal["int", "bool", "float"] = Field(description="int, bool or float.")
    default: int | bool | float | None = Field(None, description="Value when a row omits it.")
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
            WithJsonSchema(
                {"anyOf": [{"enum": ["int", "bool", "float"]}, ParamSpec.model_json_schema()]}
            ),
        ],
    ] = Field(
        default_factory=dict,
        description="Typed params: `planes: int`, or `{type: int, default: 1}`. Rows use "
        "them as `$planes`, in expressions such as `$planes * 4` or `$t * in_maps`.",
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
    params: Printed | None = Field(
        None,
        description="The whole network's parameter count as the paper prints it (`138M`), "
        "compared with cnnspec's count under `printed`; a difference is a warning.",
    )
    macs: Printed | None = Field(
        None,
        description="The whole network's multiply-adds as the paper prints it (`3.8e9`).",
    )


# --------------------------------------------------------------------------- errors


def _columns() -> frozenset[str]:
    """Every key a row of some type takes: the columns a table header may name."""
    return frozenset(k for model in _MODEL_FOR_TYPE.values() for k in row_keys(model))


def validate(doc: Document) -> tuple[Spec | None, list[Diagnostic]]:
    """Validate loaded data against :class:`Spec`; errors come back located."""
    if not isinstance(doc.data, dict):
        what = "a list" if isinstance(doc.data, list) else f"'{clip(str(doc.data))}'"
        return None, [
            Diagnostic(
                "error",
                f"a spec is a mapping with name, input and layers, not {what}",
                "schema",
                doc.pos(()),
            )
        ]
    problems: list[Diagnostic] = []
    blocks = doc.data.get("blocks")
    known = _columns() | _block_params(blocks)
    if isinstance(blocks, dict):
        for bname, block in blocks.items():
            if isinstance(block, dict) and isinstance(block.get("table"), str):
                problems += expand_table(doc, block["table"], known, ("blocks", bname))
                if "table" in block:
                    return None, problems
                block.pop("table", None)
    if isinstance(doc.data.get("table"), str):
        problems += expand_table(doc, doc.data["table"], known)
        # A table whose rows could not be read at all ends here; otherwise the rows
        # that were read are validated too, so that every problem is reported at once.
        if problems and ("table" in doc.data or not doc.data.get("layers")):
            return None, problems
    block_names = [b for b in blocks if isinstance(b, str)] if isinstance(blocks, dict) else []
    unknown = _unknown_types(doc, block_names)
    try:
        spec = Spec.model_validate(doc.data)
    except ValidationError as exc:
        found = [_diagnostic(doc, err) for err in exc.errors(include_url=False)]
        return None, problems + _drop_explained(found) + unknown
    problems += unknown + _check_blocks(doc, spec)
    if spec.layers is None:
        problems.append(Diagnostic("error", "the spec has no 'layers'", "missing", doc.pos(())))
    if spec.input is None:
        problems.append(
            Diagnostic(
                "error", "the spec has no 'input' (nor an image row)", "missing", doc.pos(())
            )
        )
    return (None, problems) if problems else (spec, [])


def _rows_in(data: Any, path: tuple) -> list[tuple[tuple, dict]]:
    """Every row under ``path`` (a list of rows), containers' rows included."""
    out: list[tuple[tuple, dict]] = []
    stack = [(path, data)]
    while stack:
        where, rows = stack.pop()
        if not isinstance(rows, list):
            continue
        for i, row in enumerate(rows):
            if isinstance(row, dict):
                out.append((where + (i,), row))
                if row.get("type") == "sequential":
                    stack.append((where + (i, "layers"), row.get("layers")))
    return out


def all_rows(data: dict) -> list[tuple[tuple, dict]]:
    """Every row of a spec's data: the network's and every block's, with their paths."""
    found = _rows_in(data.get("layers"), ("layers",))
    blocks = data.get("blocks")
    if isinstance(blocks, dict):
        for name, block in blocks.items():
            if isinstance(block, dict):
                found += _rows_in(block.get("layers"), ("blocks", name, "layers"))
    return found


def unknown_type_message(tag: Any, blocks: list[str]) -> str:
    if isinstance(tag, str) and tag in blocks:
        return f"block '{clip(tag)}' cannot be used: its name is not a Python identifier"
    known = ", ".join([*LAYER_TYPES, *blocks])
    if tag is None:
        return f"the row's 'type' is empty; known: {known}"
    if not isinstance(tag, str):
        return f"'type' must be a layer type, not {_describe(tag, None)}; known: {known}"
    close = [_SYNONYMS[tag.lower()]] if tag.lower() in _SYNONYMS else []
    close = close or difflib.get_close_matches(tag.lower(), LAYER_TYPES, n=1)
    close = close or difflib.get_close_matches(tag, blocks, n=1)
    message = f"unknown layer type '{clip(tag)}'"
    return message + (f" (did you mean '{close[0]}'?)" if close else f"; known: {known}")


def _unknown_types(doc: Document, blocks: list[str]) -> list[Diagnostic]:
    """Rows whose type is an identifier but neither a layer type nor a block's name."""
    out = []
    for path, row in all_rows(doc.data) if isinstance(doc.data, dict) else []:
        tag = row.get("type")
        if _row_tag(row) == BLOCK and tag not in blocks:
            message = unknown_type_message(tag, blocks)
            out.append(Diagnostic("error", message, "unknown-type", doc.pos(path + ("type",))))
    return out


#: Keys of a block row that are not the block's params.
BLOCK_ROW_KEYS = frozenset(
    {"type", "name", "repeat", "from", "if", "maps", "size", "params", "macs", "first", "names"}
)
#: Names a param may not take: they would hide a name the generated class uses.
RESERVED_PARAMS = frozenset(
    {"in_maps", "self", "nn", "torch", "x", "out", "super", "OrderedDict", "center_crop"}
)


def _check_blocks(doc: Document, spec: Spec) -> list[Diagnostic]:
    """Block names and param names: identifiers that fit in the generated code."""
    out: list[Diagnostic] = []
    blocks = spec.blocks or {}
    for name, block in blocks.items():
        where = doc.pos(("blocks", name), key=True)
        try:
            _class_name(name)
            if name in _MODEL_FOR_TYPE:
                raise ValueError(f"'{name}' is a layer type; a block needs a name of its own")
            if name == spec.name:
                raise ValueError(f"'{name}' is the network's own name")
        except ValueError as exc:
            out.append(Diagnostic("error", f"block name: {exc}", "block-name", where))
        for param, decl in block.params.items():
            at = doc.pos(("blocks", name, "params", param), key=True)
            try:
                check_identifier(param, "param")
                if param in BLOCK_ROW_KEYS or param in RESERVED_PARAMS or param in blocks:
                    raise ValueError(f"param '{param}' would hide a key or name cnnspec uses")
            except ValueError as exc:
                out.append(Diagnostic("error", str(exc), "block-param", at))
            if decl.default is not None and not _fits(decl.default, decl.type):
                out.append(
                    Diagnostic(
                        "error",
                        f"the default {decl.default!r} of '{param}' is not a {decl.type}",
                        "block-param",
                        doc.pos(("blocks", name, "params", param, "default")),
                    )
                )
        if block.layers is None and block.table is None:
            out.append(Diagnostic("error", f"block '{name}' has no 'layers'", "missing", where))
    return out


def _fits(value: Any, kind: str) -> bool:
    if kind == "bool":
        return isinstance(value, bool)
    if kind == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _block_params(blocks: Any) -> frozenset[str]:
    """The params of every block: more columns a table may name."""
    if not isinstance(blocks, dict):
        return frozenset()
    params = {
        p
        for b in blocks.values()
        if isinstance(b, dict) and isinstance(b.get("params"), dict)
        for p in b["params"]
        if isinstance(p, str)
    }
    return frozenset(params | {f"first.{p}" for p in params})


def _drop_explained(found: list[tuple[Diagnostic, tuple, str | None]]) -> list[Diagnostic]:
    """Drop "a conv row needs 'kernel'" when the same row has "unknown key 'kernal'
    (did you mean 'kernel'?)": the second says all."""
    suggested = {(path[:-1], hint) for _, path, hint in found if hint}
    return [
        d
        for d, path, _ in found
        if not (d.code == "missing" and path and (path[:-1], path[-1]) in suggested)
    ]


def _walk(data: Any, loc: tuple) -> tuple[tuple, Any, Any]:
    """Follow pydantic's ``loc`` through the data, skipping union tags.

    Returns the real path, the value there, and its parent container."""
    path: list = []
    parent: Any = None
    here: Any = data
    for part in loc:
        if isinstance(here, dict) and isinstance(part, str) and part in here:
            parent, here = here, here[part]
            path.append(part)
        elif isinstance(here, list) and isinstance(part, int) and 0 <= part < len(here):
            parent, here = here, here[part]
            path.append(part)
        elif isinstance(here, dict) and isinstance(part, str) and part not in _TAGS:
            # a missing or an unknown key: the path names it, the value is absent
            path.append(part)
            parent, here = here, _ABSENT
    return tuple(path), here, parent


_ABSENT = object()
_TAGS = frozenset(LAYER_TYPES) | {
    BLOCK,
    "function-before",
    "tuple[int, int]",
    "literal['same']",
    "str",
    "bool",
}


#: What people call the layer types elsewhere (PyTorch, Keras, papers).
_SYNONYMS = {
    "convolution": "conv",
    "conv2d": "conv",
    "linear": "fc",
    "dense": "fc",
    "fully_connected": "fc",
    "pool": "maxpool",
    "max_pool": "maxpool",
    "maxpool2d": "maxpool",
    "avg_pool": "avgpool",
    "avgpool2d": "avgpool",
    "bn": "batchnorm",
    "batchnorm2d": "batchnorm",
    "batch_norm": "batchnorm",
    "leakyrelu": "leaky_relu",
}


def _row_type(container: Any) -> str | None:
    """The row's layer type, when it names a known one."""
    if isinstance(container, dict):
        kind = container.get("type")
        if isinstance(kind, str) and kind in _MODEL_FOR_TYPE:
            return kind
    return None


def _owner(path: tuple, container: Any) -> tuple[str, list[str]]:
    """Who holds the key at ``path``: ("the spec", its fields), ("a conv row", …), …"""
    if len(path) == 1:
        return "the spec", list(Spec.model_fields)
    if len(path) == 2 and path[0] == "input":
        return "'input'", list(Input.model_fields)
    kind = _row_type(container)
    if kind is not None:
        return f"a {kind} row", row_keys(_MODEL_FOR_TYPE[kind])
    return "this mapping", []


#: Keys every row takes that a person rarely needs: listed last in messages.
_GRAPH_KEYS = ("from", "if", "params", "macs")


def row_keys(model: type[BaseModel]) -> list[str]:
    """The keys a row model takes, as written in a spec (``from``, not ``from_``)."""
    keys = [f.alias or name for name, f in model.model_fields.items()]
    return [k for k in keys if k not in _GRAPH_KEYS] + [k for k in keys if k in _GRAPH_KEYS]


def _describe(value: Any, raw: str | None) -> str:
    if isinstance(value, bool):
        if raw is not None and raw not in ("true", "false"):
            return f"a boolean: YAML 1.1 reads '{raw}' as {str(value).lower()}; quote it as '{raw}'"
        return "a boolean"
    if isinstance(value, str):
        return f"the string '{clip(value)}'"
    if isinstance(value, float):
        if math.isnan(value):
            return "not-a-number (.nan)"
        if math.isinf(value):
            return "infinity (.inf)"
        return repr(value)
    if value is None:
        return "nothing (null)"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return clip(repr(value))


_EXPONENT_HINT = (
    "YAML 1.1 reads exponent notation as text unless it has a dot and a signed "
    "exponent, like 1.0e+3"
)
_FLOAT_TEXT = re.compile(r"\s*[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)[eE][-+]?[0-9]+\s*\Z")


def _diagnostic(doc: Document, err: Any) -> tuple[Diagnostic, tuple, str | None]:
    """A pydantic error → (located diagnostic, its path, the key it suggests if any)."""
    path, value, parent = _walk(doc.data, err["loc"])
    kind = err["type"]
    raw = doc.raw.get(path)
    key = path[-1] if path and isinstance(path[-1], str) else None
    hint: list[str] = []
    if kind == "missing":
        where = doc.pos(path[:-1])
        subject, _ = _owner(path, parent)
        message = f"{subject} needs '{key}'"
        code = "missing"
    elif kind == "extra_forbidden":
        where = doc.pos(path, key=True)
        subject, fields = _owner(path, parent)
        fields = [f for f in fields if f != "type"]
        hint = difflib.get_close_matches(str(key), fields, n=1)
        message = f"unknown key '{clip(str(key))}'"
        if hint:
            message += f" (did you mean '{hint[0]}'?)"
        elif fields:
            message += f"; {subject} takes {', '.join(fields)}"
        code = "unknown-key"
    elif kind == "union_tag_invalid":
        where = doc.pos(path + ("type",))
        tag = parent.get("type") if isinstance(parent, dict) else value.get("type")
        blocks = doc.data.get("blocks") if isinstance(doc.data, dict) else None
        message = unknown_type_message(tag, list(blocks) if isinstance(blocks, dict) else [])
        code = "unknown-type"
    elif kind == "union_tag_not_found":
        where = doc.pos(path)
        message = "the row has no 'type'"
        code = "missing"
    else:
        where = doc.pos(path)
        message = _value_message(kind, err, value, raw)
        code = "type" if kind.endswith(("_type", "_parsing")) or "boolean" in message else "value"
    if key is not None and kind not in ("missing", "extra_forbidden"):
        message = f"'{key}': {message}"
    return Diagnostic("error", message, code, where), path, (hint[0] if hint else None)


def _value_message(kind: str, err: dict, value: Any, raw: str | None) -> str:
    ctx = err.get("ctx") or {}
    got = _describe(value, raw)
    if kind == "value_error":
        message = str(ctx.get("error", err["msg"]))
        if message.startswith("expected") and " got " not in message:
            message += f", got {got}"
        return message
    if isinstance(value, str) and _foreign_digits(value) and kind.endswith(("_type", "_parsing")):
        number = "an integer" if kind.startswith("int") else "a number"
        return f"expected {number}, got {got}{_foreign_digits(value)}"
    if kind in ("int_type", "int_parsing"):
        if isinstance(value, str) and _DIGITS.match(value):
            return f"expected an integer, got {got} (remove the quotes)"
        if isinstance(value, str) and "$" in value:
            return f"expected an integer, got {got} (a $param expression belongs in a block)"
        if isinstance(value, str) and _FLOAT_TEXT.match(value):
            return f"expected an integer, got {got} ({_EXPONENT_HINT}; write the number out)"
        if isinstance(value, float) and value.is_integer():
            return f"expected an integer, got {got} (write {int(value)})"
        return f"expected an integer, got {got}"
    if kind in ("float_type", "float_parsing"):
        if isinstance(value, str) and _FLOAT_TEXT.match(value):
            return f"expected a number, got {got} ({_EXPONENT_HINT}, or write 0.001)"
        return f"expected a number, got {got}"
    if kind == "bool_type":
        return f"expected true or false, got {got}"
    if kind == "string_type":
        return f"expected text, got {got}"
    if kind == "literal_error":
        expected = ctx.get("expected", "")
        options = re.findall(r"'([^']*)'", expected)
        close = (
            difflib.get_close_matches(value.lower(), options, n=1) if isinstance(value, str) else []
        )
        tail = f" (did you mean '{close[0]}'?)" if close else ""
        return f"expected one of {', '.join(options)}; got {got}{tail}"
    if isinstance(value, float) and not math.isfinite(value):
        return f"expected a finite number, got {got}"
    if kind in ("greater_than_equal", "greater_than"):
        sign = "≥" if kind == "greater_than_equal" else ">"
        bound = ctx.get("ge", ctx.get("gt"))
        return f"must be {sign} {bound}, got {value}"
    if kind in ("less_than_equal", "less_than"):
        bound = ctx.get("le", ctx.get("lt"))
        if kind == "less_than_equal" and isinstance(bound, int) and bound >= 1000:
            return f"{value:,} is beyond the limit of {bound:,}"
        sign = "≤" if kind == "less_than_equal" else "<"
        return f"must be {sign} {bound}, got {value}"
    if kind in ("too_short", "list_type") and isinstance(value, list):
        return "needs at least one row"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return f"expected a mapping, got {got}"
    if kind == "list_type":
        return f"expected a list of rows, got {got}"
    if kind == "string_too_long":
        return f"is longer than {ctx.get('max_length')} characters"
    return f"{err['msg']} (got {got})"


def json_schema() -> dict:
    """The JSON Schema of the spec format (what ``cnnspec schema`` prints)."""
    schema = _without_null(Spec.model_json_schema())
    defs = schema.pop("$defs")
    defs["Spec"] = schema
    defs["BlocksFile"] = {
        "type": "object",
        "title": "cnnspec blocks file",
        "description": "Blocks shared between specs: a spec names this file in `include:`.",
        "properties": {
            "blocks": {"type": "object", "additionalProperties": {"$ref": "#/$defs/BlockSpec"}}
        },
        "required": ["blocks"],
        "additionalProperties": False,
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "cnnspec network",
        "anyOf": [{"$ref": "#/$defs/Spec"}, {"$ref": "#/$defs/BlocksFile"}],
        "$defs": defs,
    }


def _without_null(node: Any) -> Any:
    """The schema with every ``{"type": "null"}`` option and every ``"default": null``
    taken out: no key takes null (an optional key is left out instead), so an editor
    should neither offer nor insert it."""
    if isinstance(node, list):
        return [_without_null(v) for v in node]
    if not isinstance(node, dict):
        return node
    node = {k: _without_null(v) for k, v in node.items() if not (k == "default" and v is None)}
    options = node.get("anyOf")
    if isinstance(options, list) and {"type": "null"} in options:
        options = [o for o in options if o != {"type": "null"}]
        if len(options) == 1:
            del node["anyOf"]
            node = {**options[0], **node}
        else:
            node["anyOf"] = options
    return node


def json_schema_text() -> str:
    import json

    return json.dumps(json_schema(), indent=2, ensure_ascii=False) + "\n"
