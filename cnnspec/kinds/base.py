"""What a layer kind is (:class:`LayerKind`), and what its shape rule works with.

A *shape rule* resolves one row against the shape of its input (or, for a merge, the
shapes of its inputs): it infers what the row leaves out (padding, in-features),
checks what the row declares against the output-size formula, and reports every
disagreement through the :class:`RowContext` with the arithmetic spelled out. It
answers a :class:`Resolved`: the output shape (None when the row's output is
unknown) and the node's resolved fields. The kind's *MAC rule* then counts the
multiply-accumulates of the resolved node.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

from ..diagnostics import Diagnostic, Pos
from ..frontend.load import Document
from .row import RowModel

Shape = tuple[int, ...]


# --------------------------------------------------------------------------- row context


def opt(model: Any, name: str) -> Any:
    """``getattr(model, name, None)`` for a row model, without the cost of a miss: pydantic
    answers an attribute a model lacks in its ``__getattr__``, by raising AttributeError."""
    fields = getattr(model, "__dict__", None)
    cls = type(model)
    names = _CLASS_NAMES.get(cls)
    if names is None:
        names = _CLASS_NAMES[cls] = frozenset(n for k in cls.__mro__ for n in vars(k))
    if fields is None or name in names:
        return getattr(model, name, None)
    if name in fields:
        return fields[name]
    extra = getattr(model, "__pydantic_extra__", None)
    return extra.get(name) if extra else None


#: a class → every attribute name its classes define (which getattr finds there)
_CLASS_NAMES: dict[type, frozenset[str]] = {}


@dataclass
class RowContext:
    """What a shape rule knows about the row it resolves, and how it reports."""

    spec_row: Any
    number: int
    name: str
    path: tuple
    doc: Document
    diagnostics: list[Diagnostic]
    #: related places every diagnostic of this row carries ("instantiated from layer2.0")
    notes: tuple[Diagnostic, ...] = ()
    #: the rows that feed a merge, for its notes: (name, shape, position)
    sources: tuple[tuple[str, tuple[int, ...], Pos], ...] = ()
    #: the network's input H×W (for `size: input`); None inside blocks
    input_size: tuple[int, int] | None = None
    #: the (first) input is channels-last: H×W×maps, after a permute
    channels_last: bool = False
    #: an upsample's `like:` row: its name and output shape (None where it has none)
    like: tuple[str, tuple[int, ...]] | None = None
    #: that row's output is channels-last
    like_channels_last: bool = False

    @property
    def label(self) -> str:
        return f"layer {self.number} '{self.name}' ({self.spec_row.type})"

    def at(self, key: str | None = None) -> Pos:
        return self.doc.pos(self.path + (key,) if key else self.path)

    def error(
        self, message: str, code: str, key: str | None = None, notes: tuple[Diagnostic, ...] = ()
    ) -> None:
        self.diagnostics.append(
            Diagnostic("error", message, code, self.at(key), self.label, notes + self.notes)
        )

    def warn(self, message: str, code: str, key: str | None = None) -> None:
        self.diagnostics.append(
            Diagnostic("warning", message, code, self.at(key), self.label, self.notes)
        )


@dataclass
class Resolved:
    """A shape rule's answer: the output shape and the node's resolved fields."""

    output_shape: tuple[int, ...] | None
    params: int = 0
    macs: int = 0
    fields: dict = field(default_factory=dict)
    #: the output's layout: channels-last (True), maps×H×W (False), or the input's (None)
    channels_last: bool | None = None


#: (row context, input shape — or, for a merge, the list of input shapes) → Resolved
ShapeRule = Callable[[RowContext, Any], Resolved]
#: (input shape or shapes, the shape rule's answer) → multiply-accumulates for one image
MacRule = Callable[[Any, Resolved], int]
#: a resolved node (:class:`~cnnspec.ir.Node`) → the weights a paper prints for it
WeightRule = Callable[[Any], int]


def no_macs(shape: Any, res: Resolved) -> int:
    """The MAC rule of a kind that multiplies nothing (pools, activations, merges, …)."""
    return 0


def param_macs(shape: Any, res: Resolved) -> int:
    """One multiply-accumulate per parameter (a fully connected layer, a batch norm)."""
    return res.params


# --------------------------------------------------------------------------- shared checks


def size_text(pair: tuple) -> str:
    """``(5, 5)`` → ``5×5``."""
    return "×".join(str(v) for v in pair)


def shape_text(shape: tuple[int, ...]) -> str:
    """``(64, 56, 56)`` → ``64×56×56``."""
    return "×".join(str(v) for v in shape)


def check_maps(ctx: RowContext, c: int, keeper: str) -> None:
    """A shape-keeping row's declared maps against its input's ``c`` (``keeper`` names
    what keeps them in the message: "pooling", "batch norm")."""
    declared = opt(ctx.spec_row, "maps")
    if declared is not None and declared != c:
        ctx.error(
            f"the row declares {declared} maps, but its input has {c} ({keeper} keeps the "
            "number of maps)",
            "maps-mismatch",
            "maps",
        )


def declared(ctx: RowContext, out: tuple[int, ...], what: str) -> None:
    """A merge's or a block's declared maps and size against what it computes."""
    row = ctx.spec_row
    maps, size = opt(row, "maps"), opt(row, "size")
    if maps is not None and len(out) == 3 and maps != out[0]:
        ctx.error(f"{what} has {out[0]} maps, but the row declares {maps}", "maps-mismatch", "maps")
    if size is not None and len(out) == 3 and tuple(size) != out[1:]:
        ctx.error(
            f"{what} is {size_text(out[1:])}, but the row declares {size_text(size)}",
            "size-mismatch",
            "size",
        )


# --------------------------------------------------------------------------- the record

#: How a kind's output maps follow from its inputs: the input's (``same``), the sum of its
#: inputs' (``sum``, a concat), the widest of its inputs' (``broadcast``: a mul, whose
#: inputs broadcast), the row's own key (``declared``: `maps`, or `size` for an fc), every
#: input element (``flat``, the flatten), its rows' (``inner``, a container), or one of
#: equal parts of the input's (``part``: the input's divided by the node's `parts`).
MapsRule = Literal["same", "sum", "broadcast", "declared", "flat", "inner", "part"]


@dataclass(frozen=True)
class LayerKind:
    """Everything the compiler knows about one layer kind, in one record.

    A kind is written by one family module of :mod:`cnnspec.kinds` (its row model,
    shape rule and MAC rule live there too); every set the compiler consults (the
    spatial kinds, the merges, the activations, the hyper-parameter fields, …) is
    derived from these records in :mod:`cnnspec.kinds`."""

    name: str  # the `type` a row writes
    model: type[RowModel]  # its pydantic row model
    #: the shape rule; None for a kind the walker resolves itself (flatten, sequential)
    shape: ShapeRule | None
    #: the diagram's colour family, and the text of the family's legend entry ("" for a
    #: kind that is never drawn as a node of its own)
    family: str
    legend: str
    #: the MAC rule (torchinfo's convention)
    macs: MacRule = no_macs
    #: how many inputs it reads: 1, or None for "two or more" (a merge)
    inputs: int | None = 1
    #: reads a C×H×W tensor (a spatial layer: an error after the flatten)
    spatial: bool = False
    #: one input, and an output of the input's shape: the generated forward may keep the
    #: input's variable name (an activation, a normalization, a dropout)
    elementwise: bool = False
    #: a row's `activation:` shorthand may name it
    activation: bool = False
    #: how its output maps follow from its inputs (see :data:`MapsRule`)
    maps: MapsRule = "same"
    #: the row key the output maps are declared by, for ``maps == "declared"``
    maps_key: str | None = None
    #: the torch.nn class of its module; "" for a module-less operation
    torch_class: str = ""
    #: the forward expression of a module-less operation (``torch.flatten``, ``+``,
    #: ``torch.cat``), or of the functional form of a module (``interpolate``)
    op: str = ""
    #: the template macro that writes the forward expression of a module-less operation
    #: from its node and its input's variable (``channel_shuffle(out, 2)``); "" where `op`
    #: writes it (``torch.flatten(x, 1)``, ``a + b``)
    forward: str = ""
    #: how summaries and diagrams name it: a textbook's spelling ("Leaky ReLU"), a
    #: merge's symbol ("+"); default: its torch class, or its name
    label: str = ""
    #: the node fields its constructor call reads, which summaries and diagrams print
    hyper: tuple[str, ...] = ()
    #: node field → the row key it comes from, where a block's row may write a `$param`
    #: expression for it
    keys: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}), hash=False)
    #: a diagram draws it inside the node it follows (a batch norm, an activation, …)
    rider: bool = False
    #: a diagram's VGG-style stage ends with it (a windowed pool)
    closes_stage: bool = False
    #: the template macro that writes its constructor call (``_layers.jinja``); "" means
    #: named like the kind for a module, none for a module-less operation
    macro: str | None = ""
    #: reads a vector: a maps×H×W input is flattened first (an fc after the convolutions)
    flat_input: bool = False
    #: its state is an nn.Parameter of the module that holds the row (its state_dict key
    #: the row's path), not a module of its own; ``forward`` multiplies its input by it
    parameter: bool = False
    #: may read channels-last data (H×W×maps, after a permute): an element-wise kind, a
    #: layer norm, an fc (then over the maps at each position); any other kind is an error
    channels_last: bool = False
    #: why it may only be the network's last layer ("" when it may be anywhere)
    last: str = ""
    #: the weights a paper prints for its node, biases aside; a kind that has the rule is
    #: a textbook's weight layer (a convolution, a fully connected layer), which a chain's
    #: diagram starts a line with and labels with its in→out maps; None for the others
    weights: WeightRule | None = None

    def __post_init__(self) -> None:
        if not self.label:
            object.__setattr__(self, "label", self.torch_class or self.name)
        if self.macro == "":
            object.__setattr__(self, "macro", self.name if self.torch_class else None)
        if not isinstance(self.keys, MappingProxyType):
            object.__setattr__(self, "keys", MappingProxyType(dict(self.keys)))

    @property
    def is_module(self) -> bool:
        return bool(self.torch_class)

    @property
    def is_merge(self) -> bool:
        return self.inputs is None

    @property
    def combines(self) -> bool:
        """A merge of its inputs element by element (an add; a mul, which broadcasts)."""
        return self.is_merge and self.maps in ("same", "broadcast")

    @property
    def joins(self) -> bool:
        """A merge that joins its inputs along the maps (a concat)."""
        return self.is_merge and self.maps == "sum"

    @property
    def flattens(self) -> bool:
        """Its output is every input element in one vector (the flatten)."""
        return self.maps == "flat"

    @property
    def contains(self) -> bool:
        """It holds rows of its own, which the walker walks (a container)."""
        return self.maps == "inner"

    @property
    def rule(self) -> ShapeRule | None:
        """What the walker applies to a row of this kind: the shape rule, then the MAC
        rule; None when the walker resolves the kind itself."""
        return self.resolve if self.shape is not None else None

    def resolve(self, ctx: RowContext, shape: Any) -> Resolved:
        """The shape rule's answer, with the MACs the MAC rule counts for it."""
        assert self.shape is not None
        res = self.shape(ctx, shape)
        if res.output_shape is not None:
            res.macs = self.macs(shape, res)
        return res
