"""The command line: exit codes, outputs, and what compile writes (and does not write)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from cnnspec.cli import main

ROOT = Path(__file__).resolve().parents[2]
SEEDS = ["lenet5", "alexnet", "vgg16", "lenet_code611"]

BROKEN = """\
name: Broken
input: {maps: 1, size: 32x32}
layers:
  - {type: conv, maps: 6, size: 27x27, kernel: 5, padding: 0}
"""


def run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "cnnspec", *args], capture_output=True, text=True, cwd=cwd
    )


@pytest.fixture
def chdir_root(monkeypatch):
    monkeypatch.chdir(ROOT)


def test_check_prints_one_line_per_spec(chdir_root, capsys):
    assert main(["check", *(f"specs/{s}.yaml" for s in SEEDS)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        "specs/lenet5.yaml: ok: LeNet5, 61,026 params, 422,358 MACs, 1×32×32 → 2",
        "specs/alexnet.yaml: ok: AlexNet, 62,378,344 params, 1,135,915,368 MACs, 3×227×227 → 1000",
        "specs/vgg16.yaml: ok: VGG16, 138,357,544 params, 15,483,821,032 MACs, 3×224×224 → 1000",
        "specs/lenet_code611.yaml: ok: LeNet, 46,038,242 params, 249,058,946 MACs, 3×224×224 → 2",
    ]


def test_check_reports_errors_with_exit_1(tmp_path, capsys):
    spec = tmp_path / "broken.yaml"
    spec.write_text(BROKEN)
    assert main(["check", str(spec)]) == 1
    err = capsys.readouterr().err
    assert err == (
        f"{spec}:4:33: error: layer 1 'conv1' (conv): "
        "(32 − 5 + 2·0)/1 + 1 = 28, but the row declares 27×27 [size-mismatch]\n"
    )


def test_missing_file_is_a_usage_error(capsys):
    assert main(["check", "no/such/spec.yaml"]) == 2
    assert "cannot read no/such/spec.yaml" in capsys.readouterr().err


def test_directory_is_a_usage_error(tmp_path, capsys):
    assert main(["check", str(tmp_path)]) == 2


def test_bad_option_exits_2():
    assert run("check", "--bogus", "specs/lenet5.yaml").returncode == 2
    assert run().returncode == 2


def test_summary_json_gives_the_design_figures():
    out = run("summary", "--format", "json", "specs/vgg16.yaml")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["name"] == "VGG16"
    assert data["input_shape"] == [3, 224, 224]
    assert data["output_shape"] == [1000]
    assert data["params"] == 138_357_544
    assert data["macs"] == 15_483_821_032
    first = data["layers"][0]
    assert first == {
        "index": 1,
        "name": "conv1",
        "type": "conv",
        "module": "Conv2d",
        "path": "features.0",
        "inputs": ["input"],
        "depth": 0,
        "input_shape": [3, 224, 224],
        "output_shape": [64, 224, 224],
        "kernel": [3, 3],
        "stride": [1, 1],
        "padding": [1, 1],
        "padding_inferred": True,
        "params": 1792,
        "macs": 89_915_392,
    }
    modules = [layer for layer in data["layers"] if layer["path"] is not None]
    assert [layer["index"] for layer in modules] == list(range(1, 40))
    # the flatten is a node of the graph too, without a module: it reads the last pool
    (flat,) = [layer for layer in data["layers"] if layer["path"] is None]
    assert (flat["type"], flat["inputs"], flat["output_shape"]) == (
        "flatten",
        ["maxpool5"],
        [25088],
    )
    assert sum(layer["params"] for layer in data["layers"]) == data["params"]


def test_summary_markdown_is_the_books_table():
    out = run("summary", "--format", "markdown", "specs/lenet5.yaml")
    assert out.returncode == 0
    lines = out.stdout.splitlines()
    header = lines[2]
    for column in ("Type", "Feature maps", "Size", "Kernel size", "Stride", "Activation", "Params"):
        assert column in header
    assert "| image | input | 1 | 32×32 |" in out.stdout
    assert "| conv1 | conv | 6 | 28×28 | 5×5 | 1 | 0 (inferred) | ReLU | 156 |" in lines
    assert "| fc3 | fc | - | 2 | - | - | - | Softmax | 170 |" in lines


def test_summary_text_has_totals():
    out = run("summary", "specs/alexnet.yaml")
    assert out.returncode == 0
    assert "Params: 62,378,344" in out.stdout
    assert "flatten               256×6×6 → 9216" in out.stdout


def test_summary_of_a_broken_spec_prints_nothing_on_stdout(tmp_path):
    spec = tmp_path / "broken.yaml"
    spec.write_text(BROKEN)
    out = run("summary", "--format", "json", str(spec))
    assert out.returncode == 1
    assert out.stdout == ""
    assert "[size-mismatch]" in out.stderr
    assert "Traceback" not in out.stderr


def test_strict_turns_warnings_into_errors(tmp_path):
    spec = tmp_path / "inexact.yaml"
    spec.write_text(
        "name: Net\ninput: {maps: 3, size: 224x224}\n"
        "layers:\n  - {type: conv, maps: 8, kernel: 11, stride: 4}\n"
    )
    loose = run("check", str(spec))
    assert loose.returncode == 0
    assert "warning:" in loose.stderr and "[inexact]" in loose.stderr
    strict = run("check", "--strict", str(spec))
    assert strict.returncode == 1
    assert "error:" in strict.stderr and "(--strict)" in strict.stderr


def test_strict_passes_a_spec_that_drops_only_padding(tmp_path):
    """torchvision's AlexNet conv1: (224 − 11 + 2·2)/4 + 1 = 55.25, but what PyTorch
    drops is one column of the right padding; every input pixel reaches the output."""
    spec = tmp_path / "alexnet_conv1.yaml"
    spec.write_text(
        "name: Net\ninput: {maps: 3, size: 224x224}\n"
        "layers:\n  - {type: conv, maps: 8, kernel: 11, stride: 4, padding: 2}\n"
    )
    strict = run("check", "--strict", str(spec))
    assert (strict.returncode, strict.stderr) == (0, "")


def test_unreadable_file_exits_2(tmp_path):
    if os.geteuid() == 0:
        # root reads everything; a FIFO-free way to make an unreadable file is a dangling link
        link = tmp_path / "gone.yaml"
        link.symlink_to(tmp_path / "missing.yaml")
        assert run("check", str(link)).returncode == 2
    else:
        spec = tmp_path / "locked.yaml"
        spec.write_text(BROKEN)
        spec.chmod(0)
        assert run("check", str(spec)).returncode == 2


GOOD = (ROOT / "specs" / "lenet5.yaml").read_text()


def _specs(tmp_path: Path) -> tuple[Path, Path]:
    good, bad = tmp_path / "good.yaml", tmp_path / "bad.yaml"
    good.write_text(GOOD)
    bad.write_text(BROKEN)
    return good, bad


def test_compile_writes_py_dot_svg(tmp_path, capsys):
    good, _ = _specs(tmp_path)
    out = tmp_path / "out"
    assert main(["compile", "-o", str(out), str(good)]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["good.dot", "good.py", "good.svg"]
    assert (out / "good.svg").read_bytes().lstrip().startswith((b"<?xml", b"<svg"))
    ast_ok = compile((out / "good.py").read_text(), "good.py", "exec")
    assert ast_ok is not None
    assert main(["compile", "-o", str(out), str(good)]) == 0
    assert "up to date" in capsys.readouterr().out


def test_compile_png_format(tmp_path):
    good, _ = _specs(tmp_path)
    assert main(["compile", "-o", str(tmp_path), "--format", "png", str(good)]) == 0
    png = (tmp_path / "good.png").read_bytes()
    assert png.startswith(b"\x89PNG")
    # 192 dpi: the image is 192/72 pixels per point of the SVG's page (Graphviz's own
    # default, 96 dpi, would give 4/3)
    width_px = int.from_bytes(png[16:20], "big")  # the IHDR chunk's width
    svg = (tmp_path / "good.svg").read_text()
    width_pt = float(re.search(r'<svg width="([0-9.]+)pt"', svg).group(1))
    assert width_px / width_pt == pytest.approx(192 / 72, rel=0.03)


def test_a_failing_spec_writes_nothing_and_leaves_the_others(tmp_path):
    good, bad = _specs(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    (out / "bad.py").write_text("# previous output\n")
    assert main(["compile", "-o", str(out), str(bad), str(good)]) == 1
    assert (out / "bad.py").read_text() == "# previous output\n"
    assert not (out / "bad.dot").exists()
    assert (out / "good.py").exists()  # the valid spec still compiled
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp")]


def test_check_mode_never_writes_and_reports_drift(tmp_path, capsys):
    good, _ = _specs(tmp_path)
    out = tmp_path / "out"
    assert main(["compile", "--check", "-o", str(out), str(good)]) == 1
    assert not out.exists()
    assert f"would change: {out / 'good.py'}" in capsys.readouterr().out
    assert main(["compile", "-o", str(out), str(good)]) == 0
    before = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
    assert main(["compile", "--check", "-o", str(out), str(good)]) == 0
    (out / "good.py").write_text("# edited by hand\n")
    assert main(["compile", "--check", "-o", str(out), str(good)]) == 1
    assert (out / "good.py").read_text() == "# edited by hand\n"
    assert {p.name for p in out.iterdir()} == set(before)


def test_symlink_at_an_output_path_is_replaced_not_followed(tmp_path):
    good, _ = _specs(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    (out / "good.py").symlink_to(victim)
    assert main(["compile", "-o", str(out), str(good)]) == 0
    assert victim.read_text() == "precious\n"
    assert not (out / "good.py").is_symlink()
    assert "class LeNet5(nn.Module)" in (out / "good.py").read_text()


def test_output_names_come_from_validated_stems(tmp_path, capsys):
    odd = tmp_path / "-rf ;x.yaml"
    odd.write_text(GOOD)
    assert main(["compile", "-o", str(tmp_path / "out"), str(odd)]) == 2
    assert "file name must be" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_output_that_is_a_file_is_a_usage_error(tmp_path):
    good, _ = _specs(tmp_path)
    blocker = tmp_path / "out"
    blocker.write_text("")
    assert main(["compile", "-o", str(blocker), str(good)]) == 2


def test_compile_check_on_the_committed_outputs_passes():
    out = run("compile", "--check", *(f"specs/{s}.yaml" for s in SEEDS))
    assert out.returncode == 0, out.stdout + out.stderr
