"""The bad-input corpus: tests/bad/<case>.yaml next to <case>.expected.

Each .expected holds ``# exit N`` and the exact lines ``cnnspec check`` prints to
stderr, run from the repository root. Re-bless them all with
``python tools/bless.py`` (or name cases) after an intended change in wording.
"""

from __future__ import annotations

import difflib
import importlib.util
import re
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import pytest

from cnnspec.cli import main as cli_main
from cnnspec.frontend.load import MAX_FILE_BYTES

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("bless", ROOT / "tools" / "bless.py")
bless = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bless)

CASES = bless.cases()
#: FILE:LINE:COL: severity: [layer N 'name' (type): ]message [code]
LINE = re.compile(r"^(?P<file>\S+):(?P<line>\d+):(?P<col>\d+): (error|warning): .+ \[[a-z0-9-]+\]$")
#: FILE:LINE:COL: note: message — a related place, printed after its diagnostic, no code
NOTE = re.compile(r"^(?P<file>\S+):(?P<line>\d+):(?P<col>\d+): note: .+[^\]]$")
#: a hang guard, not a speed test (bench/ times cnnspec): the slowest case (5000-deep
#: nesting) takes a few milliseconds, an exponential or unbounded walk never ends; the
#: bound is this generous so that a machine shared under load never fails it
SECONDS = 30.0
#: the work a bad input may cost, counted as the memory cnnspec allocates for it
#: (deterministic, unlike a time): a check allocates a few MiB; expanding an alias bomb
#: of 10⁹ nodes (or 10⁶: some 100 MiB) allocates far more
MAX_PEAK_BYTES = 32 * 1024 * 1024


def _peak(run):
    """``run()``'s result and the peak memory it allocated (tracemalloc)."""
    tracemalloc.start()
    try:
        result = run()
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_the_corpus_is_big_enough():
    assert len(CASES) >= 40, len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_bad_case(case: Path):
    code, stdout, stderr, seconds = bless.run_case(case)
    got = bless.render(code, stderr)
    path = bless.expected_path(case)
    want = path.read_text(encoding="utf-8") if path.exists() else "(no .expected file)\n"
    if got != want:
        diff = "".join(
            difflib.unified_diff(
                want.splitlines(True), got.splitlines(True), f"{path.name}", "actual output"
            )
        )
        pytest.fail(f"{case} differs from {path.name} (python tools/bless.py {case.stem}):\n{diff}")

    assert "Traceback" not in stderr
    assert stdout == "", "a failing spec prints nothing on stdout"
    assert seconds < SECONDS, f"{case} took {seconds:.2f} s"
    if case.stem.startswith("unreadable_"):
        assert code == 2
        assert stderr.startswith("cnnspec: error: cannot read ")
        return
    assert code == 1
    lines = stderr.splitlines()
    assert lines, "an exit code 1 without a diagnostic"
    assert any(": error: " in line for line in lines)
    assert not NOTE.match(lines[0]), "a note follows a diagnostic"
    for line in lines:
        match = LINE.match(line) or NOTE.match(line)
        assert match, f"not FILE:LINE:COL: severity: message [code] (or note: message): {line}"
        assert match["file"] == case.as_posix()
    keys = [(int(m["line"]), int(m["col"])) for m in map(LINE.match, lines) if m]
    assert keys == sorted(keys), "diagnostics are sorted by position"


def test_every_case_has_an_expected_file_and_no_orphans():
    expected = {p.stem for p in (ROOT / "tests" / "bad").glob("*.expected")}
    assert expected == {c.stem for c in CASES}


def test_the_real_command_line_prints_the_same_and_no_traceback():
    """One subprocess for every readable case: what a user sees, interpreter and all."""
    readable = [c for c in CASES if not c.stem.startswith("unreadable_")]
    proc = subprocess.run(
        [sys.executable, "-m", "cnnspec", "check", *[c.as_posix() for c in readable]],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    # cases with options (--strict) run on their own above; compare the others line by line
    want = []
    for case in readable:
        if bless.case_args(case):
            continue
        want += bless.expected_path(case).read_text(encoding="utf-8").splitlines()[1:]
    got = [line for line in proc.stderr.splitlines() if line in set(want)]
    assert got == want


def test_a_file_over_the_cap_is_one_diagnostic(tmp_path, capsys):
    big = tmp_path / "big.yaml"
    filler = "# " + "x" * 98 + "\n"
    big.write_text("name: Big\n" + filler * (MAX_FILE_BYTES // len(filler) + 1))
    code, peak = _peak(lambda: cli_main(["check", str(big)]))
    err = capsys.readouterr().err
    assert code == 1
    assert err.endswith(
        f":1:1: error: the file is {big.stat().st_size:,} bytes; specs are limited to "
        f"{MAX_FILE_BYTES:,} bytes [file-too-large]\n"
    )
    assert peak < big.stat().st_size, peak  # never read whole


def test_deep_block_nesting_generated_at_runtime(tmp_path, capsys):
    deep = tmp_path / "deep.yaml"
    deep.write_text("layers:\n  " + "- " * 5000 + "1\n")  # compact nested block sequences
    start = time.perf_counter()
    code = cli_main(["check", str(deep)])
    seconds = time.perf_counter() - start
    err = capsys.readouterr().err
    assert code == 1
    assert "the document nests deeper than 64 levels [too-deep]" in err
    assert seconds < SECONDS  # no hang (and no RecursionError: the exit code is 1)


def test_a_500_byte_alias_bomb_answers_at_once(capsys):
    bomb = ROOT / "tests" / "bad" / "yaml_alias_bomb.yaml"
    assert bomb.stat().st_size <= 500
    code, peak = _peak(lambda: cli_main(["check", str(bomb)]))
    assert code == 1
    assert "[too-large]" in capsys.readouterr().err
    assert peak < MAX_PEAK_BYTES, peak  # its aliases are never expanded
