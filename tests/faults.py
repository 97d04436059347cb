"""Fault injection for ``cnnspec compile``: signals at each write step, concurrent
writers of two versions into one folder, and the judge of what a folder then holds.

Used by tests/cli/test_faults.py (small numbers) and runnable on demand with large
ones, printing the counts::

    PYTHONPATH=. python tests/faults.py --rounds 20 --writers 8

A *step* is one call of a file-system function the write path makes (``mkstemp``,
``chmod``, ``os.link``, ``os.replace``, ``os.unlink``); the child process counts them
and sends itself the signal just before or just after step N. A folder's set of one
stem is *old* or *new* when its ``.py``, ``.dot`` and ``.svg`` are all those of one
version (the SVG judged by its stamp: drawn from that version's DOT text, and whole);
anything else is *mixed*. A *temporary* is any file whose name starts with a dot.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STEM = "net"
#: The step functions, as (module attribute path) pairs the child wraps.
STEPS = (("tempfile", "mkstemp"), ("os", "chmod"), ("os", "link"), ("os", "replace"))
STEPS += (("os", "unlink"),)

#: The child: ``python -c CHILD STEP WHEN SIGNAL cnnspec-args...``; STEP 0 counts only
#: (the count goes to stderr as ``steps: N``).
CHILD = """\
import os, signal, sys, tempfile
from cnnspec import cli
target, when, sig = int(sys.argv[1]), sys.argv[2], getattr(signal, sys.argv[3])
count = 0
def wrap(module, name):
    real = getattr(module, name)
    def step(*args, **kwargs):
        global count
        count += 1
        if count == target and when == "before":
            os.kill(os.getpid(), sig)
        result = real(*args, **kwargs)
        if count == target and when == "after":
            os.kill(os.getpid(), sig)
        return result
    setattr(module, name, step)
for module, name in STEPS_HERE:
    wrap({"os": os, "tempfile": tempfile}[module], name)
sys.argv = ["cnnspec", *sys.argv[4:]]
if target == 0:
    code = cli.main()
    print("steps:", count, file=sys.stderr)
    sys.exit(code)
cli.run()
""".replace("STEPS_HERE", repr(STEPS))


def env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), "PYDANTIC_DISABLE_PLUGINS": "__all__"}


# --------------------------------------------------------------------------- versions


@dataclass(frozen=True)
class Version:
    """One version of the spec: where it lies, and the set it compiles to."""

    spec: Path
    files: dict[str, bytes]  # net.py, net.dot, net.svg

    def matches(self, folder: Path) -> bool:
        from cnnspec.backends.diagram import svg_is_current

        got = {n: _read(folder / n) for n in self.files}
        svg = got.pop(f"{STEM}.svg")
        texts_same = all(got[n] == self.files[n] for n in got)
        return texts_same and svg_is_current(svg, self.files[f"{STEM}.dot"].decode())


def _read(path: Path) -> bytes | None:
    return path.read_bytes() if path.is_file() else None


def make_versions(work: Path, base: Path | None = None) -> tuple[Version, Version]:
    """Two versions of one small spec (the second has one more conv's maps), under
    ``work/a/net.yaml`` and ``work/b/net.yaml``, each compiled once for reference."""
    from cnnspec import cli

    text = (base or ROOT / "specs" / "lenet5.yaml").read_text()
    versions = []
    for sub, edit in (("a", text), ("b", text.replace("name: LeNet5", "name: LeNet5b", 1))):
        assert edit != text or sub == "a", "the second version must differ"
        (work / sub).mkdir(parents=True, exist_ok=True)
        spec = work / sub / f"{STEM}.yaml"
        spec.write_text(edit)
        out = work / f"ref-{sub}"
        here = os.getcwd()
        os.chdir(work)  # the header of the .py names the spec as the command line does
        try:
            code = cli.main(["compile", "-o", str(out), str(spec.relative_to(work))])
        finally:
            os.chdir(here)
        assert code == 0, f"compiling {spec} exited {code}"
        files = {f"{STEM}.{e}": (out / f"{STEM}.{e}").read_bytes() for e in ("py", "dot", "svg")}
        versions.append(Version(spec.relative_to(work), files))
    return versions[0], versions[1]


def judge(folder: Path, old: Version, new: Version) -> tuple[str, list[str]]:
    """What ``folder`` holds: "old", "new" or "mixed"; and its temporaries."""
    temps = sorted(p.name for p in folder.iterdir() if p.name.startswith("."))
    state = "old" if old.matches(folder) else "new" if new.matches(folder) else "mixed"
    return state, temps


def seed(folder: Path, version: Version) -> None:
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    for name, data in version.files.items():
        (folder / name).write_bytes(data)


# --------------------------------------------------------------------------- kills


def child(work: Path, step: int, when: str, sig: str, spec: Path, out: Path):
    return subprocess.run(
        [sys.executable, "-c", CHILD, str(step), when, sig, "compile", "-o", str(out), str(spec)],
        cwd=work,
        env=env(),
        capture_output=True,
        text=True,
        timeout=300,
    )


def count_steps(work: Path, old: Version, new: Version) -> int:
    out = work / "count"
    seed(out, old)
    done = child(work, 0, "before", "SIGINT", new.spec, out)
    assert done.returncode == 0, done.stderr
    return int(done.stderr.rsplit("steps:", 1)[1])


@dataclass(frozen=True)
class Kill:
    signal: str
    step: int
    when: str
    exit_status: int
    right_after: str  # old / new / mixed, as the killed run left it
    temps_after: int
    recovered: str  # after the next run's recovery
    temps_recovered: int
    stderr: str


def inject(work: Path, old: Version, new: Version, sig: str, step: int, when: str) -> Kill:
    """Compile ``new`` over ``old`` with ``sig`` at ``step``; judge the folder, then run
    the recovery a next compile runs first (in this process), and judge it again."""
    from cnnspec import outputs

    out = work / "out"
    seed(out, old)
    done = child(work, step, when, sig, new.spec, out)
    state, temps = judge(out, old, new)
    outputs.recover(out)
    recovered, left = judge(out, old, new)
    return Kill(
        sig, step, when, done.returncode, state, len(temps), recovered, len(left), done.stderr
    )


def kills(work: Path, old: Version, new: Version, signals: tuple[str, ...]) -> list[Kill]:
    steps = count_steps(work, old, new)
    return [
        inject(work, old, new, sig, step, when)
        for sig in signals
        for step in range(1, steps + 1)
        for when in ("before", "after")
    ]


# --------------------------------------------------------------------------- writers


@dataclass(frozen=True)
class Round:
    exit_statuses: tuple[int, ...]
    final: str
    temps: int


def writers(work: Path, old: Version, new: Version, n: int) -> Round:
    """``n`` compiles started at once into one folder, alternating the two versions."""
    out = work / "shared-out"
    if out.exists():
        shutil.rmtree(out)
    argv = [sys.executable, "-m", "cnnspec", "compile", "-o", str(out)]
    procs = [
        subprocess.Popen(
            [*argv, str((old, new)[i % 2].spec)],
            cwd=work,
            env=env(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for i in range(n)
    ]
    codes = tuple(p.wait(timeout=300) for p in procs)
    for p in procs:
        assert p.stderr is not None
        p.stderr.close()
    final, temps = judge(out, old, new)
    return Round(codes, final, len(temps))


# --------------------------------------------------------------------------- report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--writers", type=int, default=8)
    parser.add_argument("--signals", default="SIGINT,SIGTERM,SIGHUP,SIGKILL")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="cnnspec-faults-") as tmp:
        work = Path(tmp)
        old, new = make_versions(work)
        results = kills(work, old, new, tuple(args.signals.split(",")))
        by_signal = Counter(k.signal for k in results)
        for sig in by_signal:
            mine = [k for k in results if k.signal == sig]
            print(
                f"{sig}: {len(mine)} kills; "
                f"exit statuses {dict(Counter(k.exit_status for k in mine))}; "
                f"right after: {dict(Counter(k.right_after for k in mine))}, "
                f"{sum(k.temps_after > 0 for k in mine)} with temporaries; after recovery: "
                f"{dict(Counter(k.recovered for k in mine))}, "
                f"{sum(k.temps_recovered > 0 for k in mine)} with temporaries"
            )
        tracebacks = sum("Traceback" in k.stderr for k in results)
        print(f"all: {len(results)} kills, {tracebacks} tracebacks")
        rounds = [writers(work, old, new, args.writers) for _ in range(args.rounds)]
        print(
            f"writers: {len(rounds)} rounds of {args.writers}; final sets "
            f"{dict(Counter(r.final for r in rounds))}; "
            f"{sum(r.temps > 0 for r in rounds)} with temporaries; "
            f"exit statuses {dict(Counter(c for r in rounds for c in r.exit_statuses))}"
        )
        bad = [k for k in results if k.recovered == "mixed" or k.temps_recovered]
        bad += [
            k
            for k in results
            if k.signal != "SIGKILL" and (k.right_after == "mixed" or k.temps_after)
        ]
        worse = [r for r in rounds if r.final == "mixed" or r.temps or any(r.exit_statuses)]
        return 1 if bad or worse or tracebacks else 0


if __name__ == "__main__":
    sys.exit(main())
