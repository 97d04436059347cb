"""What the command line prints, and what it does when it cannot print: every line
escaped, a closed or broken stream no traceback and no change to the exit status; and
every failure of the public loaders a SpecError with a located diagnostic."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import cnnspec
from cnnspec.cli import main

ROOT = Path(__file__).resolve().parents[2]
GOOD = ROOT / "specs" / "lenet5.yaml"
BAD = """\
name: Broken
input: {maps: 1, size: 32x32}
layers:
  - {type: conv, maps: 6, size: 27x27, kernel: 5, padding: 0}
"""


def cli(*args: str, stdout=subprocess.PIPE, stderr=subprocess.PIPE) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "cnnspec", *args],
        stdout=stdout,
        stderr=stderr,
        env=env,
        cwd=ROOT,
        timeout=120,
    )


def broken_pipe(*args: str) -> subprocess.CompletedProcess:
    """``cnnspec ARGS | head -0``: the reader is gone before the first byte."""
    read, write = os.pipe()
    os.close(read)
    try:
        return cli(*args, stdout=write)
    finally:
        os.close(write)


@pytest.mark.parametrize("args", [("check",), ("summary",), ("compile", "--check")])
def test_a_closed_stdout_keeps_the_exit_status(args):
    proc = cli(*args, str(GOOD), stdout=subprocess.DEVNULL)
    assert proc.returncode == 0  # the same status with a stdout to write to
    closed = subprocess.run(  # `cnnspec ARGS >&-`: started with no stdout at all
        ["sh", "-c", '"$0" -m cnnspec "$@" >&-', sys.executable, *args, str(GOOD)],
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        cwd=ROOT,
        timeout=120,
    )
    assert (closed.returncode, closed.stderr) == (0, b"")


def test_a_broken_pipe_checks_every_spec_and_keeps_the_status(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(BAD)
    many = [str(GOOD)] * 200 + [str(bad)]  # more output than a pipe's buffer
    proc = broken_pipe("check", *many)
    assert proc.returncode == 1  # the last spec's error still counts
    assert b"Traceback" not in proc.stderr
    assert b"[size-mismatch]" in proc.stderr
    proc = broken_pipe("summary", str(ROOT / "specs" / "vgg16.yaml"))
    assert (proc.returncode, proc.stderr) == (0, b"")


def test_a_stdout_closed_under_it_keeps_the_exit_status():
    """fd 1 closed after Python has opened its stdout on it: every write fails (EBADF)."""
    code = "import os, runpy, sys; os.close(1); sys.argv[0] = 'cnnspec'; " + (
        "runpy.run_module('cnnspec', run_name='__main__')"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, "check", str(GOOD)],
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        cwd=ROOT,
        timeout=120,
    )
    assert (proc.returncode, proc.stderr) == (0, b"")


def test_a_closed_stderr_keeps_the_exit_status(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(BAD)
    proc = cli("check", str(bad), stderr=subprocess.DEVNULL)
    assert (proc.returncode, proc.stdout) == (1, b"")


def test_text_from_a_spec_reaches_the_terminal_escaped(tmp_path, capsys):
    spec = tmp_path / "net\x1b[2J.yaml"
    spec.write_text(GOOD.read_text().replace("title: ", 'title: "\\e]0;owned\\a\\u202e" #', 1))
    assert main(["check", str(spec)]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "net\\x1b[2J.yaml: ok: LeNet5" in out
    assert main(["summary", str(spec)]) == 0
    out = capsys.readouterr().out
    assert out.isascii() or all(ch.isprintable() or ch == "\n" for ch in out)
    assert "\\x1b]0;owned\\x07\\u202e" in out
    bad = tmp_path / "bad.yaml"
    bad.write_text(BAD.replace("name: Broken", 'name: "B\\eroken"'))
    assert main(["check", str(bad)]) == 1
    err = capsys.readouterr().err
    assert "\x1b" not in err and "B\\x1broken" in err


def test_json_text_stays_json_when_escaped():
    import json

    from cnnspec.diagnostics import printable

    value = "a\x1bb\x85c\u202ed\U000e0001"
    text = json.dumps({"title": value}, ensure_ascii=False)
    shown = printable(text, json=True)
    assert shown.isprintable() and json.loads(shown) == {"title": value}


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("specs", "is a directory"),
        ("specs/\0net.yaml", "the path holds a NUL character"),
        ("specs/\ud800.yaml", "the path holds a character no file name can hold"),
        ("no/such.yaml", "no such file or directory"),
    ],
)
def test_load_raises_spec_file_error(path, reason, monkeypatch):
    monkeypatch.chdir(ROOT)
    with pytest.raises(cnnspec.SpecFileError) as info:
        cnnspec.load(path)
    exc = info.value
    assert isinstance(exc, cnnspec.SpecError) and isinstance(exc, OSError)
    [d] = exc.diagnostics
    assert (d.code, d.pos.line, d.pos.col) == ("unreadable", 1, 1)
    assert d.message.endswith(f": {reason}")
    assert str(exc).isprintable()


def test_a_fifo_is_a_spec_file_error(tmp_path):
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    with pytest.raises(cnnspec.SpecFileError, match=r"a FIFO \(named pipe\).*\[unreadable\]"):
        cnnspec.load(fifo)


def test_a_lone_surrogate_in_text_is_an_encoding_error():
    text = GOOD.read_text().replace("name: LeNet5", "name: LeNet5\ntitle: x\ud800")
    with pytest.raises(cnnspec.SpecError) as info:
        cnnspec.loads(text)
    [d] = info.value.diagnostics
    assert (d.code, d.pos.line, d.pos.col) == (
        "encoding",
        text.count("\n", 0, text.index("\ud800")) + 1,
        9,
    )
    assert "lone surrogate (U+D800)" in d.message


@pytest.mark.parametrize(
    ("encoding", "named"),
    [
        ("utf-16", "UTF-16 (little-endian)"),
        ("utf-32", "UTF-32 (little-endian)"),
    ],
)
def test_utf16_and_utf32_files_are_named(tmp_path, encoding, named):
    spec = tmp_path / "net.yaml"
    spec.write_bytes(GOOD.read_text().encode(encoding))
    with pytest.raises(cnnspec.SpecError) as info:
        cnnspec.load(spec)
    [d] = info.value.diagnostics
    assert d.code == "encoding"
    assert d.message.startswith(f"the file is {named} text, with its byte-order mark")


def test_big_endian_utf16_is_named():
    data = b"\xfe\xff" + GOOD.read_text().encode("utf-16-be")
    with pytest.raises(cnnspec.SpecError, match=r"UTF-16 \(big-endian\) text"):
        cnnspec.loads(data)
