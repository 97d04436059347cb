"""The hand-written graph references (ResNet, GoogLeNet, DenseNet, SqueezeNet,
MobileNetV2, U-Net) have the published parameter counts and output shapes.

The counts are torchvision's published figures for the torchvision-convention
models and the papers' for the paper variants (U-Net's 31,030,658 follows from
Figure 1). Models are built on the meta device, so nothing is allocated.
"""

import pytest
import torch
from reference import densenet, googlenet, mobilenet_v2, resnet, squeezenet, unet

# (constructor, parameters)
PARAMS = [
    (resnet.resnet18, 11_689_512),
    (resnet.resnet34, 21_797_672),
    (resnet.resnet50, 25_557_032),
    (resnet.resnet101, 44_549_160),
    (resnet.resnet152, 60_192_808),
    (resnet.resnext50_32x4d, 25_028_904),
    (resnet.wide_resnet50_2, 68_883_240),
    (resnet.resnet18_paper, 11_689_512),
    (resnet.resnet50_paper, 25_557_032),
    (googlenet.googlenet, 6_624_904),
    (googlenet.googlenet_paper, 6_998_552),
    (densenet.densenet121, 7_978_856),
    (densenet.densenet161, 28_681_000),
    (densenet.densenet169, 14_149_480),
    (densenet.densenet201, 20_013_928),
    (squeezenet.squeezenet1_0, 1_248_424),
    (squeezenet.squeezenet1_1, 1_235_496),
    (mobilenet_v2.mobilenet_v2, 3_504_872),
    (unet.unet, 31_030_658),
]

# (constructor, input shape, output shape)
SHAPES = [
    (resnet.resnet18, (1, 3, 224, 224), (1, 1000)),
    (googlenet.googlenet, (1, 3, 224, 224), (1, 1000)),
    (densenet.densenet121, (1, 3, 224, 224), (1, 1000)),
    (mobilenet_v2.mobilenet_v2, (1, 3, 224, 224), (1, 1000)),
    (squeezenet.squeezenet1_0, (1, 3, 224, 224), (1, 1000)),
    (unet.unet, (1, 1, 572, 572), (1, 2, 388, 388)),
]


def build_on_meta(constructor) -> torch.nn.Module:
    with torch.device("meta"):
        return constructor().eval()


@pytest.mark.parametrize(("constructor", "params"), PARAMS, ids=[f.__name__ for f, _ in PARAMS])
def test_param_count(constructor, params):
    model = build_on_meta(constructor)
    assert sum(p.numel() for p in model.parameters()) == params


@pytest.mark.parametrize(
    ("constructor", "shape", "out"), SHAPES, ids=[f.__name__ for f, *_ in SHAPES]
)
def test_output_shape(constructor, shape, out):
    model = build_on_meta(constructor)
    with torch.no_grad():
        y = model(torch.empty(shape, device="meta"))
    assert tuple(y.shape) == out
