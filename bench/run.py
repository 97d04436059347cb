"""``python -m bench [--quick] [--only abcdefghi] [--threads N] [--output FILE]``."""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import sys
import time
from collections.abc import Sequence

from . import compile_scale, graphs, latency, meta, scaling, startup
from .harness import Row, markdown

SECTIONS = "abcdefghi"


def _context(args: argparse.Namespace, seconds: float, load_before: str) -> str:
    try:
        import importlib.metadata as md

        torch_version = md.version("torch")
    except Exception:  # noqa: BLE001
        torch_version = "not installed"
    mode = "quick (proves the bench runs; numbers mean nothing)" if args.quick else "full"
    return (
        f"cnnspec bench, {mode}: {datetime.date.today().isoformat()}, "
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}, torch {torch_version} "
        f"({args.threads} thread{'s' if args.threads != 1 else ''}), "
        f"load average {load_before} before / {_load()} after, {seconds:.0f} s"
    )


def _load() -> str:
    try:
        return f"{os.getloadavg()[0]:.2f}"
    except OSError:  # pragma: no cover
        return "?"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="every row, 1-2 repeats")
    parser.add_argument(
        "--only",
        default=SECTIONS,
        metavar="LETTERS",
        help="sections to run, e.g. 'd' or 'fgh' (default: all)",
    )
    parser.add_argument("--threads", type=int, default=1, help="torch threads for (d); default 1")
    parser.add_argument("--output", metavar="FILE", help="also write the table here")
    args = parser.parse_args(argv)
    unknown = set(args.only) - set(SECTIONS)
    if unknown:
        parser.error(f"unknown sections {''.join(sorted(unknown))}; choose from {SECTIONS}")

    # repeats, warm-up runs (the first also writes bytecode caches)
    reps, warm = (2, 1) if args.quick else (15, 2)
    load_before, start = _load(), time.perf_counter()
    rows: list[Row] = []
    today_rss: list[int] = []
    if "a" in args.only:
        section_rows, today_rss = _run(
            lambda: (
                startup.workflow(1, 0) if args.quick else startup.workflow(max(2, reps * 2 // 3), 1)
            ),
            "a",
        )
        rows += section_rows
    if "b" in args.only:
        rows += _run(lambda: startup.import_floor(reps + 5 if not args.quick else reps, warm), "b")
    if "c" in args.only:
        rows += _run(lambda: scaling.scaling(reps // 2 + 1 if not args.quick else 1, 0), "c")
    if "d" in args.only:
        plan = latency.QUICK if args.quick else latency.FULL
        rows += _run(lambda: latency.latency(plan, args.threads), "d")
    if "e" in args.only:
        rows += _run(lambda: startup.memory(2 if args.quick else 5, 1, today_rss), "e")
    if "f" in args.only:
        rows += _run(lambda: meta.meta_device(1 if args.quick else reps, 1), "f")
    if "g" in args.only:
        rows += _run(
            lambda: startup.zoo_floor(1 if args.quick else reps, 1 if args.quick else warm), "g"
        )
    if "h" in args.only:
        rows += _run(lambda: graphs.graphs(1 if args.quick else 3, args.quick), "h")
    if "i" in args.only:
        rows += _run(lambda: compile_scale.compile_scale(1 if args.quick else 3, args.quick), "i")

    context = _context(args, time.perf_counter() - start, load_before)
    if "a" in args.only and startup.TORCHVISION_PYTHON.exists():
        context += f"; torchvision baseline (a): {startup.torchvision_versions()}"
    text = f"{context}\n\n{markdown(rows)}\n"
    sys.stdout.write(text)
    if args.output:
        with open(args.output, "w", encoding="utf-8") as f:
            f.write(text)
    return 0


def _run(section, letter: str):
    """Run one section; a crash becomes a failed row, so the table still prints."""
    print(f"running ({letter}) …", file=sys.stderr, flush=True)
    try:
        return section()
    except Exception as exc:  # noqa: BLE001
        failed = [Row.failed(f"{letter}. (section failed)", "—", f"{type(exc).__name__}: {exc}")]
        return (failed, []) if letter == "a" else failed
