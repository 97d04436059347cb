"""MobileNetV2 (width 1.0), written by hand after Table 2 of Sandler et al. 2018.

torchvision's layout, so the state_dict keys are torchvision's: ``features`` is
an indexed nn.Sequential; features.0 is a conv unit (3x3/2 conv without bias,
BatchNorm2d, ReLU6) 3 -> 32; features.1..17 are inverted residual blocks whose
``conv`` Sequential holds [1x1 expand unit if t != 1], 3x3 depthwise unit
(stride s), 1x1 projection conv without bias, BatchNorm2d (no activation);
the input is added back when the stride is 1 and the maps do not change;
features.18 is a 1x1 unit 320 -> 1280. Then adaptive average pool, flatten,
classifier = Dropout(0.2), Linear(1280, 1000). Input 3x224x224, 3,504,872
parameters.
"""

import torch
import torch.nn.functional as F
from torch import nn

# t (expansion), c (output maps), n (repeats), s (stride of the first) -- Table 2
SETTINGS = [
    (1, 16, 1, 1),
    (6, 24, 2, 2),
    (6, 32, 3, 2),
    (6, 64, 4, 2),
    (6, 96, 3, 1),
    (6, 160, 3, 2),
    (6, 320, 1, 1),
]


def conv_bn_relu6(in_ch, out_ch, kernel_size=3, stride=1, groups=1):
    """A Sequential of conv (no bias, 'same' padding), BatchNorm2d, ReLU6."""
    return nn.Sequential(
        nn.Conv2d(
            in_ch,
            out_ch,
            kernel_size,
            stride=stride,
            padding=(kernel_size - 1) // 2,
            groups=groups,
            bias=False,
        ),
        nn.BatchNorm2d(out_ch),
        nn.ReLU6(inplace=True),
    )


class InvertedResidual(nn.Module):
    def __init__(self, in_ch, out_ch, stride, expand_ratio):
        super().__init__()
        hidden = in_ch * expand_ratio
        self.use_res_connect = stride == 1 and in_ch == out_ch
        layers = []
        if expand_ratio != 1:
            layers.append(conv_bn_relu6(in_ch, hidden, kernel_size=1))
        layers += [
            conv_bn_relu6(hidden, hidden, stride=stride, groups=hidden),
            nn.Conv2d(hidden, out_ch, kernel_size=1, bias=False),
            nn.BatchNorm2d(out_ch),
        ]
        self.conv = nn.Sequential(*layers)

    def forward(self, x):
        if self.use_res_connect:
            return x + self.conv(x)
        return self.conv(x)


class MobileNetV2(nn.Module):
    def __init__(self, num_classes=1000, last_channel=1280):
        super().__init__()
        in_ch = 32
        features = [conv_bn_relu6(3, in_ch, stride=2)]
        for t, c, n, s in SETTINGS:
            for i in range(n):
                features.append(InvertedResidual(in_ch, c, s if i == 0 else 1, t))
                in_ch = c
        features.append(conv_bn_relu6(in_ch, last_channel, kernel_size=1))
        self.features = nn.Sequential(*features)
        self.classifier = nn.Sequential(nn.Dropout(0.2), nn.Linear(last_channel, num_classes))

    def forward(self, x):
        x = F.adaptive_avg_pool2d(self.features(x), (1, 1))
        x = torch.flatten(x, 1)
        return self.classifier(x)


def mobilenet_v2():
    return MobileNetV2()
