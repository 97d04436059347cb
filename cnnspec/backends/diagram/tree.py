"""A graph network's module tree, and which of its block instances fold.

The tree nests as the module paths nest: the top level, then each block instance and
container (an IR group) inside the one whose path is the longest prefix of its own,
each holding its nodes and inner scopes in the order the IR lists them. A run of
identical, consecutive block instances (same block, arguments and structure; input
widths may differ, as in a dense block), each reading only the one before, is drawn
once when repeats fold.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from ...ir import INPUT, Network, Node
from ...ir import Group as IRGroup


@dataclass
class Scope:
    """A node of the module tree: the top level, a block instance or a container."""

    path: str
    group: IRGroup | None
    items: list[Node | Scope] = field(default_factory=list)

    @property
    def depth(self) -> int:
        return self.group.depth if self.group else 0


def _module_tree(net: Network) -> Scope:
    scopes: dict[str, Scope] = {"": Scope("", None)}
    for g in net.groups:
        scopes[g.path] = Scope(g.path, g)
    parent: dict[str, str] = {}
    for path in scopes:
        if not path:
            continue
        up, parent[path] = path, ""
        while "." in up:
            up = up.rsplit(".", 1)[0]
            if up in scopes:
                parent[path] = up
                break
    attached = {""}

    def attach(path: str) -> None:
        if path not in attached:
            attach(parent[path])
            scopes[parent[path]].items.append(scopes[path])
            attached.add(path)

    for n in net.nodes:
        where = n.scope if n.scope in scopes else ""
        attach(where)
        scopes[where].items.append(n)
    return scopes[""]


class ModuleTree:
    """The module tree of a graph network, and what folding reads besides: the nodes
    by id, each node's consumers, and the signature of each block instance."""

    def __init__(self, net: Network) -> None:
        self.net = net
        self.by_id = {n.id: n for n in net.nodes}
        self.consumers: dict[str, list[str]] = {n.id: [] for n in net.nodes}
        self.consumers[INPUT] = []
        for n in net.nodes:
            for i in n.inputs:
                self.consumers.setdefault(i, []).append(n.id)
        for o in net.returned:
            self.consumers.setdefault(o.node, []).append("output")
        self.root = _module_tree(net)
        self._sigs: dict[str, tuple] = {}

    def signature(self, scope: Scope) -> tuple:
        """What must agree for two instances to fold: the block, its arguments, and
        every node's kind, hyper-parameters, output maps and wiring (not input widths)."""
        got = self._sigs.get(scope.path)
        if got is not None:
            return got
        g = scope.group
        assert g is not None
        inside = set(g.nodes)
        pre = g.path + "."

        def rel(i: str) -> str:  # an id inside, relative to the instance; "^" outside
            if i not in inside:
                return "^"
            return i[len(pre) :] if i.startswith(pre) else i

        parts = tuple(
            (
                rel(n.id),
                n.kind,
                n.torch_class,
                n.out_maps,
                n.kernel,
                n.stride,
                n.padding,
                n.dilation,
                n.groups,
                n.bias,
                n.ceil_mode,
                n.p,
                n.target,
                n.crop,
                n.scale,
                n.mode,
                n.functional,
                tuple(rel(i) for i in n.inputs),
            )
            for n in (self.by_id[i] for i in g.nodes)
        )
        sig = (g.kind, g.block, g.args, parts)
        self._sigs[scope.path] = sig
        return sig

    def chained(self, a: Scope, b: Scope) -> bool:
        """``b`` reads only ``a``'s one output, and nothing else reads it."""
        assert a.group is not None and b.group is not None
        a_in, b_in = set(a.group.nodes), set(b.group.nodes)
        outs = [i for i in a.group.nodes if any(c not in a_in for c in self.consumers[i])]
        if len(outs) != 1:
            return False
        if any(c not in a_in and c not in b_in for c in self.consumers[outs[0]]):
            return False
        return all(i in b_in or i == outs[0] for n in b.group.nodes for i in self.by_id[n].inputs)

    def runs(self, scope: Scope, fold: bool) -> list[Node | list[Scope]]:
        """The scope's items, consecutive identical block instances gathered (with ``fold``)."""
        out: list[Node | list[Scope]] = []
        for item in scope.items:
            if isinstance(item, Node):
                out.append(item)
                continue
            prev = out[-1] if out else None
            if (
                fold
                and isinstance(prev, list)
                and item.group is not None
                and item.group.kind == "block"
                and self.signature(prev[-1]) == self.signature(item)
                and self.chained(prev[-1], item)
            ):
                prev.append(item)
            else:
                out.append([item])
        return out


def max_depth(scope: Scope) -> int:
    return max([scope.depth] + [max_depth(i) for i in scope.items if isinstance(i, Scope)])


def all_nodes(scope: Scope) -> list[Node]:
    out: list[Node] = []
    for item in scope.items:
        out.extend(all_nodes(item) if isinstance(item, Scope) else [item])
    return out


def block_name(scope: Scope) -> str | None:
    """The block type of a block instance; None for a container or the top level."""
    g = scope.group
    return g.block if g is not None and g.kind == "block" else None


def run_path(run: Sequence[Scope]) -> str:
    """A run's module paths, shortened: ``layer3.1 … 35``."""
    if len(run) == 1:
        return run[0].path
    last = run[-1].group
    return f"{run[0].path} … {last.name if last else run[-1].path}"
