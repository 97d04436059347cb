"""Several outputs (`outputs:`): the rows a network returns, as a tuple or a dict.

A backbone returns its stages' outputs (torchvision's IntermediateLayerGetter returns
{"0": layer1, …, "3": layer4}); the generated forward returns them, and the summary, the
check line and the diagram list each with its shape and its stride. Each figure is
compared with something independent: a network written by hand in plain torch, torchinfo
(which sums MACs over every output), the recorded torchvision state_dict.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
import torchinfo
from torch import nn

import cnnspec
from cnnspec.backends.summary import render_text, summary_json

ROOT = Path(__file__).resolve().parents[3]
GRAPHS = ROOT / "tests" / "reference" / "torchvision_graphs.json"


def _load(text: str, tmp_path: Path, name: str = "net.yaml") -> cnnspec.Network:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return cnnspec.load(path)


# --------------------------------------------------------------------------- ResNet-50 body


def test_the_resnet50_backbone_is_torchvisions_body_without_fc():
    net = cnnspec.load(ROOT / "specs" / "resnet50_backbone.yaml")
    assert net.warnings == ()
    model = cnnspec.build(net).eval()
    fixture = json.loads(GRAPHS.read_text(encoding="utf-8"))["models"]["resnet50"]
    want = [(k, tuple(s)) for k, s in fixture["state_dict"] if not k.startswith("fc.")]
    assert len(want) == len(fixture["state_dict"]) - 2
    assert [(k, tuple(t.shape)) for k, t in model.state_dict().items()] == want
    # torchvision 0.29.1: IntermediateLayerGetter(resnet50(), {layer1: "0", …, layer4: "3"})
    # has 23,508,032 params and torchinfo counts 4,087,189,376 MACs at 224×224
    assert (net.params, net.macs) == (23_508_032, 4_087_189_376)
    assert net.params == fixture["params"] - (2048 * 1000 + 1000)
    with torch.no_grad():
        out = model(torch.randn(1, 3, 224, 224))
    assert isinstance(out, dict) and list(out) == ["0", "1", "2", "3"]
    shapes = {k: tuple(v.shape[1:]) for k, v in out.items()}
    assert shapes == {o.key: o.shape for o in net.outputs}
    assert shapes == {
        "0": (256, 56, 56),
        "1": (512, 28, 28),
        "2": (1024, 14, 14),
        "3": (2048, 7, 7),
    }
    data = summary_json(net)
    assert [(o["name"], o["row"], o["stride"]) for o in data["outputs"]] == [
        ("0", "layer1", 4),
        ("1", "layer2", 8),
        ("2", "layer3", 16),
        ("3", "layer4", 32),
    ]
    assert data["outputs_as"] == "dict" and data["output_shape"] == [256, 56, 56]


def test_torchinfo_counts_the_backbones_params_and_macs_over_all_outputs():
    net = cnnspec.load(ROOT / "specs" / "resnet50_backbone.yaml")
    with torch.device("meta"):
        model = cnnspec.build(net)
        got = torchinfo.summary(model, input_size=(1, 3, 224, 224), device="meta", verbose=0)
    assert (got.total_params, got.total_mult_adds) == (net.params, net.macs)


# --------------------------------------------------------------------------- by hand

BY_HAND = """\
name: Pyramid
input: {maps: 3, size: 64x64}
outputs: {"0": s1, "1": s2, "2": s3, "3": s4}
layers:
  - {name: stem, type: conv, maps: 16, kernel: 3, stride: 2, padding: 1, bias: false}
  - {name: bn, type: batchnorm}
  - {name: relu, type: relu}
  - {name: s1, type: conv, maps: 24, kernel: 3, stride: 2, padding: 1, activation: relu}
  - {name: s2, type: conv, maps: 32, kernel: 3, stride: 2, padding: 1, activation: relu}
  - {name: s3, type: conv, maps: 48, kernel: 3, stride: 2, padding: 1, activation: relu}
  - {name: s4, type: conv, maps: 64, kernel: 3, stride: 2, padding: 1, activation: relu}
"""


class Pyramid(nn.Module):
    """The same network written by hand, returning its four levels."""

    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 16, 3, 2, 1, bias=False), nn.BatchNorm2d(16))
        widths = [16, 24, 32, 48, 64]
        self.levels = nn.ModuleList(
            nn.Sequential(nn.Conv2d(a, b, 3, 2, 1), nn.ReLU()) for a, b in zip(widths, widths[1:])
        )

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        x = torch.relu(self.stem(x))
        out = {}
        for i, level in enumerate(self.levels):
            x = level(x)
            out[str(i)] = x
        return out


def test_a_pyramid_matches_one_written_by_hand(tmp_path):
    net = _load(BY_HAND, tmp_path)
    assert net.warnings == ()
    model, hand = cnnspec.build(net).eval(), Pyramid().eval()
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        got, want = model(x), hand(x)
    assert list(got) == list(want) == ["0", "1", "2", "3"]
    assert {k: v.shape for k, v in got.items()} == {k: v.shape for k, v in want.items()}
    assert [o.shape for o in net.outputs] == [tuple(v.shape[1:]) for v in want.values()]
    theirs = torchinfo.summary(hand, input_size=(1, 3, 64, 64), verbose=0)
    ours = torchinfo.summary(model, input_size=(1, 3, 64, 64), verbose=0)
    assert net.params == theirs.total_params == ours.total_params
    assert net.macs == theirs.total_mult_adds == ours.total_mult_adds
    assert [o["stride"] for o in summary_json(net)["outputs"]] == [4, 8, 16, 32]


# --------------------------------------------------------------------------- tuple, training

TWO = """\
name: TwoHeads
input: {maps: 3, size: 32x32}
outputs: [feat, logits]
layers:
  - {name: feat, type: conv, maps: 8, kernel: 3, stride: 2, padding: 1, activation: relu}
  - {name: pool, type: adaptive_avgpool, size: 1}
  - {name: flatten, type: flatten}
  - {name: logits, type: fc, size: 10}
  - {name: aux, type: fc, size: 5, from: flatten}
"""


def test_a_list_returns_a_tuple_and_the_check_line_lists_each_output(tmp_path):
    net = _load(TWO.replace("  - {name: aux, type: fc, size: 5, from: flatten}\n", ""), tmp_path)
    assert net.warnings == ()
    with torch.no_grad():
        out = cnnspec.build(net).eval()(torch.randn(2, 3, 32, 32))
    assert isinstance(out, tuple) and [t.shape for t in out] == [(2, 8, 16, 16), (2, 10)]
    assert [o["stride"] for o in summary_json(net)["outputs"]] == [2, None]
    text = render_text(net)
    assert "Outputs (tuple):\n  feat: 8×16×16 (stride 2)\n  logits: 10\n" in text
    from cnnspec.cli import _outputs_text

    assert _outputs_text(net) == "feat: 8×16×16 (stride 2), logits: 10"


def test_a_row_nothing_and_no_output_reads_still_warns(tmp_path):
    net = _load(TWO, tmp_path)  # aux, the last row, is no output: nothing reads it
    (warning,) = net.warnings
    assert warning.code == "unused" and "'aux'" in warning.message
    # the outputs are the network's: the last row is not returned
    with torch.no_grad():
        out = cnnspec.build(net).eval()(torch.randn(1, 3, 32, 32))
    assert [t.shape for t in out] == [(1, 8, 16, 16), (1, 10)]


@pytest.mark.parametrize("form", ["tuple", "dict"])
def test_training_outputs_come_after_the_outputs_in_training(tmp_path, form):
    outputs = "[feat, logits]" if form == "tuple" else "{out: logits, feat: feat}"
    text = TWO.replace("outputs: [feat, logits]", f"outputs: {outputs}\ntraining_outputs: [aux]")
    net = _load(text, tmp_path)
    assert net.warnings == () and net.training_outputs == ("aux",)
    model = cnnspec.build(net)
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        evals, trains = model.eval()(x), model.train()(x)
    if form == "tuple":
        assert [t.shape for t in evals] == [(2, 8, 16, 16), (2, 10)]
        assert [t.shape for t in trains] == [(2, 8, 16, 16), (2, 10), (2, 5)]
    else:
        assert {k: v.shape for k, v in evals.items()} == {"out": (2, 10), "feat": (2, 8, 16, 16)}
        assert list(trains) == ["out", "feat", "aux"] and trains["aux"].shape == (2, 5)
    aux = [n for n in net.nodes if net.training_only(n)]
    assert [n.name for n in aux] == ["aux"]
    assert net.macs == sum(n.macs for n in net.nodes) - aux[0].macs


def test_without_outputs_the_generated_forward_is_unchanged(tmp_path):
    net = _load(TWO.replace("outputs: [feat, logits]\n", ""), tmp_path)
    assert net.outputs == () and [o.row for o in net.returned] == ["aux"]
    assert "outputs" not in summary_json(net)


def test_each_output_is_a_labelled_sink_in_the_diagram(tmp_path):
    net = _load(BY_HAND, tmp_path)
    dot = cnnspec.diagram(net).source
    for key, shape, stride in (("0", "24×16×16", 4), ("3", "64×2×2", 32)):
        assert f"<b>output {key}</b></td></tr><tr><td>{shape}</td></tr>" in dot
        assert f"<tr><td>stride {stride}</td></tr>" in dot
    assert dot.count("<b>output ") == 4


KEYS = ['a"""b\\', "é x", "it's", "a'b\"", 'q"', "0"]


def test_odd_keys_and_long_returns_are_python_as_ruff_formats_it(tmp_path):
    import subprocess
    import sys

    rows = "".join(
        f"  - {{name: level_{i}_with_a_long_name, type: conv, maps: 4, kernel: 1}}\n"
        for i in range(len(KEYS))
    )
    mapping = ", ".join(f"{json.dumps(k)}: level_{i}_with_a_long_name" for i, k in enumerate(KEYS))
    names = ", ".join(f"level_{i}_with_a_long_name" for i in range(len(KEYS)))
    texts = {
        "keyed": f"name: Keyed\ninput: {{maps: 3, size: 8x8}}\noutputs: {{{mapping}}}\n"
        f"layers:\n{rows}",
        "listed": f"name: Listed\ninput: {{maps: 3, size: 8x8}}\noutputs: [{names}]\n"
        f"layers:\n{rows}",
        "one": "name: One\ninput: {maps: 3, size: 8x8}\noutputs: [c]\n"
        "layers:\n  - {name: c, type: conv, maps: 4, kernel: 1}\n",
    }
    for stem, text in texts.items():
        net = _load(text, tmp_path, f"{stem}.yaml")
        (tmp_path / f"{stem}.py").write_text(cnnspec.torch_source(net), encoding="utf-8")
        with torch.no_grad():
            out = cnnspec.build(net).eval()(torch.randn(1, 3, 8, 8))
        if stem == "keyed":
            assert list(out) == KEYS
        else:
            assert isinstance(out, tuple) and len(out) == len(net.outputs)
    done = subprocess.run(
        [sys.executable, "-m", "ruff", "format", "--check", "--diff", "--no-cache"]
        + ["--config", str(ROOT / "pyproject.toml"), str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stdout + done.stderr


# --------------------------------------------------------------------------- container taps

TAPS = """
name: Taps
input: {maps: 3, size: 64x64}
outputs: {"0": body.c1, "1": body.c2, "2": body.c3}
layers:
  - name: body
    type: sequential
    layers:
      - {name: c1, type: conv, maps: 8, kernel: 3, stride: 2, padding: 1, activation: relu}
      - {name: c2, type: conv, maps: 16, kernel: 3, stride: 2, padding: 1, activation: relu}
      - {name: c3, type: conv, maps: 32, kernel: 3, stride: 2, padding: 1}
"""


class TappedBody(nn.Module):
    """A body of one nn.Sequential whose intermediate values are returned, written by hand
    (what IntermediateLayerGetter returns of a backbone)."""

    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(3, 8, 3, 2, 1), nn.ReLU(), nn.Conv2d(8, 16, 3, 2, 1), nn.ReLU()
        )
        self.body.append(nn.Conv2d(16, 32, 3, 2, 1))

    def forward(self, x):
        out = {}
        for i, m in enumerate(self.body):
            x = m(x)
            if i in (1, 3, 4):
                out[str(len(out))] = x
        return out


def test_outputs_read_into_a_container_as_a_backbone_returns_its_stages(tmp_path):
    net = _load(TAPS, tmp_path)
    assert net.warnings == ()
    built = cnnspec.build(net).eval()
    hand = TappedBody().eval()
    assert [(k, tuple(v.shape)) for k, v in built.state_dict().items()] == [
        (k, tuple(v.shape)) for k, v in hand.state_dict().items()
    ]
    hand.load_state_dict(built.state_dict())
    x = torch.randn(2, 3, 64, 64)
    got, want = built(x), hand(x)
    assert list(got) == list(want) == ["0", "1", "2"]
    for k in want:
        torch.testing.assert_close(got[k], want[k])
    assert [(o.shape, o.row) for o in net.outputs] == [
        ((8, 32, 32), "body.c1"),
        ((16, 16, 16), "body.c2"),
        ((32, 8, 8), "body.c3"),
    ]
    stats = torchinfo.summary(hand, input_data=x[:1], verbose=0)
    assert (net.params, net.macs) == (stats.total_params, stats.total_mult_adds)
