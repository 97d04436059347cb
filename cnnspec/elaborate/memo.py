"""Replay: an instance that would walk exactly as an earlier one is appended, not walked.

The walk of a block instance depends on the block, its params, its input's shape
and flatten state and its depth — not on where it sits. An instance walked without a
diagnostic is recorded; a later instance with the same key gets the recorded nodes,
groups and nested instance records again, renamed to its module path, with module
indices shifted. An instance that reported anything is walked afresh every time, so
its diagnostics (and their notes) stay its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..frozen import Maker, evolve
from ..ir import Group, Node, ScopeTrace
from .scope import Value

if TYPE_CHECKING:  # pragma: no cover
    from .emit import Emitter
    from .state import WalkState

_new_node = Maker(Node)


def instance_key(name: str, values: dict, v: Value, depth: int) -> tuple:
    """What the walk of an instance depends on, besides where it is (diagnostics aside)."""
    return (
        name,
        tuple((k, type(x).__name__, x) for k, x in values.items()),
        v.shape,
        v.flattened_by,
        depth,
    )


@dataclass
class Walked:
    """One instance's walk, to append again for an instance that would walk alike."""

    prefix: str  # the module path prefix it was walked under ("layer3.1.")
    input_id: str  # the id of the node its input came from
    nodes: list[Node]
    groups: list[Group]
    instances: list[tuple[str, ScopeTrace]]  # nested instances' walks
    rows: int  # rows it added to the walker's count
    index: int  # the walker's module count before it
    modules: int  # modules it added
    out: Value
    walk: ScopeTrace

    @classmethod
    def record(
        cls,
        state: WalkState,
        emitted: Emitter,
        log: list[tuple[str, ScopeTrace]],
        prefix: str,
        input_id: str,
        start: int,
        marks: tuple[int, int, int, int],
        log_mark: int,
        out: Value,
        walk: ScopeTrace,
    ) -> Walked | None:
        """The walk since ``start`` (``marks``: groups, diagnostics, rows and modules before
        it), or None when it reaches outside its own module path."""
        groups, _, rows, index = marks
        nodes = emitted.nodes[start:]
        made = emitted.groups[groups:]
        scope = prefix[:-1]
        ok = all(
            n.id.startswith(prefix)
            and (n.path is None or n.path.startswith(prefix))
            and (n.scope == scope or n.scope.startswith(prefix))
            for n in nodes
        ) and all(g.path.startswith(prefix) for g in made)
        ok = ok and not input_id.startswith(prefix) and out.id.startswith(prefix)
        if not ok:
            return None
        return cls(
            prefix,
            input_id,
            nodes,
            made,
            log[log_mark:],
            state.rows_total - rows,
            index,
            emitted.index - index,
            out,
            walk,
        )


class Memo:
    """Instances walked without a diagnostic, by what their walk depends on."""

    def __init__(self) -> None:
        self.walked: dict[tuple, Walked | None] = {}

    def get(self, key: tuple) -> Walked | None:
        return self.walked.get(key)

    def keep(self, key: tuple, walked: Walked | None) -> None:
        if key not in self.walked:
            self.walked[key] = walked

    def replay(
        self,
        state: WalkState,
        emitted: Emitter,
        log: list[tuple[str, ScopeTrace]],
        memo: Walked,
        prefix: str,
        input_id: str,
    ) -> tuple[Value, ScopeTrace]:
        """Append what an instance walked alike before appended, renamed to ``prefix``."""
        old = memo.prefix
        cut = len(old)

        def rename(i: str) -> str:
            if i == memo.input_id:
                return input_id
            return prefix + i[cut:] if i.startswith(old) else i

        shift = emitted.index - memo.index
        for n in memo.nodes:
            fields = dict(n.__dict__)
            fields["id"] = prefix + n.id[cut:]
            fields["inputs"] = tuple(map(rename, n.inputs))
            if n.path is not None:
                fields["path"] = prefix + n.path[cut:]
                assert n.index is not None  # a module has its index
                fields["index"] = n.index + shift
            if n.state is not None:  # a layer scale's key: its holder's path and its name
                fields["state"] = prefix + n.state[cut:]
            fields["scope"] = (prefix + n.scope[cut:]) if n.scope != old[:-1] else prefix[:-1]
            if n.activation_of is not None:
                fields["activation_of"] = rename(n.activation_of)
            emitted.nodes.append(_new_node(fields))
        emitted.index += memo.modules
        for g in memo.groups:
            emitted.groups.append(
                evolve(
                    g, path=prefix + g.path[cut:], nodes=tuple(prefix + i[cut:] for i in g.nodes)
                )
            )
        log.extend(memo.instances)
        state.rows_total += memo.rows
        out = memo.out
        return evolve(out, id=rename(out.id)), memo.walk
