"""The layer kinds: one :class:`LayerKind` record per `type` a row may write.

Each family module holds its kinds' pydantic row models, shape rules, MAC rules and
records: ``conv`` (conv, deconv), ``pool`` (max, average, adaptive), ``norm``
(batchnorm, lrn), ``linear`` (fc, dropout, flatten), ``resize`` (upsample),
``activation``, ``merge`` (add, concat) and ``container`` (sequential); ``window``
holds the sliding-window arithmetic the convolutions and pools share.

This module lists the records in the order messages and the JSON Schema name them,
and derives from them every set the rest of the compiler consults, so that no other
module keeps a list of kinds of its own.

Adding a kind:

1. in its family's module (or a new one), its row model (a :class:`RowModel` with a
   ``type: Literal["…"]`` tag), its shape rule (or a reused one), its MAC rule if it
   multiplies, and its :class:`LayerKind` record;
2. the record in :data:`KINDS` below;
3. a macro named like the kind in ``cnnspec/templates/_layers.jinja``, if it is a
   module (it writes the constructor call).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from ..ir import Node
from . import activation, container, conv, linear, merge, norm, pool, resize
from .base import LayerKind, MapsRule, Resolved, RowContext, opt
from .row import RowModel

__all__ = [
    "ACTIVATIONS",
    "ACTIVATION_LABELS",
    "DECLARED_MAPS",
    "CONTAINERS",
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
    "OPS",
    "RIDERS",
    "Resolved",
    "RowContext",
    "RowModel",
    "SPATIAL",
    "STAGE_ENDS",
    "opt",
]

#: Every kind, in the order messages ("known: conv, deconv, …") and the JSON Schema list them.
KINDS: dict[str, LayerKind] = {
    k.name: k
    for k in (
        conv.CONV,
        conv.DECONV,
        pool.MAXPOOL,
        pool.AVGPOOL,
        pool.ADAPTIVE_AVGPOOL,
        pool.ADAPTIVE_MAXPOOL,
        linear.FC_KIND,
        linear.DROPOUT,
        norm.BATCHNORM,
        norm.LRN_KIND,
        resize.UPSAMPLE,
        linear.FLATTEN,
        merge.ADD,
        merge.CONCAT,
        container.SEQUENTIAL,
        *activation.KINDS,
    )
}


def _kinds(test) -> frozenset[str]:
    return frozenset(name for name, k in KINDS.items() if test(k))


def _in_node_order(names: Iterable[str]) -> tuple[str, ...]:
    """``names`` (fields of :class:`~cnnspec.ir.Node`) in the order the Node declares them."""
    wanted = set(names)
    order = tuple(f.name for f in dataclasses.fields(Node) if f.name in wanted)
    missing = wanted - set(order)
    assert not missing, f"not fields of ir.Node: {sorted(missing)}"
    return order


#: The `type` of every row that is not a block instance.
LAYER_TYPES: tuple[str, ...] = tuple(KINDS)
#: The row model of every kind (block rows excepted).
MODEL_FOR_TYPE: dict[str, type[RowModel]] = {name: k.model for name, k in KINDS.items()}
#: The kinds an `activation:` shorthand may name, in order.
ACTIVATIONS: tuple[str, ...] = tuple(name for name, k in KINDS.items() if k.activation)
#: Kinds that read a maps×H×W tensor: an error after the flatten.
SPATIAL = _kinds(lambda k: k.spatial)
#: Kinds that read two or more inputs.
MERGES = _kinds(lambda k: k.is_merge)
#: Merges that join their inputs along the maps (their output maps are the inputs' sum).
JOINS = _kinds(lambda k: k.joins)
#: The kinds that flatten a maps×H×W tensor into a vector.
FLATTENS = _kinds(lambda k: k.flattens)
#: Kinds that hold rows of their own.
CONTAINERS = _kinds(lambda k: k.contains)
#: One-input kinds whose output has the input's shape (activations, norms, dropout).
ELEMENTWISE = _kinds(lambda k: k.elementwise)
#: Kinds a diagram draws inside the node they follow.
RIDERS = _kinds(lambda k: k.rider)
#: Kinds that end a diagram's VGG-style stage.
STAGE_ENDS = _kinds(lambda k: k.closes_stage)
#: The forward expression of each module-less operation (and functional form).
OPS: dict[str, str] = {name: k.op for name, k in KINDS.items() if k.op}
#: How summaries and diagrams name each kind.
LABELS: dict[str, str] = {name: k.label for name, k in KINDS.items()}
#: The textbook's spelling of each activation.
ACTIVATION_LABELS: dict[str, str] = {name: LABELS[name] for name in ACTIVATIONS}
#: The template macro of each kind that has one.
MACROS: dict[str, str] = {name: k.macro for name, k in KINDS.items() if k.macro}
#: How each kind's output maps follow from its inputs (the walker's maps expressions).
MAPS: dict[str, MapsRule] = {name: k.maps for name, k in KINDS.items()}
#: Kinds whose output maps the row declares, and the key it declares them by.
DECLARED_MAPS: dict[str, str] = {
    name: k.maps_key for name, k in KINDS.items() if k.maps == "declared" and k.maps_key
}
#: The node fields some kind's constructor call reads (summaries and diagrams print
#: them; two instances of a block differ where these do), in the Node's order.
HYPER: tuple[str, ...] = _in_node_order(f for k in KINDS.values() for f in k.hyper)


def _field_keys() -> dict[str, str]:
    keys: dict[str, str] = {}
    for k in KINDS.values():
        for f, key in k.keys.items():
            assert keys.setdefault(f, key) == key, f"kinds read the node's {f} from two keys"
    return {f: keys[f] for f in _in_node_order(keys)}


#: Node fields and the row keys they come from, where a block's row may write a
#: `$param` expression (the union over the kinds), in the Node's order.
FIELD_KEY: dict[str, str] = _field_keys()


def _legends() -> dict[str, str]:
    """Each diagram family's legend text: its kinds' legends, joined ("add / concat")."""
    texts: dict[str, list[str]] = {}
    for k in KINDS.values():
        if k.legend and k.legend not in texts.setdefault(k.family, []):
            texts[k.family].append(k.legend)
    return {family: " / ".join(words) for family, words in texts.items() if words}


#: The legend text of every diagram family a kind belongs to.
FAMILY_LEGEND: dict[str, str] = _legends()

assert ACTIVATIONS == activation.NAMES, "the activation records and the Activation type disagree"
