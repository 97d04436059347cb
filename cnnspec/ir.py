"""The checked network: every shape, padding, parameter and MAC resolved.

The IR is what the backends read. It is frozen, holds plain values only, and
carries no arithmetic left to do: a backend formats fields, it never computes.

Each :class:`Node` is one module of the generated model, activations included,
in order. ``input`` names the node that feeds it explicitly (``"input"`` for
the first), so a branching network needs no new IR.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal

from .diagnostics import Diagnostic, Pos

Pair = tuple[int, int]
Section = Literal["features", "classifier"]

#: Module kinds that hold the activation functions.
ACTIVATION_KINDS = frozenset({"relu", "leaky_relu", "sigmoid", "tanh", "softmax"})

#: The torch.nn class each kind becomes (batchnorm: see Node.torch_class).
TORCH_CLASS = {
    "conv": "Conv2d",
    "maxpool": "MaxPool2d",
    "avgpool": "AvgPool2d",
    "adaptive_avgpool": "AdaptiveAvgPool2d",
    "adaptive_maxpool": "AdaptiveMaxPool2d",
    "fc": "Linear",
    "dropout": "Dropout",
    "batchnorm": "BatchNorm2d",
    "relu": "ReLU",
    "leaky_relu": "LeakyReLU",
    "sigmoid": "Sigmoid",
    "tanh": "Tanh",
    "softmax": "Softmax",
}


@dataclass(frozen=True)
class Node:
    index: int  # 1-based position among the model's modules
    name: str  # the row's name: attribute name in a flat model, label everywhere
    kind: str  # the layer type: conv, maxpool, …, relu, softmax
    row: int  # 1-based number of the spec row (after `repeat` expansion) it comes from
    pos: Pos  # where that row is written
    input: str  # name of the node feeding this one, or "input"
    input_shape: tuple[int, ...]  # without the batch dimension
    output_shape: tuple[int, ...]
    section: Section  # features (before the flatten) or classifier (after)
    params: int
    macs: int  # multiply-accumulates for one image, torchinfo's convention
    # resolved hyper-parameters; None where the kind has none
    in_maps: int | None = None  # conv in_channels, fc in_features, batchnorm num_features
    out_maps: int | None = None  # conv out_channels, fc out_features
    kernel: Pair | None = None
    stride: Pair | None = None
    #: padding before the input (top, left); the same after, except with padding_same
    padding: Pair | None = None
    padding_inferred: bool = False
    #: the spec says `padding: same`: the module gets PyTorch's own padding='same', which
    #: pads D·(K − 1) per axis in all, `padding` before and the rest (one more when
    #: D·(K − 1) is odd) after
    padding_same: bool = False
    dilation: Pair | None = None
    groups: int = 1
    bias: bool | None = None
    ceil_mode: bool | None = None
    p: float | None = None
    target: Pair | None = None  # adaptive pools' output size
    #: for an activation written as `activation:` on a row: that row's name
    activation_of: str | None = None
    #: identity of the written row before `repeat`: (row index in the spec, copy number)
    origin: tuple[int, int] = (0, 1)

    @property
    def is_activation(self) -> bool:
        return self.kind in ACTIVATION_KINDS

    @property
    def torch_class(self) -> str:
        """The torch.nn class name: BatchNorm1d after the flatten, BatchNorm2d before."""
        if self.kind == "batchnorm" and len(self.input_shape) == 1:
            return "BatchNorm1d"
        return TORCH_CLASS[self.kind]


@dataclass(frozen=True)
class Row:
    """One written row as a person sees it: the layer and the activation it carries."""

    node: Node
    activation: Node | None = None

    @property
    def params(self) -> int:
        return self.node.params + (self.activation.params if self.activation else 0)

    @property
    def output_shape(self) -> tuple[int, ...]:
        return (self.activation or self.node).output_shape


@dataclass(frozen=True)
class Network:
    name: str  # class name of the generated module
    title: str | None
    layout: Literal["sequential", "flat"]
    source: str  # the spec's path as the user gave it, for headers
    input_shape: tuple[int, ...]
    output_shape: tuple[int, ...]
    nodes: tuple[Node, ...]
    #: index (1-based) of the first classifier node; None when nothing is flattened
    flatten_at: int | None
    #: the C×H×W shape that is flattened, and the number of features it becomes
    flatten_from: tuple[int, ...] | None
    flatten_features: int | None
    params: int
    macs: int
    warnings: tuple[Diagnostic, ...] = field(default=())

    @property
    def layers(self) -> tuple[Node, ...]:
        return self.nodes

    @property
    def features(self) -> tuple[Node, ...]:
        return tuple(n for n in self.nodes if n.section == "features")

    @property
    def classifier(self) -> tuple[Node, ...]:
        return tuple(n for n in self.nodes if n.section == "classifier")

    def rows(self) -> Iterator[Row]:
        """The nodes grouped back into written rows (an `activation:` joins its row)."""
        nodes = self.nodes
        i = 0
        while i < len(nodes):
            node = nodes[i]
            nxt = nodes[i + 1] if i + 1 < len(nodes) else None
            if nxt is not None and nxt.activation_of == node.name:
                yield Row(node, nxt)
                i += 2
            else:
                yield Row(node)
                i += 1
