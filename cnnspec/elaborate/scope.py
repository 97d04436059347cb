"""What the walk carries: the value of each row name, the rows of a scope, the scope itself."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..diagnostics import Diagnostic, Pos
from ..ir import Step


@dataclass(frozen=True)
class Value:
    """What a row's name stands for in its scope."""

    id: str  # the node producing it (INPUT for the network's input)
    shape: tuple[int, ...] | None  # None once an error left it unknown
    member: str  # the step of the scope that holds it (INPUT: the scope's input)
    pos: Pos | None = None  # where the row producing it is written
    flattened_by: str | None = None  # "at layer 5 'flatten1'", once flattened
    #: a layer's maps where an error left its size unknown (later rows' maps still check)
    maps: int | None = None
    #: the tensor is channels-last (H×W×maps, after a permute), not maps×H×W
    channels_last: bool = False


def maps_after(row: Any, info: Any, maps: int | None) -> int | None:
    """The maps a layer gives whatever its size: its input's ``maps`` for a kind that keeps
    them, its own `maps` for a kind that declares them, a part of them for a split; None
    when they are not known."""
    if info.maps == "same":
        return maps
    if info.maps == "part":
        parts = getattr(row, "parts", None)
        if maps is None or not isinstance(parts, int) or parts < 1 or maps % parts:
            return None
        return maps // parts
    if info.maps == "declared" and info.maps_key == "maps":
        value = getattr(row, "maps", None)
        return value if isinstance(value, int) else None
    return None


@dataclass
class Written:
    """A row after `repeat` expansion, with its name."""

    row: Any
    number: int
    path: tuple
    origin: tuple[int, int]
    name: str = ""
    act_name: str = ""

    @property
    def label(self) -> str:
        return f"layer {self.number} '{self.name}' ({self.row.type})"


@dataclass
class Scope:
    """The rows of one network, container or block instance, while they are walked."""

    prefix: str  # module path prefix: "" or "layer1.0."
    input: Value
    env: dict[str, Any] | None  # the block's params and in_maps; None outside blocks
    depth: int
    children: str  # "named", "indexed", "flat" or "sequential" (a chain's layout)
    notes: tuple[Diagnostic, ...] = ()
    values: dict[str, Value] = field(default_factory=dict)
    #: the rows as the trace records them (a graph network's scopes only)
    steps: list[Step] = field(default_factory=list)
    count: int = 0  # indexed children so far
    sections: dict[str, int] = field(default_factory=dict)  # a chain's features/classifier
    flattened: bool = False
    reads: set[str] = field(default_factory=set)
    absent: dict[str, Written] = field(default_factory=dict)
    passthrough: dict[str, str] = field(default_factory=dict)  # absent row → what it passes
    #: a chain: the position of the last row that is not a flatten (for softmax)
    last_row: int = 0
    top: bool = False
    #: the network's `outputs:` rows: what the scope returns instead of its last row
    returned: tuple[str, ...] | None = None
    #: where each of them is written (`outputs:` entries), for a path into a container
    returned_at: dict[str, Pos] = field(default_factory=dict)
    #: the scope is an nn.Sequential (a container, an indexed block): every row a module
    sequential: bool = False
    output: str = ""  # the member the scope returns, once walked
    has_if: bool = False  # a container with rows written with `if:`
    #: the containers walked so far, by row name: their scopes (read into by ``from:``)
    inner: dict[str, Scope] = field(default_factory=dict)
    #: the rows of each container read from outside it: container → {row: its member}
    taps: dict[str, dict[str, str]] = field(default_factory=dict)
    #: the lists walked so far: name → each member's (path, label)
    lists: dict[str, list[tuple[tuple, str]]] = field(default_factory=dict)

    @property
    def env_items(self) -> tuple[tuple[str, object], ...] | None:
        return tuple(self.env.items()) if self.env is not None else None


def lookup(data: Any, path: tuple) -> Any:
    """The raw YAML value at ``path`` (None when there is none)."""
    for part in path:
        if isinstance(data, dict):
            data = data.get(part)
        elif isinstance(data, list) and isinstance(part, int) and 0 <= part < len(data):
            data = data[part]
        else:
            return None
    return data


def article(word: str) -> str:
    """``an int``, ``a bool``: the article a word takes."""
    return f"an {word}" if word[:1] in "aeiou" else f"a {word}"
