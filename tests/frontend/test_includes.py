"""The include policy (docs/spec-format.md, "Includes"), one rule at a time.

Every fixture is made in ``tmp_path``: a fake project (``proj/`` with a
``pyproject.toml``, its blocks in ``proj/blocks``, its specs in ``proj/specs``), a folder
outside it, links, loops, FIFOs, a socket, ``/dev/zero`` and a sparse 2 GiB file. The
tests run from ``tmp_path``, so every path in a message is short and exact.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tracemalloc
from pathlib import Path

import pytest

import cnnspec
from cnnspec.cli import main
from cnnspec.frontend.files import NotARegularFile, read_regular
from cnnspec.frontend.include import default_root
from cnnspec.frontend.load import MAX_FILE_BYTES

UNIT = """\
blocks:
  Unit:
    params:
      width: int
    layers:
      - {name: conv, type: conv, maps: $width, kernel: 1}
"""
#: a spec using the included block; `include:` is its second line, the entry at column 11
SPEC = """\
name: Net
include: [{entry}]
input: {{maps: 3, size: 8x8}}
layers:
  - {{name: unit1, type: Unit, width: 8}}
  - {{type: adaptive_avgpool, size: 1}}
  - {{type: fc, size: 10}}
"""
OK = "ok: Net, 122 params, 2,138 MACs, 3×8×8 → 10"
WIDEN = "; --include-root widens it"


@pytest.fixture
def proj(tmp_path, monkeypatch) -> Path:
    """tmp_path/proj, a project; tmp_path/outside/unit.yaml, a valid blocks file beside it."""
    monkeypatch.chdir(tmp_path)
    root = tmp_path / "proj"
    (root / "blocks").mkdir(parents=True)
    (root / "specs").mkdir()
    (root / "pyproject.toml").write_text("[project]\nname = 'proj'\n")
    (root / "blocks" / "unit.yaml").write_text(UNIT)
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "unit.yaml").write_text(UNIT)
    return root


def write_spec(folder: Path, entry: str, name: str = "net.yaml") -> Path:
    path = folder / name
    path.write_text(SPEC.format(entry=entry))
    return path


def check(path: Path, **kwargs) -> list[str]:
    """What loading ``path`` says: its diagnostics as printed, or the ok line."""
    try:
        net = cnnspec.load(path, **kwargs)
    except cnnspec.SpecError as exc:
        return [line for d in exc.diagnostics for line in d.lines(exc.filename)]
    return [f"ok: {net.name}, {net.params:,} params, {net.macs:,} MACs, 3×8×8 → 10"]


def refused(spec: Path, shown: str, reason: str, line: int = 2, col: int = 11) -> list[str]:
    """The one diagnostic a refused include gives: at the spec's `include:` entry."""
    where = spec.relative_to(Path.cwd()).as_posix()
    return [f"{where}:{line}:{col}: error: cannot include {shown}: {reason} [include]"]


# --------------------------------------------------------------------------- paths and the root


def test_a_path_relative_to_the_including_spec_is_read(proj):
    assert check(write_spec(proj / "specs", "../blocks/unit.yaml")) == [OK]


def test_an_absolute_path_inside_the_root_is_read(proj):
    assert check(write_spec(proj / "specs", str(proj / "blocks" / "unit.yaml"))) == [OK]


def test_an_absolute_path_outside_the_root_is_refused(proj, tmp_path):
    spec = write_spec(proj / "specs", str(tmp_path / "outside" / "unit.yaml"))
    assert check(spec) == refused(
        spec, "outside/unit.yaml", f"it is outside the include root {proj}{WIDEN}"
    )


def test_dot_dots_past_the_root_are_refused(proj):
    spec = write_spec(proj / "specs", "../../outside/unit.yaml")
    assert check(spec) == refused(
        spec, "outside/unit.yaml", f"it is outside the include root {proj}{WIDEN}"
    )


@pytest.mark.parametrize("target", ["/etc/passwd", "/proc/self/environ", "/dev/zero"])
def test_system_files_are_never_read(proj, target):
    spec = write_spec(proj / "specs", target)
    assert check(spec) == refused(spec, target, f"it is outside the include root {proj}{WIDEN}")


@pytest.mark.parametrize("marker", ["pyproject.toml", ".git/", ".git"])
def test_the_default_root_is_the_nearest_folder_holding_git_or_pyproject(
    tmp_path, monkeypatch, marker
):
    """`.git/` a repository, `.git` a worktree's file; the spec sits three folders down."""
    monkeypatch.chdir(tmp_path)
    project = tmp_path / "project"
    deep = project / "a" / "b" / "specs"
    deep.mkdir(parents=True)
    (project / "blocks").mkdir()
    (project / "blocks" / "unit.yaml").write_text(UNIT)
    (tmp_path / "unit.yaml").write_text(UNIT)
    if marker.endswith("/"):
        (project / marker).mkdir()
    else:
        (project / marker).write_text("")
    assert check(write_spec(deep, "../../../blocks/unit.yaml")) == [OK]
    spec = write_spec(deep, "../../../../unit.yaml", "above.yaml")
    assert check(spec) == refused(
        spec, "unit.yaml", f"it is outside the include root {project}{WIDEN}"
    )
    assert default_root(deep) == default_root(project) == project.resolve()
    assert default_root(tmp_path) == tmp_path.resolve()  # no marker above it: its own folder


def test_the_nearest_project_wins_over_an_outer_one(tmp_path):
    inner = tmp_path / "outer" / "inner"
    (inner / "specs").mkdir(parents=True)
    (tmp_path / "outer" / ".git").mkdir()
    (inner / "pyproject.toml").write_text("")
    assert default_root(inner / "specs") == inner.resolve()


def test_without_a_project_the_root_is_the_spec_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    specs = tmp_path / "lone" / "specs"
    specs.mkdir(parents=True)
    (tmp_path / "lone" / "blocks").mkdir()
    (tmp_path / "lone" / "blocks" / "unit.yaml").write_text(UNIT)
    (specs / "unit.yaml").write_text(UNIT)
    assert check(write_spec(specs, "unit.yaml", "beside.yaml")) == [OK]
    spec = write_spec(specs, "../blocks/unit.yaml")
    assert check(spec) == refused(
        spec, "lone/blocks/unit.yaml", f"it is outside the include root {specs}{WIDEN}"
    )


def test_include_root_in_python_sets_the_root(proj, tmp_path):
    spec = write_spec(proj / "specs", "../../outside/unit.yaml")
    assert check(spec, include_root=tmp_path) == [OK]
    text = spec.read_text()
    assert cnnspec.loads(text, source=str(spec), include_root=tmp_path).params == 122
    with pytest.raises(cnnspec.SpecError, match=r"outside the include root"):
        cnnspec.loads(text, source=str(spec))
    # narrower than the project: a sandbox for specs nobody has read yet
    inside = write_spec(proj / "specs", "../blocks/unit.yaml", "inside.yaml")
    assert check(inside, include_root=proj / "specs") == refused(
        inside, "proj/blocks/unit.yaml", f"it is outside the include root {proj / 'specs'}{WIDEN}"
    )


@pytest.mark.parametrize("command", ["check", "summary", "compile"])
def test_the_include_root_flag_widens_it(proj, tmp_path, capsys, command):
    spec = str(write_spec(proj / "specs", "../../outside/unit.yaml").relative_to(tmp_path))
    extra = ["-o", "out"] if command == "compile" else []
    assert main([command, *extra, spec]) == 1
    assert "outside the include root" in capsys.readouterr().err
    assert main([command, *extra, "--include-root", ".", spec]) == 0
    out = capsys.readouterr().out
    assert {"check": OK, "summary": "Params: 122", "compile": "wrote out/net.py"}[command] in out


def test_the_include_root_flag_names_a_folder(proj, capsys):
    spec = str(write_spec(proj / "specs", "../blocks/unit.yaml"))
    with pytest.raises(SystemExit) as exit_:
        main(["check", "--include-root", "no/such/folder", spec])
    assert exit_.value.code == 2
    assert "--include-root: not a directory: 'no/such/folder'" in capsys.readouterr().err


# --------------------------------------------------------------------------- links


def test_a_link_inside_the_root_to_a_file_inside_it_is_read(proj):
    (proj / "blocks" / "alias.yaml").symlink_to("unit.yaml")
    assert check(write_spec(proj / "specs", "../blocks/alias.yaml")) == [OK]


def test_a_link_leading_outside_the_root_is_refused(proj):
    (proj / "blocks" / "out.yaml").symlink_to("../../outside/unit.yaml")
    spec = write_spec(proj / "specs", "../blocks/out.yaml")
    assert check(spec) == refused(
        spec,
        "proj/blocks/out.yaml",
        f"it leads through a symbolic link to outside/unit.yaml, outside the include root "
        f"{proj}{WIDEN}",
    )


def test_a_linked_folder_leading_outside_the_root_is_refused(proj):
    (proj / "shared").symlink_to("../outside", target_is_directory=True)
    spec = write_spec(proj / "specs", "../shared/unit.yaml")
    assert check(spec) == refused(
        spec,
        "proj/shared/unit.yaml",
        f"it leads through a symbolic link to outside/unit.yaml, outside the include root "
        f"{proj}{WIDEN}",
    )


def test_a_self_referencing_link_is_a_diagnostic(proj):
    (proj / "blocks" / "loop.yaml").symlink_to("loop.yaml")
    (proj / "blocks" / "ping.yaml").symlink_to("pong.yaml")
    (proj / "blocks" / "pong.yaml").symlink_to("ping.yaml")
    for name in ("loop", "ping"):
        spec = write_spec(proj / "specs", f"../blocks/{name}.yaml")
        assert check(spec) == refused(
            spec, f"proj/blocks/{name}.yaml", "it is a loop of symbolic links"
        )


# --------------------------------------------------------------------------- what the file is


def test_a_directory_is_a_directory(proj):
    spec = write_spec(proj / "specs", "../blocks")
    assert check(spec) == refused(spec, "proj/blocks", "it is a directory")


def test_a_missing_file_is_no_such_file(proj):
    spec = write_spec(proj / "specs", "../blocks/nope.yaml")
    assert check(spec) == refused(spec, "proj/blocks/nope.yaml", "no such file")


def test_a_fifo_is_refused_without_waiting_for_a_writer(proj, tmp_path):
    """In a child process with a deadline: opening a FIFO with no writer blocks forever."""
    os.mkfifo(proj / "blocks" / "pipe.yaml")
    spec = write_spec(proj / "specs", "../blocks/pipe.yaml")
    env = {**os.environ, "PYTHONPATH": str(Path(cnnspec.__file__).resolve().parent.parent)}
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "cnnspec", "check", "proj/specs/net.yaml"],
            capture_output=True,
            text=True,
            timeout=60,
            env=env,
            cwd=tmp_path,
        )
    except subprocess.TimeoutExpired:
        pytest.fail("an included FIFO with no writer is still waited on after 60 s")
    assert proc.returncode == 1
    assert proc.stderr.splitlines() == refused(
        spec, "proj/blocks/pipe.yaml", "it is not a regular file (a FIFO)"
    )


def test_a_socket_is_not_a_regular_file(proj):
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind("proj/blocks/sock.yaml")  # relative: a short path, as AF_UNIX needs
        spec = write_spec(proj / "specs", "../blocks/sock.yaml")
        assert check(spec) == refused(
            spec, "proj/blocks/sock.yaml", "it is not a regular file (a socket)"
        )


def test_a_device_is_not_a_regular_file(proj):
    spec = write_spec(proj / "specs", "/dev/zero")
    assert check(spec, include_root="/") == refused(
        spec, "/dev/zero", "it is not a regular file (a character device)"
    )


# --------------------------------------------------------------------------- size


def test_a_huge_file_is_refused_with_its_size_and_never_read(proj):
    huge = proj / "blocks" / "huge.yaml"
    with huge.open("wb") as f:
        f.truncate(2 * 1024**3)  # sparse: 2 GiB that take no disk
    spec = write_spec(proj / "specs", "../blocks/huge.yaml")
    tracemalloc.start()
    try:
        said = check(spec)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert said == refused(
        spec,
        "proj/blocks/huge.yaml",
        f"the file is 2,147,483,648 bytes; specs and the files they include are limited to "
        f"{MAX_FILE_BYTES:,} bytes",
    )
    assert peak < 32 * 1024**2, f"{peak:,} bytes allocated: the file was read"


def test_one_byte_over_the_limit_says_its_real_size(proj):
    (proj / "blocks" / "big.yaml").write_bytes(b"#" * (MAX_FILE_BYTES + 1))
    spec = write_spec(proj / "specs", "../blocks/big.yaml")
    assert check(spec) == refused(
        spec,
        "proj/blocks/big.yaml",
        f"the file is {MAX_FILE_BYTES + 1:,} bytes; specs and the files they include are "
        f"limited to {MAX_FILE_BYTES:,} bytes",
    )


def test_a_file_swapped_after_its_stat_is_not_read(proj):
    """The descriptor is checked against the stat that admitted the file."""
    admitted = os.stat(proj / "blocks" / "unit.yaml")
    (proj / "blocks" / "other.yaml").write_text(UNIT)
    with pytest.raises(NotARegularFile, match="it changed while it was read"):
        read_regular(proj / "blocks" / "other.yaml", admitted)
    assert read_regular(proj / "blocks" / "unit.yaml", admitted) == UNIT.encode()


# --------------------------------------------------------------------------- where it is said


def test_every_refusal_is_located_at_its_own_entry(proj, tmp_path):
    """One spec, one bad entry per line: each diagnostic names the including spec and
    the line and column of the entry, with the code [include]."""
    (proj / "blocks" / "loop.yaml").symlink_to("loop.yaml")
    spec = proj / "specs" / "many.yaml"
    spec.write_text(
        "name: Many\n"
        "include:\n"
        "  - ../blocks/unit.yaml\n"
        "  - ../blocks/nope.yaml\n"
        "  - ../blocks\n"
        "  -   ../blocks/loop.yaml\n"
        f"  - {tmp_path / 'outside' / 'unit.yaml'}\n"
        '  - "bad\\0name.yaml"\n'
        "input: {maps: 3, size: 8x8}\n"
        "layers:\n"
        "  - {name: unit1, type: Unit, width: 8}\n"
        "  - {type: fc, size: 10}\n"
    )
    name = "proj/specs/many.yaml"
    assert check(spec) == [
        f"{name}:4:5: error: cannot include proj/blocks/nope.yaml: no such file [include]",
        f"{name}:5:5: error: cannot include proj/blocks: it is a directory [include]",
        f"{name}:6:7: error: cannot include proj/blocks/loop.yaml: it is a loop of symbolic "
        "links [include]",
        f"{name}:7:5: error: cannot include outside/unit.yaml: it is outside the include root "
        f"{proj}{WIDEN} [include]",
        f"{name}:8:5: error: cannot include proj/specs/bad\\x00name.yaml: a file name cannot "
        "hold a NUL character [include]",
    ]


def test_a_single_include_is_located_at_its_value(proj):
    spec = proj / "specs" / "one.yaml"
    spec.write_text(SPEC.format(entry="x").replace("include: [x]", "include:   ../nope.yaml"))
    assert check(spec) == refused(spec, "proj/nope.yaml", "no such file", col=12)


# --------------------------------------------------------------------------- the docs


def test_the_docs_state_the_policy_and_its_messages():
    page = (Path(__file__).resolve().parents[2] / "docs" / "spec-format.md").read_text(
        encoding="utf-8"
    )
    section = page.split("\n## Includes\n", 1)[1].split("\n## ", 1)[0]
    for term in ("`.git`", "`pyproject.toml`", "--include-root DIR", "include_root=DIR"):
        assert term in section, term
    examples = section.split("```\n", 2)[1].splitlines()
    assert len(examples) == 4
    reasons = [
        f"it is outside the include root /home/me/project{WIDEN}",
        "it leads through a symbolic link to /srv/other/blocks.yaml, outside the include root "
        f"/home/me/project{WIDEN}",
        "it is not a regular file (a FIFO)",
        f"the file is 2,147,483,648 bytes; specs and the files they include are limited to "
        f"{MAX_FILE_BYTES:,} bytes",
    ]
    for line, reason in zip(examples, reasons):
        assert line.startswith("specs/net.yaml:3:11: error: cannot include "), line
        assert line.endswith(f": {reason} [include]"), line
