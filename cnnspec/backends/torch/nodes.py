"""A node as its class's constructor writes it: expressions where the block wrote them.

In a block class a layer's hyper-parameters are the block's own formulas
(``nn.Conv2d(in_maps, planes * 4, …)``), not one instance's numbers; elsewhere
they are the node's literals. Rows written alike share one such node, so that the
merge of instances compares them by identity first.
"""

from __future__ import annotations

import operator
from typing import Any

from ...diagnostics import Pos
from ...expr import Expr, Sym
from ...frozen import Maker, types_of
from ...ir import Node, ScopeTrace, Step
from ...kinds import DECLARED_MAPS, HYPER, KINDS, MAPS
from .maps import Maps, as_value

_hyper = operator.attrgetter(*HYPER)
_PAIRS = frozenset({"kernel", "stride", "padding", "dilation", "target", "output_padding"})
_new_node = Maker(Node)


def out_maps(scope: ScopeTrace, step: Step, node: Node, in_maps: Maps) -> Maps:
    """The maps of a layer's output: the formula its block row wrote, the node's number,
    or (a kind that keeps its input's maps) its input's."""
    key = DECLARED_MAPS.get(node.kind)
    if key is not None:
        written = dict(step.written).get(key)
        if isinstance(written, tuple):  # a reshape's shape: its maps first
            written = written[0]
        if scope.env is not None and isinstance(written, Expr):
            return written.python(dict(scope.env))
        return node.out_maps if node.out_maps is not None else node.output_shape[0]
    if MAPS.get(node.kind) == "flat":  # nn.Flatten: its input's every element
        return node.output_shape[0]
    return in_maps


class NodeWriter:
    """Makes the class-side copy of each node, once per distinct result."""

    def __init__(self) -> None:
        self.made: dict[tuple, Node] = {}

    def node(self, scope: ScopeTrace, step: Step, node: Node, in_maps: Maps) -> Node:
        """The node as its class's constructor writes it: placeholders where the concrete
        network differs per instance, expressions where the row wrote one."""
        hyper = dict(zip(HYPER, _hyper(node)))
        if scope.env is not None:
            written = dict(step.written)
            if hyper["in_maps"] is not None:
                hyper["in_maps"] = as_value(in_maps)
            key = DECLARED_MAPS.get(node.kind)
            if key is not None and hyper["out_maps"] is not None:
                maps = written.get(key)
                if isinstance(maps, Expr):
                    hyper["out_maps"] = Sym(maps.python(dict(scope.env)))
            if node.activation_of is None:
                _written_fields(hyper, written, node.kind, dict(scope.env))
            if hyper["padding_same"]:  # the class writes padding="same", whatever the kernel
                hyper["padding"] = None
        # rows written alike share one Node: the classes' merge then compares by identity
        values = tuple(hyper.values())
        memo = (node.name, node.kind, values, types_of(values))
        found = self.made.get(memo)
        if found is not None:
            return found
        made = self.made[memo] = _new_node(
            hyper,
            id=node.name,
            name=node.name,
            kind=node.kind,
            row=0,
            pos=Pos(0, 0),
            inputs=(),
            input_shape=(),
            output_shape=(),
            params=0,
            macs=0,
            is_activation=node.is_activation,
        )
        return made


def _written_fields(
    hyper: dict[str, Any], written: dict[str, object], kind: str, env: dict[str, object]
) -> None:
    """The fields a block row wrote as expressions, as Python over the class's arguments
    (those its kind's record reads from a row key). A pair param written alone
    (``kernel: $kernel``) is the pair itself, not one number for both axes."""
    for fname, key in KINDS[kind].keys.items():
        value = written.get(key)
        if isinstance(value, tuple):  # a pair, or a list (spp levels, a reshape's shape)
            hyper[fname] = tuple(Sym(x.python(env)) if isinstance(x, Expr) else x for x in value)
        elif isinstance(value, Expr):
            s = Sym(value.python(env))
            pair = fname in _PAIRS and not _is_pair(value, env)
            hyper[fname] = (s, s) if pair else s


def _is_pair(value: Expr, env: dict[str, object]) -> bool:
    """Whether an expression gives a pair here (it names a pair param)."""
    try:
        return isinstance(value.evaluate(env), tuple)
    except ValueError:  # an expression error has been reported by the walk
        return False
