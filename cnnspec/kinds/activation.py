"""Activations: a row of their own, or a row's `activation:` shorthand.

The ``Activation`` value type (what `activation:` may name) is built from the records
below, so a new activation is one model and one record here (and its macro).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BeforeValidator, Field, WithJsonSchema

from ..spec.values import NotNull, any_case
from .base import LayerKind, Resolved, RowContext
from .row import RowModel


class ReLU(RowModel):
    type: Literal["relu"]


class ReLU6(RowModel):
    type: Literal["relu6"]


class LeakyReLU(RowModel):
    type: Literal["leaky_relu"]
    negative_slope: float = Field(
        0.01,
        allow_inf_nan=False,
        description="Slope for negative inputs (nn.LeakyReLU's negative_slope), default 0.01.",
    )


class Sigmoid(RowModel):
    type: Literal["sigmoid"]


class Tanh(RowModel):
    type: Literal["tanh"]


class Hardswish(RowModel):
    """Hard swish, x · ReLU6(x + 3) / 6 (nn.Hardswish): MobileNetV3's cheap swish."""

    type: Literal["hardswish"]


class Hardsigmoid(RowModel):
    """Hard sigmoid, ReLU6(x + 3) / 6 (nn.Hardsigmoid): MobileNetV3's cheap sigmoid, the
    gate of its squeeze-and-excitation."""

    type: Literal["hardsigmoid"]


class SiLU(RowModel):
    """SiLU, also called swish: x · sigmoid(x) (nn.SiLU)."""

    type: Literal["silu"]


class GELU(RowModel):
    """The Gaussian error linear unit (nn.GELU), exact or in its tanh approximation."""

    type: Literal["gelu"]
    approximate: Literal["none", "tanh"] = Field(
        "none",
        description="`none`: x·Φ(x) exactly (the default); `tanh`: the tanh approximation "
        "(nn.GELU's approximate).",
    )


class Softmax(RowModel):
    """Softmax over the class dimension (dim=1); only as the last layer."""

    type: Literal["softmax"]


def activation_rule(ctx: RowContext, shape) -> Resolved:
    return Resolved(shape)


def leaky_relu_rule(ctx: RowContext, shape) -> Resolved:
    return Resolved(shape, fields=dict(negative_slope=ctx.spec_row.negative_slope))


def gelu_rule(ctx: RowContext, shape) -> Resolved:
    return Resolved(shape, fields=dict(approximate=ctx.spec_row.approximate))


def _activation(name: str, model: type, torch_class: str, label: str, **more: Any) -> LayerKind:
    return LayerKind(
        name,
        model,
        more.pop("rule", activation_rule),
        "activation",
        "activation",
        elementwise=True,
        activation=True,
        torch_class=torch_class,
        label=label,
        rider=True,
        channels_last=True,
        **more,
    )


KINDS = (
    _activation("relu", ReLU, "ReLU", "ReLU"),
    _activation("relu6", ReLU6, "ReLU6", "ReLU6"),
    _activation(
        "leaky_relu",
        LeakyReLU,
        "LeakyReLU",
        "Leaky ReLU",
        rule=leaky_relu_rule,
        hyper=("negative_slope",),
        keys={"negative_slope": "negative_slope"},
    ),
    _activation("sigmoid", Sigmoid, "Sigmoid", "Sigmoid"),
    _activation("tanh", Tanh, "Tanh", "Tanh"),
    _activation("hardswish", Hardswish, "Hardswish", "h-swish"),
    _activation("hardsigmoid", Hardsigmoid, "Hardsigmoid", "h-sigmoid"),
    _activation("silu", SiLU, "SiLU", "SiLU"),
    _activation(
        "gelu",
        GELU,
        "GELU",
        "GELU",
        rule=gelu_rule,
        hyper=("approximate",),
    ),
    _activation(
        "softmax",
        Softmax,
        "Softmax",
        "Softmax",
        last="it turns the final scores into probabilities over dim=1",
    ),
)

#: The kinds an `activation:` shorthand may name.
NAMES: tuple[str, ...] = tuple(k.name for k in KINDS)


def _lower(value: Any) -> Any:
    return value.strip().lower() if isinstance(value, str) else value


if TYPE_CHECKING:
    Activation = str
else:
    Activation = Annotated[
        Literal[NAMES + ("none",)],
        BeforeValidator(_lower),
        WithJsonSchema(
            {
                "type": "string",
                "description": "case-insensitive",
                "pattern": any_case(*NAMES, "none"),
            }
        ),
    ]
OptActivation = Annotated[Activation | None, NotNull]
