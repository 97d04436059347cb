"""The hand-written reference models match the numbers the book's tables imply."""

import json
from pathlib import Path

import pytest
import torch
from reference.alexnet import AlexNet
from reference.lenet5 import LeNet5
from reference.lenet_code611 import LeNet
from reference.vgg16 import VGG16
from zoo_expected import ZOO_PARAMS, ZOO_TORCHVISION

CODE_6_11_PRINTOUT = """\
LeNet(
  (cnn1): Conv2d(3, 16, kernel_size=(5, 5), stride=(1, 1))
  (relu1): ReLU()
  (maxpool1): MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)
  (cnn2): Conv2d(16, 32, kernel_size=(5, 5), stride=(1, 1))
  (relu2): ReLU()
  (maxpool2): MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)
  (fc1): Linear(in_features=89888, out_features=512, bias=True)
  (relu5): ReLU()
  (fc2): Linear(in_features=512, out_features=2, bias=True)
  (output): Softmax(dim=1)
)"""

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
    assert str(LeNet()) == CODE_6_11_PRINTOUT


FIXTURE = Path(__file__).parent / "reference" / "torchvision_state_dicts.json"


def test_vgg16_matches_torchvision_state_dict():
    expected = json.loads(FIXTURE.read_text(encoding="utf-8"))["models"]["vgg16"]
    got = [[key, list(t.shape)] for key, t in VGG16().state_dict().items()]
    assert got == expected["state_dict"]
    assert count_params(VGG16()) == expected["params"]


def test_zoo_counts_agree_with_torchvision_fixture():
    models = json.loads(FIXTURE.read_text(encoding="utf-8"))["models"]
    for stem, tv_name in ZOO_TORCHVISION.items():
        assert ZOO_PARAMS[stem] == models[tv_name]["params"], stem
