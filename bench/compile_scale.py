"""(i) ``cnnspec compile`` against ``cnnspec check`` at scale: a 10,000-wide concat and a
5,000-block residual stack, as whole commands (child processes).

- *wide*: 10,000 1×1 convs, each reading the input, and one concat of all of them;
- *stack*: 5,000 residual blocks (the chain of (h), in rows of ``repeat: 1000``).

Three commands per spec, each into a fresh output folder (so every file is written):
``check``; ``compile --no-svg`` (the .py and .dot: what cnnspec itself costs); and
``compile`` (the SVG too: Graphviz's ``dot`` lays the diagram out). The ratio is
compile time over check time, medians of interleaved runs. ``--quick`` uses a tenth of
each size.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from .graphs import chain_spec
from .harness import Row, cnnspec_command, interleave, median, run_child, seconds, yes

#: Most compile may cost, in check times.
MAX_RATIO = 3.0
WIDE, STACK = 10_000, 5_000
#: ``dot`` on the wide diagram takes minutes: the full compile gets this long.
DOT_TIMEOUT_S = 1800
_LIMIT = ["--dot-timeout", str(DOT_TIMEOUT_S)]


def wide_spec(branches: int) -> str:
    rows = "".join(
        f"  - {{name: b{i}, type: conv, maps: 1, kernel: 1, from: input}}\n"
        for i in range(branches)
    )
    names = ", ".join(f"b{i}" for i in range(branches))
    return (
        f"name: Wide{branches}\ninput: {{maps: 1, size: 4x4}}\nlayers:\n{rows}"
        f"  - {{name: cat, type: concat, from: [{names}]}}\n"
        "  - {name: pool, type: adaptive_avgpool, size: 1}\n"
        "  - {name: fc, type: fc, size: 10}\n"
    )


def _timed(argv: list[str], tmp: Path, fresh_output: bool) -> float:
    if fresh_output:
        out = Path(tempfile.mkdtemp(prefix="out-", dir=tmp))
        argv = [*argv, "-o", str(out)]
    try:
        return run_child(argv, cwd=tmp).wall_s
    except RuntimeError:
        return float("nan")  # it failed: the row says so


def compile_scale(repeats: int, quick: bool) -> list[Row]:
    scale = 10 if quick else 1
    specs = {  # the rows keep their names in --quick; the cells say so
        f"{WIDE:,}-wide concat": wide_spec(WIDE // scale),
        f"{STACK:,}-block residual stack": chain_spec(STACK // scale),
    }
    note = " (quick: a tenth)" if quick else ""
    rows: list[Row] = []
    cli = cnnspec_command()
    with tempfile.TemporaryDirectory(prefix="cnnspec-bench-") as tmp_name:
        tmp = Path(tmp_name)
        for label, text in specs.items():
            spec = tmp / f"{label.split()[0].replace(',', '').replace('-', '_')}.yaml"
            spec.write_text(text, encoding="utf-8")
            cases = {
                "check": lambda s=spec: _timed([*cli, "check", str(s)], tmp, False),
                "compile --no-svg": lambda s=spec: _timed(
                    [*cli, "compile", "--no-svg", str(s)], tmp, True
                ),
                "compile": lambda s=spec: _timed([*cli, "compile", *_LIMIT, str(s)], tmp, True),
            }
            # the full compile of the wide diagram takes minutes: once
            reps = 1 if "wide" in label else repeats
            got = {k: median(v) for k, v in interleave(cases, repeats=reps, warmup=0).items()}
            check = seconds(got["check"]) + note
            rows.append(Row(f"i. `check`, {label}", check, "—", "—", "—", "—"))
            for name in ("compile --no-svg", "compile"):
                row = _ratio_row(f"i. `{name}` / `check`, {label}", got[name], got["check"])
                rows.append(row)
    return rows


def _ratio_row(label: str, took: float, check: float) -> Row:
    target = f"≤ {MAX_RATIO:g}×"
    if took != took or check != check:  # nan: a command failed
        return Row(
            label, "failed", seconds(check) if check == check else "failed", "—", target, "no"
        )
    ratio = took / check
    return Row(
        label, seconds(took), seconds(check), f"{ratio:.1f}×", target, yes(ratio <= MAX_RATIO)
    )
