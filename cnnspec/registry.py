"""One record per layer kind: everything the compiler knows about it, in one place.

A new kind touches this table (its row model, how many inputs it reads, its shape
rule, its torch class, its colour family), its shape rule in ``check.py`` and its
macro in ``cnnspec/templates/_layers.jinja`` (named like the kind) — nothing else.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from . import check
from . import schema as s


@dataclass(frozen=True)
class LayerKind:
    name: str  # the `type` a row writes
    model: type  # its pydantic row model (schema.py)
    #: how many inputs it reads: 1, or None for "two or more" (a merge)
    inputs: int | None
    #: the shape rule (check.py): (RowContext, input shape or shapes) → Resolved
    rule: Callable[..., Any] | None
    #: the torch.nn class of its module; "" for a module-less operation
    torch_class: str
    #: the diagram's colour family (backends/diagram.py FAMILIES)
    family: str
    #: reads a C×H×W tensor (a spatial layer: an error after the flatten)
    spatial: bool = False

    @property
    def macro(self) -> str:
        """The template macro that writes its constructor call (``_layers.jinja``)."""
        return self.name

    @property
    def is_module(self) -> bool:
        return bool(self.torch_class)


_ACT = "activation"

KINDS: dict[str, LayerKind] = {
    k.name: k
    for k in (
        LayerKind("conv", s.Conv, 1, check.conv_rule, "Conv2d", "conv", spatial=True),
        LayerKind(
            "deconv", s.Deconv, 1, check.deconv_rule, "ConvTranspose2d", "deconv", spatial=True
        ),
        LayerKind("maxpool", s.MaxPool, 1, check.pool_rule, "MaxPool2d", "maxpool", spatial=True),
        LayerKind("avgpool", s.AvgPool, 1, check.pool_rule, "AvgPool2d", "avgpool", spatial=True),
        LayerKind(
            "adaptive_avgpool",
            s.AdaptiveAvgPool,
            1,
            check.adaptive_pool_rule,
            "AdaptiveAvgPool2d",
            "adaptive",
            spatial=True,
        ),
        LayerKind(
            "adaptive_maxpool",
            s.AdaptiveMaxPool,
            1,
            check.adaptive_pool_rule,
            "AdaptiveMaxPool2d",
            "adaptive",
            spatial=True,
        ),
        LayerKind("fc", s.FC, 1, check.fc_rule, "Linear", "fc"),
        LayerKind("dropout", s.Dropout, 1, check.dropout_rule, "Dropout", "dropout"),
        LayerKind("batchnorm", s.BatchNorm, 1, check.batchnorm_rule, "BatchNorm2d", "batchnorm"),
        LayerKind("lrn", s.LRN, 1, check.lrn_rule, "LocalResponseNorm", "lrn", spatial=True),
        LayerKind(
            "upsample", s.Upsample, 1, check.upsample_rule, "Upsample", "upsample", spatial=True
        ),
        LayerKind("flatten", s.Flatten, 1, None, "", "flatten"),
        LayerKind("add", s.Add, None, check.add_rule, "", "merge"),
        LayerKind("concat", s.Concat, None, check.concat_rule, "", "merge"),
        LayerKind("sequential", s.Sequential, 1, None, "Sequential", "container"),
        LayerKind("relu", s.ReLU, 1, check.activation_rule, "ReLU", _ACT),
        LayerKind("relu6", s.ReLU6, 1, check.activation_rule, "ReLU6", _ACT),
        LayerKind("leaky_relu", s.LeakyReLU, 1, check.activation_rule, "LeakyReLU", _ACT),
        LayerKind("sigmoid", s.Sigmoid, 1, check.activation_rule, "Sigmoid", _ACT),
        LayerKind("tanh", s.Tanh, 1, check.activation_rule, "Tanh", _ACT),
        LayerKind("softmax", s.Softmax, 1, check.activation_rule, "Softmax", _ACT),
    )
}

#: The kinds an `activation:` shorthand may name.
ACTIVATIONS = tuple(k for k, v in KINDS.items() if v.family == _ACT)

assert set(KINDS) == set(s.LAYER_TYPES), "schema.py and the registry disagree"
assert set(ACTIVATIONS) == set(s.ACTIVATIONS), "schema.py and the registry disagree"
