"""``check`` runs without the PyTorch backend's template machinery (the import graph
itself, and its cycles, are tests/test_architecture.py's)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_check_loads_no_template_machinery():
    """``check`` lowers a graph's classes (for ``[block-varies]``) without jinja2."""
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from cnnspec.cli import main; "
            "code = main(['check', 'specs/resnet50.yaml', 'specs/zoo/resnet18.yaml']); "
            "print(code, sorted(m for m in sys.modules if m == 'jinja2' or m.endswith('.render')))",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.split("\n")[-2] == "0 []"
