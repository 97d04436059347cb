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
