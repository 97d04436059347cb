"""ShuffleNet V2, written by hand after Ma et al. 2018 (Figure 3 (c) and (d), Table 5).

torchvision's layout, so the state_dict keys are torchvision's: ``conv1`` and ``conv5``
are nn.Sequential(conv without bias, BatchNorm2d, ReLU); ``stage2`` … ``stage4`` are
nn.Sequentials of units, the first of each with stride 2. A unit has ``branch2``
(1x1 conv, BN, ReLU, 3x3 depthwise conv with the unit's stride, BN, 1x1 conv, BN,
ReLU) and, at stride 2 only, ``branch1`` (3x3 depthwise conv, BN, 1x1 conv, BN,
ReLU); at stride 1 the input's first half of the maps passes untouched and its second
half goes through branch2. The halves are concatenated and the maps shuffled in two
groups. Then the mean over H×W and ``fc``. The channel split and the shuffle are
written here with index arithmetic, not reshapes, so that they are an independent
statement of what the format's `split` and `channel_shuffle` mean.
"""

import torch
from torch import nn

#: the output channels of conv1, stage2, stage3, stage4 and conv5 (Table 5's columns)
WIDTHS = {
    "x0_5": (24, 48, 96, 192, 1024),
    "x1_0": (24, 116, 232, 464, 1024),
    "x1_5": (24, 176, 352, 704, 1024),
    "x2_0": (24, 244, 488, 976, 2048),
}
REPEATS = (4, 8, 4)


def conv_bn(in_ch, out_ch, kernel_size, stride=1, depthwise=False, relu=True):
    layers = [
        nn.Conv2d(
            in_ch,
            out_ch,
            kernel_size,
            stride,
            kernel_size // 2,
            groups=in_ch if depthwise else 1,
            bias=False,
        ),
        nn.BatchNorm2d(out_ch),
    ]
    return layers + [nn.ReLU()] if relu else layers


def shuffle(x, groups):
    """Map j of group g (input position g * C/groups + j) to position j * groups + g."""
    c = x.shape[1]
    per = c // groups
    order = [g * per + j for j in range(per) for g in range(groups)]
    return x[:, order]


class Unit(nn.Module):
    def __init__(self, in_ch, out_ch, stride):
        super().__init__()
        half = out_ch // 2
        self.stride = stride
        if stride != 1:
            self.branch1 = nn.Sequential(
                *conv_bn(in_ch, in_ch, 3, stride, depthwise=True, relu=False),
                *conv_bn(in_ch, half, 1),
            )
        self.branch2 = nn.Sequential(
            *conv_bn(in_ch if stride != 1 else in_ch // 2, half, 1),
            *conv_bn(half, half, 3, stride, depthwise=True, relu=False),
            *conv_bn(half, half, 1),
        )

    def forward(self, x):
        if self.stride == 1:
            c = x.shape[1] // 2
            left, right = x[:, :c], x[:, c:]
            out = torch.cat([left, self.branch2(right)], dim=1)
        else:
            out = torch.cat([self.branch1(x), self.branch2(x)], dim=1)
        return shuffle(out, 2)


class ShuffleNetV2(nn.Module):
    def __init__(self, widths, num_classes=1000):
        super().__init__()
        self.conv1 = nn.Sequential(*conv_bn(3, widths[0], 3, 2))
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        in_ch = widths[0]
        for i, (width, n) in enumerate(zip(widths[1:4], REPEATS)):
            units = [Unit(in_ch, width, 2)] + [Unit(width, width, 1) for _ in range(n - 1)]
            setattr(self, f"stage{i + 2}", nn.Sequential(*units))
            in_ch = width
        self.conv5 = nn.Sequential(*conv_bn(in_ch, widths[4], 1))
        self.fc = nn.Linear(widths[4], num_classes)

    def forward(self, x):
        x = self.maxpool(self.conv1(x))
        x = self.stage4(self.stage3(self.stage2(x)))
        x = self.conv5(x)
        return self.fc(x.mean(dim=(2, 3)))


def shufflenet_v2(width):
    return ShuffleNetV2(WIDTHS[width])
