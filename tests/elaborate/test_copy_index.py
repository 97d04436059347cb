"""``$copy``: the 0-based index of a copy of a repeated block row, in its params.

Each copy is bound with its own index: the IR's values, the generated source (a literal
repeat writes each copy's number, a computed one the loop's variable) and the module
built from that source agree, copy by copy."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import torch

import cnnspec
from cnnspec import expr as ex

ROOT = Path(__file__).resolve().parents[2]

SPEC = """
name: CopyNet
input: {maps: 3, size: 8x8}
blocks:
  Unit:
    params:
      p: {type: float, default: 0.0, description: "Drop probability."}
      k: {type: int, default: 0, description: "An index."}
    layers:
      - {name: conv, type: conv, maps: in_maps + $k, kernel: 3, padding: 1}
      - {name: sd, type: stochastic_depth, p: $p}
  Stage:
    params:
      n: {type: int, description: "Blocks."}
      off: {type: int, description: "The blocks before the stage."}
    layers:
      - {name: blocks, type: Unit, p: "0.1 * ($off + $copy) / 10", repeat: $n, names: "b{i}"}
      - {name: lit, type: Unit, p: "0.1 * ($off + $copy) / 10", k: $copy, repeat: 2}
      - {name: loop, type: Unit, p: "0.2 * $copy ** 2", k: 1, repeat: $n}
layers:
  - {name: s1, type: Stage, n: 3, off: 0}
  - {name: s2, type: Stage, n: 2, off: 3}
  - {name: top, type: Unit, p: "0.2 * (2 + $copy) / 40", k: $copy, repeat: 3}
"""


def _expected() -> dict[str, float]:
    """Each stochastic depth's p, by its module path, computed here."""
    out: dict[str, float] = {}
    for stage, n, off in (("s1", 3, 0), ("s2", 2, 3)):
        for c in range(n):
            out[f"{stage}.blocks.b{c + 1}.sd"] = 0.1 * (off + c) / 10
            out[f"{stage}.loop.{c}.sd"] = 0.2 * c**2
        for c in range(2):
            out[f"{stage}.lit.{c}.sd"] = 0.1 * (off + c) / 10
    for c in range(3):
        out[f"top.{c}.sd"] = 0.2 * (2 + c) / 40
    return out


def test_each_copy_takes_its_index_in_the_ir():
    net = cnnspec.loads(SPEC)
    got = {n.path: n.p for n in net.layers if n.kind == "stochastic_depth"}
    assert got == _expected()
    # the index reaches the block's own rows: `maps: in_maps + $k`, k = copy
    convs = {n.path: n.out_maps for n in net.layers if n.path.startswith("top.")}
    assert [convs[f"top.{c}.conv"] for c in range(3)] == [
        10,
        11,
        13,
    ]  # 10 maps in, each copy adds its index


def test_generated_source_writes_the_index_and_is_ruff_clean(tmp_path):
    source = cnnspec.torch_source(cnnspec.loads(SPEC))
    assert "p=0.1 * (off + 0) / 10" in source  # the first copy, its number put in
    assert "for copy in range(1, n):" in source  # the loop's variable
    assert 'blocks[f"b{copy + 1}"] = Unit(in_maps + 0, p=0.1 * (off + copy) / 10)' in source
    assert "p=0.2 * copy_2**2" in source  # a power as ruff formats it; a loop of its own
    path = tmp_path / "copy_net.py"
    path.write_text(source, encoding="utf-8")
    for args in (["check"], ["format", "--check", "--diff"]):
        done = subprocess.run(
            [sys.executable, "-m", "ruff", *args, "--no-cache", "--config", "pyproject.toml"]
            + [str(path)],
            capture_output=True,
            text=True,
            cwd=ROOT,
        )
        assert done.returncode == 0, done.stdout + done.stderr


def test_the_built_module_has_each_copys_probability():
    net = cnnspec.loads(SPEC)
    model = cnnspec.build(net)
    got = {name: m.p for name, m in model.named_modules() if type(m).__name__ == "StochasticDepth"}
    assert got == _expected()
    assert model(torch.randn(1, 3, 8, 8)).shape == (1, 13, 8, 8)


def test_powers_are_written_as_ruff_writes_them():
    cases = {
        "$a ** 2": "a**2",
        "$a ** $b ** -$c": "a**b**-c",
        "$w0 * $wm ** ($i + 0.5)": "w0 * wm ** (i + 0.5)",
        "($a ** 2) ** 3": "(a**2) ** 3",
        "-$a ** 2": "-(a**2)",
        "not $a ** 2": "not (a**2)",
        "(-2) ** $a": "(-2) ** a",
        "ceil($a) ** 2": "math.ceil(a) ** 2",
        "$a + $copy": "a + 3",
    }
    for text, source in cases.items():
        assert ex.parse(text).python(names={"copy": "3"}) == source
        done = subprocess.run(
            [sys.executable, "-m", "ruff", "format", "--line-length", "400", "-"],
            input=f"x = {source}\n",
            capture_output=True,
            text=True,
        )
        assert done.stdout == f"x = {source}\n", text
