"""The hand-written reference models match the numbers the book's tables imply."""

import json
from pathlib import Path

import pytest
import torch
from reference.alexnet import AlexNet
from reference.lenet5 import LeNet5
from reference.lenet_code611 import BOOK_PRINTOUT, LeNet
from reference.vgg16 import VGG16
from zoo_expected import ZOO_PARAMS, ZOO_TORCHVISION

# (model class, input shape without batch, output features, parameters)
REFERENCES = [
    (LeNet5, (1, 32, 32), 2, 61_026),
    (AlexNet, (3, 227, 227), 1000, 62_378_344),
    (VGG16, (3, 224, 224), 1000, 138_357_544),
    (LeNet, (3, 224, 224), 2, 46_038_242),
]
IDS = [cls.__name__ for cls, *_ in REFERENCES]


def count_params(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize(("cls", "shape", "out", "params"), REFERENCES, ids=IDS)
def test_param_count(cls, shape, out, params):
    assert count_params(cls()) == params


@pytest.mark.parametrize(("cls", "shape", "out", "params"), REFERENCES, ids=IDS)
def test_forward_shape(cls, shape, out, params):
    torch.manual_seed(0)
    model = cls().eval()
    with torch.no_grad():
        y = model(torch.randn(2, *shape))
    assert y.shape == (2, out)
    # every reference ends in softmax(dim=1)
    torch.testing.assert_close(y.sum(dim=1), torch.ones(2))


def test_lenet_code611_printout():
    assert str(LeNet()) == BOOK_PRINTOUT


FIXTURE = Path(__file__).resolve().parents[1] / "reference" / "torchvision_state_dicts.json"


def test_vgg16_matches_torchvision_state_dict():
    expected = json.loads(FIXTURE.read_text(encoding="utf-8"))["models"]["vgg16"]
    got = [[key, list(t.shape)] for key, t in VGG16().state_dict().items()]
    assert got == expected["state_dict"]
    assert count_params(VGG16()) == expected["params"]


def test_zoo_counts_agree_with_torchvision_fixture():
    models = json.loads(FIXTURE.read_text(encoding="utf-8"))["models"]
    for stem, tv_name in ZOO_TORCHVISION.items():
        assert ZOO_PARAMS[stem] == models[tv_name]["params"], stem
