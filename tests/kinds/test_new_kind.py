"""A new layer kind, added the way docs/contributing.md ("Adding a layer kind") says:
its row model, a shape rule (here a reused one), its record, registered, and its
macro added through the backend's hook. Every stage then handles it — check, the
summaries, the generated source, the built model and the diagram — and once it is
unregistered, the compiler is as it was.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

import pytest
import torch

import cnnspec
from cnnspec.backends import torch as backend
from cnnspec.backends.diagram import render_dot
from cnnspec.backends.summary import render_markdown, render_text, summary_json
from cnnspec.cli import main
from cnnspec.diagnostics import SpecError
from cnnspec.kinds import ELEMENTWISE, KINDS, LAYER_TYPES, RIDERS, register, unregister
from cnnspec.kinds.activation import activation_rule
from cnnspec.kinds.base import LayerKind
from cnnspec.kinds.row import RowModel
from cnnspec.spec.jsonschema import json_schema_text

ROOT = Path(__file__).resolve().parents[2]

# --------------------------------------------------------------------------- the recipe


# 1. the row model: the keys a row of the kind takes, and its `type` tag
class Hardtanh(RowModel):
    """Hardtanh: the input clamped to [-1, 1] (nn.Hardtanh)."""

    type: Literal["hardtanh"]


# 2. the shape rule: a clamp keeps its input's shape, as an activation does (reused);
#    it multiplies nothing, so the default MAC rule (none) stands
# 3. the record
HARDTANH = LayerKind(
    "hardtanh",
    Hardtanh,
    activation_rule,
    "clamp",  # a diagram family of its own
    "clamp",  # its legend entry
    elementwise=True,
    torch_class="Hardtanh",
    rider=True,
)
# 5. its constructor call: a macro named like the kind
MACRO = "{% macro hardtanh(n) %}nn.Hardtanh(){% endmacro %}"

CHAIN = """\
name: Clamped
input: {maps: 3, size: 16x16}
layers:
  - {type: conv, maps: 8, kernel: 3, padding: 1}
  - {type: hardtanh}
  - {type: maxpool, kernel: 2}
  - {type: fc, size: 10}
"""

GRAPH = """\
name: ClampedRes
input: {maps: 3, size: 16x16}
blocks:
  Unit:
    params: {width: int}
    layers:
      - {name: conv, type: conv, maps: $width, kernel: 3, padding: 1}
      - {name: clamp, type: hardtanh}
      - {name: sum, type: add, from: [clamp, input]}
layers:
  - {name: stem, type: conv, maps: 8, kernel: 3, padding: 1}
  - {name: unit, type: Unit, width: 8, repeat: 2}
  - {name: clamp, type: hardtanh}
  - {name: head, type: fc, size: 4}
"""


@pytest.fixture
def hardtanh() -> Iterator[LayerKind]:
    schema = json_schema_text()
    # 4. the registration
    register(HARDTANH)
    backend.add_macros(MACRO)
    try:
        yield HARDTANH
    finally:
        backend.remove_macros(MACRO)
        unregister("hardtanh")
    assert "hardtanh" not in KINDS and json_schema_text() == schema


# --------------------------------------------------------------------------- every stage


def test_the_registry_derives_its_sets(hardtanh):
    assert LAYER_TYPES[-1] == "hardtanh"
    assert "hardtanh" in ELEMENTWISE and "hardtanh" in RIDERS
    assert '"hardtanh"' in json_schema_text()


def test_check_and_the_summaries(hardtanh, tmp_path, capsys):
    net = cnnspec.loads(CHAIN, source="clamped.yaml")
    assert [n.kind for n in net.nodes][:2] == ["conv", "hardtanh"]
    clamp = net.nodes[1]
    assert clamp.output_shape == (8, 16, 16) and clamp.params == 0
    spec = tmp_path / "clamped.yaml"
    spec.write_text(CHAIN, encoding="utf-8")
    assert main(["check", str(spec)]) == 0
    assert "ok" in capsys.readouterr().out
    assert "hardtanh1 (Hardtanh)" in render_text(net)
    assert "| hardtanh1 | hardtanh | 8 | 16×16 |" in render_markdown(net)
    layer = summary_json(net)["layers"][1]
    assert (layer["type"], layer["module"], layer["output_shape"]) == (
        "hardtanh",
        "Hardtanh",
        [8, 16, 16],
    )
    json.dumps(summary_json(net))  # the summary stays JSON


def _diagnostics(text: str) -> list[str]:
    with pytest.raises(SpecError) as info:
        cnnspec.loads(text, source="t.yaml")
    return [d.format("t.yaml") for d in info.value.diagnostics]


def test_its_rows_are_checked_like_any_others(hardtanh):
    assert _diagnostics(CHAIN.replace("{type: hardtanh}", "{type: hardtanh, maps: 8}")) == [
        "t.yaml:5:22: error: unknown key 'maps' (did you mean 'macs'?) [unknown-key]"
    ]
    assert _diagnostics(CHAIN.replace("type: hardtanh", "type: hardtanhh")) == [
        "t.yaml:5:12: error: unknown layer type 'hardtanhh' (did you mean 'hardtanh'?) "
        "[unknown-type]"
    ]
    repeated = CHAIN.replace("{type: hardtanh}", "{type: hardtanh, name: clamp, repeat: 2}")
    names = [n.name for n in cnnspec.loads(repeated, source="t.yaml").nodes]
    assert names[1:3] == ["clamp_1", "clamp_2"]


def test_generated_source_and_the_built_model(hardtanh):
    for text, shape in ((CHAIN, (2, 10)), (GRAPH, (2, 4))):
        net = cnnspec.loads(text, source="net.yaml")
        source = cnnspec.torch_source(net)
        assert "nn.Hardtanh()" in source
        model = cnnspec.build(net)
        assert any(isinstance(m, torch.nn.Hardtanh) for m in model.modules())
        with torch.no_grad():
            out = model(torch.randn(2, 3, 16, 16))
        assert tuple(out.shape) == shape


def test_the_block_class_keeps_the_clamps_variable(hardtanh):
    """An element-wise kind may keep its input's variable in ``forward``."""
    source = cnnspec.torch_source(cnnspec.loads(GRAPH, source="net.yaml"))
    assert "out = self.clamp(out)" in source


def test_the_diagram_draws_it_in_its_family(hardtanh):
    for text in (CHAIN, GRAPH):
        dot = render_dot(cnnspec.loads(text, source="net.yaml"))
        assert "Hardtanh" in dot
        assert ">clamp<" in dot  # the family's legend entry, from the record


def test_once_unregistered_the_kind_is_unknown():
    assert "hardtanh" not in KINDS
    with pytest.raises(SpecError) as info:
        cnnspec.loads(CHAIN, source="clamped.yaml")
    assert [d.code for d in info.value.diagnostics] == ["unknown-type"]


# --------------------------------------------------------------------------- the docs


def test_the_recipe_in_the_docs_is_the_one_this_test_takes():
    page = (ROOT / "docs" / "contributing.md").read_text(encoding="utf-8")
    recipe = page.split("## Adding a layer kind", 1)[1]
    steps = re.findall(r"^(\d)\. \*\*", recipe, re.M)
    assert steps == ["1", "2", "3", "4", "5"]
    (code,) = re.findall(r"```python\n(.*?)```", recipe, re.S)
    here = {line.strip() for line in Path(__file__).read_text(encoding="utf-8").splitlines()}
    missing = [line for line in code.splitlines() if line.strip() and line.strip() not in here]
    assert missing == []
    for step in steps:
        assert any(line.startswith(f"# {step}. ") for line in here), step
