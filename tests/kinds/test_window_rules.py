"""The output-size arithmetic of the windowed kinds (conv, pools): the [inexact] warning
and what it counts, padding 'same' with even kernels, exact printed formulas, and inferred
paddings within the limits."""

from __future__ import annotations

import pytest
import torch
from spec_text import report, spec

import cnnspec
from cnnspec.spec.values import MAX_EXTENT

pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same'")


def _unseen_input(h: int, module: torch.nn.Module) -> int:
    """Input rows (at the end) that do not reach the output, by autograd."""
    x = torch.ones(1, 3, h, h, requires_grad=True)
    module(x).sum().backward()
    rows = x.grad[0].abs().sum(dim=(0, 2)).tolist()
    return len(rows) - 1 - max(i for i, v in enumerate(rows) if v)


@pytest.mark.parametrize(
    "row, module",
    [
        (
            "{type: conv, maps: 2, kernel: 3, stride: 3, padding: 1}",
            lambda: torch.nn.Conv2d(3, 2, 3, stride=3, padding=1),
        ),
        (
            "{type: avgpool, kernel: 2, stride: 2, padding: 1}",
            lambda: torch.nn.AvgPool2d(2, stride=2, padding=1),
        ),
    ],
    ids=["conv-k3-s3-p1", "avgpool-k2-s2-p1"],
)
def test_a_layer_that_drops_only_padding_draws_no_warning_and_passes_strict(row, module):
    torch.manual_seed(0)
    assert _unseen_input(5, module()) == 0  # every input pixel reaches the output
    net = cnnspec.loads(spec(row), strict=True)
    assert net.warnings == ()


def test_a_layer_that_drops_input_says_how_many_rows_it_drops():
    # (5 − 2 + 2·0)/2 + 1 = 2.5: one input row and column never reach the output
    torch.manual_seed(0)
    assert _unseen_input(5, torch.nn.Conv2d(3, 2, 2, stride=2)) == 1
    [w] = cnnspec.loads(spec("{type: conv, maps: 2, kernel: 2, stride: 2}")).warnings
    assert w.message == (
        "(5 − 2 + 2·0)/2 + 1 = 2.5 is not whole: PyTorch floors it to 2×2, so the last row "
        "and column of the input never reach the output"
    )
    # the remainder is 3, the right padding 1: two input rows are lost, not three
    assert _unseen_input(8, torch.nn.Conv2d(3, 2, 3, stride=4, padding=1)) == 2
    [w] = cnnspec.loads(
        spec(
            "{type: conv, maps: 2, kernel: 3, stride: 4, padding: 1}", input="{maps: 3, size: 8x8}"
        )
    ).warnings
    assert "so the last 2 rows and columns of the input never reach the output" in w.message


@pytest.mark.parametrize(
    "kernel, dilation", [("2", "1"), ("4", "1"), ("2x3", "1"), ("2", "[1, 2]"), ("[4, 1]", "3")]
)
def test_padding_same_with_an_even_kernel_is_pytorchs_same(kernel, dilation):
    text = spec(
        f"{{type: conv, maps: 4, kernel: {kernel}, dilation: {dilation}, padding: same, "
        "activation: relu}",
        "{type: conv, maps: 2, kernel: 3, size: 7x6}",
        input="{maps: 3, size: 7x6}",
    )
    net = cnnspec.loads(text)
    conv = net.nodes[0]
    assert conv.output_shape == (4, 7, 6) and conv.padding_same
    assert net.warnings == ()
    source = cnnspec.torch_source(net)
    assert 'padding="same"' in source.split("\n        )")[0]
    model = cnnspec.build(net)
    generated = model.features[0]
    assert generated.padding == "same"
    x = torch.randn(2, 3, 7, 6)
    assert model(x).shape == (2, 2, 7, 6)
    # PyTorch's own 'same' (asymmetric: the odd pixel goes right and bottom)
    same = torch.nn.Conv2d(3, 4, generated.kernel_size, dilation=generated.dilation, padding="same")
    same.load_state_dict(generated.state_dict())
    assert torch.equal(generated(x), same(x))
    from cnnspec.backends.summary import render_text, summary_json

    assert summary_json(net)["layers"][0]["padding_same"] is True
    assert " same " in render_text(net).splitlines()[5]


def test_padding_same_still_needs_stride_1_and_pools_have_none():
    [line] = report(spec("{type: conv, maps: 4, kernel: 2, stride: 2, padding: same}"))
    assert line.endswith("padding 'same' needs stride 1 [padding-same]")
    [line] = report(spec("{type: maxpool, kernel: 3, stride: 1, padding: same}"))
    assert "a pool takes no 'same' (PyTorch's pools have no padding='same')" in line


def test_formula_values_are_exact():
    """1999/1000 was shown as 2 ("= 2 is not whole"); 7/3 as 2.33."""
    [w] = cnnspec.loads(
        spec("{type: conv, maps: 1, kernel: 2, stride: 1000}", input="{maps: 1, size: 1001x1001}")
    ).warnings
    assert w.message.startswith("(1001 − 2 + 2·0)/1000 + 1 = 1.999 is not whole")
    [w] = cnnspec.loads(
        spec("{type: conv, maps: 1, kernel: 3, stride: 3}", input="{maps: 1, size: 7x7}")
    ).warnings
    assert w.message.startswith("(7 − 3 + 2·0)/3 + 1 = 7/3 is not whole")


def test_a_kernel_narrower_than_its_stride_skips_rows_by_design():
    """A 1×1 stride-2 projection (ResNet's downsample) reads every other row: the row its
    rounding leaves at the end is no different from the ones between its windows."""
    net = cnnspec.loads(
        spec("{type: conv, maps: 2, kernel: 1, stride: 2}", input="{maps: 3, size: 56x56}")
    )
    assert net.warnings == ()
    # a wider tail than the gap is still reported: 1×1 stride 3 on 8 reads 0, 3, 6 …
    # and 2×2 stride 3 on 9 reads 0–1, 3–4, 6–7, leaving 8: a gap of 1, a tail of 1
    net = cnnspec.loads(
        spec("{type: conv, maps: 2, kernel: 2, stride: 3}", input="{maps: 3, size: 9x9}")
    )
    assert net.warnings == ()


@pytest.mark.parametrize(
    "row",
    [
        "{type: conv, maps: 2, kernel: 100000, dilation: 100000, padding: same}",
        "{type: conv, maps: 2, kernel: 100000, dilation: 100000, size: 4}",
    ],
)
def test_an_inferred_padding_obeys_the_padding_limit(row):
    """Both compiled to padding=4999950000."""
    [line] = report(spec(row, input="{maps: 1, size: 4x4}"))
    assert line.endswith(f"beyond the limit of {MAX_EXTENT:,} [too-large]")


def test_the_largest_inferred_padding_within_the_limit_compiles():
    net = cnnspec.loads(
        spec(
            "{type: conv, maps: 1, kernel: 3, dilation: 100000, padding: same}",
            input="{maps: 1, size: 1x1}",
        )
    )
    assert net.nodes[0].padding == (100_000, 100_000) and net.output_shape == (1, 1, 1)
