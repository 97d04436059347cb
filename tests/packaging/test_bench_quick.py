"""The benchmark runs and prints every row (``python -m bench --quick``).

Benchmarks are not timed unit tests: nothing here looks at a number or at the
"met?" column. The quick mode exists so that CI proves the bench still works.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

HEADER = "| benchmark | cnnspec median | baseline median | ratio | target | met? |"

ROWS = [
    "a. `cnnspec summary vgg16` vs torch + hand-written VGG16 + torchinfo.summary",
    "a. `cnnspec summary vgg16` vs torch + `torchvision.models.vgg16()` + torchinfo.summary",
    'b. `cnnspec check vgg16` vs `python -c "import yaml, pydantic, jinja2"`',
    "c. `cnnspec check`, 500 rows",
    "c. `cnnspec check`, 5,000 rows",
    "c. `cnnspec check`, 50,000 rows",
    "c. growth, 500 → 5,000 rows",
    "c. growth, 5,000 → 50,000 rows",
    *(
        f"d. forward `{seed}`, batch {batch}"
        for seed in ("lenet5", "alexnet", "vgg16", "lenet_code611")
        for batch in (1, 8)
    ),
    "e. peak RSS, `cnnspec compile vgg16` vs the import floor",
    "e. peak RSS, `cnnspec compile vgg16` vs torch + torchinfo.summary",
    *(
        f"f. `cnnspec.loads` {spec} vs meta-device build + forward"
        for spec in ("vgg16", "zoo/resnet50", "zoo/googlenet", "zoo/densenet121")
    ),
    "g. `cnnspec check zoo/resnet152` vs the import floor",
    "g. `cnnspec check zoo/resnet152`, cache hit vs the import floor",
    "g. `cnnspec check zoo/densenet201` vs the import floor",
    "g. `cnnspec check zoo/densenet201`, cache hit vs the import floor",
    *(
        row
        for shape in ("h. chain of residual blocks", "h. wide concats (dense blocks of 200 layers)")
        for row in (
            f"{shape}, 1k nodes",
            f"{shape}, 10k nodes",
            f"{shape}, 100k nodes",
            f"{shape}: growth 1k → 10k nodes",
            f"{shape}: growth 10k → 100k nodes",
        )
    ),
    "h. fan-in: one dense block of 2,000 layers vs 200",
    *(
        row
        for label in ("10,000-wide concat", "5,000-block residual stack")
        for row in (
            f"i. `check`, {label}",
            f"i. `compile --no-svg` / `check`, {label}",
            f"i. `compile` / `check`, {label}",
        )
    ),
]


def test_quick_bench_prints_every_row(tmp_path):
    table = tmp_path / "table.md"
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--output", str(table)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout == table.read_text(encoding="utf-8")

    lines = [line for line in done.stdout.splitlines() if line.startswith("|")]
    assert " ".join(lines[0].split()) == HEADER
    cells = [[c.strip() for c in line.strip("|").split("|")] for line in lines[2:]]
    assert [row[0] for row in cells] == ROWS
    for row in cells:
        assert len(row) == 6, row
        assert not any(c.startswith("error:") for c in row), row
