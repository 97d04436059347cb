"""GoogLeNet, written by hand after Table 1 of Szegedy et al. 2015.

``GoogLeNet`` follows torchvision's documented conventions (aux_logits=False,
transform_input=False), so its state_dict keys are torchvision's: every conv is
a ``BasicConv2d`` (conv without bias, BatchNorm2d with eps 0.001, ReLU applied
in forward; keys ``conv1.conv.weight``, ``conv1.bn.weight``); the "5x5" branch
of each Inception module uses a 3x3 kernel (padding 1); the max pools use
ceil_mode and maxpool4 is 2x2/2; the head is adaptive average pool, dropout
0.2, fc 1024 -> 1000. Input 3x224x224, 6,624,904 parameters.

``GoogLeNetPaper`` / ``googlenet_paper()`` is the table as printed: convs with
bias followed by ReLU, no batch norm, real 5x5 kernels (padding 2) in the 5x5
branch, LocalResponseNorm after the first max pool and after the 3x3 conv of
the second stage (size 5, alpha 1e-4, beta 0.75, k 1 -- the values of the
reference Caffe model; LRN has no parameters), max pools 3x3/2 rounded up as in
Caffe (so 112 -> 56 -> 28 -> 14 -> 7 as the table prints), average pool 7x7/1,
dropout 0.4, linear 1024 -> 1000. No auxiliary classifiers and no softmax.
6,998,552 parameters (6,990,272 weights + 8,280 biases); 1.583 G weight
multiply-adds (1.586 G with the bias additions) on a 224x224 input. The
Inception modules' weights recompute the table's params column for 3a, 3b, 4b
(159.5K, 379K, 438K) but not exactly for the others (4a 366.8K vs 364K, 4c
497.5K vs 463K, 4d 590.5K vs 580K, 4e 847K vs 840K, 5a 1018K vs 1072K, 5b 1409K
vs 1388K): the printed figures are inconsistent with the printed channels.
"""

import torch
import torch.nn.functional as F
from torch import nn

# (#1x1, #3x3 reduce, #3x3, #5x5 reduce, #5x5, pool proj) from Table 1
INCEPTION = {
    "3a": (64, 96, 128, 16, 32, 32),
    "3b": (128, 128, 192, 32, 96, 64),
    "4a": (192, 96, 208, 16, 48, 64),
    "4b": (160, 112, 224, 24, 64, 64),
    "4c": (128, 128, 256, 24, 64, 64),
    "4d": (112, 144, 288, 32, 64, 64),
    "4e": (256, 160, 320, 32, 128, 128),
    "5a": (256, 160, 320, 32, 128, 128),
    "5b": (384, 192, 384, 48, 128, 128),
}


def _out_channels(name):
    c1, _, c3, _, c5, pp = INCEPTION[name]
    return c1 + c3 + c5 + pp


class BasicConv2d(nn.Module):
    """torchvision's conv unit: conv (no bias) -> BatchNorm2d(eps=0.001) -> ReLU."""

    def __init__(self, in_ch, out_ch, **kwargs):
        super().__init__()
        self.conv = nn.Conv2d(in_ch, out_ch, bias=False, **kwargs)
        self.bn = nn.BatchNorm2d(out_ch, eps=0.001)

    def forward(self, x):
        return F.relu(self.bn(self.conv(x)), inplace=True)


class Inception(nn.Module):
    """torchvision's Inception module; the "5x5" branch has a 3x3 kernel."""

    def __init__(self, in_ch, ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, pool_proj):
        super().__init__()
        self.branch1 = BasicConv2d(in_ch, ch1x1, kernel_size=1)
        self.branch2 = nn.Sequential(
            BasicConv2d(in_ch, ch3x3red, kernel_size=1),
            BasicConv2d(ch3x3red, ch3x3, kernel_size=3, padding=1),
        )
        self.branch3 = nn.Sequential(
            BasicConv2d(in_ch, ch5x5red, kernel_size=1),
            BasicConv2d(ch5x5red, ch5x5, kernel_size=3, padding=1),
        )
        self.branch4 = nn.Sequential(
            nn.MaxPool2d(kernel_size=3, stride=1, padding=1, ceil_mode=True),
            BasicConv2d(in_ch, pool_proj, kernel_size=1),
        )

    def forward(self, x):
        branches = [self.branch1(x), self.branch2(x), self.branch3(x), self.branch4(x)]
        return torch.cat(branches, 1)


class GoogLeNet(nn.Module):
    def __init__(self, num_classes=1000):
        super().__init__()
        self.conv1 = BasicConv2d(3, 64, kernel_size=7, stride=2, padding=3)  # -> 64x112x112
        self.maxpool1 = nn.MaxPool2d(3, stride=2, ceil_mode=True)  # -> 64x56x56
        self.conv2 = BasicConv2d(64, 64, kernel_size=1)
        self.conv3 = BasicConv2d(64, 192, kernel_size=3, padding=1)  # -> 192x56x56
        self.maxpool2 = nn.MaxPool2d(3, stride=2, ceil_mode=True)  # -> 192x28x28
        self.inception3a = Inception(192, *INCEPTION["3a"])  # -> 256x28x28
        self.inception3b = Inception(256, *INCEPTION["3b"])  # -> 480x28x28
        self.maxpool3 = nn.MaxPool2d(3, stride=2, ceil_mode=True)  # -> 480x14x14
        self.inception4a = Inception(480, *INCEPTION["4a"])  # -> 512x14x14
        self.inception4b = Inception(512, *INCEPTION["4b"])  # -> 512x14x14
        self.inception4c = Inception(512, *INCEPTION["4c"])  # -> 512x14x14
        self.inception4d = Inception(512, *INCEPTION["4d"])  # -> 528x14x14
        self.inception4e = Inception(528, *INCEPTION["4e"])  # -> 832x14x14
        self.maxpool4 = nn.MaxPool2d(2, stride=2, ceil_mode=True)  # -> 832x7x7
        self.inception5a = Inception(832, *INCEPTION["5a"])  # -> 832x7x7
        self.inception5b = Inception(832, *INCEPTION["5b"])  # -> 1024x7x7
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.dropout = nn.Dropout(0.2)
        self.fc = nn.Linear(1024, num_classes)

    def forward(self, x):
        x = self.maxpool1(self.conv1(x))
        x = self.maxpool2(self.conv3(self.conv2(x)))
        x = self.inception3b(self.inception3a(x))
        x = self.maxpool3(x)
        x = self.inception4a(x)
        x = self.inception4b(x)
        x = self.inception4c(x)
        x = self.inception4d(x)
        x = self.inception4e(x)
        x = self.maxpool4(x)
        x = self.inception5b(self.inception5a(x))
        x = torch.flatten(self.avgpool(x), 1)
        return self.fc(self.dropout(x))


def googlenet():
    return GoogLeNet()


def _conv_relu(in_ch, out_ch, kernel_size, stride=1, padding=0):
    return nn.Sequential(
        nn.Conv2d(in_ch, out_ch, kernel_size, stride=stride, padding=padding),
        nn.ReLU(inplace=True),
    )


def _lrn():
    return nn.LocalResponseNorm(size=5, alpha=1e-4, beta=0.75, k=1.0)


class InceptionPaper(nn.Module):
    """Figure 2(b) of the paper: biased convs with ReLU, a real 5x5 branch."""

    def __init__(self, in_ch, ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, pool_proj):
        super().__init__()
        self.branch1 = _conv_relu(in_ch, ch1x1, 1)
        self.branch2 = nn.Sequential(
            _conv_relu(in_ch, ch3x3red, 1), _conv_relu(ch3x3red, ch3x3, 3, padding=1)
        )
        self.branch3 = nn.Sequential(
            _conv_relu(in_ch, ch5x5red, 1), _conv_relu(ch5x5red, ch5x5, 5, padding=2)
        )
        self.branch4 = nn.Sequential(
            nn.MaxPool2d(kernel_size=3, stride=1, padding=1), _conv_relu(in_ch, pool_proj, 1)
        )

    def forward(self, x):
        branches = [self.branch1(x), self.branch2(x), self.branch3(x), self.branch4(x)]
        return torch.cat(branches, 1)


class GoogLeNetPaper(nn.Module):
    def __init__(self, num_classes=1000):
        super().__init__()
        self.features = nn.Sequential(
            _conv_relu(3, 64, 7, stride=2, padding=3),  # -> 64x112x112
            nn.MaxPool2d(3, stride=2, ceil_mode=True),  # -> 64x56x56
            _lrn(),
            _conv_relu(64, 64, 1),  # 3x3 reduce
            _conv_relu(64, 192, 3, padding=1),  # -> 192x56x56
            _lrn(),
            nn.MaxPool2d(3, stride=2, ceil_mode=True),  # -> 192x28x28
            InceptionPaper(192, *INCEPTION["3a"]),  # -> 256x28x28
            InceptionPaper(_out_channels("3a"), *INCEPTION["3b"]),  # -> 480x28x28
            nn.MaxPool2d(3, stride=2, ceil_mode=True),  # -> 480x14x14
            InceptionPaper(_out_channels("3b"), *INCEPTION["4a"]),  # -> 512x14x14
            InceptionPaper(_out_channels("4a"), *INCEPTION["4b"]),  # -> 512x14x14
            InceptionPaper(_out_channels("4b"), *INCEPTION["4c"]),  # -> 512x14x14
            InceptionPaper(_out_channels("4c"), *INCEPTION["4d"]),  # -> 528x14x14
            InceptionPaper(_out_channels("4d"), *INCEPTION["4e"]),  # -> 832x14x14
            nn.MaxPool2d(3, stride=2, ceil_mode=True),  # -> 832x7x7
            InceptionPaper(_out_channels("4e"), *INCEPTION["5a"]),  # -> 832x7x7
            InceptionPaper(_out_channels("5a"), *INCEPTION["5b"]),  # -> 1024x7x7
            nn.AvgPool2d(7, stride=1),  # -> 1024x1x1
        )
        self.dropout = nn.Dropout(0.4)
        self.fc = nn.Linear(1024, num_classes)

    def forward(self, x):
        x = torch.flatten(self.features(x), 1)
        return self.fc(self.dropout(x))


def googlenet_paper():
    return GoogLeNetPaper()
