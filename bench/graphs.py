"""(h) graph specs of growing size, checked in-process: linear in nodes + edges?

Two shapes of graph, each at about 1k, 10k and 100k nodes:

- a *chain*: a BasicBlock-like residual block (conv, BN, ReLU, conv, BN, add with the
  block's input, ReLU: 7 nodes, 8 edges) repeated, ``repeat:`` ≤ 1,000 per row;
- *wide concats*: a DenseNet-style block of 200 dense layers (BN, ReLU, 3×3 conv to
  ``growth`` maps, concat([input, conv]): 4 nodes, 5 edges each) and a 1×1 transition
  back to 16 maps, repeated. The maps a concat writes grow with every layer, and so does
  the expression for them in the block's generated class (``in_maps + growth + …``).

And the fan-in trap on its own: one dense block of 2,000 layers against one of 200 —
ten times the layers must cost about ten times as much.

Each spec is generated as text and checked with ``cnnspec.loads`` (parsing included), the
garbage collector off during the call, as ``cnnspec check`` runs (``cnnspec.cli.run``
disables it), collected before; cnnspec's memo caches are emptied before each call.
Growth compares neighbouring sizes per 10× nodes.
"""

from __future__ import annotations

import gc
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from .harness import Row, clear_caches, median, seconds, yes

#: Most a 10× larger spec may cost: linear, with room for noise.
MAX_GROWTH = 12.0

#: chain: residual blocks per size (7 nodes each, plus the stem and head)
CHAIN = {"1k": 142, "10k": 1_428, "100k": 14_280}
#: wide: (dense layers per block, blocks) per size
WIDE = {"1k": (200, 1), "10k": (200, 12), "100k": (200, 124)}
#: the fan-in pair: one dense block of this many layers, then ten times as many
FAN_IN = 200

_RES = """\
name: {name}
input: {{maps: 16, size: 8x8}}
blocks:
  Res:
    title: "A residual block: two 3×3 convs and the identity."
    params:
      planes: {{type: int}}
    layers:
      - {{name: conv1, type: conv, maps: $planes, kernel: 3, padding: 1, bias: false}}
      - {{name: bn1, type: batchnorm}}
      - {{name: relu1, type: relu}}
      - {{name: conv2, type: conv, maps: $planes, kernel: 3, padding: 1, bias: false}}
      - {{name: bn2, type: batchnorm}}
      - {{name: add, type: add, from: [bn2, input]}}
      - {{name: relu2, type: relu}}
layers:
{rows}  - {{name: pool, type: adaptive_avgpool, size: 1}}
  - {{name: fc, type: fc, size: 10}}
"""

_DENSE = """\
name: {name}
input: {{maps: 16, size: 8x8}}
blocks:
  DenseLayer:
    title: "BN-ReLU-Conv to growth maps, concatenated to the input."
    params:
      growth: {{type: int}}
    layers:
      - {{name: norm, type: batchnorm}}
      - {{name: relu, type: relu}}
      - {{name: conv, type: conv, maps: $growth, kernel: 3, padding: 1, bias: false}}
      - {{name: concat, type: concat, from: [input, conv]}}
  DenseBlock:
    title: "Dense layers, then a 1×1 transition back to 16 maps."
    params:
      growth: {{type: int, default: 4}}
    layers:
      - {{name: dense, type: DenseLayer, growth: $growth, repeat: {layers}}}
      - {{name: norm, type: batchnorm}}
      - {{name: relu, type: relu}}
      - {{name: conv, type: conv, maps: 16, kernel: 1, bias: false}}
layers:
  - {{name: blocks, type: DenseBlock, repeat: {blocks}}}
  - {{name: pool, type: adaptive_avgpool, size: 1}}
  - {{name: fc, type: fc, size: 10}}
"""


def chain_spec(blocks: int) -> str:
    """``blocks`` residual blocks in rows of at most 1,000 copies (``repeat`` ≤ 10,000)."""
    rows = []
    left, i = blocks, 0
    while left:
        n = min(1_000, left)
        left -= n
        i += 1
        rows.append(f"  - {{name: stage{i}, type: Res, planes: 16, repeat: {n}}}\n")
    return _RES.format(name=f"Chain{blocks}", rows="".join(rows))


def wide_spec(layers: int, blocks: int) -> str:
    return _DENSE.format(name=f"Wide{layers}x{blocks}", layers=layers, blocks=blocks)


@dataclass(frozen=True)
class Timed:
    seconds: float | None  # None: the check failed
    nodes: int = 0
    edges: int = 0
    failure: str = ""


def check_once(text: str) -> Timed:
    import cnnspec

    clear_caches()
    gc.collect()
    gc.disable()
    try:
        start = time.perf_counter()
        net = cnnspec.loads(text)
        took = time.perf_counter() - start
    except Exception as exc:  # noqa: BLE001 - a crash is a measurement here
        return Timed(None, failure=type(exc).__name__)
    finally:
        gc.enable()
    return Timed(took, len(net.nodes), sum(len(n.inputs) for n in net.nodes))


def measure(text: str, repeats: int) -> Timed:
    runs = [check_once(text) for _ in range(repeats)]
    if any(r.seconds is None for r in runs):
        return next(r for r in runs if r.seconds is None)
    s = median([r.seconds for r in runs])  # type: ignore[misc]
    return Timed(s, runs[0].nodes, runs[0].edges)


def _reps(repeats: int, size: str) -> int:
    return max(1, repeats // 3) if size == "100k" else repeats


def graphs(repeats: int, quick: bool) -> list[Row]:
    """Rows for the chain, the wide concats and the fan-in pair.

    ``quick`` checks a tenth of each size (the rows keep their names; the cells say so)."""
    scale = 10 if quick else 1
    rows: list[Row] = []
    shapes: list[tuple[str, str, Callable[[str], str]]] = [
        (
            "chain",
            "h. chain of residual blocks",
            lambda size: chain_spec(max(1, CHAIN[size] // scale)),
        ),
        (
            "wide",
            "h. wide concats (dense blocks of 200 layers)",
            lambda size: wide_spec(WIDE[size][0] // scale, WIDE[size][1]),
        ),
    ]
    for _key, label, make in shapes:
        got = {size: measure(make(size), _reps(repeats, size)) for size in CHAIN}
        for size, t in got.items():
            rows.append(_size_row(f"{label}, {size} nodes", t, quick))
        sizes = list(got)
        for small, big in zip(sizes, sizes[1:]):
            rows.append(_growth_row(f"{label}: growth {small} → {big} nodes", got[small], got[big]))
    small = measure(wide_spec(FAN_IN // scale, 1), repeats)
    big = measure(wide_spec(10 * FAN_IN // scale, 1), max(1, repeats // 3))
    rows.append(
        _growth_row(
            f"h. fan-in: one dense block of {10 * FAN_IN:,} layers vs {FAN_IN:,}", small, big
        )
    )
    return rows


def _size_row(label: str, t: Timed, quick: bool) -> Row:
    if t.seconds is None:
        return Row(label, f"crash: {t.failure}", "—", "—", "—", "no")
    per_node = t.seconds / t.nodes
    counted = f"{t.nodes:,} nodes, {t.edges:,} edges"
    return Row(
        label,
        seconds(t.seconds) + (" (quick: a tenth)" if quick else ""),
        "—",
        f"{per_node * 1e6:.0f} µs/node ({counted})",
        "—",
        "—",
    )


def _growth_row(label: str, small: Timed, big: Timed) -> Row:
    target = f"≤ {MAX_GROWTH:g}× per 10× nodes"
    if small.seconds is None or big.seconds is None:
        failed = small if small.seconds is None else big
        return Row(label, f"crash: {failed.failure}", "—", "—", target, "no")
    # per 10× nodes, as a power law through the two points (the sizes are about 10× apart)
    exponent = math.log(big.seconds / small.seconds) / math.log(big.nodes / small.nodes)
    growth = 10**exponent
    return Row(
        label,
        seconds(big.seconds),
        seconds(small.seconds),
        f"{growth:.1f}× per 10× nodes ({big.nodes / small.nodes:.1f}× the nodes)",
        target,
        yes(growth <= MAX_GROWTH),
    )
