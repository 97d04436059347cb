"""The checked network: every shape, padding, parameter and MAC resolved.

The IR is what the backends read. It is frozen, holds plain values only, and
carries no arithmetic left to do: a backend formats fields, it never computes.

The IR is a graph. Each :class:`Node` is one operation of the generated model —
a module (a convolution, an activation, …) or a module-less operation (a
flatten, an ``add``, a ``concat``) — listed in an order in which every node
comes after its inputs. ``inputs`` names the nodes it reads (``"input"`` is the
network's input); ``path`` is its module path, the prefix of its state_dict
keys (``layer1.0.conv1``), or None for a module-less operation.

Blocks and containers are :class:`Group` records (the module tree above the
leaves), and a graph network carries :class:`ClassDef` records: what the PyTorch
backend writes as one class per block definition, with every hyper-parameter
already resolved to a literal or to a Python expression over the block's params.
The backend lowers them from the :class:`Trace` the walk records of every scope
(``cnnspec/backends/torch/lower.py``).

Nothing here imports a module above it: the IR is plain values.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from .diagnostics import Diagnostic, Pos

if TYPE_CHECKING:  # pragma: no cover
    from .expr import Expr

Pair = tuple[int, int]
Shape = tuple[int, ...]
Layout = Literal["sequential", "flat", "graph"]

#: The id that stands for the network's (or a scope's) input in ``Node.inputs``.
INPUT = "input"


@dataclass(frozen=True)
class Node:
    id: str  # unique in the network: the scope's path and the row's name ("layer1.0.conv1")
    name: str  # the row's name in its scope: attribute name, label everywhere
    kind: str  # the layer type: conv, maxpool, …, relu, add, concat, flatten
    row: int  # 1-based number of the row in its scope (after `repeat` expansion)
    pos: Pos  # where that row is written
    inputs: tuple[str, ...]  # ids of the nodes it reads; INPUT for the network's input
    input_shape: Shape  # (its first input's) shape, without the batch dimension
    output_shape: Shape
    params: int
    macs: int  # multiply-accumulates for one image, torchinfo's convention
    #: module path, the prefix of its state_dict keys; None for a module-less operation
    path: str | None = None
    #: 1-based position among the model's modules; None for a module-less operation
    index: int | None = None
    depth: int = 0  # nesting level of its scope: 0 at the top
    scope: str = ""  # path of the block instance or container holding it; "" at the top
    input_shapes: tuple[Shape, ...] = ()  # every input's shape (merges read several)
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
    eps: float | None = None  # batchnorm
    momentum: float | None = None  # batchnorm
    negative_slope: float | None = None  # leaky_relu; None: PyTorch's default (a shorthand)
    approximate: str | None = None  # gelu: "none" or "tanh"; None: PyTorch's default
    dims: tuple[int, ...] | None = None  # permute: the input's dimensions, batch first
    #: its output is channels-last (H×W×maps, after a permute), not maps×H×W
    channels_last: bool = False
    init: float | None = None  # scale: the initial value of each element
    #: a parameter without a module (a layer scale): its state_dict key, the path of the
    #: module holding it and the row's name; None for any other node
    state: str | None = None
    lrn: tuple[int, float, float, float] | None = None  # LRN's size, alpha, beta, k
    crop: str | None = None  # concat: "center" when larger inputs are cropped
    output_padding: Pair | None = None  # deconv
    scale: float | None = None  # upsample by a factor
    mode: str | None = None  # upsample: nearest or bilinear; stochastic depth: row or batch
    align_corners: bool | None = None  # upsample
    parts: int | None = None  # split: into how many equal parts the maps are cut
    part: int | None = None  # split: which of them (from 0)
    levels: tuple[int, ...] | None = None  # spp: bins per side of each pyramid level
    pool: str | None = None  # spp: max or avg
    reshape: tuple[int, ...] | None = None  # reshape: the shape a vector is read as
    #: an operation written as a function call, without a module (an upsample to the
    #: network's input size)
    functional: bool = False
    #: an upsample to another row's H×W: that row's name in its scope (its node is the
    #: node's second input)
    like: str | None = None
    #: for an activation written as `activation:` on a row: that row's node id
    activation_of: str | None = None
    #: identity of the written row before `repeat`: (row index in the scope, copy number)
    origin: tuple[int, int] = (0, 1)
    torch_class: str = ""  # the torch.nn class ("" for a module-less operation)
    #: its kind is an activation (the registry's family "activation")
    is_activation: bool = False

    @property
    def is_module(self) -> bool:
        return self.path is not None


@dataclass(frozen=True)
class Row:
    """One written row as a person sees it: the layer and the activation it carries."""

    node: Node
    activation: Node | None = None

    @property
    def params(self) -> int:
        return self.node.params + (self.activation.params if self.activation else 0)

    @property
    def output_shape(self) -> Shape:
        return (self.activation or self.node).output_shape


@dataclass(frozen=True)
class Group:
    """A module above the leaves: a block instance or a container (``nn.Sequential``)."""

    path: str  # module path: "layer1", "layer1.0", "inception3a.branch2"
    name: str  # the row's name in its scope ("layer1"), or the copy's ("0", "denselayer1")
    kind: Literal["block", "sequential", "list"]
    block: str | None  # the block type of an instance (its class name); None for containers
    depth: int
    pos: Pos
    nodes: tuple[str, ...]  # ids of every node inside, in order
    input_shape: Shape
    output_shape: Shape
    params: int
    macs: int
    #: the block's params as this instance has them, in the block's order
    args: tuple[tuple[str, object], ...] = ()


@dataclass(frozen=True)
class Param:
    """A block param as a generated constructor argument."""

    name: str
    type: str  # "int", "bool", "float"
    default: str | None  # Python literal text; None when required


@dataclass(frozen=True)
class Member:
    """One row of a generated class: an attribute in ``__init__``, a line in ``forward``.

    Values are resolved: ``node`` fields are literals, or :class:`~cnnspec.expr.Sym`
    Python expressions over the class's constructor arguments."""

    name: str  # attribute (for modules) and the row's name
    kind: str  # a layer kind; "block" (an instance), "sequential" (a container); or an op
    inputs: tuple[str, ...]  # names of the members it reads; INPUT for the class's input
    shape: str  # the output shape for the line's comment ("64×56×56", "planes×H×W")
    cond: str | None = None  # Python condition under which it exists; None: always
    node: Node | None = None  # a leaf layer: what its template macro renders
    block: str | None = None  # a block instance: the class it instantiates
    args: tuple[str, ...] = ()  # its constructor's arguments, as source text
    #: repeated block rows: one (child name or None for an index, args) per copy
    copies: tuple[tuple[str | None, tuple[str, ...]], ...] = ()
    #: a repeat count written as an expression (``n``): then ``copies`` holds the first
    #: copy and the arguments every other copy shares, and the class writes a loop
    repeat: str | None = None
    #: under such a loop, copies whose input maps change copy by copy: (the maps after
    #: the first copy, one copy's output maps over the maps it reads, named
    #: ``_copy_maps``); the other copies' ``in_maps`` argument is then that running value
    loop: tuple[str, str] | None = None
    #: under such a loop, whether the other copies' arguments read the copy's index (the
    #: loop's variable, ``copy``)
    indexed: bool = False
    children: tuple[Member, ...] = ()  # a container's (or a list's) children, in order
    #: a container's children read from outside it: (the path read, ``body.layer1``; the
    #: child whose value it is); a list's members are read as ``name.0``, … (``inputs``
    #: holds each member's input)
    taps: tuple[tuple[str, str], ...] = ()
    named: bool = False  # children as named attributes (OrderedDict) or indexed
    module: bool = True  # holds an nn.Module (False for add, concat, flatten)
    #: while the walk assembles a class: whether this instance has the row, the
    #: instance's params and its real node (to check the class's expressions against)
    present: bool = True
    env: tuple[tuple[str, object], ...] = field(default=(), compare=False, repr=False)
    actual: Node | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class ClassDef:
    """One generated class: a block definition, or (for graph networks) the network."""

    name: str
    params: tuple[Param, ...]
    takes_in_maps: bool  # the constructor's first argument is ``in_maps``
    members: tuple[Member, ...]
    output: str  # the member whose value ``forward`` returns (INPUT when none)
    sequential: bool = False  # an nn.Sequential subclass whose children are indexed
    title: str = ""  # one line for the class docstring
    #: members computed only in training, returned after ``output`` (the network's)
    training: tuple[str, ...] = ()
    #: rows no instance has that cnnspec cannot write (it never resolved them): (the
    #: Python condition under which the row exists, its name); the constructor refuses
    #: arguments under which one exists rather than build the block without it
    refused: tuple[tuple[str, str], ...] = ()
    #: the network's ``outputs:``: (dict key or None for a tuple, member), in order
    outputs: tuple[tuple[str | None, str], ...] = ()


# --------------------------------------------------------------------------- the walk's trace


@dataclass(frozen=True)
class BlockArgs:
    """A block row's arguments for one instance, as the row wrote them."""

    values: tuple[tuple[str, object], ...]  # every param the instance has, in the block's order
    given: tuple[str, ...]  # the params the row writes (the others take their defaults)
    written: tuple[tuple[str, Expr], ...] = ()  # those it writes as expressions


@dataclass(frozen=True)
class BlockCall:
    """One instance a block row makes."""

    child: str | None  # the copy's name under `names:`; None for an index, or no `repeat`
    args: BlockArgs
    walk: ScopeTrace  # the instance's rows


@dataclass(frozen=True)
class Step:
    """One row of a scope as one walk met it: a member of the class that writes the scope.

    The trace is what elaboration hands the PyTorch backend, which lowers it to
    :class:`ClassDef` records; it holds facts about the spec, never generated code."""

    name: str  # the row's name (an `activation:` and an implicit flatten have their own)
    kind: str  # a layer kind or an operation; "block"; "sequential"; the row's type if absent
    inputs: tuple[str, ...]  # the steps it reads, by name; INPUT for the scope's input
    shape: Shape = ()  # its output shape; () for a row absent in this walk
    present: bool = True  # False: its `if:` is false in this walk
    cond: Expr | None = None  # its `if:`, when written as an expression
    module: bool = True  # holds an nn.Module (False for add, concat, flatten)
    node: Node | None = None  # a leaf or a merge: its node
    #: in a block: the row's values written as expressions, by key (a pair: a tuple of
    #: expressions and literals)
    written: tuple[tuple[str, object], ...] = ()
    inner: ScopeTrace | None = None  # a container's rows
    block: str | None = None  # a block row: the block it instantiates
    calls: tuple[BlockCall, ...] = ()  # a block row: its instances, one per copy
    #: a repeated block row: the arguments of every copy after the first (None: no `repeat`)
    rest: BlockArgs | None = None
    repeat: Expr | None = None  # a `repeat` count written as an expression
    named: bool = False  # a container's (or repeated block row's) children are named
    names: str | None = None  # a repeated block row's `names:` pattern (``layer{i}``)
    #: a container's rows read from outside it: (the path read, ``body.layer1``; the
    #: step of its rows that holds the value), in the container's order
    taps: tuple[tuple[str, str], ...] = ()
    #: a list's members, one scope each (its input the member's), in order; ``inputs``
    #: holds each member's input
    parts: tuple[ScopeTrace, ...] = ()


@dataclass(frozen=True)
class ScopeTrace:
    """The rows of one scope — the network, a container, one walk of a block — in order."""

    steps: tuple[Step, ...]
    output: str  # the step whose value the scope returns (INPUT when none)
    input_shape: Shape
    #: a block instance's params and ``in_maps`` (a container inside it shares them);
    #: None outside blocks
    env: tuple[tuple[str, object], ...] | None = None


@dataclass(frozen=True)
class BlockDecl:
    """A block definition as its generated class needs it."""

    name: str
    params: tuple[tuple[str, str, object], ...]  # (name, type, default or None), in order
    sequential: bool  # children indexed: the class is an nn.Sequential
    title: str
    pos: Pos  # where it is defined


@dataclass(frozen=True)
class Trace:
    """A graph network's walk, recorded for the classes the PyTorch backend writes."""

    name: str
    title: str
    top: ScopeTrace
    blocks: tuple[BlockDecl, ...]
    #: every instance walked (an instance walked alike before included), in the order
    #: their walks completed
    instances: tuple[tuple[str, ScopeTrace], ...]
    #: the top-level rows whose outputs forward returns after the main one, in training only
    training: tuple[str, ...] = ()
    #: ``outputs:``: (dict key or None, step) per returned tensor; empty: ``top.output``
    outputs: tuple[tuple[str | None, str], ...] = ()


@dataclass(frozen=True)
class Output:
    """One tensor the network returns."""

    key: str | None  # its key in the returned dict; None in a tuple or alone
    row: str  # the row whose value it is, as `outputs:` names it
    node: str  # id of the node producing it
    shape: Shape


@dataclass(frozen=True)
class Network:
    name: str  # class name of the generated module
    title: str | None
    layout: Layout
    source: str  # the spec's path as the user gave it, for headers
    input_shape: Shape
    output_shape: Shape
    nodes: tuple[Node, ...]  # every operation, inputs before readers
    params: int
    macs: int
    warnings: tuple[Diagnostic, ...] = field(default=())
    output: str = INPUT  # id of the node whose value the network returns
    groups: tuple[Group, ...] = ()  # block instances and containers, outer before inner
    #: the generated classes of a graph network: blocks in dependency order, network last
    classes: tuple[ClassDef, ...] = ()
    #: top-level rows computed only in training, their outputs returned after the main one
    #: (auxiliary classifiers); their nodes' MACs are left out of ``macs`` (eval's count)
    training_outputs: tuple[str, ...] = ()
    #: what ``outputs:`` names, in order (empty: the network returns ``output`` alone)
    outputs: tuple[Output, ...] = ()
    #: the outputs are returned as a dict by their keys (else as a tuple)
    outputs_dict: bool = False

    @property
    def returned(self) -> tuple[Output, ...]:
        """Every tensor ``forward`` returns in eval mode, in order."""
        if self.outputs:
            return self.outputs
        last = next((n.name for n in reversed(self.nodes) if n.id == self.output), self.output)
        return (Output(None, last, self.output, self.output_shape),)

    def training_only(self, node: Node) -> bool:
        """Whether ``node`` runs only in training (it is, or is inside, a training output)."""
        return any(node.id == t or node.id.startswith(t + ".") for t in self.training_outputs)

    @property
    def layers(self) -> tuple[Node, ...]:
        """The modules, in order (module-less operations left out)."""
        return tuple(n for n in self.nodes if n.path is not None)

    @property
    def modules(self) -> tuple[Node, ...]:
        return self.layers

    @property
    def flatten(self) -> Node | None:
        """The (first) flatten operation, if any (named here by its kind's name: the IR
        imports nothing above it, and a chain is split at its flatten)."""
        return next((n for n in self.nodes if n.kind == "flatten"), None)

    @property
    def features(self) -> tuple[Node, ...]:
        """A chain's modules before its flatten (``self.features``)."""
        flat = self.flatten
        if flat is None:
            return self.layers
        at = self.nodes.index(flat)
        return tuple(n for n in self.nodes[:at] if n.path is not None)

    @property
    def classifier(self) -> tuple[Node, ...]:
        """A chain's modules after its flatten (``self.classifier``)."""
        flat = self.flatten
        if flat is None:
            return ()
        at = self.nodes.index(flat)
        return tuple(n for n in self.nodes[at + 1 :] if n.path is not None)

    def node(self, node_id: str) -> Node:
        for n in self.nodes:
            if n.id == node_id:
                return n
        raise KeyError(node_id)

    def rows(self) -> Iterator[Row]:
        """The modules grouped back into written rows (an `activation:` joins its row)."""
        nodes = self.layers
        i = 0
        while i < len(nodes):
            node = nodes[i]
            nxt = nodes[i + 1] if i + 1 < len(nodes) else None
            if nxt is not None and nxt.activation_of == node.id:
                yield Row(node, nxt)
                i += 2
            else:
                yield Row(node)
                i += 1
