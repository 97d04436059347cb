"""U-Net, written by hand after Figure 1 of Ronneberger et al. 2015.

Input 1x572x572. Contracting path: at each of five levels two unpadded 3x3
convs with bias, each followed by ReLU (64, 128, 256, 512, 1024 maps), with a
2x2/2 max pool between levels: 572 -> 568, 284 -> 280, 140 -> 136, 68 -> 64,
32 -> 28. Expanding path: a 2x2 up-convolution (ConvTranspose2d, stride 2)
halving the maps, the encoder map of the same level center-cropped to the
up-sampled size and concatenated before it ([cropped encoder, up-sampled]),
then two unpadded 3x3 convs + ReLU: 56 -> 52, 104 -> 100, 200 -> 196,
392 -> 388. A final 1x1 conv gives 2 class maps: output 2x388x388. 23 convs
(counting the up-convs), 31,030,658 parameters.
"""

import torch
from torch import nn


def double_conv(in_ch, out_ch):
    return nn.Sequential(
        nn.Conv2d(in_ch, out_ch, kernel_size=3),
        nn.ReLU(inplace=True),
        nn.Conv2d(out_ch, out_ch, kernel_size=3),
        nn.ReLU(inplace=True),
    )


def center_crop(x, height, width):
    top = (x.shape[-2] - height) // 2
    left = (x.shape[-1] - width) // 2
    return x[..., top : top + height, left : left + width]


class UNet(nn.Module):
    def __init__(self, in_channels=1, num_classes=2, widths=(64, 128, 256, 512, 1024)):
        super().__init__()
        self.down = nn.ModuleList()
        ch = in_channels
        for w in widths:
            self.down.append(double_conv(ch, w))
            ch = w
        self.pool = nn.MaxPool2d(kernel_size=2, stride=2)
        self.upconv = nn.ModuleList()
        self.up = nn.ModuleList()
        for w in reversed(widths[:-1]):
            self.upconv.append(nn.ConvTranspose2d(ch, w, kernel_size=2, stride=2))
            self.up.append(double_conv(2 * w, w))
            ch = w
        self.head = nn.Conv2d(ch, num_classes, kernel_size=1)

    def forward(self, x):
        skips = []
        for i, block in enumerate(self.down):
            if i > 0:
                x = self.pool(x)
            x = block(x)
            skips.append(x)
        skips.pop()  # the bottom level is not concatenated
        for upconv, block in zip(self.upconv, self.up):
            x = upconv(x)
            skip = center_crop(skips.pop(), x.shape[-2], x.shape[-1])
            x = block(torch.cat([skip, x], 1))
        return self.head(x)


def unet():
    return UNet()
