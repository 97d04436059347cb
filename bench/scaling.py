"""(c) ``cnnspec check`` on synthetic specs of growing length."""

from __future__ import annotations

import tempfile
from pathlib import Path

from .harness import Row, cnnspec_command, interleave, median, run_child, seconds, yes

SIZES = (500, 5_000, 50_000)
#: Most a 10× longer spec may cost: linear, with room for noise.
MAX_GROWTH = 12.0
#: What 5,000 rows may take.
LIMIT_5000_S = 2.0

_CONV = "  - {type: conv, maps: 8, kernel: 3, padding: 1}\n"
_RELU = "  - {type: relu}\n"


def synthetic_spec(rows: int) -> str:
    """A valid spec of ``rows`` rows: 3×3 convs (size kept by padding 1) alternating with ReLUs.

    Flow-style rows keep 50,000 of them (1.6 MB) under the loader's 4 MiB cap."""
    body = "".join(_CONV if i % 2 == 0 else _RELU for i in range(rows))
    return f"name: Synthetic{rows}\ninput: {{maps: 3, size: 8x8}}\nlayers:\n{body}"


def scaling(repeats: int, warmup: int) -> list[Row]:
    with tempfile.TemporaryDirectory(prefix="cnnspec-bench-") as tmp:
        paths = {}
        for n in SIZES:
            paths[n] = Path(tmp) / f"synthetic_{n}.yaml"
            paths[n].write_text(synthetic_spec(n), encoding="utf-8")
        times = {}
        for n in SIZES:
            # the largest spec takes seconds, so it runs fewer times
            reps = repeats if n < 50_000 else max(1, repeats // 3)
            samples = interleave(
                {
                    "check": lambda p=paths[n]: (
                        run_child([*cnnspec_command(), "check", str(p)]).wall_s
                    )
                },
                repeats=reps,
                warmup=warmup,
            )
            times[n] = median(samples["check"])

    rows = []
    for n in SIZES:
        is_limit = n == 5_000
        rows.append(
            Row(
                f"c. `cnnspec check`, {n:,} rows",
                seconds(times[n]),
                "—",
                f"{times[n] / n * 1e6:.0f} µs/row",
                f"< {LIMIT_5000_S:g} s" if is_limit else "—",
                yes(times[n] < LIMIT_5000_S) if is_limit else "—",
            )
        )
    for small, big in zip(SIZES, SIZES[1:]):
        growth = times[big] / times[small]
        rows.append(
            Row(
                f"c. growth, {small:,} → {big:,} rows",
                seconds(times[big]),
                seconds(times[small]),
                f"{growth:.1f}×",
                f"≤ {MAX_GROWTH:g}×",
                yes(growth <= MAX_GROWTH),
            )
        )
    return rows
