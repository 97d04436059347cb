"""Whole-process benchmarks: (a) today's workflow, (b) the import floor, (e) memory,
(g) the largest zoo graphs against the import floor."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

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


#: The same as a user calls it: torchvision's VGG16. torchvision cannot be imported beside
#: this environment's torch, so it runs in a separate environment (another torch build),
#: with this environment's torchinfo (pure Python) put on its path.
TORCHVISION_PYTHON = Path("/work/tvenv/bin/python")
TORCHINFO_TORCHVISION = (
    "import torch, torchinfo, torchvision\n"
    "torchinfo.summary(torchvision.models.vgg16(), input_size=(1, 3, 224, 224))\n"
)


def _torchvision_env(tmp: str) -> dict[str, str] | None:
    """PYTHONPATH holding only torchinfo, for the torchvision environment; None without it."""
    if not TORCHVISION_PYTHON.exists():
        return None
    try:
        import torchinfo
    except ImportError:
        return None
    link = Path(tmp) / "torchinfo"
    link.symlink_to(Path(torchinfo.__file__).parent, target_is_directory=True)
    return {"PYTHONPATH": tmp}


def torchvision_versions() -> str:
    """``torch 2.14.1+cu130, torchvision 0.29.1+cu130`` in the torchvision environment."""
    done = subprocess.run(
        [
            str(TORCHVISION_PYTHON),
            "-c",
            "import importlib.metadata as m; "
            "print(f\"torch {m.version('torch')}, torchvision {m.version('torchvision')}\")",
        ],
        capture_output=True,
        text=True,
    )
    return done.stdout.strip() if done.returncode == 0 else "?"


def workflow(repeats: int, warmup: int) -> tuple[list[Row], list[int]]:
    """(a) ``cnnspec summary`` against torch + torchinfo.summary, two ways: the hand-written
    VGG16 of ``tests/reference`` and ``torchvision.models.vgg16()``; also the baseline's RSS."""
    rss: list[int] = []

    def today() -> float:
        child = run_child([sys.executable, "-c", TORCHINFO_VGG16])
        rss.append(child.max_rss_bytes)
        return child.wall_s

    with tempfile.TemporaryDirectory(prefix="cnnspec-bench-tv-") as tmp:
        tv_env = _torchvision_env(tmp)
        cases = {
            "cnnspec": lambda: run_child([*cnnspec_command(), "summary", VGG16]).wall_s,
            "today": today,
        }
        if tv_env is not None:
            cases["torchvision"] = lambda: (
                run_child([str(TORCHVISION_PYTHON), "-c", TORCHINFO_TORCHVISION], env=tv_env).wall_s
            )
        samples = interleave(cases, repeats=repeats, warmup=warmup)
    ours, theirs = median(samples["cnnspec"]), median(samples["today"])
    speedup = theirs / ours
    rows = [
        Row(
            "a. `cnnspec summary vgg16` vs torch + hand-written VGG16 + torchinfo.summary",
            seconds(ours),
            seconds(theirs),
            f"{speedup:.1f}× faster",
            "≥ 20× faster",
            yes(speedup >= 20),
        )
    ]
    label = "a. `cnnspec summary vgg16` vs torch + `torchvision.models.vgg16()` + torchinfo.summary"
    if tv_env is None:
        rows.append(
            Row(
                label,
                seconds(ours),
                f"not measured: no {TORCHVISION_PYTHON}",
                "—",
                "≥ 20× faster",
                "—",
            )
        )
    else:
        tv = median(samples["torchvision"])
        rows.append(
            Row(
                label,
                seconds(ours),
                seconds(tv),
                f"{tv / ours:.1f}× faster",
                "≥ 20× faster",
                yes(tv / ours >= 20),
            )
        )
    return rows, rss


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


#: (g) the largest graph specs of the zoo, checked as whole processes
ZOO_CHECKS = ("specs/zoo/resnet152.yaml", "specs/zoo/densenet201.yaml")
ZOO_TARGET = 1.5
#: A check answered from the result cache, against the same floor.
HIT_TARGET = 0.6


def zoo_floor(repeats: int, warmup: int) -> list[Row]:
    """(g) ``cnnspec check`` on ResNet-152 and DenseNet-201 against the import floor:
    checked afresh (``--no-cache``) and answered from a warm result cache (a private
    folder of this run's, filled by the warm-up)."""
    with tempfile.TemporaryDirectory(prefix="cnnspec-bench-cache-") as folder:
        cache = {"CNNSPEC_CACHE": "1", "CNNSPEC_CACHE_DIR": folder}
        run_child([*cnnspec_command(), "check", *ZOO_CHECKS], env=cache)  # fill it
        cases: dict[str, Callable[[], float]] = {}
        for spec in ZOO_CHECKS:
            argv = [*cnnspec_command(), "check", spec]
            cases[spec] = lambda argv=argv: run_child([*argv, "--no-cache"]).wall_s
            cases[spec + " hit"] = lambda argv=argv: run_child(argv, env=cache).wall_s
        cases["floor"] = lambda: run_child([sys.executable, "-c", IMPORT_FLOOR]).wall_s
        samples = interleave(cases, repeats=repeats, warmup=warmup)
    floor = median(samples["floor"])
    rows = []
    for spec in ZOO_CHECKS:
        stem = spec.removeprefix("specs/").removesuffix(".yaml")
        for case, what, target in (
            (spec, "", ZOO_TARGET),
            (spec + " hit", ", cache hit", HIT_TARGET),
        ):
            ours = median(samples[case])
            ratio = ours / floor
            rows.append(
                Row(
                    f"g. `cnnspec check {stem}`{what} vs the import floor",
                    seconds(ours),
                    seconds(floor),
                    f"{ratio:.2f}×",
                    f"≤ {target:g}×",
                    yes(ratio <= target),
                )
            )
    return rows
