"""Outputs under faults: signals at each write step, a killed run repaired by the next,
concurrent writers of two versions, fake ``dot`` binaries that hang, fail, crash or
print nothing, and ``--check`` that judges whole files. tests/faults.py holds the
machinery; run it with larger numbers on demand (its docstring says how)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import faults
import pytest

from cnnspec import cli, outputs

ROOT = Path(__file__).resolve().parents[2]
STEM = faults.STEM


@pytest.fixture(scope="module")
def work():
    with tempfile.TemporaryDirectory(prefix="cnnspec-faults-") as tmp:
        path = Path(tmp)
        old, new = faults.make_versions(path)
        yield path, old, new


def _compile(work_dir: Path, *args: str) -> int:
    here = os.getcwd()
    os.chdir(work_dir)
    try:
        return cli.main(["compile", *args])
    finally:
        os.chdir(here)


def _trace(monkeypatch, target: int, sig: int) -> list[str]:
    """Count every write step (as the child of tests/faults.py does); at step ``target``
    send ``sig`` to this process. The names of the steps, in order."""
    import tempfile as tf

    steps: list[str] = []
    for module_name, name in faults.STEPS:
        module = {"os": os, "tempfile": tf}[module_name]
        real = getattr(module, name)

        def step(*args, _real=real, _name=name, **kwargs):
            steps.append(f"{_name}({', '.join(os.path.basename(str(a)) for a in args[:2])})")
            if len(steps) == target:
                os.kill(os.getpid(), sig)
                # until another thread has taken it (the command's thread holds it): a
                # signal still on its way after the command would be a test's race
                while sig in signal.sigpending() and threading.active_count() > 1:
                    time.sleep(0)
            return _real(*args, **kwargs)

        monkeypatch.setattr(module, name, step)
    return steps


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_at_any_write_step_leaves_one_whole_set(work, monkeypatch, sig):
    """In this process, with the handlers the command installs: the signal at each step
    of writing the new set over the old ends the command (130, 143) with the old set or
    the whole new one, and no temporary file. An idle second thread is running, so the
    kernel hands it the signal the writing thread holds."""
    work_dir, old, new = work
    out = work_dir / "out"
    faults.seed(out, old)
    with monkeypatch.context() as m:
        steps = _trace(m, 0, sig)
        assert _compile(work_dir, "-o", str(out), str(new.spec)) == 0
    count = len(steps)
    assert count >= 20, steps  # three files staged, set aside, journalled, renamed
    # both signals end the command, as run() has them; none reaches pytest's own handler
    before = {s: signal.signal(s, cli._ends_command) for s in (signal.SIGINT, signal.SIGTERM)}
    seen = []
    idle = threading.Event()
    other = threading.Thread(target=idle.wait, daemon=True)
    other.start()
    try:
        for target in range(1, count + 1):
            faults.seed(out, old)
            with monkeypatch.context() as m:
                _trace(m, target, sig)
                code = _compile(work_dir, "-o", str(out), str(new.spec))
            state, temps = faults.judge(out, old, new)
            assert (code, temps) == (128 + sig, []), (target, steps[target - 1])
            assert state in ("old", "new"), (target, steps[target - 1])
            # the hold is undone whatever raced it: nothing stays blocked or swapped (a
            # mask left blocked is inherited by every child, a dot included)
            blocked = signal.pthread_sigmask(signal.SIG_BLOCK, ())
            assert not blocked & {signal.SIGINT, signal.SIGTERM}, (target, blocked)
            assert signal.getsignal(sig) is cli._ends_command, target
            seen.append(state)
    finally:
        idle.set()
        other.join()
        _drain()
        for s, handler in before.items():
            signal.signal(s, handler)
    assert seen.count("old") > count // 2  # rolled back wherever the set was not yet whole


def _drain() -> None:
    """Let a signal still on its way (sent to the process, handled by the thread that
    first unblocks it) arrive while the command's handler is in place, not later."""
    deadline = time.monotonic() + 0.2
    while time.monotonic() < deadline:
        try:
            time.sleep(0.01)
        except outputs.Interrupted:
            pass


def test_sigkill_mid_rename_is_repaired_by_the_next_compile(work, monkeypatch):
    """A SIGKILL just after the first target is renamed leaves a mixed set and
    temporaries; the next compile into the folder (of another spec, even) restores the
    old set first and removes every temporary."""
    work_dir, old, new = work
    out = work_dir / "out"
    faults.seed(out, old)
    with monkeypatch.context() as m:
        steps = _trace(m, 0, signal.SIGKILL)
        assert _compile(work_dir, "-o", str(out), str(new.spec)) == 0
    first = next(
        i for i, s in enumerate(steps, 1) if s.startswith("replace(") and s.endswith("net.py)")
    )
    killed = [faults.inject(work_dir, old, new, "SIGKILL", first, "after")]
    killed.append(faults.inject(work_dir, old, new, "SIGKILL", len(steps) - 1, "before"))
    assert [(k.exit_status, k.right_after) for k in killed] == [(-9, "mixed"), (-9, "new")]
    assert all(k.temps_after > 0 for k in killed)
    assert [(k.recovered, k.temps_recovered) for k in killed] == [("old", 0), ("new", 0)]
    # the same through the command: a compile of another spec repairs this one
    faults.seed(out, old)
    assert faults.child(work_dir, first, "after", "SIGKILL", new.spec, out).returncode == -9
    other = work_dir / "other.yaml"
    other.write_text((ROOT / "specs" / "lenet5.yaml").read_text())
    assert _compile(work_dir, "-o", str(out), "other.yaml", "--no-svg") == 0
    assert faults.judge(out, old, new) == ("old", [])


def test_check_reports_a_half_written_set(work, capsys):
    work_dir, old, new = work
    out = work_dir / "out"
    faults.seed(out, old)
    (out / f".{STEM}.cnnspec-journal").write_text('{"cnnspec-journal": 1, "files": []}')
    assert _compile(work_dir, "--check", "-o", str(out), str(old.spec)) == 1
    assert "would repair:" in capsys.readouterr().out
    assert _compile(work_dir, "-o", str(out), str(old.spec)) == 0
    assert faults.judge(out, old, new) == ("old", [])


def test_an_edited_journal_touches_nothing_outside_its_set(work, capsys):
    work_dir, old, new = work
    out = work_dir / "out"
    faults.seed(out, old)
    victim = work_dir / "victim.txt"
    victim.write_text("precious\n")
    (out / f".{STEM}.cnnspec-journal").write_text(
        '{"cnnspec-journal": 1, "files": [{"target": "../victim.txt", '
        '"staged": ".x.cnnspec-aaaaaaaa.tmp", "backup": null}]}'
    )
    assert _compile(work_dir, "-o", str(out), str(new.spec)) == 2
    err = capsys.readouterr().err
    assert "not a journal cnnspec wrote" in err and f".{STEM}.cnnspec-journal" in err
    assert victim.read_text() == "precious\n"
    assert faults.judge(out, old, new)[0] == "old"


def test_concurrent_writers_of_two_versions_leave_one_whole_set(work):
    """Two rounds of four compiles at once (tests/faults.py runs 20 rounds of 8)."""
    work_dir, old, new = work
    rounds = [faults.writers(work_dir, old, new, 4) for _ in range(2)]
    for r in rounds:
        assert r.exit_statuses == (0, 0, 0, 0)
        assert (r.final in ("old", "new"), r.temps) == (True, 0)


# --------------------------------------------------------------------------- fake dot

FAKE_DOTS = {
    "hang": 'echo $$ > "$FAKE_DOT_PID"\nexec sleep 60\n',
    "fail": "cat >/dev/null\necho 'Error: <stdin>: syntax error in line 1' >&2\nexit 1\n",
    "crash": "cat >/dev/null\nkill -SEGV $$\n",
    "nothing": "cat >/dev/null\nexit 0\n",
    "half": 'cat >/dev/null\nprintf \'<?xml version="1.0"?>\\n<svg width="10pt">\\n<g>\'\n',
}
REASONS = {
    "hang": "dot -Tsvg took longer than 0.5 s",
    "fail": "dot -Tsvg failed (exit status 1): Error: <stdin>: syntax error in line 1",
    "crash": "dot -Tsvg crashed (SIGSEGV)",
    "nothing": "dot -Tsvg exited 0 but printed nothing",
    "half": "dot -Tsvg printed no complete SVG image",
}


def _fake_dot(folder: Path, kind: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    exe = folder / "dot"
    exe.write_text("#!/bin/sh\n" + FAKE_DOTS[kind])
    exe.chmod(0o755)
    return folder


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state != "Z"


@pytest.mark.parametrize("kind", sorted(FAKE_DOTS))
def test_a_failing_dot_fails_its_spec_only(work, tmp_path, monkeypatch, capsys, kind):
    """The spec whose SVG cannot be drawn writes nothing (its old set stays) and is
    named with the reason; the next spec (its SVG current, its .py stale) is written;
    the exit status is 3. A hanging dot is ended with its time-out."""
    work_dir, old, new = work
    out = tmp_path / "out"
    faults.seed(out, old)
    other = work_dir / "other" / f"{STEM}2.yaml"
    other.parent.mkdir(exist_ok=True)
    other.write_text((ROOT / "specs" / "lenet5.yaml").read_text())
    assert _compile(work_dir, "-o", str(tmp_path / "ref"), str(other)) == 0
    (out / f"{STEM}2.svg").write_bytes((tmp_path / "ref" / f"{STEM}2.svg").read_bytes())
    capsys.readouterr()
    monkeypatch.setenv(
        "PATH", f"{_fake_dot(tmp_path / 'bin', kind)}{os.pathsep}{os.environ['PATH']}"
    )
    monkeypatch.setenv("FAKE_DOT_PID", str(tmp_path / "pid"))
    monkeypatch.setenv("CNNSPEC_DOT_TIMEOUT", "0.5")
    started = time.monotonic()
    assert _compile(work_dir, "-o", str(out), str(new.spec), str(other)) == 3
    assert time.monotonic() - started < 30
    io = capsys.readouterr()
    assert io.err.splitlines()[0].startswith(
        f"cnnspec: error: {new.spec}: cannot render the diagram: "
    )
    assert REASONS[kind] in io.err
    assert f"nothing of {out}/{STEM}.* was written (pass --no-svg" in io.err
    assert f"{other}: wrote {out / (STEM + '2.py')}, {out / (STEM + '2.dot')}\n" in io.out
    assert faults.judge(out, old, new) == ("old", [])
    if kind == "hang":
        assert not _alive(int((tmp_path / "pid").read_text()))
    # with --no-svg the same spec writes its .py and .dot and never runs dot
    assert _compile(work_dir, "-o", str(out), str(new.spec), "--no-svg") == 0
    assert (out / f"{STEM}.py").read_bytes() == new.files[f"{STEM}.py"]


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "SIGKILL"])
def test_dot_ends_with_cnnspec(work, tmp_path, sig):
    """cnnspec killed while dot hangs: dot goes too (its session is ended on SIGTERM;
    on Linux the kernel kills it when cnnspec dies by SIGKILL)."""
    work_dir, old, new = work
    pid_file = tmp_path / "pid"
    env = {
        **faults.env(),
        "PATH": f"{_fake_dot(tmp_path / 'bin', 'hang')}{os.pathsep}{os.environ['PATH']}",
        "FAKE_DOT_PID": str(pid_file),
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "cnnspec", "compile", "-o", str(tmp_path / "out"), str(new.spec)],
        cwd=work_dir,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    while not (pid_file.exists() and pid_file.read_text().strip()):
        assert time.monotonic() < deadline and proc.poll() is None, "dot never started"
        time.sleep(0.05)
    dot_pid = int(pid_file.read_text())
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == (143 if sig == signal.SIGTERM else -9)
    assert "Traceback" not in err
    if sig == signal.SIGTERM:
        assert err == "cnnspec: interrupted by SIGTERM\n"
    deadline = time.monotonic() + 10
    while _alive(dot_pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(dot_pid)
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())


# --------------------------------------------------------------------------- --check


@pytest.mark.parametrize("damage", ["truncated", "empty", "edited", "missing", "old-stamp"])
def test_check_judges_the_whole_svg_with_or_without_dot(
    work, tmp_path, monkeypatch, capsys, damage
):
    work_dir, old, new = work
    out = tmp_path / "out"
    faults.seed(out, new)
    svg = out / f"{STEM}.svg"
    monkeypatch.setenv("PATH", str(tmp_path / "no-dot"))  # no Graphviz at all
    assert _compile(work_dir, "--check", "-o", str(out), str(new.spec)) == 0
    data = svg.read_bytes()
    if damage == "truncated":
        svg.write_bytes(data[: len(data) // 2])
    elif damage == "empty":
        svg.write_bytes(b"")
    elif damage == "edited":
        svg.write_bytes(data.replace(b"LeNet5b", b"LeNet5c", 1))
    elif damage == "missing":
        svg.unlink()
    else:  # the stamp of earlier versions: a DOT digest and no digest of the file
        svg.write_bytes(data.replace(b"; content sha256 ", b" ").replace(b"-->", b"  -->", 1))
    capsys.readouterr()
    assert _compile(work_dir, "--check", "-o", str(out), str(new.spec)) == 1
    assert capsys.readouterr().out == f"would change: {svg}\n"
    # without dot, a plain compile cannot repair it: it says so, and writes nothing
    assert _compile(work_dir, "-o", str(out), str(new.spec)) == 3
    assert "Graphviz's `dot` was not found" in capsys.readouterr().err
    monkeypatch.undo()
    assert _compile(work_dir, "-o", str(out), str(new.spec)) == 0  # with dot: repaired
    assert capsys.readouterr().out.endswith(f"wrote {svg}\n")
    assert faults.judge(out, old, new) == ("new", [])


def test_an_up_to_date_svg_needs_no_dot(work, tmp_path, monkeypatch, capsys):
    """The SVG in place is whole and drawn from this DOT: compile writes the stale .py
    without running dot (none is installed)."""
    work_dir, old, new = work
    out = tmp_path / "out"
    faults.seed(out, new)
    (out / f"{STEM}.py").write_text("# stale\n")
    monkeypatch.setenv("PATH", str(tmp_path / "no-dot"))
    assert _compile(work_dir, "-o", str(out), str(new.spec)) == 0
    assert capsys.readouterr().out == f"{new.spec}: wrote {out / (STEM + '.py')}\n"
    assert faults.judge(out, old, new) == ("new", [])


# --------------------------------------------------------------------------- time-out


def test_the_dot_timeout_flag_and_variable(work, tmp_path, monkeypatch, capsys):
    work_dir, old, new = work
    monkeypatch.setenv("CNNSPEC_DOT_TIMEOUT", "soon")
    assert _compile(work_dir, "-o", str(tmp_path), str(new.spec)) == 2
    assert capsys.readouterr().err == (
        "cnnspec: error: CNNSPEC_DOT_TIMEOUT='soon': expected seconds (0 for no limit): 'soon'\n"
    )
    with pytest.raises(SystemExit) as exit_info:
        _compile(work_dir, "-o", str(tmp_path), str(new.spec), "--dot-timeout", "-1")
    assert exit_info.value.code == 2
    assert "expected seconds (0 for no limit): '-1'" in capsys.readouterr().err
    # the flag wins over the variable: a dot that hangs is stopped after 0.5 s
    monkeypatch.setenv("CNNSPEC_DOT_TIMEOUT", "600")
    monkeypatch.setenv(
        "PATH", f"{_fake_dot(tmp_path / 'bin', 'hang')}{os.pathsep}{os.environ['PATH']}"
    )
    monkeypatch.setenv("FAKE_DOT_PID", str(tmp_path / "pid"))
    started = time.monotonic()
    args = ("-o", str(tmp_path / "out"), str(new.spec), "--dot-timeout", "0.5")
    assert _compile(work_dir, *args) == 3
    assert time.monotonic() - started < 30
    assert "took longer than 0.5 s" in capsys.readouterr().err
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())
    assert outputs.journals(tmp_path / "out") == []
