"""The layer kinds: one :class:`LayerKind` record per `type` a row may write.

Each family module holds its kinds' pydantic row models, shape rules, MAC rules and
records: ``conv`` (conv, deconv), ``pool`` (max, average, adaptive, spatial pyramid), ``norm``
(batchnorm, layernorm, groupnorm, scale, lrn), ``linear`` (fc, dropout, flatten),
``resize`` (upsample), ``activation``, ``merge`` (add, concat, mul), ``channels`` (split,
channel_shuffle), ``layout`` (permute, reshape) and ``container`` (sequential); ``window``
holds the sliding-window arithmetic the convolutions and pools share.

This module registers the records, in the order messages and the JSON Schema name
them, and derives from them every set the rest of the compiler consults, so that no
other module keeps a list of kinds of its own. The derived sets are refreshed in
place whenever a kind is registered (:func:`register`) or removed
(:func:`unregister`), and the modules that build something from the kinds (the row
union of :mod:`cnnspec.spec.models`, the diagram's families) rebuild it then
(:func:`on_change`).

Adding a kind: see "Adding a layer kind" in docs/contributing.md (the steps
tests/kinds/test_new_kind.py takes).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping, Sequence, Set

from ..ir import Node
from . import activation, channels, container, conv, layout, linear, merge, norm, pool, resize
from .base import LayerKind, MapsRule, Resolved, RowContext, opt
from .row import RowModel

__all__ = [
    "ACTIVATIONS",
    "ACTIVATION_LABELS",
    "CHANNELS_LAST",
    "CONTAINERS",
    "DECLARED_MAPS",
    "ELEMENTWISE",
    "FAMILY_LEGEND",
    "FIELD_KEY",
    "FLATTENS",
    "HYPER",
    "JOINS",
    "KINDS",
    "LABELS",
    "LAYER_TYPES",
    "LayerKind",
    "MACROS",
    "MAPS",
    "MERGES",
    "MODEL_FOR_TYPE",
    "OPERATIONS",
    "OPS",
    "RIDERS",
    "Resolved",
    "RowContext",
    "RowModel",
    "SPATIAL",
    "STAGE_ENDS",
    "on_change",
    "opt",
    "register",
    "unregister",
]

#: Every kind, in the order messages ("known: conv, deconv, …") and the JSON Schema list them.
KINDS: dict[str, LayerKind] = {}

# The derived sets. Each is one object for the life of the process (modules import it
# by name), filled by _derive(); read-only to everyone else.

#: The `type` of every row that is not a block instance.
LAYER_TYPES: Sequence[str] = []
#: The row model of every kind (block rows excepted).
MODEL_FOR_TYPE: Mapping[str, type[RowModel]] = {}
#: Kinds that read a maps×H×W tensor: an error after the flatten.
SPATIAL: Set[str] = set()
#: Kinds that read two or more inputs.
MERGES: Set[str] = set()
#: Merges that join their inputs along the maps (their output maps are the inputs' sum).
JOINS: Set[str] = set()
#: The kinds that flatten a maps×H×W tensor into a vector.
FLATTENS: Set[str] = set()
#: Kinds that hold rows of their own.
CONTAINERS: Set[str] = set()
#: One-input kinds whose output has the input's shape (activations, norms, dropout).
ELEMENTWISE: Set[str] = set()
#: Kinds that may read channels-last data (after a permute).
CHANNELS_LAST: Set[str] = set()
#: Kinds a diagram draws inside the node they follow.
RIDERS: Set[str] = set()
#: Kinds that end a diagram's VGG-style stage.
STAGE_ENDS: Set[str] = set()
#: One-input operations without a module, written as an expression in a graph's
#: ``forward`` (a split, a channel shuffle): a spec with one is a graph, and an
#: nn.Sequential (a container, an indexed block) cannot hold one.
OPERATIONS: Set[str] = set()
#: The forward expression of each module-less operation (and functional form).
OPS: Mapping[str, str] = {}
#: How summaries and diagrams name each kind.
LABELS: Mapping[str, str] = {}
#: The template macro of each kind that has one.
MACROS: Mapping[str, str] = {}
#: How each kind's output maps follow from its inputs (the walker's maps expressions).
MAPS: Mapping[str, MapsRule] = {}
#: Kinds whose output maps the row declares, and the key it declares them by.
DECLARED_MAPS: Mapping[str, str] = {}
#: Node fields and the row keys they come from, where a block's row may write a
#: `$param` expression (the union over the kinds), in the Node's order.
FIELD_KEY: Mapping[str, str] = {}
#: The legend text of every diagram family a kind belongs to.
FAMILY_LEGEND: Mapping[str, str] = {}

#: The kinds an `activation:` shorthand may name, in order. Fixed: the row models'
#: `activation` fields are typed with them when they are built.
ACTIVATIONS: tuple[str, ...] = activation.NAMES
#: The textbook's spelling of each activation.
ACTIVATION_LABELS: Mapping[str, str] = {k.name: k.label for k in activation.KINDS}


def _in_node_order(names: Iterable[str]) -> tuple[str, ...]:
    """``names`` (fields of :class:`~cnnspec.ir.Node`) in the order the Node declares them."""
    wanted = set(names)
    order = tuple(f.name for f in dataclasses.fields(Node) if f.name in wanted)
    missing = wanted - set(order)
    assert not missing, f"not fields of ir.Node: {sorted(missing)}"
    return order


_BUILTIN = (
    conv.CONV,
    conv.DECONV,
    pool.MAXPOOL,
    pool.AVGPOOL,
    pool.ADAPTIVE_AVGPOOL,
    pool.ADAPTIVE_MAXPOOL,
    pool.SPP_KIND,
    linear.FC_KIND,
    linear.DROPOUT,
    linear.STOCHASTIC_DEPTH,
    norm.BATCHNORM,
    norm.LRN_KIND,
    resize.UPSAMPLE,
    norm.LAYERNORM,
    norm.GROUPNORM,
    norm.SCALE,
    layout.PERMUTE,
    layout.RESHAPE,
    linear.FLATTEN,
    merge.ADD,
    merge.CONCAT,
    merge.MUL,
    channels.SPLIT,
    channels.CHANNEL_SHUFFLE,
    container.SEQUENTIAL,
    container.LIST,
    *activation.KINDS,
)
#: The node fields some kind's constructor call reads (summaries and diagrams print
#: them; two instances of a block differ where these do), in the Node's order. Fixed:
#: a new hyper-parameter is a new field of the IR's Node, read by a kind shipped here.
HYPER: tuple[str, ...] = _in_node_order(f for k in _BUILTIN for f in k.hyper)


def _refill(target: object, items: Iterable) -> None:
    """Replace the contents of one derived set, list or dict in place."""
    if isinstance(target, dict):
        target.clear()
        target.update(items)
    elif isinstance(target, list):
        target[:] = list(items)
    else:
        assert isinstance(target, set)
        target.clear()
        target.update(items)


def _names(test: Callable[[LayerKind], bool]) -> list[str]:
    return [name for name, k in KINDS.items() if test(k)]


def _field_keys() -> dict[str, str]:
    keys: dict[str, str] = {}
    for k in KINDS.values():
        for f, key in k.keys.items():
            assert keys.setdefault(f, key) == key, f"kinds read the node's {f} from two keys"
    return {f: keys[f] for f in _in_node_order(keys)}


def _legends() -> dict[str, str]:
    """Each diagram family's legend text: its kinds' legends, joined ("add / concat")."""
    texts: dict[str, list[str]] = {}
    for k in KINDS.values():
        if k.legend and k.legend not in texts.setdefault(k.family, []):
            texts[k.family].append(k.legend)
    return {family: " / ".join(words) for family, words in texts.items() if words}


def _derive() -> None:
    """Every derived set, from the records."""
    _refill(LAYER_TYPES, KINDS)
    _refill(MODEL_FOR_TYPE, ((n, k.model) for n, k in KINDS.items()))
    for target, test in (
        (SPATIAL, lambda k: k.spatial),
        (MERGES, lambda k: k.is_merge),
        (JOINS, lambda k: k.joins),
        (FLATTENS, lambda k: k.flattens),
        (CONTAINERS, lambda k: k.contains),
        (ELEMENTWISE, lambda k: k.elementwise),
        (RIDERS, lambda k: k.rider),
        (CHANNELS_LAST, lambda k: k.channels_last),
        (STAGE_ENDS, lambda k: k.closes_stage),
        (OPERATIONS, lambda k: bool(k.forward) and not k.is_module and not k.is_merge),
    ):
        _refill(target, _names(test))
    _refill(OPS, ((n, k.op) for n, k in KINDS.items() if k.op))
    _refill(LABELS, ((n, k.label) for n, k in KINDS.items()))
    _refill(MACROS, ((n, k.macro) for n, k in KINDS.items() if k.macro))
    _refill(MAPS, ((n, k.maps) for n, k in KINDS.items()))
    declared = ((n, k.maps_key) for n, k in KINDS.items() if k.maps == "declared" and k.maps_key)
    _refill(DECLARED_MAPS, declared)
    _refill(FIELD_KEY, _field_keys())
    _refill(FAMILY_LEGEND, _legends())


#: What rebuilds something from the kinds when they change (see :func:`on_change`).
_LISTENERS: list[Callable[[], None]] = []


def on_change(listener: Callable[[], None]) -> None:
    """Call ``listener`` whenever a kind is registered or removed (after the derived
    sets are refreshed): a module that builds something from the kinds (a model, a
    table) rebuilds it there."""
    _LISTENERS.append(listener)


def _changed() -> None:
    _derive()
    for listener in _LISTENERS:
        listener()


def _check(kind: LayerKind) -> None:
    if kind.name in KINDS:
        raise ValueError(f"a kind named {kind.name!r} is registered already")
    if not kind.name.isidentifier() or not kind.name.islower():
        raise ValueError(f"a kind's name is a lower-case identifier, not {kind.name!r}")
    tag = kind.model.model_fields.get("type")
    if tag is None or getattr(tag.annotation, "__args__", None) != (kind.name,):
        raise ValueError(f"the row model of {kind.name!r} needs `type: Literal[{kind.name!r}]`")
    if kind.activation and kind.name not in ACTIVATIONS:
        raise ValueError(
            f"{kind.name!r}: the kinds an `activation:` shorthand names are fixed when the "
            "row models are built (list it in cnnspec/kinds/activation.py)"
        )
    unknown = set(kind.hyper) - set(HYPER)
    if unknown:
        raise ValueError(f"{kind.name!r} reads node fields no kind prints: {sorted(unknown)}")


def register(kind: LayerKind) -> LayerKind:
    """Add ``kind`` to :data:`KINDS` (after the others); every derived set, the row
    union and the diagram's families follow. Returns the record."""
    _check(kind)
    KINDS[kind.name] = kind
    try:
        _changed()
    except Exception:
        del KINDS[kind.name]
        _changed()
        raise
    return kind


def unregister(name: str) -> None:
    """Remove the kind ``name`` (one :func:`register` added): the sets follow."""
    if name not in KINDS or KINDS[name] in _BUILTIN:
        raise ValueError(f"{name!r} is not a registered kind of one's own")
    del KINDS[name]
    _changed()


for _kind in _BUILTIN:
    _check(_kind)
    KINDS[_kind.name] = _kind
_derive()

assert ACTIVATIONS == tuple(_names(lambda k: k.activation)), "activation records disagree"
