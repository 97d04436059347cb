"""The values a spec writes: sizes and pairs, names, conditions, printed figures.

Each value type is a pydantic ``Annotated`` type that parses what a person writes
(``5``, ``"5x5"``, ``[5, 5]``) strictly, says what it expected when it cannot, and
carries its JSON Schema (``cnnspec schema``). The row models of the layer kinds
(``cnnspec.kinds``) and the document models (:mod:`cnnspec.spec.models`) are built
from them.
"""

from __future__ import annotations

import keyword
import math
import re
import unicodedata
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BeforeValidator, Field, WithJsonSchema

from ..frontend.load import clip

#: Largest number of maps or units a row may declare.
MAX_MAPS = 1_000_000
#: Largest spatial size, kernel, stride, dilation or padding (written or inferred).
MAX_EXTENT = 100_000
#: Largest ``repeat``.
MAX_REPEAT = 10_000

#: Longest layer or class name (a generated line must fit in 100 columns).
MAX_NAME_LENGTH = 40

#: Most rows after `repeat` expansion.
MAX_ROWS = 100_000

#: Deepest nesting of modules (blocks using blocks, containers, repeats' copies).
MAX_NESTING = 3_000

#: The name `from:` gives the scope's input (the network's, or a block's); no row takes it.
INPUT_NAME = "input"

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

#: What an nn.Sequential has beyond every nn.Module's attributes: a module of one of these
#: names cannot be its child (the copies of a repeated block, a named container's rows).
SEQUENTIAL_NAMES = frozenset({"append", "extend", "insert", "pop"})

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
    "make_divisible": "the generated module's make_divisible helper (an expression function)",
    "math": "the generated module's `import math` (ceil and floor in expressions)",
    "round": "the builtin round() a block's expression calls",
    "min": "the builtin min() a block's expression calls",
    "max": "the builtin max() a block's expression calls",
    "StochasticDepth": "the generated module's StochasticDepth class (stochastic_depth rows)",
    "channel_shuffle": "the generated module's channel_shuffle helper (ShuffleNet's shuffle)",
    "Permute": "the generated module's Permute helper (a permute row's module)",
    "LayerNorm2d": "the generated module's LayerNorm2d helper (a layer norm over maps×H×W)",
    "ValueError": "the builtin ValueError a block class raises for arguments no instance has",
    "PyramidPool2d": "the generated module's PyramidPool2d helper (an spp row's module)",
}


# --------------------------------------------------------------------------- values


def no_bool(value: Any) -> None:
    if isinstance(value, bool):
        raise ValueError("expected a number, got a boolean")


_PAIR = re.compile(r"\s*([0-9]+)\s*[x×X*]\s*([0-9]+)\s*\Z")
DIGITS = re.compile(r"\s*[-+]?[0-9]+\s*\Z")


def foreign_digits(text: str) -> str:
    """A hint when ``text`` holds digits other than 0–9 (full-width ４, Arabic-Indic ٤, …),
    which Python's int() would read but a spec does not: numbers are written in ASCII."""
    foreign = [ch for ch in text if ch.isdecimal() and not ch.isascii()]
    if not foreign:
        return ""
    label = unicodedata.name(foreign[0], f"U+{ord(foreign[0]):04X}")
    ascii_text = "".join(str(unicodedata.decimal(ch)) if ch.isdecimal() else ch for ch in text)
    return f" ({label} is not one of the digits 0–9; write '{clip(ascii_text.strip())}')"


def parse_pair(value: Any, *, what: str, minimum: int) -> tuple[int, int]:
    """``5``, ``"5x5"``, ``"5×5"``, ``[5, 5]`` → ``(5, 5)``."""
    no_bool(value)
    if isinstance(value, int):
        pair = (value, value)
    elif isinstance(value, str):
        match = _PAIR.match(value)
        if match:
            if max(len(match[1]), len(match[2])) > 9:
                raise ValueError(f"'{clip(value)}' is beyond the limit of {MAX_EXTENT:,}")
            pair = (int(match[1]), int(match[2]))
        elif foreign_digits(value):
            raise ValueError(
                f"expected a {what} like 5 or 5x5, got '{clip(value)}'{foreign_digits(value)}"
            )
        elif DIGITS.match(value):
            raise ValueError(f"expected a {what} like 5 or 5x5, got the string '{clip(value)}'")
        else:
            raise ValueError(f"expected a {what} like 5, 5x5 or [5, 5], got '{clip(value)}'")
    elif isinstance(value, (list, tuple)):
        if len(value) != 2 or not all(
            isinstance(v, int) and not isinstance(v, bool) for v in value
        ):
            foreign = next((foreign_digits(v) for v in value if isinstance(v, str)), "")
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


def any_case(*words: str) -> str:
    """A JSON Schema pattern matching ``words`` in any case, without the ``(?i)`` flag
    that ECMAScript regular expressions (editors' schema validators) do not know."""
    spelled = ["".join(f"[{c.upper()}{c.lower()}]" if c.isalpha() else c for c in w) for w in words]
    return rf"^\s*({'|'.join(spelled)})\s*$"


def pair_schema(minimum: int, extra: list | None = None) -> dict:
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
    return parse_pair(value, what="padding", minimum=0)


def _pool_padding(value: Any) -> tuple[int, int]:
    if isinstance(value, str) and value.strip().lower() == "same":
        raise ValueError(
            "a pool takes no 'same' (PyTorch's pools have no padding='same'); write the "
            "padding as a number: (K − 1)/2 keeps the size of an odd kernel K with stride 1"
        )
    return parse_pair(value, what="padding", minimum=0)


Size = Annotated[
    tuple[int, int],
    BeforeValidator(lambda v: parse_pair(v, what="size", minimum=1)),
    WithJsonSchema(pair_schema(1)),
]
Kernel = Annotated[
    tuple[int, int],
    BeforeValidator(lambda v: parse_pair(v, what="kernel", minimum=1)),
    WithJsonSchema(pair_schema(1)),
]
Stride = Annotated[
    tuple[int, int],
    BeforeValidator(lambda v: parse_pair(v, what="stride", minimum=1)),
    WithJsonSchema(pair_schema(1)),
]
Dilation = Annotated[
    tuple[int, int],
    BeforeValidator(lambda v: parse_pair(v, what="dilation", minimum=1)),
    WithJsonSchema(pair_schema(1)),
]
Padding = Annotated[
    tuple[int, int] | Literal["same"],
    BeforeValidator(_padding),
    WithJsonSchema(pair_schema(0, [{"type": "string", "pattern": any_case("same")}])),
]
PoolPadding = Annotated[
    tuple[int, int],
    BeforeValidator(_pool_padding),
    WithJsonSchema(pair_schema(0)),
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


#: The placeholders of a `names:` pattern: the copy's number from 1, and from 0.
COPY_NUMBERS = {"{i}": 1, "{i0}": 0}

_COPY_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")


def copy_name(pattern: str, k: int) -> str:
    """The name of copy ``k`` (0-based) of a repeated block row named by ``pattern``:
    ``{i}`` numbers from 1 (``denselayer{i}``), ``{i0}`` from 0 (``block1-{i0}``). A copy
    is a key of the nn.Sequential that holds the copies, never an attribute, so besides
    the rules of a row's name it may hold ``-``, as torchvision's RegNet stages do."""
    if not any(p in pattern for p in COPY_NUMBERS):
        raise ValueError("'names' needs {i} (or {i0}) to number the copies")
    name = pattern
    for placeholder, start in COPY_NUMBERS.items():
        name = name.replace(placeholder, str(k + start))
    if "-" not in name:
        return check_identifier(name, "copy name")
    shown = clip(name)
    if not name.isascii() or not _COPY_NAME.fullmatch(name):
        raise ValueError(
            f"copy name '{shown}' is not a module name (letters, digits, _ and -, "
            "starting with a letter)"
        )
    if len(name) > MAX_NAME_LENGTH:
        raise ValueError(
            f"copy name '{shown}' is {len(name)} characters long; the limit is "
            f"{MAX_NAME_LENGTH} (so that every generated line fits in 100 columns)"
        )
    return name


def _layer_name(value: Any) -> str:
    value = check_identifier(value)
    if value in RESERVED_NAMES:
        raise ValueError(f"name '{value}' is already an attribute of every nn.Module")
    if value == INPUT_NAME:
        raise ValueError(
            f"name '{INPUT_NAME}' is reserved: `from: {INPUT_NAME}` reads the scope's input "
            "(the network's, or the block's), so a row cannot take it"
        )
    return value


def class_name(value: Any) -> str:
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
    BeforeValidator(class_name),
    WithJsonSchema({"type": "string", "pattern": "^[A-Za-z][A-Za-z0-9_]*$"}),
]


def source_name(value: Any) -> str:
    """A row name, or a dotted path into a container (``body.layer3``) or a list
    (``convs.0``): a name, then names or indices."""
    if not isinstance(value, str) or "." not in value:
        return check_identifier(value, "row name")
    head, *rest = value.split(".")
    check_identifier(head, "row name")
    for part in rest:
        if not part.isdigit() or len(part) > 4:
            check_identifier(part, f"part '{clip(part)}' of the path '{clip(value)}'")
    return value


def _sources(value: Any) -> Any:
    if isinstance(value, str):
        return (source_name(value),)
    if isinstance(value, list):
        if not value:
            raise ValueError("expected at least one row name")
        for v in value:
            if isinstance(v, int) and not isinstance(v, bool):
                raise ValueError(
                    f"expected row names, got the number {v} (`from` takes names, not positions)"
                )
        return tuple(source_name(v) for v in value)
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
    no_bool(value)
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


#: The types a block param may have, and the Python annotation of each in a generated class.
PARAM_TYPES = {"int": "int", "bool": "bool", "float": "float", "pair": "tuple[int, int]"}


def fits_param_type(value: Any, type_name: str) -> bool:
    """Whether ``value`` is of a block param's declared type (``int``, ``float``,
    ``bool``, ``pair``): a bool is no number, an int is a float, and a pair is two
    non-negative integers (``[1, 7]``, ``1x7``) or one for both (``3``)."""
    if type_name == "bool":
        return isinstance(value, bool)
    if type_name == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if type_name == "pair":
        try:
            parse_pair(value, what="pair", minimum=0)
        except ValueError:
            return False
        return True
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def param_value(value: Any, type_name: str) -> Any:
    """A param's value as the walk carries it: a pair as a tuple ``(1, 7)`` (``3`` → ``(3, 3)``),
    any other as written. ``value`` fits the type (:func:`fits_param_type`)."""
    if type_name == "pair" and not isinstance(value, tuple):
        return parse_pair(value, what="pair", minimum=0)
    return value
