"""The names a spec gives (the network's class, a layer's attribute) against the names the
generated module itself uses: every name that checks builds and runs, and every refusal
gives a true reason."""

from __future__ import annotations

import ast
import builtins
import keyword
import symtable
from pathlib import Path

import pytest
import torch
from spec_text import spec

import cnnspec
from cnnspec.backends.torch.render import HELPERS as HELPER_TABLE
from cnnspec.diagnostics import SpecError
from cnnspec.spec.values import GENERATED_GLOBALS, RESERVED_NAMES

#: the classes and functions a generated module defines besides its own
HELPER_NAMES = {name for _, name, _ in HELPER_TABLE}
ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """Hundreds of tiny models: torch's threads only cost here."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


#: Every name that might collide with something the generated file uses: Python's
#: builtins and keywords, nn.Module's members, and the names the file itself imports.
LOOKALIKES = sorted(
    {n for n in dir(builtins) if n.isidentifier()}
    | set(keyword.kwlist)
    | set(keyword.softkwlist)
    | {n for n in dir(torch.nn.Module) if not n.startswith("__")}
    | {"torch", "nn", "F", "Tensor", "self", "x", "features", "classifier", "Module"}
)


def _generated_globals(source: str) -> set[str]:
    """The globals the generated module's methods look up when they run."""
    table = symtable.symtable(source, "<generated>", "exec")
    names = set()
    for cls in table.get_children():
        for method in cls.get_children():
            names |= {
                s.get_name() for s in method.get_symbols() if s.is_global() and s.is_referenced()
            }
    return names


#: a block whose expressions call every expression function, and a stochastic depth row
EVERY_FUNCTION = """\
name: Functions
input: {maps: 3, size: 8x8}
blocks:
  Unit:
    params: {c: int, w: {type: float, default: 1.0}}
    layers:
      - {type: conv, maps: "make_divisible($c * $w, 4)", kernel: 1}
      - {type: conv, maps: "max(ceil($c * $w), floor($c * $w), round($c * $w), 1)", kernel: 1}
      - {type: conv, maps: "min($c, 64)", kernel: 1}
      - {type: stochastic_depth, p: 0.1}
layers:
  - {type: Unit, c: 8, w: 1.5}
"""


def test_generated_globals_are_the_ones_the_generated_code_uses():
    """GENERATED_GLOBALS, the class names the schema refuses, is derived from the source
    of modules using every layer kind in both layouts: a new global in a template fails
    here until the schema knows it."""
    every_kind = spec(
        "{type: conv, maps: 4, kernel: 2, padding: same, activation: relu}",
        "{type: batchnorm}",
        "{type: maxpool, kernel: 2, stride: 1}",
        "{type: avgpool, kernel: 2, stride: 1, ceil_mode: true}",
        "{type: adaptive_avgpool, size: 2}",
        "{type: adaptive_maxpool, size: 2}",
        "{type: leaky_relu}",
        "{type: flatten}",
        "{type: dropout}",
        "{type: fc, size: 3, activation: tanh}",
        "{type: batchnorm}",
        "{type: sigmoid}",
        "{type: fc, size: 2, activation: softmax}",
    ).replace(
        "  - {type: batchnorm}\n",
        "  - {type: layernorm}\n  - {type: permute, dims: [0, 2, 3, 1]}\n"
        "  - {type: permute, dims: [0, 3, 1, 2]}\n  - {type: batchnorm}\n",
        1,
    )
    sources = [
        cnnspec.torch_source(cnnspec.loads(every_kind.replace("name: Net\n", f"name: Net\n{lay}")))
        for lay in ("", "layout: flat\n")
    ]
    sources.append(cnnspec.torch_source(cnnspec.loads(EVERY_FUNCTION)))
    specs = sorted(ROOT.glob("specs/*.yaml")) + sorted(ROOT.glob("specs/zoo/*.yaml"))
    sources += [cnnspec.torch_source(cnnspec.load(p)) for p in specs]
    used = set().union(*map(_generated_globals, sources))
    # a graph network's own block classes are globals too; the schema refuses a block
    # that would take one of the others' names (or a helper class's: StochasticDepth)
    defined = {
        node.name
        for source in sources
        for node in ast.parse(source).body
        if isinstance(node, ast.ClassDef) and node.name not in HELPER_NAMES
    }
    assert used - defined == set(GENERATED_GLOBALS)


@pytest.mark.parametrize("layout", ["sequential", "flat"])
def test_every_class_name_that_checks_builds_and_runs(layout):
    """`name: super` checked, then recursed forever in super().__init__()."""
    refused = []
    for name in LOOKALIKES:
        text = spec(
            "{type: conv, maps: 2, kernel: 3}",
            "{type: fc, size: 2}",
            head=f"name: '{name}'\nlayout: {layout}\n",
        )
        try:
            net = cnnspec.loads(text)
        except SpecError as exc:
            [d] = exc.diagnostics
            refused.append(name)
            assert _true_reason(name, d.message), (name, d.message)
            continue
        model = cnnspec.build(net)
        assert type(model).__name__ == name
        assert model(torch.zeros(1, 3, 5, 5)).shape == (1, 2)
    assert {"super", "torch", "nn"} <= set(refused)
    assert not {"F", "Tensor", "self", "x", "Module"} & set(refused)


def _true_reason(name: str, message: str) -> bool:
    if "would replace" in message:
        return name in GENERATED_GLOBALS
    if "is reserved: `from: input` reads the scope's input" in message:
        return name == "input"
    if "is a Python keyword" in message:
        return keyword.iskeyword(name) or keyword.issoftkeyword(name)
    if "starts with '_'" in message:
        return name.startswith("_")
    if "is longer" in message or "characters long" in message:
        return len(name) > 40
    return False


@pytest.mark.parametrize("layout", ["sequential", "flat"])
def test_every_layer_name_that_checks_builds_and_runs(layout):
    """`nn`, `torch`, `self`, `features`, `classifier` were refused as "already an
    attribute of every nn.Module" — untrue. Every refusal must now be true, and every
    name let through must build and run."""
    accepted = []
    module = torch.nn.Module()
    for name in LOOKALIKES:
        text = spec(
            f"{{type: conv, maps: 2, kernel: 3, name: '{name}'}}",
            "{type: fc, size: 2}",
            head=f"name: Net\nlayout: {layout}\n",
        )
        try:
            net = cnnspec.loads(text)
        except SpecError as exc:
            [d] = exc.diagnostics
            if "already an attribute of every nn.Module" in d.message:
                assert hasattr(module, name), name
                assert name in RESERVED_NAMES
            else:
                assert _true_reason(name, d.message), (name, d.message)
            continue
        accepted.append(name)
        model = cnnspec.build(net)
        assert model(torch.zeros(1, 3, 5, 5)).shape == (1, 2)
        if layout == "flat":
            assert isinstance(getattr(model, name), torch.nn.Conv2d)
    assert {"nn", "torch", "self", "features", "classifier", "super", "x"} <= set(accepted)
