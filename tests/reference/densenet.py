"""DenseNets, written by hand after Table 1 of Huang et al. 2017 in torchvision's layout.

Stem: 7x7/2 conv (2k maps, no bias), BN, ReLU, 3x3/2 max pool with padding 1.
Dense blocks of BN-ReLU-1x1 conv (bn_size * k maps) - BN-ReLU-3x3 conv (k maps),
each layer mapping x -> cat([x, new_features], 1) (the same function as
torchvision's list-of-features form); transitions BN-ReLU-1x1 conv (compression
0.5) - 2x2/2 average pool; final BN (norm5), functional ReLU, adaptive average
pool, flatten, ``classifier`` Linear. Names follow torchvision
(``features.denseblock1.denselayer1.norm1.weight``, ``features.transition1.conv``,
``features.norm5``), so the state_dict keys are the same.

Parameters: densenet121 7,978,856; densenet161 28,681,000; densenet169
14,149,480; densenet201 20,013,928.
"""

from collections import OrderedDict

import torch
import torch.nn.functional as F
from torch import nn


class DenseLayer(nn.Module):
    def __init__(self, in_ch, growth_rate, bn_size):
        super().__init__()
        self.norm1 = nn.BatchNorm2d(in_ch)
        self.relu1 = nn.ReLU(inplace=True)
        self.conv1 = nn.Conv2d(in_ch, bn_size * growth_rate, kernel_size=1, bias=False)
        self.norm2 = nn.BatchNorm2d(bn_size * growth_rate)
        self.relu2 = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(
            bn_size * growth_rate, growth_rate, kernel_size=3, padding=1, bias=False
        )

    def forward(self, x):
        # the in-place ReLUs act on fresh BN outputs, never on x itself
        out = self.conv1(self.relu1(self.norm1(x)))
        out = self.conv2(self.relu2(self.norm2(out)))
        return torch.cat([x, out], 1)


class DenseBlock(nn.Sequential):
    def __init__(self, num_layers, in_ch, growth_rate, bn_size):
        super().__init__()
        for i in range(num_layers):
            layer = DenseLayer(in_ch + i * growth_rate, growth_rate, bn_size)
            self.add_module(f"denselayer{i + 1}", layer)


class Transition(nn.Sequential):
    def __init__(self, in_ch, out_ch):
        super().__init__()
        self.norm = nn.BatchNorm2d(in_ch)
        self.relu = nn.ReLU(inplace=True)
        self.conv = nn.Conv2d(in_ch, out_ch, kernel_size=1, bias=False)
        self.pool = nn.AvgPool2d(kernel_size=2, stride=2)


class DenseNet(nn.Module):
    def __init__(
        self,
        growth_rate=32,
        block_config=(6, 12, 24, 16),
        num_init_features=64,
        bn_size=4,
        compression=0.5,
        num_classes=1000,
    ):
        super().__init__()
        self.features = nn.Sequential(
            OrderedDict(
                [
                    ("conv0", nn.Conv2d(3, num_init_features, 7, stride=2, padding=3, bias=False)),
                    ("norm0", nn.BatchNorm2d(num_init_features)),
                    ("relu0", nn.ReLU(inplace=True)),
                    ("pool0", nn.MaxPool2d(kernel_size=3, stride=2, padding=1)),
                ]
            )
        )
        ch = num_init_features
        for i, num_layers in enumerate(block_config):
            block = DenseBlock(num_layers, ch, growth_rate, bn_size)
            self.features.add_module(f"denseblock{i + 1}", block)
            ch += num_layers * growth_rate
            if i != len(block_config) - 1:
                out_ch = int(ch * compression)
                self.features.add_module(f"transition{i + 1}", Transition(ch, out_ch))
                ch = out_ch
        self.features.add_module("norm5", nn.BatchNorm2d(ch))
        self.classifier = nn.Linear(ch, num_classes)

    def forward(self, x):
        x = F.relu(self.features(x))
        x = F.adaptive_avg_pool2d(x, (1, 1))
        x = torch.flatten(x, 1)
        return self.classifier(x)


def densenet121():
    return DenseNet(32, (6, 12, 24, 16), 64)


def densenet161():
    return DenseNet(48, (6, 12, 36, 24), 96)


def densenet169():
    return DenseNet(32, (6, 12, 32, 32), 64)


def densenet201():
    return DenseNet(32, (6, 12, 48, 32), 64)
