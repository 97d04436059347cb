"""Whole-process benchmarks: (a) today's workflow, (b) the import floor, (e) memory."""

from __future__ import annotations

import sys
import tempfile

from .harness import Row, cnnspec_command, interleave, median, mib, run_child, seconds, yes

VGG16 = "specs/vgg16.yaml"

#: What a user does today to see VGG16's layer table: torch, the hand-written model,
#: torchinfo at 224×224.
TORCHINFO_VGG16 = (
    "import torch, torchinfo\n"
    "from tests.reference.vgg16 import VGG16\n"
    "torchinfo.summary(VGG16(), input_size=(1, 3, 224, 224))\n"
)
IMPORT_FLOOR = "import yaml, pydantic, jinja2"


def workflow(repeats: int, warmup: int) -> tuple[list[Row], list[int]]:
    """(a) ``cnnspec summary`` against torch + torchinfo.summary; also the baseline's RSS."""
    rss: list[int] = []

    def today() -> float:
        child = run_child([sys.executable, "-c", TORCHINFO_VGG16])
        rss.append(child.max_rss_bytes)
        return child.wall_s

    samples = interleave(
        {
            "cnnspec": lambda: run_child([*cnnspec_command(), "summary", VGG16]).wall_s,
            "today": today,
        },
        repeats=repeats,
        warmup=warmup,
    )
    ours, theirs = median(samples["cnnspec"]), median(samples["today"])
    speedup = theirs / ours
    row = Row(
        "a. `cnnspec summary vgg16` vs torch + torchinfo.summary",
        seconds(ours),
        seconds(theirs),
        f"{speedup:.1f}× faster",
        "≥ 20× faster",
        yes(speedup >= 20),
    )
    return [row], rss


def import_floor(repeats: int, warmup: int) -> list[Row]:
    """(b) ``cnnspec check`` against importing its three dependencies."""
    samples = interleave(
        {
            "cnnspec": lambda: run_child([*cnnspec_command(), "check", VGG16]).wall_s,
            "floor": lambda: run_child([sys.executable, "-c", IMPORT_FLOOR]).wall_s,
        },
        repeats=repeats,
        warmup=warmup,
    )
    ours, floor = median(samples["cnnspec"]), median(samples["floor"])
    ratio = ours / floor
    row = Row(
        f'b. `cnnspec check vgg16` vs `python -c "{IMPORT_FLOOR}"`',
        seconds(ours),
        seconds(floor),
        f"{ratio:.2f}×",
        "≤ 1.5×",
        yes(ratio <= 1.5),
    )
    return [row]


def memory(repeats: int, warmup: int, today_rss: list[int]) -> list[Row]:
    """(e) peak RSS of ``cnnspec compile vgg16``, beside the floor's and today's workflow's."""
    with tempfile.TemporaryDirectory(prefix="cnnspec-bench-") as out:
        samples = interleave(
            {
                "cnnspec": lambda: float(
                    run_child([*cnnspec_command(), "compile", "-o", out, VGG16]).max_rss_bytes
                ),
                "floor": lambda: float(
                    run_child([sys.executable, "-c", IMPORT_FLOOR]).max_rss_bytes
                ),
            },
            repeats=repeats,
            warmup=warmup,
        )
    ours, floor = median(samples["cnnspec"]), median(samples["floor"])
    rows = [
        Row(
            "e. peak RSS, `cnnspec compile vgg16` vs the import floor",
            mib(ours),
            mib(floor),
            f"{ours / floor:.2f}×",
            "— (reported)",
            "—",
        )
    ]
    if not today_rss:  # (a) did not run: measure today's workflow here
        today_rss = [
            run_child([sys.executable, "-c", TORCHINFO_VGG16]).max_rss_bytes
            for _ in range(max(1, repeats // 2))
        ]
    today = median(today_rss)
    rows.append(
        Row(
            "e. peak RSS, `cnnspec compile vgg16` vs torch + torchinfo.summary",
            mib(ours),
            mib(today),
            f"{today / ours:.1f}× less",
            "— (reported)",
            "—",
        )
    )
    return rows
