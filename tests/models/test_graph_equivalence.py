"""Generated graph modules against the hand-written references of tests/reference/.

Each zoo spec's module takes the reference's weights with `strict=True` (the same
state_dict keys and shapes) and then gives the reference's outputs: the same function,
written independently (the references follow the papers and torchvision's conventions,
not cnnspec's rules).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from reference import densenet, googlenet, mobilenet_v2, resnet, shufflenet_v2, squeezenet

import cnnspec

ROOT = Path(__file__).resolve().parents[2]

PAIRS = {
    "resnet18": resnet.resnet18,
    "resnet50": resnet.resnet50,
    "resnext50_32x4d": resnet.resnext50_32x4d,
    "googlenet": googlenet.googlenet,
    "densenet121": densenet.densenet121,
    "squeezenet1_0": squeezenet.squeezenet1_0,
    "squeezenet1_1": squeezenet.squeezenet1_1,
    "mobilenet_v2": mobilenet_v2.mobilenet_v2,
    **{
        f"shufflenet_v2_{w}": (lambda w=w: shufflenet_v2.shufflenet_v2(w))
        for w in shufflenet_v2.WIDTHS
    },
}


@pytest.mark.parametrize("stem", sorted(PAIRS))
def test_the_generated_module_is_the_reference_with_its_weights(stem):
    torch.manual_seed(0)
    reference = PAIRS[stem]().eval()
    # random running statistics too, so that batch norm in eval mode is not the identity
    with torch.no_grad():
        for name, buffer in reference.named_buffers():
            if name.endswith("running_mean"):
                buffer.copy_(torch.randn_like(buffer) * 0.1)
            elif name.endswith("running_var"):
                buffer.copy_(torch.rand_like(buffer) + 0.5)
    model = cnnspec.build(cnnspec.load(ROOT / "specs" / "zoo" / f"{stem}.yaml")).eval()
    model.load_state_dict(reference.state_dict(), strict=True)
    x = torch.randn(2, 3, 96, 96, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        want, got = reference(x), model(x)
    assert got.shape == want.shape
    assert torch.allclose(got, want, rtol=1e-5, atol=1e-5), (got - want).abs().max()
    # the same state_dict, key for key and in order (so checkpoints load as they are)
    assert [(k, v.shape) for k, v in model.state_dict().items()] == [
        (k, v.shape) for k, v in reference.state_dict().items()
    ]
