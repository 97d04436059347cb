"""ResNets, written by hand after Table 1 of He et al. 2016 in torchvision's layout.

``ResNet`` follows torchvision's documented conventions, so its state_dict keys
are torchvision's: conv1, bn1, relu, maxpool, layer1..layer4 (each an
nn.Sequential of blocks), avgpool = AdaptiveAvgPool2d((1, 1)), fc. Every conv
has bias=False and is followed by a BatchNorm2d; a block whose input and output
shapes differ gets a projection shortcut ``downsample`` = Sequential(1x1 conv,
BatchNorm2d). Bottleneck puts the stride on its 3x3 conv ("v1.5") and takes
``groups``/``width_per_group`` for ResNeXt and wide ResNets.

Parameters: resnet18 11,689,512; resnet34 21,797,672; resnet50 25,557,032;
resnet101 44,549,160; resnet152 60,192,808; resnext50_32x4d 25,028,904;
wide_resnet50_2 68,883,240.

``resnet18_paper`` and ``resnet50_paper`` build the paper's table literally. For
18 layers that is the same network as ``resnet18``; for 50 the first bottleneck
of conv3_x..conv5_x strides its first 1x1 conv (the paper's design): the same
25,557,032 parameters but 3.86 G weight multiply-adds instead of 4.09 G.
"""

import torch
from torch import nn


def conv3x3(in_ch, out_ch, stride=1, groups=1):
    return nn.Conv2d(
        in_ch, out_ch, kernel_size=3, stride=stride, padding=1, groups=groups, bias=False
    )


def conv1x1(in_ch, out_ch, stride=1):
    return nn.Conv2d(in_ch, out_ch, kernel_size=1, stride=stride, bias=False)


class BasicBlock(nn.Module):
    """Two 3x3 convs; the first one carries the stride."""

    expansion = 1

    def __init__(self, in_ch, planes, stride=1, downsample=None, **_):
        super().__init__()
        self.conv1 = conv3x3(in_ch, planes, stride)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = conv3x3(planes, planes)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = downsample

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)


class Bottleneck(nn.Module):
    """1x1 reduce, 3x3 (grouped for ResNeXt), 1x1 expand to 4 * planes.

    ``stride_on_1x1=False`` (torchvision, "v1.5") strides the 3x3 conv;
    ``stride_on_1x1=True`` strides the first 1x1 conv as the paper does.
    """

    expansion = 4

    def __init__(
        self,
        in_ch,
        planes,
        stride=1,
        downsample=None,
        groups=1,
        width_per_group=64,
        stride_on_1x1=False,
    ):
        super().__init__()
        width = int(planes * (width_per_group / 64.0)) * groups
        stride1, stride3 = (stride, 1) if stride_on_1x1 else (1, stride)
        self.conv1 = conv1x1(in_ch, width, stride1)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = conv3x3(width, width, stride3, groups)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = conv1x1(width, planes * self.expansion)
        self.bn3 = nn.BatchNorm2d(planes * self.expansion)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + identity)


class ResNet(nn.Module):
    def __init__(
        self,
        block,
        layers,
        num_classes=1000,
        groups=1,
        width_per_group=64,
        stride_on_1x1=False,
    ):
        super().__init__()
        self.block_kwargs = {
            "groups": groups,
            "width_per_group": width_per_group,
            "stride_on_1x1": stride_on_1x1,
        }
        self.in_ch = 64
        # conv1: 7x7, 64, stride 2 -> 112x112; 3x3 max pool, stride 2 -> 56x56
        self.conv1 = nn.Conv2d(3, 64, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = self._make_layer(block, 64, layers[0], stride=1)  # conv2_x, 56x56
        self.layer2 = self._make_layer(block, 128, layers[1], stride=2)  # conv3_x, 28x28
        self.layer3 = self._make_layer(block, 256, layers[2], stride=2)  # conv4_x, 14x14
        self.layer4 = self._make_layer(block, 512, layers[3], stride=2)  # conv5_x, 7x7
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(512 * block.expansion, num_classes)

    def _make_layer(self, block, planes, blocks, stride):
        out_ch = planes * block.expansion
        downsample = None
        if stride != 1 or self.in_ch != out_ch:
            downsample = nn.Sequential(conv1x1(self.in_ch, out_ch, stride), nn.BatchNorm2d(out_ch))
        layers = [block(self.in_ch, planes, stride, downsample, **self.block_kwargs)]
        self.in_ch = out_ch
        for _ in range(1, blocks):
            layers.append(block(self.in_ch, planes, **self.block_kwargs))
        return nn.Sequential(*layers)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer1(x)
        x = self.layer2(x)
        x = self.layer3(x)
        x = self.layer4(x)
        x = torch.flatten(self.avgpool(x), 1)
        return self.fc(x)


def resnet18():
    return ResNet(BasicBlock, [2, 2, 2, 2])


def resnet34():
    return ResNet(BasicBlock, [3, 4, 6, 3])


def resnet50():
    return ResNet(Bottleneck, [3, 4, 6, 3])


def resnet101():
    return ResNet(Bottleneck, [3, 4, 23, 3])


def resnet152():
    return ResNet(Bottleneck, [3, 8, 36, 3])


def resnext50_32x4d():
    return ResNet(Bottleneck, [3, 4, 6, 3], groups=32, width_per_group=4)


def wide_resnet50_2():
    return ResNet(Bottleneck, [3, 4, 6, 3], width_per_group=64 * 2)


def resnet18_paper():
    """Table 1, 18-layer column: identical to torchvision's resnet18."""
    return ResNet(BasicBlock, [2, 2, 2, 2])


def resnet50_paper():
    """Table 1, 50-layer column: conv3_1, conv4_1, conv5_1 stride their first 1x1 conv."""
    return ResNet(Bottleneck, [3, 4, 6, 3], stride_on_1x1=True)
