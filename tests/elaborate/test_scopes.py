"""Names in a scope and what they stand for: `input` is the scope's input and no row's
name, an absent row passes its first input on, expressions are read by one rule, and
blocks nest as deep as a generated spec needs."""

from __future__ import annotations

import pytest
from spec_text import report

import cnnspec
from cnnspec.ir import INPUT
from cnnspec.spec.values import INPUT_NAME

HEAD = "name: Net\ninput: {maps: 3, size: 8x8}\n"


def graph(layers: str, blocks: str = "") -> str:
    return HEAD + (f"blocks:\n{blocks}" if blocks else "") + f"layers:\n{layers}"


# --------------------------------------------------------------------------- `input`


@pytest.mark.parametrize(
    "where, text, at",
    [
        (
            "network",
            graph(
                "- {name: input, type: conv, maps: 3, kernel: 1}\n"
                "- {name: conv, type: conv, maps: 3, kernel: 3, padding: 1}\n"
                "- {name: sum, type: add, from: [conv, input]}\n"
            ),
            "t.yaml:4:10:",
        ),
        (
            "block",
            graph(
                "- {type: B}\n",
                "  B:\n    layers:\n    - {name: input, type: relu}\n",
            ),
            "t.yaml:6:14:",
        ),
        (
            "chain",
            HEAD + "layers:\n- {name: input, type: conv, maps: 3, kernel: 1}\n",
            "t.yaml:4:10:",
        ),
        (
            "container",
            graph("- {type: sequential, layers: [{name: input, type: relu}]}\n"),
            "t.yaml:4:38:",
        ),
    ],
)
def test_no_row_is_named_input(where, text, at):
    """`from: input` is the scope's input; a row named `input` was accepted, read as the
    scope's input by the checker and as the row by the generated forward (which crashed),
    and called unused."""
    [line, *notes] = report(text)
    assert line.startswith(at), line
    assert "name 'input' is reserved" in line and line.endswith("[value]"), line
    assert all(": note: " in n for n in notes), notes


def test_the_reserved_name_is_the_irs_input():
    assert INPUT_NAME == INPUT
    net = cnnspec.loads(
        graph("- {name: inputs, type: relu}\n- {type: add, from: [inputs, input]}\n")
    )
    assert [n.kind for n in net.layers] == ["relu"]


# --------------------------------------------------------------------------- absent rows

RES = """\
  Res:
    params:
      m: int
      s: {type: int, default: 1}
    layers:
    - {name: conv, type: conv, maps: $m, kernel: 3, stride: $s, padding: 1}
    - {name: add, type: add, from: [conv, input], if: $s == 1 and in_maps == $m}
    - {name: relu, type: relu%s}
"""


def test_an_absent_merge_read_as_the_previous_row_passes_its_first_input_on():
    """The docs: rows that read an absent row read its first input. An absent `add` read by
    the next row (no `from:`) was refused as [if-read]."""
    import torch

    text = graph(
        "- {name: res1, type: Res, m: 3}\n- {name: res2, type: Res, m: 8, s: 2}\n", RES % ""
    )
    net = cnnspec.loads(text)
    assert net.output_shape == (8, 4, 4)
    relu = next(n for n in net.layers if n.id == "res2.relu")
    assert relu.inputs == ("res2.conv",)
    model = cnnspec.build(net)
    namespace: dict = {}
    exec(cnnspec.torch_source(net), namespace)
    again = namespace["Net"]()
    again.load_state_dict(model.state_dict())
    x = torch.randn(2, 3, 8, 8)
    assert torch.equal(model.eval()(x), again.eval()(x))


def test_an_absent_merge_read_by_name_is_still_if_read():
    text = graph("- {name: res2, type: Res, m: 8, s: 2}\n", RES % ", from: add")
    [line, written, instance] = report(text)
    assert line.startswith("t.yaml:11:38:") and line.endswith("[if-read]"), line
    assert "'add' is read here, but its `if:` is false" in line
    assert written == "t.yaml:10:7: note: 'add' is written here"
    assert instance == "t.yaml:13:3: note: instantiated from res2 (Res)"
