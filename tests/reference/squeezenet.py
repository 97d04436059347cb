"""SqueezeNet 1.0 and 1.1, written by hand after Iandola et al. 2016 in torchvision's layout.

A Fire module squeezes with a 1x1 conv + ReLU, then expands with a 1x1 conv +
ReLU and a 3x3 conv (padding 1) + ReLU side by side, concatenated along the
maps (1x1 first). ``features`` is an indexed nn.Sequential and the max pools are
3x3/2 with ceil_mode, as in torchvision; the head is Dropout(0.5), 1x1 conv to
1000 maps, ReLU, adaptive average pool, flatten. Every conv has a bias.

1.0 (the paper's Table 1): conv1 96 maps 7x7/2, pools after conv1, fire4,
fire8. 1.1 (the SqueezeNet repository's variant): conv1 64 maps 3x3/2, pools
after conv1, fire3, fire5. Input 3x224x224. Parameters: squeezenet1_0
1,248,424; squeezenet1_1 1,235,496.
"""

import torch
from torch import nn


class Fire(nn.Module):
    def __init__(self, in_ch, squeeze, expand1x1, expand3x3):
        super().__init__()
        self.squeeze = nn.Conv2d(in_ch, squeeze, kernel_size=1)
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


def _pool():
    return nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True)


class SqueezeNet(nn.Module):
    def __init__(self, version="1_0", num_classes=1000):
        super().__init__()
        if version == "1_0":
            self.features = nn.Sequential(
                nn.Conv2d(3, 96, kernel_size=7, stride=2),  # conv1 -> 96x109x109
                nn.ReLU(inplace=True),
                _pool(),  # -> 54x54
                Fire(96, 16, 64, 64),  # fire2 -> 128
                Fire(128, 16, 64, 64),  # fire3 -> 128
                Fire(128, 32, 128, 128),  # fire4 -> 256
                _pool(),  # -> 27x27
                Fire(256, 32, 128, 128),  # fire5 -> 256
                Fire(256, 48, 192, 192),  # fire6 -> 384
                Fire(384, 48, 192, 192),  # fire7 -> 384
                Fire(384, 64, 256, 256),  # fire8 -> 512
                _pool(),  # -> 13x13
                Fire(512, 64, 256, 256),  # fire9 -> 512
            )
        elif version == "1_1":
            self.features = nn.Sequential(
                nn.Conv2d(3, 64, kernel_size=3, stride=2),  # conv1 -> 64x111x111
                nn.ReLU(inplace=True),
                _pool(),  # -> 55x55
                Fire(64, 16, 64, 64),  # fire2 -> 128
                Fire(128, 16, 64, 64),  # fire3 -> 128
                _pool(),  # -> 27x27
                Fire(128, 32, 128, 128),  # fire4 -> 256
                Fire(256, 32, 128, 128),  # fire5 -> 256
                _pool(),  # -> 13x13
                Fire(256, 48, 192, 192),  # fire6 -> 384
                Fire(384, 48, 192, 192),  # fire7 -> 384
                Fire(384, 64, 256, 256),  # fire8 -> 512
                Fire(512, 64, 256, 256),  # fire9 -> 512
            )
        else:
            raise ValueError(f"unknown SqueezeNet version {version!r}")
        self.classifier = nn.Sequential(
            nn.Dropout(p=0.5),
            nn.Conv2d(512, num_classes, kernel_size=1),  # conv10
            nn.ReLU(inplace=True),
            nn.AdaptiveAvgPool2d((1, 1)),
        )

    def forward(self, x):
        x = self.classifier(self.features(x))
        return torch.flatten(x, 1)


def squeezenet1_0():
    return SqueezeNet("1_0")


def squeezenet1_1():
    return SqueezeNet("1_1")
