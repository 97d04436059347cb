"""The generated modules against the hand-written references of tests/reference/.

For each seed spec: the same module types and hyper-parameters in the same
order, the same parameter shapes, the same outputs once the reference's weights
are copied in, every layer's real output shape equal to the checker's, and
params and MACs equal to torchinfo's. The torchinfo check runs for every zoo
spec too.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import torchinfo
from reference.alexnet import AlexNet
from reference.lenet5 import LeNet5
from reference.lenet_code611 import LeNet
from reference.vgg16 import VGG16
from torchinfo_counts import torchinfo_macs
from zoo_expected import ZOO_PARAMS

import cnnspec

ROOT = Path(__file__).resolve().parents[2]
SEEDS = {"lenet5": LeNet5, "alexnet": AlexNet, "vgg16": VGG16, "lenet_code611": LeNet}
ZOO = sorted(p.stem for p in (ROOT / "specs" / "zoo").glob("*.yaml"))

#: the largest |reference − generated| output per seed, for the report
MAX_ABS_DIFF: dict[str, float] = {}


def leaves(model: torch.nn.Module) -> list[torch.nn.Module]:
    return [m for m in model.modules() if not list(m.children())]


@pytest.fixture(scope="module", params=sorted(SEEDS))
def seed(request):
    """(stem, network, generated model, reference model), built once per seed."""
    stem = request.param
    net = cnnspec.load(ROOT / "specs" / f"{stem}.yaml")
    torch.manual_seed(0)
    return stem, net, cnnspec.build(net).eval(), SEEDS[stem]().eval()


def test_same_modules_in_the_same_order(seed):
    _, _, model, reference = seed
    assert [repr(m) for m in leaves(model)] == [repr(m) for m in leaves(reference)]


def test_same_parameter_shapes(seed):
    _, _, model, reference = seed
    got = [tuple(p.shape) for p in model.parameters()]
    assert got == [tuple(p.shape) for p in reference.parameters()]


def test_same_outputs_with_the_references_weights(seed):
    stem, net, model, reference = seed
    ours, theirs = model.state_dict(), reference.state_dict()
    assert len(ours) == len(theirs)
    # the reference's key names may differ (lenet5, alexnet): map by order
    model.load_state_dict(dict(zip(ours, theirs.values())), strict=True)
    torch.manual_seed(1)
    x = torch.randn(2, *net.input_shape)
    with torch.no_grad():
        expected, got = reference(x), model(x)
    diff = (expected - got).abs().max().item()
    MAX_ABS_DIFF[stem] = diff
    print(f"{stem}: max |reference - generated| = {diff:.3g}")
    torch.testing.assert_close(got, expected, rtol=0, atol=0)


def test_every_layer_has_the_predicted_shape(seed):
    _, net, model, _ = seed
    shapes: list[tuple[int, ...]] = []
    hooks = [
        m.register_forward_hook(lambda m, i, o: shapes.append(tuple(o.shape[1:])))
        for m in leaves(model)
    ]
    with torch.no_grad():
        model(torch.randn(1, *net.input_shape))
    for hook in hooks:
        hook.remove()
    assert shapes == [n.output_shape for n in net.layers]


def test_params_and_macs_equal_torchinfo(seed):
    stem, net, model, _ = seed
    stats = torchinfo.summary(model, input_size=(1, *net.input_shape), verbose=0)
    print(
        f"{stem}: params cnnspec {net.params:,} torchinfo {stats.total_params:,}; "
        f"MACs cnnspec {net.macs:,} torchinfo {stats.total_mult_adds:,}"
    )
    assert (net.params, net.macs) == (stats.total_params, stats.total_mult_adds)
    assert net.params == sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize("stem", ZOO)
def test_zoo_params_and_macs_equal_torchinfo(stem):
    net = cnnspec.load(ROOT / "specs" / "zoo" / f"{stem}.yaml")
    # torchinfo's counts need shapes, not values: the meta device keeps the big
    # VGGs from allocating and running ~20 GMACs each on a CPU
    with torch.device("meta"):
        model = cnnspec.build(net).eval()
        stats = torchinfo.summary(model, input_size=(1, *net.input_shape), device="meta", verbose=0)
    assert net.params == ZOO_PARAMS[stem]
    assert (net.params, torchinfo_macs(net)) == (stats.total_params, stats.total_mult_adds)
    assert sum(p.numel() for p in model.parameters()) == net.params
