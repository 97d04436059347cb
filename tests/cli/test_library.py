"""A block library (a file of `blocks:` only) is checkable on its own; compile refuses it."""

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

import cnnspec
from cnnspec.diagnostics import SpecError
from cnnspec.pipeline import load_any
from cnnspec.spec.library import CheckedLibrary

ROOT = Path(__file__).resolve().parents[2]
LIBRARIES = sorted((ROOT / "specs" / "blocks").glob("*.yaml"))


def _run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "cnnspec", *args], cwd=cwd, capture_output=True, text=True
    )


@pytest.mark.parametrize("path", LIBRARIES, ids=[p.stem for p in LIBRARIES])
def test_every_shipped_library_checks_and_lists_its_blocks(path):
    found = load_any(path)
    assert isinstance(found, CheckedLibrary)
    written = list(yaml.safe_load(path.read_text(encoding="utf-8"))["blocks"])
    assert list(found.blocks) == written
    assert found.warnings == ()


def test_check_prints_ok_with_the_blocks():
    done = _run("check", "specs/blocks/resnet.yaml", "specs/blocks/squeezenet.yaml")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "specs/blocks/resnet.yaml: ok: 2 blocks (BasicBlock, Bottleneck)",
        "specs/blocks/squeezenet.yaml: ok: 1 block (Fire)",
    ]
    assert done.stderr == ""


def test_compile_refuses_a_library_and_writes_nothing(tmp_path):
    done = _run("compile", "specs/blocks/resnet.yaml", "-o", str(tmp_path))
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        "specs/blocks/resnet.yaml:1:1: error: the file defines 2 blocks and no network (a "
        "block library, which specs use through include:); a spec needs name, input and "
        "layers [library]"
    ]
    assert list(tmp_path.iterdir()) == []


def test_the_api_load_raises_for_a_library():
    with pytest.raises(SpecError) as info:
        cnnspec.load(ROOT / "specs" / "blocks" / "unet.yaml")
    assert [d.code for d in info.value.diagnostics] == ["library"]


def test_a_library_including_another_checks_the_blocks_it_uses(tmp_path):
    (tmp_path / "base.yaml").write_text(
        "blocks:\n  Unit:\n    params:\n      c: {type: int}\n"
        "    layers:\n      - {type: conv, maps: $c, kernel: 3}\n",
        encoding="utf-8",
    )
    (tmp_path / "more.yaml").write_text(
        "include: [base.yaml]\nblocks:\n  Pair:\n    params:\n      c: {type: int}\n"
        "    layers:\n      - {type: Unit, c: $c}\n      - {type: Unit, d: 1}\n",
        encoding="utf-8",
    )
    done = _run("check", "more.yaml", "--include-root", str(tmp_path), cwd=tmp_path)
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        "more.yaml:8:9: error: block 'Unit' needs 'c' (it has no default) [missing]",
        "more.yaml:8:22: error: block 'Unit' has no param 'd'; its params: c [block-param]",
    ]


def test_a_spec_missing_only_its_name_is_still_a_spec(tmp_path):
    """Network keys make a file a spec: the library check does not hide a spec's errors."""
    path = tmp_path / "net.yaml"
    path.write_text(
        "input: {maps: 3, size: 8x8}\nblocks:\n  U:\n    layers:\n      - {type: relu}\n"
        "layers:\n  - {type: conv, maps: 4, kernel: 3}\n",
        encoding="utf-8",
    )
    done = _run("check", str(path))
    assert done.returncode == 1
    assert "[missing]" in done.stderr and "'name'" in done.stderr
