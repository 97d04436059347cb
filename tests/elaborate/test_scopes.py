"""Names in a scope and what they stand for: `input` is the scope's input and no row's
name, an absent row passes its first input on, expressions are read by one rule, and
blocks nest as deep as a generated spec needs."""

from __future__ import annotations

import pytest
from spec_text import report

import cnnspec
from cnnspec.deep import deep_stack
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


# --------------------------------------------------------------------------- expressions

UNIT = """\
  Unit:
    params: {a: {type: int, default: 2}, b: {type: int, default: 3}}
    layers:
    - {name: dw, type: conv, maps: in_maps, kernel: 3, padding: 1, groups: in_maps}
    - {name: squeeze, type: conv, maps: in_maps // 2, kernel: 1}
    - {name: wide, type: Wide, m: in_maps}
  Wide:
    params: {m: int}
    layers:
    - {name: conv, type: conv, maps: %s, kernel: 1}
"""


def test_in_maps_is_an_expression_without_a_dollar():
    """`maps: in_maps`, `groups: in_maps`, `in_maps // 2` and a block argument `m: in_maps`
    were read as strings ([type], [block-param]) unless a `$` appeared in the text."""
    net = cnnspec.loads(graph("- {name: unit, type: Unit}\n", UNIT % "$m"))
    dw, squeeze, conv = net.layers
    assert (dw.output_shape, dw.groups) == ((3, 8, 8), 3)
    assert squeeze.output_shape == (1, 8, 8)
    assert conv.output_shape == (3, 8, 8)  # m: in_maps is Unit's in_maps (3), not Wide's (1)
    source = cnnspec.torch_source(net)
    assert "groups=in_maps" in source and "nn.Conv2d(in_maps, in_maps // 2" in source


@pytest.mark.parametrize(
    "maps, message",
    [
        ('"$a + a"', "unknown name 'a' (a param is written $a) [expr]"),
        ('"$b + a"', "unknown name 'a' (a param is written $a) [expr]"),
        ('"a"', "expected an integer, got the string 'a' [type]"),
        ('"in_maps + ｉｎ_maps"', "is not an expression (expressions are written in ASCII) [expr]"),
    ],
)
def test_a_param_is_always_written_with_its_dollar(maps, message):
    """`"$a + a"` was read as 2·a (a bare name passed once the same name had a `$`), while
    `"$b + a"` was refused."""
    blocks = UNIT.replace("maps: in_maps // 2", f"maps: {maps}")
    line, note, *rest = report(graph("- {name: unit, type: Unit}\n", blocks % "$m"))
    assert line.startswith("t.yaml:8:41: error: 'maps': ") and line.endswith(message), line
    assert note == "t.yaml:15:3: note: instantiated from unit (Unit)"
    assert all(": warning: block 'Wide' is defined but no row uses it" in r for r in rest)


def test_in_maps_outside_a_block_is_refused_with_a_hint():
    [line] = report(HEAD + "layers:\n- {type: conv, maps: in_maps, kernel: 1}\n")
    assert line == (
        "t.yaml:4:22: error: 'maps': expected an integer, got the string 'in_maps' "
        "(an in_maps expression belongs in a block) [type]"
    )


@pytest.mark.parametrize("cond", ["false", '"1 == 2"'])
def test_a_network_row_whose_if_is_false_is_left_out_of_the_module(cond):
    """`[conv, {type: relu, if: false}, conv]` checked ok and its source raised
    KeyError: 'relu1'; a last row absent too."""
    import torch

    text = HEAD + (
        "layers:\n- {type: conv, maps: 4, kernel: 3}\n"
        f"- {{type: relu, if: {cond}}}\n- {{type: conv, maps: 4, kernel: 3}}\n"
        f"- {{name: tail, type: relu, if: {cond}}}\n"
    )
    net = cnnspec.loads(text)
    source = cnnspec.torch_source(net)
    assert "relu" not in source.split("class Net", 1)[1]
    assert "        x = self.conv2(x)  # -> 4×4×4\n        return x\n" in source
    model = cnnspec.build(net)
    namespace: dict = {}
    exec(source, namespace)
    again = namespace["Net"]()
    again.load_state_dict(model.state_dict())
    x = torch.randn(2, 3, 8, 8)
    assert model(x).shape == (2, 4, 4, 4)
    assert torch.equal(model(x), again(x))
    assert "conv2" in cnnspec.diagram(net).source


# --------------------------------------------------------------------------- params


def test_a_default_written_as_an_expression_is_one_error():
    """It drew three contradictory errors: expected a number, an integer, true or false."""
    blocks = "  U:\n    params:\n      m: {type: int, default: $n * 2}\n    layers:\n"
    [line] = report(graph("- {type: U}\n", blocks + "    - {type: relu}\n"))
    assert line == (
        "t.yaml:6:31: error: 'default': expected a number, true/false or a pair [a, b]: a "
        "default cannot read params or in_maps (got the string '$n * 2') [type]"
    )


def test_a_default_of_the_wrong_type_takes_the_right_article():
    blocks = "  U:\n    params:\n      m: {type: int, default: true}\n    layers:\n"
    [line] = report(graph("- {type: U}\n", blocks + "    - {type: relu}\n"))
    assert line == "t.yaml:6:31: error: the default true of 'm' is not an int [block-param]"


# --------------------------------------------------------------------------- deep nesting


def nested(levels: int) -> str:
    """A chain of blocks, each using the one before: B0 is a relu, the network uses the last."""
    rows = ["  B0:\n    layers:\n    - {type: relu}\n"]
    rows += [f"  B{i}:\n    layers:\n    - {{type: B{i - 1}}}\n" for i in range(1, levels)]
    return graph(f"- {{type: B{levels - 1}}}\n", "".join(rows))


def test_blocks_nested_a_thousand_deep_check_compile_and_run():
    """About 250 levels ended in a RecursionError traceback; the cycle search was cubic."""
    import torch

    net = cnnspec.loads(nested(1000))
    assert [n.kind for n in net.layers] == ["relu"]
    assert max(g.depth for g in net.groups) == 1000
    source = cnnspec.torch_source(net)
    assert "class B999(nn.Module):" in source
    assert "conv" not in source and max(map(len, source.splitlines())) <= 100
    assert "b999" in cnnspec.diagram(net).source
    model = cnnspec.build(net)
    x = torch.randn(1, 3, 8, 8)
    # PyTorch's forward through 1,000 nested modules needs a deep stack of its own
    assert torch.equal(deep_stack(lambda t: model(t))(x), torch.relu(x))


def test_nesting_past_the_limit_is_too_deep(monkeypatch):
    from cnnspec.elaborate import blocks

    monkeypatch.setattr(blocks, "MAX_NESTING", 20)
    lines = report(nested(30))
    errors = [line for line in lines if ": error: " in line]
    assert len(errors) == 1, lines
    assert errors[0].endswith(
        "modules nest 21 levels deep here (blocks using blocks); the limit is 20 [too-deep]"
    )
    assert len(lines) == 3  # the instance it is in, and the network's row


def test_a_deep_stage_returns_and_raises_as_if_called_directly():
    import sys

    def boom() -> None:
        raise KeyError("inner")

    assert deep_stack(lambda: sys.getrecursionlimit())() >= 100_000
    before = sys.getrecursionlimit()
    with pytest.raises(KeyError, match="inner"):
        deep_stack(boom)()
    assert sys.getrecursionlimit() == before  # restored once the stage ends
    assert deep_stack(lambda: deep_stack(lambda: 7)())() == 7  # nested: run directly
