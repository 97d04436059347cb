"""Repeated rows and their copies: each copy's input, the chain the copies make, their names.

A `repeat` makes copies that run one after another, each reading the one before, whether
the count is a number or an expression over a block's params, and whether the first copy
reads the previous row or a `from:` row. Copy names obey the rules of row names.
"""

from __future__ import annotations

import pytest
import torch
from spec_text import report

import cnnspec
from cnnspec.spec.values import SEQUENTIAL_NAMES

DENSE = """\
name: Net
input: {maps: 3, size: 8x8}
blocks:
  Dense:
    params: {g: int}
    layers:
    - {name: conv, type: conv, maps: $g, kernel: 3, padding: 1}
    - {name: cat, type: concat, from: [input, conv]}
  Stage:
    params: {n: int}
    layers:
    - {name: layers, type: Dense, g: 2, repeat: $n}
    - {name: squeeze, type: conv, maps: 4, kernel: 1}
layers:
"""


def _runs(text: str) -> tuple[cnnspec.Network, torch.nn.Module]:
    """The network, and its module as the generated source builds it (it ran a forward
    at its input size, with the output the IR says)."""
    net = cnnspec.loads(text, source="t.yaml")
    scope: dict = {}
    exec(compile(cnnspec.torch_source(net), "generated.py", "exec"), scope)
    model = scope[net.name]()
    assert sum(p.numel() for p in model.parameters()) == net.params
    with torch.no_grad():
        y = model(torch.zeros(1, *net.input_shape))
    assert tuple(y.shape[1:]) == net.output_shape
    assert [k for k in model.state_dict()] == [k for k in cnnspec.build(net).state_dict()]
    return net, model


def test_copies_of_a_computed_repeat_read_the_maps_the_copy_before_gives():
    rows = "- {name: a, type: Stage, n: 3}\n- {name: b, type: Stage, n: 1}\n"
    rows += "- {name: c, type: Stage, n: 4}\n"
    _, model = _runs(DENSE + rows)
    # a: 3, 5, 7 maps in; b: 4; c: 4, 6, 8, 10
    ins = [m.in_channels for n, m in model.named_modules() if n.endswith(".conv")]
    assert ins == [3, 5, 7, 4, 4, 6, 8, 10]


def test_a_computed_repeat_whose_first_copy_gives_other_maps():
    text = """\
name: Net
input: {maps: 3, size: 8x8}
blocks:
  Unit:
    params: {c: {type: int, default: 8}}
    layers:
    - {name: conv, type: conv, maps: $c, kernel: 1}
  Stage:
    params: {n: int}
    layers:
    - {name: units, type: Unit, repeat: $n, first: {c: 5}}
layers:
- {name: a, type: Stage, n: 3}
- {name: b, type: Stage, n: 1}
"""
    _, model = _runs(text)
    ins = [m.in_channels for n, m in model.named_modules() if n.endswith(".conv")]
    assert ins == [3, 5, 8, 8]


def test_a_computed_repeat_of_a_block_that_doubles_its_maps_is_refused():
    text = DENSE.replace("from: [input, conv]}", "from: [input, input]}")
    lines = report(text + "- {name: a, type: Stage, n: 3}\n")
    assert any("[block-varies]" in line and "write the count as a number" in line for line in lines)


def test_a_repeated_row_with_from_is_a_chain_that_starts_at_the_from_row():
    text = """\
name: Net
input: {maps: 3, size: 8x8}
layers:
- {name: stem, type: conv, maps: 4, kernel: 3, padding: 1}
- {name: body, type: conv, maps: 8, kernel: 3, padding: 1, repeat: 3, from: stem}
"""
    net, model = _runs(text)
    assert [(n.name, n.inputs) for n in net.layers if n.name.startswith("body")] == [
        ("body_1", ("stem",)),
        ("body_2", ("body_1",)),
        ("body_3", ("body_2",)),
    ]
    assert model.body_2.in_channels == 8
    assert (net.params, net.macs) == (4 * 3 * 9 + 4 + 2 * (8 * 8 * 9 + 8) + 8 * 4 * 9 + 8, 100_864)
    assert net.warnings == ()


@pytest.mark.parametrize("count", [1, 2])
def test_a_named_row_with_repeat_numbers_its_copies_even_one(count):
    text = f"""\
name: Net
input: {{maps: 3, size: 8x8}}
layers:
- {{name: stem, type: conv, maps: 4, kernel: 1}}
- {{name: body, type: conv, maps: 4, kernel: 3, padding: 1, repeat: {count}}}
- {{name: sum, type: add, from: [stem, body_{count}]}}
"""
    net, model = _runs(text)
    bodies = [f"body_{k}" for k in range(1, count + 1)]
    assert [n.name for n in net.layers] == ["stem", *bodies]
    assert list(model.state_dict())[2:4] == ["body_1.weight", "body_1.bias"]


def test_names_with_a_computed_repeat_name_every_copy():
    text = DENSE.replace("repeat: $n}", 'repeat: $n, names: "dense{i}"}')
    rows = "- {name: a, type: Stage, n: 3}\n- {name: b, type: Stage, n: 2}\n"
    _, model = _runs(text + rows)
    convs = [(n, m.in_channels) for n, m in model.named_modules() if n.endswith(".conv")]
    assert convs == [
        ("a.layers.dense1.conv", 3),
        ("a.layers.dense2.conv", 5),
        ("a.layers.dense3.conv", 7),
        ("b.layers.dense1.conv", 4),
        ("b.layers.dense2.conv", 6),
    ]


def test_names_number_from_zero_and_may_hold_a_dash():
    """`{i0}` numbers from 0, and a copy's name may hold `-`: torchvision's RegNet keys
    (`block1.block1-0`), with a number and with a computed count (the class's loop)."""
    text = DENSE.replace("repeat: $n}", 'repeat: $n, names: "dense-{i0}"}')
    rows = "- {name: a, type: Stage, n: 3}\n"
    rows += '- {name: b, type: Dense, g: 1, repeat: 2, names: "b-{i0}_{i}"}\n'
    _, model = _runs(text + rows)
    convs = [(n, m.in_channels) for n, m in model.named_modules() if n.endswith(".conv")]
    assert convs == [
        ("a.layers.dense-0.conv", 3),
        ("a.layers.dense-1.conv", 5),
        ("a.layers.dense-2.conv", 7),
        ("b.b-0_1.conv", 4),
        ("b.b-1_2.conv", 5),
    ]


def test_the_sequential_names_are_what_nn_sequential_adds_to_nn_module():
    extra = set(dir(torch.nn.Sequential)) - set(dir(torch.nn.Module))
    assert {n for n in extra if not n.startswith("_")} == SEQUENTIAL_NAMES


UNIT = """\
name: Net
input: {maps: 3, size: 8x8}
blocks:
  Unit:
    layers:
    - {name: conv, type: conv, maps: 4, kernel: 3, padding: 1}
layers:
"""


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("repeat: 1, names: forward", "'names' needs {i} (or {i0}) to number the copies"),
        ("repeat: 1, names: unit", "'names' needs {i} (or {i0}) to number the copies"),
        ("repeat: 16, names: 'bfloat{i}'", "copy name 'bfloat16' is already an attribute"),
        ("repeat: 2, names: 'unit-{i0}!'", "copy name 'unit-0!' is not a module name"),
        ("repeat: 2, names: '-{i}'", "copy name '-1' is not a module name"),
        ("repeat: 2, names: 'unit{i}.x'", "copy name 'unit1.x' is not a Python identifier"),
    ],
)
def test_copy_names_obey_the_rules_of_module_names(row, message):
    [line] = report(UNIT + f"- {{name: units, type: Unit, {row}}}\n")
    assert message in line and line.startswith("t.yaml:8:") and line.endswith("[value]")


@pytest.mark.parametrize("name", sorted(SEQUENTIAL_NAMES))
def test_a_named_containers_row_may_not_be_a_method_of_nn_sequential(name):
    text = f"""\
name: Net
input: {{maps: 3, size: 8x8}}
layers:
- {{name: stem, type: conv, maps: 4, kernel: 1}}
- {{name: box, type: sequential, children: named, layers: [{{name: {name}, type: relu}}]}}
- {{name: sum, type: add, from: [stem, box]}}
"""
    [line] = report(text)
    assert f"name '{name}' is already an attribute of the nn.Sequential" in line
    assert line.startswith("t.yaml:5:")


def test_nested_repeats_past_the_row_limit_are_one_diagnostic_at_the_repeat():
    text = UNIT.replace("padding: 1}", "padding: 1, repeat: 10000}")
    lines = report(text + "- {name: units, type: Unit, repeat: 10000}\n")
    assert len(lines) == 1 and lines[0].endswith("[too-large]")
    assert lines[0].startswith("t.yaml:8:") and "10,000 copies of block 'Unit'" in lines[0]


def test_maps_stay_known_after_a_size_error():
    text = """\
name: Net
input: {maps: 3, size: 8x8}
blocks:
  Head:
    layers:
    - {name: conv, type: conv, maps: 2, kernel: 1}
layers:
- {name: big, type: conv, maps: 6, kernel: 11}
- {name: pool, type: maxpool, kernel: 2, maps: 7}
- {name: head, type: Head}
"""
    lines = report(text)
    assert [line.rsplit("[", 1)[-1] for line in lines] == ["kernel-too-large]", "maps-mismatch]"]
    assert "declares 7 maps, but its input has 6" in lines[1]
