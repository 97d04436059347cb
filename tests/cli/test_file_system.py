"""Files the command line cannot read or write: a FIFO is refused at once; compile writes
each output once, replaces a spec's outputs all together or not at all, and leaves no
temporary files behind."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import cnnspec
from cnnspec import cli

ROOT = Path(__file__).resolve().parents[2]


def test_a_fifo_is_refused_at_once(tmp_path):
    """`cnnspec check` on a FIFO with no writer blocked forever (so does cnnspec.load):
    both run in a child process with a deadline, the cnnspec under test on its path."""
    fifo = tmp_path / "net.yaml"
    os.mkfifo(fifo)
    env = {**os.environ, "PYTHONPATH": str(Path(cnnspec.__file__).resolve().parent.parent)}

    def child(*args: str) -> subprocess.CompletedProcess:
        try:
            return subprocess.run(
                [sys.executable, *args],
                capture_output=True,
                text=True,
                timeout=30,
                env=env,
                cwd=tmp_path,
            )
        except subprocess.TimeoutExpired:
            pytest.fail(f"{args} still waits for a writer after 30 s")

    proc = child("-m", "cnnspec", "check", str(fifo))
    assert proc.returncode == 2
    assert proc.stderr == (
        f"cnnspec: error: cannot read {fifo}: it is a FIFO (named pipe), not a regular file\n"
    )
    proc = child("-c", f"import cnnspec; cnnspec.load({str(fifo)!r})")
    assert proc.returncode == 1
    assert (
        "SpecFileError: net.yaml:1:1: error: cannot read net.yaml: it is a FIFO (named pipe), "
        "not a regular file [unreadable]"
    ) in proc.stderr


def test_the_same_file_twice_is_compiled_once(tmp_path, monkeypatch, capsys):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "net.yaml").write_text((ROOT / "specs" / "lenet5.yaml").read_text())
    monkeypatch.chdir(tmp_path)
    assert cli.main(["compile", "-o", "out", "a/net.yaml", "./a/net.yaml"]) == 0
    out = capsys.readouterr().out
    assert out.count("wrote") == 1
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["net.dot", "net.py", "net.svg"]
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "net.yaml").write_text("x")
    assert cli.main(["compile", "-o", "out", "a/net.yaml", "b/net.yaml"]) == 2
    assert "would both write net.*" in capsys.readouterr().err


def test_a_directory_at_an_output_path_writes_nothing(tmp_path, capsys):
    out = tmp_path / "out"
    (out / "lenet5.svg").mkdir(parents=True)
    assert cli.main(["compile", "-o", str(out), str(ROOT / "specs" / "lenet5.yaml")]) == 2
    assert f"cannot write {out / 'lenet5.svg'}: it is a directory" in capsys.readouterr().err
    assert [p.name for p in out.iterdir()] == ["lenet5.svg"]


@pytest.mark.parametrize("hard_links", [True, False], ids=["hard-links", "no-hard-links"])
def test_a_failed_write_restores_the_outputs_written_before_it(tmp_path, monkeypatch, hard_links):
    """Any I/O failure in the middle (here the third replace) leaves the old set, on a
    file system with hard links or without (the old files are then copied aside)."""
    out = tmp_path / "out"
    out.mkdir()
    (out / "lenet5.py").write_text("# old py\n")
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    (out / "lenet5.dot").symlink_to(victim)
    if not hard_links:

        def no_link(*args, **kwargs):
            raise OSError(1, "Operation not permitted")

        monkeypatch.setattr(os, "link", no_link)
    replaced = []
    real_replace = os.replace

    def failing_replace(src, dst):
        if str(src).endswith(".tmp"):
            replaced.append(dst)
            if len(replaced) == 3:
                raise OSError(28, "No space left on device")
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", failing_replace)
    assert cli.main(["compile", "-o", str(out), str(ROOT / "specs" / "lenet5.yaml")]) == 2
    assert len(replaced) == 3
    assert sorted(p.name for p in out.iterdir()) == ["lenet5.dot", "lenet5.py"]
    assert (out / "lenet5.py").read_text() == "# old py\n"
    assert (out / "lenet5.dot").readlink() == victim
    assert victim.read_text() == "precious\n"


def test_no_temporary_files_are_left_behind(tmp_path):
    out = tmp_path / "out"
    assert cli.main(["compile", "-o", str(out), str(ROOT / "specs" / "lenet5.yaml")]) == 0
    assert cli.main(["compile", "-o", str(out), str(ROOT / "specs" / "lenet5.yaml")]) == 0
    (out / "lenet5.py").write_text("# stale\n")
    assert cli.main(["compile", "-o", str(out), str(ROOT / "specs" / "lenet5.yaml")]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["lenet5.dot", "lenet5.py", "lenet5.svg"]
    assert not re.search(r"stale", (out / "lenet5.py").read_text())
