"""Generated block classes: their signatures parse, and they do what their signature says."""

from __future__ import annotations

import pytest
import torch
from spec_text import report

import cnnspec

REQUIRED_AFTER_DEFAULT = """\
name: Net
input: {maps: 3, size: 8x8}
blocks:
  Unit:
    params:
      s: {type: int, default: 1}
      m: int
    layers:
    - {name: conv, type: conv, maps: $m, kernel: 3, stride: $s, padding: 1}
layers:
- {name: unit, type: Unit, m: 4}
- {name: down, type: Unit, m: 6, s: 2}
"""


def _namespace(net: cnnspec.Network) -> dict:
    namespace: dict = {}
    exec(compile(cnnspec.torch_source(net), "<generated>", "exec"), namespace)
    return namespace


def test_required_params_come_before_those_with_defaults():
    net = cnnspec.loads(REQUIRED_AFTER_DEFAULT)
    source = cnnspec.torch_source(net)
    assert "def __init__(self, in_maps: int, m: int, s: int = 1) -> None:" in source
    assert "self.unit = Unit(3, 4)" in source
    assert "self.down = Unit(4, 6, s=2)" in source
    model = _namespace(net)["Net"]()
    assert tuple(model(torch.randn(1, 3, 8, 8)).shape) == (1, 6, 4, 4)
    assert tuple(cnnspec.build(net)(torch.randn(1, 3, 8, 8)).shape) == (1, 6, 4, 4)


MERGE_IN_INDEXED = """\
name: Net
input: {maps: 3, size: 8x8}
blocks:
  Unit:
    children: indexed
    params: {m: int}
    layers:
    - {name: a, type: conv, maps: $m, kernel: 1}
    - {name: b, type: conv, maps: $m, kernel: 3, padding: 1, from: input}
    - {name: cat, type: concat, from: [a, b]}
layers:
- {name: unit, type: Unit, m: 4}
"""


def test_an_indexed_block_runs_as_a_chain():
    """An indexed block is an nn.Sequential: a row that reads another (a `from:`, a merge)
    is refused where it is written, once for the block, not at build time."""
    assert report(MERGE_IN_INDEXED) == [
        f"t.yaml:{line}:{col}: error: block 'Unit' has indexed children (an nn.Sequential): "
        "its rows read the previous row; `from` is for named scopes (blocks with named "
        "children, and the network) [from-in-sequential]"
        for line, col in ((9, 68), (10, 39))
    ]


FLATTEN_IN_SEQUENTIAL = """\
name: Net
input: {maps: 3, size: 8x8}
layers:
- {name: features, type: conv, maps: 4, kernel: 3, padding: 1}
- {name: pool, type: adaptive_avgpool, size: 1}
- name: classifier
  type: sequential
  layers:
  - {type: flatten}
  - {type: fc, size: 10}
"""


def test_a_flatten_inside_an_nn_sequential_is_an_nn_flatten():
    """torchvision's classifiers: nn.Sequential(nn.Flatten(), nn.Linear(4, 10))."""
    net = cnnspec.loads(FLATTEN_IN_SEQUENTIAL)
    flat = next(n for n in net.nodes if n.kind == "flatten")
    assert (flat.path, flat.torch_class) == ("classifier.0", "Flatten")
    source = cnnspec.torch_source(net)
    assert "nn.Flatten(),  # -> 4\n            nn.Linear(4, 10),  # -> 10\n" in source
    x = torch.randn(2, 3, 8, 8)
    for model in (cnnspec.build(net), _namespace(net)["Net"]()):
        assert list(model.state_dict())[-2:] == ["classifier.1.weight", "classifier.1.bias"]
        assert tuple(model(x).shape) == (2, 10)


def test_an_fc_reading_maps_inside_an_nn_sequential_asks_for_its_flatten():
    text = FLATTEN_IN_SEQUENTIAL.replace("  - {type: flatten}\n", "")
    assert report(text) == [
        "t.yaml:9:5: error: layer 1 'fc1' (fc): an fc inside an nn.Sequential (a container, "
        "an indexed block) reads 4×1×1: write a `flatten` row before it (nn.Flatten, a child "
        "of its own) or before the container [fc-in-sequential]"
    ]


def _block(body: str, rows: str) -> str:
    return f"name: Net\ninput: {{maps: 3, size: 8x8}}\nblocks:\n  Unit:\n{body}layers:\n{rows}"


ACTIVATION_ON_AN_IF_ROW = _block(
    """\
    params:
      t: {type: int, default: 1}
    layers:
    - {name: expand, type: conv, maps: $t * in_maps, kernel: 1, activation: relu, if: $t != 1}
    - {name: conv, type: conv, maps: 4, kernel: 3, padding: 1}
""",
    "- {name: units, type: Unit, repeat: 2, first: {t: 3}}\n",
)

PADDING_SAME_WITH_A_KERNEL_PARAM = _block(
    """\
    params: {k: int}
    layers:
    - {name: conv, type: conv, maps: 4, kernel: $k, padding: same}
""",
    "- {name: small, type: Unit, k: 3}\n- {name: large, type: Unit, k: 5}\n",
)

MAPS_AFTER_AN_IF_ROW = _block(
    """\
    params:
      t: {type: int, default: 1}
    layers:
    - {name: expand, type: conv, maps: 8, kernel: 1, if: $t != 1}
    - {name: conv, type: conv, maps: 4, kernel: 3, padding: 1}
""",
    "- {name: plain, type: Unit}\n- {name: wide, type: Unit, t: 6}\n",
)


def _runs(net: cnnspec.Network) -> dict:
    """The network built both ways runs to its declared output; the exec'd classes."""
    namespace = _namespace(net)
    x = torch.randn(1, *net.input_shape)
    for model in (cnnspec.build(net), namespace[net.name]()):
        assert tuple(model(x).shape[1:]) == net.output_shape
    return namespace


def test_an_activation_on_an_if_row_is_optional_with_its_row():
    net = cnnspec.loads(ACTIVATION_ON_AN_IF_ROW)
    source = cnnspec.torch_source(net)
    assert "        if t != 1:\n            self.relu1 = nn.ReLU()" in source
    unit = _runs(net)["Unit"]
    assert [type(m).__name__ for m in unit(3, t=3).children()] == ["Conv2d", "ReLU", "Conv2d"]
    assert [type(m).__name__ for m in unit(3).children()] == ["Conv2d"]


def test_padding_same_is_one_class_whatever_the_kernel():
    net = cnnspec.loads(PADDING_SAME_WITH_A_KERNEL_PARAM)
    source = cnnspec.torch_source(net)
    assert 'nn.Conv2d(in_maps, 4, kernel_size=k, padding="same")' in source
    unit = _runs(net)["Unit"]
    assert unit(3, 7).conv.padding == "same"


def test_maps_after_an_if_row_follow_its_condition():
    """The row after an optional one reads in_maps where it is absent, its maps where not."""
    net = cnnspec.loads(MAPS_AFTER_AN_IF_ROW)
    assert "nn.Conv2d(8 if t != 1 else in_maps, 4, kernel_size=3, padding=1)" in (
        cnnspec.torch_source(net)
    )
    unit = _runs(net)["Unit"]
    assert unit(5).conv.in_channels == 5
    assert unit(5, t=2).conv.in_channels == 8


ROW_NO_INSTANCE_HAS = _block(
    """\
    params:
      c: int
      bn: {type: bool, default: true}
    layers:
    - {name: conv, type: conv, maps: $c, kernel: 3, padding: 1, bias: not $bn}
    - {name: bn, type: batchnorm, if: $bn}
    - {name: relu, type: relu}
""",
    "- {name: conv1, type: Unit, c: 4, bn: false}\n- {name: conv2, type: Unit, c: 8, bn: false}\n",
)

EXPANSION_NO_INSTANCE_HAS = _block(
    """\
    params:
      t: {type: int, default: 1}
    layers:
    - {name: expand, type: conv, maps: $t * in_maps, kernel: 1, activation: relu, if: $t != 1}
    - {name: dw, type: conv, maps: $t * in_maps, kernel: 3, padding: 1, groups: $t * in_maps}
    - {name: project, type: conv, maps: 4, kernel: 1}
""",
    "- {name: block, type: Unit}\n",
)


def test_a_class_keeps_an_if_row_no_instance_has():
    """The signature says bn=True by default: the class has its BatchNorm under `if bn:`."""
    net = cnnspec.loads(ROW_NO_INSTANCE_HAS)
    assert "        if bn:\n            self.bn = nn.BatchNorm2d(c)" in cnnspec.torch_source(net)
    unit = _runs(net)["Unit"]
    assert list(unit(3, 4).state_dict())[:3] == ["conv.weight", "bn.weight", "bn.bias"]
    assert list(unit(3, 4, bn=False).state_dict()) == ["conv.weight", "conv.bias"]
    assert not any(k.startswith("conv1.bn") for k in cnnspec.build(net).state_dict())


def test_a_class_called_with_other_values_builds_and_runs():
    net = cnnspec.loads(EXPANSION_NO_INSTANCE_HAS)
    unit = _runs(net)["Unit"]
    wide = unit(3, t=2)
    assert [type(m).__name__ for m in wide.children()] == ["Conv2d", "ReLU", "Conv2d", "Conv2d"]
    assert (wide.dw.in_channels, wide.dw.groups) == (6, 6)
    assert tuple(wide(torch.randn(1, 3, 8, 8)).shape) == (1, 4, 8, 8)
    assert [type(m).__name__ for m in unit(3).children()] == ["Conv2d", "Conv2d"]


UNIT_FACTOR = """\
name: Net
input: {maps: 2, size: 4x4}
blocks:
  Widen:
    params:
      t: {type: int}
    layers:
    - {name: conv, type: conv, maps: $t * in_maps, kernel: 1}
  Stack:
    children: indexed
    params:
      n: {type: int, default: 1}
    layers:
    - {name: unit, type: Widen, t: 1, repeat: $n}
layers:
- {name: stack, type: Stack, n: 3}
"""


def test_a_repeat_expression_over_copies_that_keep_their_maps_by_a_factor_of_1():
    """`maps: $t * in_maps` with t = 1 keeps the maps: the copies of a `repeat: $n` row
    all read what the first gives, so the count may be an expression."""
    net = cnnspec.loads(UNIT_FACTOR)
    assert net.params == 3 * (2 * 2 + 2)
    namespace = _namespace(net)
    for n in (1, 2, 5):  # the generated class with other counts than the spec's
        stack = namespace["Stack"](2, n=n)
        assert len(stack[0]) == n  # its one row: an nn.Sequential of the copies
        assert tuple(stack(torch.randn(1, 2, 4, 4)).shape) == (1, 2, 4, 4)
    assert tuple(cnnspec.build(net)(torch.randn(1, 2, 4, 4)).shape) == (1, 2, 4, 4)


ABSENT_MERGE = """\
name: Net
blocks:
  Inverted:
    params:
      t: int
      c: int
      s: {type: int, default: 1}
    layers:
    - {name: expand, type: conv, maps: $t * in_maps, kernel: 1, if: $t != 1}
    - {name: expand_act, type: relu6, if: $t != 1}
    - {name: dw, type: conv, maps: $t * in_maps, kernel: 3, padding: 1, groups: $t * in_maps}
    - {name: project, type: conv, maps: $c, kernel: 1, bias: false}
    - {name: res, type: add, from: [project, input], if: $s == 1 and in_maps == $c}
input: {maps: 1, size: 2x2}
layers:
- {name: stage1, type: Inverted, t: 1, c: 2}
"""


def test_an_absent_merge_no_instance_has_is_refused_where_its_condition_holds():
    """The residual `add` is absent in every instance (the maps change), so cnnspec cannot
    write it: the class builds for any arguments under which it is absent, and refuses,
    naming the row, those under which it would exist (rather than build it without)."""
    net = cnnspec.loads(ABSENT_MERGE)
    namespace = _namespace(net)
    for t in (1, 3):
        block = namespace["Inverted"](2, t=t, c=4)  # in_maps != c: the add is absent
        assert tuple(block(torch.randn(1, 2, 4, 4)).shape) == (1, 4, 4, 4)
        block = namespace["Inverted"](2, t=t, c=4, s=2)
        assert tuple(block(torch.randn(1, 2, 4, 4)).shape) == (1, 4, 4, 4)
    with pytest.raises(ValueError, match="Inverted: row 'res' is in no instance of the spec"):
        namespace["Inverted"](2, t=3, c=2)
    assert tuple(cnnspec.build(net)(torch.randn(1, 1, 2, 2)).shape) == (1, 2, 2, 2)


ABSENT_CONTAINER = """\
name: Net
input: {maps: 1, size: 4x4}
blocks:
  Unit:
    params:
      bn: {type: bool, default: false}
    layers:
    - {name: conv, type: conv, maps: 2, kernel: 1}
    - name: norm
      type: sequential
      if: $bn
      layers:
      - {type: batchnorm}
layers:
- {name: unit, type: Unit}
"""


def test_a_container_no_instance_has_is_refused_where_its_condition_holds():
    namespace = _namespace(cnnspec.loads(ABSENT_CONTAINER))
    assert [k for k in namespace["Unit"](1).state_dict()] == ["conv.weight", "conv.bias"]
    with pytest.raises(ValueError, match="Unit: row 'norm' is in no instance of the spec"):
        namespace["Unit"](1, bn=True)
