"""compile, check, summary, schema and diagram never import torch (DESIGN: Command line).

Each test runs a fresh interpreter, because this test process may have imported
torch already, and asserts on that interpreter's ``sys.modules``.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

EVERY_COMMAND = """\
import sys, tempfile

import cnnspec
from cnnspec.cli import main

seeds = ["specs/lenet5.yaml", "specs/alexnet.yaml", "specs/vgg16.yaml", "specs/lenet_code611.yaml"]
with tempfile.TemporaryDirectory() as out:
    assert main(["compile", "-o", out, *seeds]) == 0
    assert main(["compile", "--check", "-o", out, *seeds]) == 0
assert main(["check", *seeds]) == 0
for fmt in ("text", "markdown", "json"):
    assert main(["summary", "--format", fmt, "specs/vgg16.yaml"]) == 0
assert main(["schema"]) == 0

net = cnnspec.load("specs/vgg16.yaml")
cnnspec.torch_source(net)
cnnspec.diagram(net).source

loaded = sorted(m for m in sys.modules if m.split(".")[0] in ("torch", "torchinfo", "torchvision"))
print("TORCH-MODULES:", loaded, file=sys.stderr)
sys.exit(1 if loaded else 0)
"""


def run_python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300
    )


def test_every_command_runs_without_importing_torch():
    done = run_python(EVERY_COMMAND)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "TORCH-MODULES: []" in done.stderr


def test_the_console_script_path_does_not_import_torch():
    # `python -m cnnspec` is what the console script runs; -X importtime lists every import.
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "cnnspec", "check", "specs/vgg16.yaml"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    imported = [line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines()]
    assert "torch" not in imported


def test_build_is_where_torch_comes_in():
    done = run_python(
        "import sys, cnnspec\n"
        "net = cnnspec.load('specs/lenet5.yaml')\n"
        "assert 'torch' not in sys.modules\n"
        "cnnspec.build(net)\n"
        "assert 'torch' in sys.modules\n"
    )
    assert done.returncode == 0, done.stderr[-3000:]
