"""tests/fingerprint.py is deterministic, and the torchvision graph fixture is complete.

The fixture tests/reference/torchvision_graphs.json comes from
tools/dump_torchvision_state_dicts.py, run once in a separate environment with torchvision;
these tests only read it.
"""

import json
import math
from pathlib import Path

import pytest
import torch
from fingerprint import FULL_LIMIT, SAMPLES, compare, fill_, fingerprint, fixed_input
from torch import nn

GRAPHS = Path(__file__).resolve().parents[1] / "reference" / "torchvision_graphs.json"
GRAPH_MODELS = [
    "resnet18",
    "resnet34",
    "resnet50",
    "resnet101",
    "resnet152",
    "resnext50_32x4d",
    "wide_resnet50_2",
    "googlenet",
    "densenet121",
    "densenet161",
    "densenet169",
    "densenet201",
    "squeezenet1_0",
    "squeezenet1_1",
    "mobilenet_v2",
    "fcn_resnet50",
]
FIELDS = [
    "constructor",
    "params",
    "total_mult_adds",
    "output_shape",
    "state_dict",
    "classes",
    "modules",
    "fingerprint",
]
BUFFER_SUFFIXES = ("running_mean", "running_var", "num_batches_tracked")


def small_net(seed: int) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1),
        nn.BatchNorm2d(8),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, bias=False),
        nn.BatchNorm2d(16),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(16, 10),
    )


class Fire(nn.Module):
    """torchvision.models.squeezenet.Fire, written out here (no torchvision in this env)."""

    def __init__(self, inplanes: int, squeeze: int, expand1x1: int, expand3x3: int):
        super().__init__()
        self.squeeze = nn.Conv2d(inplanes, squeeze, kernel_size=1)
        self.squeeze_activation = nn.ReLU(inplace=True)
        self.expand1x1 = nn.Conv2d(squeeze, expand1x1, kernel_size=1)
        self.expand1x1_activation = nn.ReLU(inplace=True)
        self.expand3x3 = nn.Conv2d(squeeze, expand3x3, kernel_size=3, padding=1)
        self.expand3x3_activation = nn.ReLU(inplace=True)

    def forward(self, x):
        x = self.squeeze_activation(self.squeeze(x))
        return torch.cat(
            [
                self.expand1x1_activation(self.expand1x1(x)),
                self.expand3x3_activation(self.expand3x3(x)),
            ],
            1,
        )


class SqueezeNet11(nn.Module):
    """torchvision.models.squeezenet1_1(weights=None), module for module."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 64, kernel_size=3, stride=2),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True),
            Fire(64, 16, 64, 64),
            Fire(128, 16, 64, 64),
            nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True),
            Fire(128, 32, 128, 128),
            Fire(256, 32, 128, 128),
            nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True),
            Fire(256, 48, 192, 192),
            Fire(384, 48, 192, 192),
            Fire(384, 64, 256, 256),
            Fire(512, 64, 256, 256),
        )
        self.classifier = nn.Sequential(
            nn.Dropout(p=0.5),
            nn.Conv2d(512, 1000, kernel_size=1),
            nn.ReLU(inplace=True),
            nn.AdaptiveAvgPool2d((1, 1)),
        )

    def forward(self, x):
        return torch.flatten(self.classifier(self.features(x)), 1)


@pytest.fixture(scope="module")
def graphs() -> dict:
    return json.loads(GRAPHS.read_text(encoding="utf-8"))


def test_fill_is_deterministic():
    a, b = fill_(small_net(0)), fill_(small_net(1))
    sa, sb = a.state_dict(), b.state_dict()
    assert list(sa) == list(sb)
    for key in sa:
        assert torch.equal(sa[key], sb[key]), key
    assert int(sa["1.num_batches_tracked"]) == 0  # integer buffers untouched
    assert 0.5 <= float(sa["1.running_var"].min()) <= float(sa["1.running_var"].max()) <= 1.5
    assert 0.9 <= float(sa["5.weight"].min()) <= float(sa["5.weight"].max()) <= 1.1
    assert float(sa["9.bias"].abs().max()) <= 0.1
    # conv weights: fan-in scaled, and not of rank 2 (the reason for the chirp term)
    w = sa["4.weight"].double().reshape(16, -1)
    assert float(w.abs().max()) <= math.sqrt(2.0 / w.shape[1]) + 1e-12
    assert int(torch.linalg.matrix_rank(w)) == 16


def test_fingerprint_is_stable():
    a = fingerprint(small_net(0), (2, 3, 16, 16))
    b = fingerprint(small_net(5), (2, 3, 16, 16))
    assert len(a) == 20
    assert a == b
    assert all(math.isfinite(v) for v in a)
    assert compare(a, b) is None


def test_fingerprint_depends_on_input():
    a = fingerprint(small_net(0), (1, 3, 16, 16))
    x = torch.cos(0.023 * torch.arange(3 * 16 * 16, dtype=torch.float64)).reshape(1, 3, 16, 16)
    b = fingerprint(small_net(0), x=x)
    assert compare(b, a) is not None
    assert torch.tensor(a).std() > 1e-6 * torch.tensor(a).abs().mean()


def test_large_outputs_are_sampled():
    model = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1))
    y = fingerprint(model, (1, 3, 32, 32))  # 4096 values
    assert len(y) == SAMPLES + 2
    with torch.no_grad():
        full = model(fixed_input((1, 3, 32, 32))).reshape(-1)  # model is already filled
    n = full.numel()
    assert y[:SAMPLES] == [float(full[(j * n) // SAMPLES]) for j in range(SAMPLES)]
    assert y[SAMPLES] == pytest.approx(float(full.sum()), rel=1e-12)
    assert y[SAMPLES + 1] == pytest.approx(float(full.abs().sum()), rel=1e-12)


def test_compare_reports_the_worst_mismatch():
    expected = [1.0, -2.0, 3.0, 0.0]
    assert compare(list(expected), expected) is None
    assert compare([1.00001, -2.0, 3.0, 0.0], expected) is None
    msg = compare([1.0, -2.1, 3.001, 0.0], expected)
    assert msg is not None and "2 of 4" in msg and "index 1" in msg
    assert "length" in compare([1.0], expected)
    assert "non-finite" in compare([1.0, math.nan, 3.0, 0.0], expected)


def test_fixture_has_every_model(graphs):
    assert "torchvision 0.29.1" in graphs["source"]
    assert graphs["input_shape"] == [1, 3, 224, 224]
    assert list(graphs["models"]) == GRAPH_MODELS


@pytest.mark.parametrize("name", GRAPH_MODELS)
def test_fixture_entry(graphs, name):
    entry = graphs["models"][name]
    assert list(entry) == FIELDS
    assert entry["total_mult_adds"] > 0
    assert entry["params"] == sum(
        math.prod(shape) for key, shape in entry["state_dict"] if not key.endswith(BUFFER_SUFFIXES)
    )
    assert entry["classes"][0][0] == ""
    names = {qual for qual, _ in entry["classes"]}
    assert entry["modules"] and all(qual in names for qual, _ in entry["modules"])
    out = math.prod(entry["output_shape"])
    fp = entry["fingerprint"]
    assert len(fp) == (out if out <= FULL_LIMIT else SAMPLES + 2)
    assert all(isinstance(v, float) and math.isfinite(v) for v in fp)
    assert torch.tensor(fp).std() > 1e-6 * torch.tensor(fp).abs().mean()


def test_fixture_fingerprint_reproduces_here(graphs):
    """A hand-written squeezenet1_1 under this project's torch matches the recorded entry."""
    entry = graphs["models"]["squeezenet1_1"]
    model = SqueezeNet11()
    assert [[k, list(t.shape)] for k, t in model.state_dict().items()] == entry["state_dict"]
    assert compare(fingerprint(model), entry["fingerprint"]) is None
