"""Re-bless the bad-input corpus: rewrite every tests/bad/<case>.expected from the
current output of ``cnnspec check``.

    python tools/bless.py            # all cases
    python tools/bless.py CASE ...   # some (names with or without .yaml)

An ``.expected`` file holds ``# exit N`` and then the exact lines ``cnnspec check``
prints to stderr, run from the repository root. A case's first line may read
``# args: --strict`` to pass options. ``tests/corpus/test_bad_specs.py`` runs the same
function and shows a unified diff against the file on any mismatch.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BAD = ROOT / "tests" / "bad"


def cases() -> list[Path]:
    """Every case, as its path relative to the repository root (also dangling links)."""
    return sorted(Path("tests/bad") / p.name for p in BAD.iterdir() if p.name.endswith(".yaml"))


def case_args(case: Path) -> list[str]:
    """Options from a first line ``# args: ...`` of the case (none for unreadable ones)."""
    try:
        with open(ROOT / case, "rb") as f:
            first = f.readline(200).decode("utf-8", "replace")
    except OSError:
        return []
    return first.split(":", 1)[1].split() if first.startswith("# args:") else []


def run_case(case: Path) -> tuple[int, str, str, float]:
    """Run ``cnnspec check [args] CASE`` in-process from the repository root.

    Returns (exit code, stdout, stderr, seconds)."""
    from cnnspec.cli import main

    out, err = io.StringIO(), io.StringIO()
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        start = time.perf_counter()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(["check", *case_args(case), case.as_posix()])
        seconds = time.perf_counter() - start
    finally:
        os.chdir(cwd)
    return code, out.getvalue(), err.getvalue(), seconds


def render(code: int, stderr: str) -> str:
    return f"# exit {code}\n{stderr}"


def expected_path(case: Path) -> Path:
    return ROOT / case.with_suffix(".expected")


def main(argv: list[str]) -> int:
    sys.path.insert(0, str(ROOT))
    wanted = {a.removesuffix(".yaml").rsplit("/", 1)[-1] for a in argv}
    changed = 0
    for case in cases():
        if wanted and case.stem not in wanted:
            continue
        code, _, stderr, _ = run_case(case)
        target = expected_path(case)
        text = render(code, stderr)
        if not target.exists() or target.read_text(encoding="utf-8") != text:
            target.write_text(text, encoding="utf-8")
            changed += 1
            print(f"blessed {target.relative_to(ROOT)}")
    print(f"{changed} file(s) changed")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
