"""Training outputs (`training_outputs:`): auxiliary classifiers that run in training only.

torchvision's GoogLeNet and Inception-v3 hold their auxiliary classifiers' weights in the
state_dict but run them only in training: eval returns the logits, training a tuple
(logits, aux…). The generated modules do the same; cnnspec's MACs are eval's (what
torchinfo counts in eval mode), and the auxiliary classifiers' own MACs are what torchinfo
counts on top of them in training mode.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import torchinfo

import cnnspec

ROOT = Path(__file__).resolve().parents[3]
CASES = {"googlenet_aux": ("aux2", "aux1"), "inception_v3": ("AuxLogits",)}


@pytest.fixture(autouse=True)
def _at_root(monkeypatch):
    monkeypatch.chdir(ROOT)


@pytest.mark.parametrize("stem", sorted(CASES))
def test_eval_returns_the_logits_and_training_the_auxiliary_ones(stem):
    net = cnnspec.load(Path("specs") / "zoo" / f"{stem}.yaml")
    assert net.training_outputs == CASES[stem]
    model = cnnspec.build(net)
    x = torch.randn(2, *net.input_shape)
    with torch.no_grad():
        y = model.eval()(x)
        assert isinstance(y, torch.Tensor) and y.shape == (2, 1000)
        out = model.train()(x)
    assert isinstance(out, tuple) and len(out) == 1 + len(CASES[stem])
    assert all(t.shape == (2, 1000) for t in out)
    # the main output is the same function in both modes, but for dropout and batch norm
    assert [n.path for n in net.layers if net.training_only(n)][0].split(".")[0] in CASES[stem]


@pytest.mark.parametrize("stem", sorted(CASES))
def test_macs_are_evals_and_the_auxiliary_ones_are_trainings_extra(stem):
    net = cnnspec.load(Path("specs") / "zoo" / f"{stem}.yaml")
    aux = sum(n.macs for n in net.layers if net.training_only(n))
    assert aux > 0
    assert net.macs == sum(n.macs for n in net.layers if not net.training_only(n))
    with torch.device("meta"):
        model = cnnspec.build(net)
        size = (2, *net.input_shape)  # batch norm in training wants two values a channel
        evals = torchinfo.summary(model, input_size=size, device="meta", mode="eval", verbose=0)
        trains = torchinfo.summary(model, input_size=size, device="meta", mode="train", verbose=0)
    assert evals.total_mult_adds == 2 * net.macs
    assert trains.total_mult_adds == 2 * (net.macs + aux)
    assert evals.total_params == trains.total_params == net.params


def test_the_forward_computes_them_under_self_training():
    source = cnnspec.torch_source(cnnspec.load(Path("specs") / "zoo" / "googlenet_aux.yaml"))
    assert (  # the def line as ruff format splits it
        "    def forward(\n        self, x: torch.Tensor\n"
        "    ) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor | None, torch.Tensor | None]:"
    ) in source
    assert (
        "        aux1: torch.Tensor | None = None\n"
        "        if self.training:\n"
        "            aux1 = self.aux1(inception4a)  # -> 1000\n"
    ) in source
    returns = "        if self.training:\n            return x, aux2, aux1\n        return x\n"
    assert returns in source
