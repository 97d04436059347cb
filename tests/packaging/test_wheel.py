"""The wheel carries its templates: build it, install it into a fresh venv, compile.

The fresh venv has cnnspec's runtime dependencies only — no torch, no checkout
on the path — and runs from a directory outside the repository, so the
templates it renders can only come from inside the installed package.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import cnnspec

ROOT = Path(__file__).resolve().parents[2]
RUNTIME_DEPS = ["pydantic", "pyyaml", "jinja2", "graphviz"]


def run(*args: str | Path, cwd: Path | None = None) -> str:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    done = subprocess.run(
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, f"{args}\n{done.stdout}\n{done.stderr}"
    return done.stdout


def test_wheel_installs_and_compiles_with_its_own_templates(tmp_path, monkeypatch):
    dist = tmp_path / "dist"
    run(sys.executable, "-m", "build", "--wheel", "--outdir", dist, ROOT, cwd=ROOT)
    (wheel,) = dist.glob("cnnspec-*.whl")

    venv = tmp_path / "venv"
    run(sys.executable, "-m", "venv", venv)
    bindir = venv / ("Scripts" if os.name == "nt" else "bin")
    python = bindir / "python"
    run(python, "-m", "pip", "install", "--quiet", *RUNTIME_DEPS)
    run(python, "-m", "pip", "install", "--quiet", "--no-deps", wheel)

    work = tmp_path / "work"
    (work / "specs").mkdir(parents=True)
    for stem in ("lenet5", "lenet_code611"):
        shutil.copy(ROOT / "specs" / f"{stem}.yaml", work / "specs")
    # a graph spec, with the blocks file it includes
    for sub, stem in (("zoo", "resnet18"), ("blocks", "resnet")):
        (work / "specs" / sub).mkdir(exist_ok=True)
        shutil.copy(ROOT / "specs" / sub / f"{stem}.yaml", work / "specs" / sub)
    where = run(
        python,
        "-c",
        "import sys, cnnspec.backends.torch as t; "
        "print(t.environment().get_template(t.GRAPH_TEMPLATE).filename); "
        "print('torch' in sys.modules)",
        cwd=work,
    ).split("\n")
    assert Path(where[0]).resolve().is_relative_to(venv.resolve()), where
    template = Path(where[0])
    assert template.parent.name == "templates" and template.parent.parent.name == "cnnspec"
    assert where[1] == "False"

    specs = ["specs/lenet5.yaml", "specs/lenet_code611.yaml", "specs/zoo/resnet18.yaml"]
    # work/ holds no .git or pyproject.toml: the include root is named, so that
    # specs/zoo/resnet18.yaml may include ../blocks/resnet.yaml
    out = run(bindir / "cnnspec", "compile", *specs, "-o", "out", "--include-root", ".", cwd=work)
    assert "wrote" in out
    monkeypatch.chdir(ROOT)
    for spec in specs:
        written = (work / "out" / f"{Path(spec).stem}.py").read_text(encoding="utf-8")
        # byte for byte what the checkout renders for the same spec path
        assert written == cnnspec.torch_source(cnnspec.load(spec))
    run(bindir / "cnnspec", "compile", "specs/lenet5.yaml", "-o", "out", "--check", cwd=work)
