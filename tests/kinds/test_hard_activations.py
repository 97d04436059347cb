"""`hardswish` and `hardsigmoid`: rows of their own and `activation:` shorthands, built as
nn.Hardswish / nn.Hardsigmoid, which compute MobileNetV3's h-swish and h-sigmoid."""

from __future__ import annotations

import pytest
import torch
import torchinfo

import cnnspec
from cnnspec.backends.summary import render_markdown, summary_json
from cnnspec.diagnostics import SpecError

SPEC = """\
name: Hard
input: {maps: 3, size: 8x8}
layers:
  - {type: conv, maps: 4, kernel: 3, padding: 1, activation: HardSwish}
  - {type: hardsigmoid}
  - {type: conv, maps: 6, kernel: 3, stride: 2, padding: 1}
  - {type: hardswish}
  - {type: fc, size: 5, activation: hardsigmoid}
"""


def test_the_rows_keep_the_shape_and_cost_nothing():
    net = cnnspec.loads(SPEC)
    kinds = [(n.kind, n.output_shape, n.params, n.macs) for n in net.nodes]
    assert kinds[1:5] == [
        ("hardswish", (4, 8, 8), 0, 0),
        ("hardsigmoid", (4, 8, 8), 0, 0),
        ("conv", (6, 4, 4), 6 * 4 * 9 + 6, (6 * 4 * 9 + 6) * 16),
        ("hardswish", (6, 4, 4), 0, 0),
    ]
    assert kinds[-1] == ("hardsigmoid", (5,), 0, 0)


def test_the_built_modules_compute_h_swish_and_h_sigmoid():
    net = cnnspec.loads(SPEC)
    source = cnnspec.torch_source(net)
    assert "nn.Hardswish()" in source and "nn.Hardsigmoid()" in source
    model = cnnspec.build(net).eval()
    classes = [type(m).__name__ for m in model.modules() if not list(m.children())]
    assert classes.count("Hardswish") == 2 and classes.count("Hardsigmoid") == 2
    torch.manual_seed(0)
    x = torch.randn(2, 3, 8, 8) * 4
    convs = [m for m in model.modules() if isinstance(m, torch.nn.Conv2d)]
    (fc,) = [m for m in model.modules() if isinstance(m, torch.nn.Linear)]

    def h_sigmoid(t: torch.Tensor) -> torch.Tensor:
        return torch.clamp(t + 3, 0, 6) / 6

    with torch.no_grad():
        y = convs[0](x)
        y = h_sigmoid(y * h_sigmoid(y))
        y = convs[1](y)
        y = y * h_sigmoid(y)
        want = h_sigmoid(fc(torch.flatten(y, 1)))
        got = model(x)
    assert torch.allclose(got, want, atol=1e-6)
    stats = torchinfo.summary(model, input_size=(1, 3, 8, 8), verbose=0)
    assert stats.total_params == net.params
    assert stats.total_mult_adds == net.macs  # torchinfo counts the activations as 0 too


def test_summaries_name_them_as_the_paper_does():
    net = cnnspec.loads(SPEC)
    table = render_markdown(net)
    assert "h-swish" in table and "h-sigmoid" in table
    layers = summary_json(net)["layers"]
    assert [layer["module"] for layer in layers if layer["type"].startswith("hard")] == [
        "Hardswish",
        "Hardsigmoid",
        "Hardswish",
        "Hardsigmoid",
    ]


@pytest.mark.parametrize("kind", ["hardswish", "hardsigmoid"])
def test_they_take_no_keys(kind):
    text = SPEC.replace(f"{{type: {kind}}}", f"{{type: {kind}, inplace: true}}")
    with pytest.raises(SpecError) as info:
        cnnspec.loads(text)
    assert [d.code for d in info.value.diagnostics] == ["unknown-key"]
