"""What the project's metadata promises: a light install without torch and its console
script, the version written in one place, and the pre-commit hooks offered to other projects."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from cnnspec.cli import main

ROOT = Path(__file__).resolve().parents[2]
SEEDS = ["lenet5", "alexnet", "vgg16", "lenet_code611"]


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "cnnspec", *args], capture_output=True, text=True, cwd=ROOT
    )


def test_pre_commit_hooks_use_the_cli():
    import yaml

    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    by_id = {h["id"]: h for h in hooks}
    assert set(by_id) == {"cnnspec-check", "cnnspec-compile-check"}
    for hook in hooks:
        assert hook["language"] == "python"
        assert hook["entry"].split()[0] == "cnnspec"
    # pre-commit runs `entry FILES...`; the check hook passes on the seed specs
    args = by_id["cnnspec-check"]["entry"].split()[1:]
    assert main([*args, *(str(ROOT / "specs" / f"{s}.yaml") for s in SEEDS)]) == 0


def test_light_install_needs_no_torch():
    import tomllib

    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert not [d for d in meta["dependencies"] if d.lower().startswith("torch")]
    assert meta["scripts"]["cnnspec"] == "cnnspec.__main__:main"
    assert any(d.startswith("torch") for d in meta["optional-dependencies"]["torch"])


def test_the_version_is_written_once():
    """pyproject.toml reads the version from cnnspec/__init__.py (hatch's dynamic
    version): the installed metadata, the package and `--version` agree."""
    import importlib.metadata

    import cnnspec

    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert 'dynamic = ["version"]' in pyproject
    assert "\nversion =" not in pyproject
    assert importlib.metadata.version("cnnspec") == cnnspec.__version__
    out = run("--version")
    assert out.stdout.strip() == f"cnnspec {cnnspec.__version__}"
