"""The result cache of ``check`` and ``summary``: a hit prints what a fresh run prints,
reads no compiler (no YAML, no pydantic), and is a hit only while the spec, every file it
included, the options and the working directory are those it was stored for."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cnnspec import cli

ROOT = Path(__file__).resolve().parents[2]

BLOCK = """\
blocks:
  Unit:
    params:
      m: {type: int}
    layers:
      - {type: conv, maps: $m, kernel: 3, padding: 1, activation: relu}
"""
SPEC = """\
name: Tiny
input: {maps: 3, size: 32x32}
include: [lib.yaml]
layers:
  - {type: Unit, m: 8}
  - {type: maxpool, kernel: 2, stride: 2}
  - {type: flatten}
  - {type: fc, size: 10}
"""


@pytest.fixture
def cached(tmp_path, monkeypatch):
    """A project folder with a spec and an include, and a private cache folder for it."""
    project = tmp_path / "project"
    project.mkdir()
    (project / "pyproject.toml").write_text("")
    (project / "lib.yaml").write_text(BLOCK)
    (project / "net.yaml").write_text(SPEC)
    folder = tmp_path / "cache"
    monkeypatch.setenv("CNNSPEC_CACHE", "1")
    monkeypatch.setenv("CNNSPEC_CACHE_DIR", str(folder))
    monkeypatch.chdir(project)
    return project, folder


def _run(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    io = capsys.readouterr()
    return code, io.out, io.err


def _entries(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.json")) if folder.exists() else []


@pytest.mark.parametrize(
    "argv",
    [
        ("check", "net.yaml"),
        ("check", "--strict", "net.yaml"),
        ("summary", "net.yaml"),
        ("summary", "--format", "json", "net.yaml"),
        ("summary", "--format", "markdown", "net.yaml"),
    ],
)
def test_a_hit_prints_what_a_fresh_run_prints(cached, capsys, argv):
    project, folder = cached
    fresh = _run(capsys, argv[0], "--no-cache", *argv[1:])
    assert _entries(folder) == []  # --no-cache stores nothing
    first = _run(capsys, *argv)
    assert len(_entries(folder)) == 1
    second = _run(capsys, *argv)
    assert fresh == first == second
    assert fresh[0] == 0 and fresh[1]


def test_errors_and_warnings_are_replayed_in_order(cached, capsys):
    project, folder = cached
    bad = SPEC.replace(
        "{type: fc, size: 10}", "{type: fc, size: 10}\n  - {type: maxpool, kernel: 9}"
    )
    (project / "bad.yaml").write_text(bad)
    fresh = _run(capsys, "check", "--no-cache", "bad.yaml")
    assert fresh[0] == 1 and "error" in fresh[2]
    assert _run(capsys, "check", "bad.yaml") == fresh
    assert _run(capsys, "check", "bad.yaml") == fresh
    assert len(_entries(folder)) == 1


def test_an_edit_of_the_spec_or_of_an_include_is_a_miss(cached, capsys):
    project, folder = cached
    before = _run(capsys, "check", "net.yaml")
    (project / "net.yaml").write_text(SPEC.replace("size: 10", "size: 12"))
    after = _run(capsys, "check", "net.yaml")
    assert before != after and after == _run(capsys, "check", "--no-cache", "net.yaml")
    (project / "lib.yaml").write_text(BLOCK.replace("kernel: 3, padding: 1", "kernel: 1"))
    edited = _run(capsys, "check", "net.yaml")
    assert edited != after and edited == _run(capsys, "check", "--no-cache", "net.yaml")
    assert len(_entries(folder)) == 2  # the include's edit replaced its spec's entry


def test_an_include_that_could_not_be_read_is_never_stored(cached, capsys):
    project, folder = cached
    (project / "lib.yaml").unlink()
    missing = _run(capsys, "check", "net.yaml")
    assert missing[0] == 1 and "lib.yaml" in missing[2]
    assert _entries(folder) == []
    (project / "lib.yaml").write_text(BLOCK)  # the fix the entry could not know of
    assert _run(capsys, "check", "net.yaml")[0] == 0


def test_the_working_directory_and_the_path_are_part_of_the_key(cached, capsys, tmp_path):
    project, folder = cached
    other = tmp_path / "other"
    shutil.copytree(project, other)
    here = _run(capsys, "check", "net.yaml")
    os.chdir(tmp_path)
    there = _run(capsys, "check", "project/net.yaml")
    assert there[1].startswith("project/net.yaml: ok") and here[1].startswith("net.yaml: ok")
    os.chdir(other)
    (other / "lib.yaml").write_text(BLOCK.replace("$m", "$m * 2"))
    moved = _run(capsys, "check", "net.yaml")
    assert moved != here and moved == _run(capsys, "check", "--no-cache", "net.yaml")


def test_a_broken_entry_is_a_miss(cached, capsys):
    project, folder = cached
    good = _run(capsys, "check", "net.yaml")
    (entry,) = _entries(folder)
    for damage in (
        "",
        "{",
        '{"format": 1}',
        json.dumps({"format": 1, "reads": [], "writes": [["/etc/x", "a", 0]], "status": 0}),
    ):
        entry.write_text(damage)
        assert _run(capsys, "check", "net.yaml") == good
        assert json.loads(entry.read_text())["status"] == 0  # stored again, whole


@pytest.mark.parametrize("unsafe", ["open to others", "a symbolic link", "a file"])
def test_a_folder_others_could_write_is_not_used(cached, capsys, tmp_path, unsafe):
    project, folder = cached
    real = tmp_path / "real"
    if unsafe == "open to others":
        folder.mkdir()
        folder.chmod(0o777)
    elif unsafe == "a symbolic link":
        real.mkdir(mode=0o700)
        folder.symlink_to(real)
    else:
        folder.write_text("")
    assert _run(capsys, "check", "net.yaml")[0] == 0
    assert _run(capsys, "check", "net.yaml")[0] == 0
    assert not list(real.glob("*")) and (not folder.is_dir() or not _entries(folder))


def test_the_variable_turns_it_off(cached, capsys, monkeypatch):
    project, folder = cached
    monkeypatch.setenv("CNNSPEC_CACHE", "0")
    assert _run(capsys, "check", "net.yaml")[0] == 0
    assert not folder.exists()


def test_old_entries_are_pruned_when_one_is_stored(cached, capsys):
    project, folder = cached
    _run(capsys, "check", "net.yaml")
    (stale,) = _entries(folder)
    month = time.time() - 31 * 86400
    os.utime(stale, (month, month))
    (project / "net.yaml").write_text(SPEC.replace("size: 10", "size: 11"))
    _run(capsys, "check", "net.yaml")
    assert stale not in _entries(folder) and len(_entries(folder)) == 1


def test_a_hit_reads_no_compiler(cached):
    """In a fresh process: the second run answers without importing YAML, pydantic or
    jinja2 (the commands' own modules only)."""
    project, folder = cached
    probe = (
        "import sys; from cnnspec import cli; code = cli.main(['check', 'net.yaml']); "
        "print(code, sorted(m for m in ('yaml', 'pydantic', 'jinja2', 'cnnspec.spec') "
        "if m in sys.modules))"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    runs = [
        subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True)
        for _ in range(2)
    ]
    miss, hit = (r.stdout.splitlines() for r in runs)
    assert "'yaml'" in miss[-1] and "'pydantic'" in miss[-1]  # the miss read the spec
    assert hit[-1] == "0 []"
    assert miss[0] == hit[0] == "net.yaml: ok: Tiny, " + miss[0].split("Tiny, ", 1)[1]
