"""Child-process timing, medians and the result table."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Child:
    """One finished child process: wall time and peak resident memory."""

    wall_s: float
    max_rss_bytes: int


def child_env() -> dict[str, str]:
    """The environment children run in: ours, with bytecode caching on.

    A pip-installed package has its ``.pyc`` files; a sandbox that sets
    ``PYTHONDONTWRITEBYTECODE`` would make every run recompile cnnspec's sources,
    which no user pays. The first (warm-up) run writes them to ``__pycache__``. The
    result cache is off (``CNNSPEC_CACHE=0``) unless a row turns it on.
    """
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["CNNSPEC_CACHE"] = "0"  # a check is measured afresh unless a row says otherwise
    return env


#: Runs argv as its own child and reports that child's wall time and peak RSS.
#: A child forked from a big process inherits the parent's peak RSS (Linux keeps the
#: high-water mark across exec), so the bench — which holds VGG16 twice in memory
#: for (d) — forks through this small interpreter, never directly.
_LAUNCHER = """\
import os, sys, time
start = time.perf_counter()
pid = os.fork()
if pid == 0:
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 1)
    os.execvp(sys.argv[1], sys.argv[1:])
_, status, usage = os.wait4(pid, 0)
wall = time.perf_counter() - start
print(wall, usage.ru_maxrss)
sys.exit(os.waitstatus_to_exitcode(status))
"""


def run_child(argv: Sequence[str], *, cwd: Path = ROOT, env: dict[str, str] | None = None) -> Child:
    """Run ``argv`` to completion, its output discarded; its wall time and peak RSS.

    ``env`` adds to (or overrides) the children's environment."""
    done = subprocess.run(
        [sys.executable, "-c", _LAUNCHER, *argv],
        cwd=cwd,
        env={**child_env(), **(env or {})},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} exited {done.returncode}: {done.stderr[-2000:]}")
    wall, max_rss_kib = done.stdout.split()
    return Child(float(wall), int(max_rss_kib) * 1024)  # Linux reports KiB


def interleave(
    cases: dict[str, Callable[[], float]], *, repeats: int, warmup: int
) -> dict[str, list[float]]:
    """Call each case in turn (A B A B …), ``warmup`` rounds discarded; the samples."""
    samples: dict[str, list[float]] = {name: [] for name in cases}
    for i in range(warmup + repeats):
        order = list(cases) if i % 2 == 0 else list(reversed(cases))  # A B, B A: cancels drift
        for name in order:
            value = cases[name]()
            if i >= warmup:
                samples[name].append(value)
    return samples


def clear_caches() -> int:
    """Empty every memo cache in cnnspec's modules (``functools`` caches): a timed call then
    starts as the first call of a fresh process would, not from the same spec's answers
    left by the previous sample. The number of caches emptied."""
    n = 0
    for name, module in list(sys.modules.items()):
        if module is None or not (name == "cnnspec" or name.startswith("cnnspec.")):
            continue
        for value in list(vars(module).values()):
            clear = getattr(value, "cache_clear", None)
            if callable(clear) and hasattr(value, "cache_info"):
                clear()
                n += 1
    return n


def median(xs: Sequence[float]) -> float:
    return statistics.median(xs)


def cnnspec_command() -> list[str]:
    """The ``cnnspec`` console script next to this interpreter, else ``python -m cnnspec``."""
    script = Path(sys.executable).with_name("cnnspec")
    return [str(script)] if script.exists() else [sys.executable, "-m", "cnnspec"]


# --------------------------------------------------------------------------- table


@dataclass(frozen=True)
class Row:
    benchmark: str
    cnnspec: str
    baseline: str
    ratio: str
    target: str
    met: str  # "yes", "no", or "—" where there is no target

    @classmethod
    def failed(cls, benchmark: str, target: str, why: str) -> Row:
        return cls(benchmark, f"error: {why}", "—", "—", target, "no")


HEADER = ("benchmark", "cnnspec median", "baseline median", "ratio", "target", "met?")


def markdown(rows: Sequence[Row]) -> str:
    cells = [HEADER] + [
        (r.benchmark, r.cnnspec, r.baseline, r.ratio, r.target, r.met) for r in rows
    ]
    widths = [max(len(c[i]) for c in cells) for i in range(len(HEADER))]

    def line(c: Sequence[str]) -> str:
        return "| " + " | ".join(s.ljust(w) for s, w in zip(c, widths)) + " |"

    sep = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(cells[0]), sep, *(line(c) for c in cells[1:])])


def seconds(s: float) -> str:
    if s >= 1:
        return f"{s:.2f} s"
    if s >= 1e-3:
        return f"{s * 1e3:.1f} ms"
    return f"{s * 1e6:.0f} µs"


def mib(n: float) -> str:
    return f"{n / 2**20:.0f} MiB"


def yes(ok: bool) -> str:
    return "yes" if ok else "no"
