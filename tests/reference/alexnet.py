"""AlexNet, written by hand after Table 6-2 of the book.

Input 3x227x227. The table lists no padding; conv2 needs 2 and conv3-5 need 1
to keep the sizes the table declares. The table has no dropout, so neither
does this model. 62,378,344 parameters.
"""

import torch
from torch import nn


class AlexNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 96, kernel_size=11, stride=4),  # -> 96x55x55
            nn.ReLU(),
            nn.MaxPool2d(kernel_size=3, stride=2),  # -> 96x27x27
            nn.Conv2d(96, 256, kernel_size=5, stride=1, padding=2),  # -> 256x27x27
            nn.ReLU(),
            nn.MaxPool2d(kernel_size=3, stride=2),  # -> 256x13x13
            nn.Conv2d(256, 384, kernel_size=3, padding=1),  # -> 384x13x13
            nn.ReLU(),
            nn.Conv2d(384, 384, kernel_size=3, padding=1),  # -> 384x13x13
            nn.ReLU(),
            nn.Conv2d(384, 256, kernel_size=3, padding=1),  # -> 256x13x13
            nn.ReLU(),
            nn.MaxPool2d(kernel_size=3, stride=2),  # -> 256x6x6
        )
        self.classifier = nn.Sequential(
            nn.Linear(256 * 6 * 6, 4096),
            nn.ReLU(),
            nn.Linear(4096, 4096),
            nn.ReLU(),
            nn.Linear(4096, 1000),
            nn.Softmax(dim=1),
        )

    def forward(self, x):
        x = self.features(x)
        x = torch.flatten(x, 1)
        x = self.classifier(x)
        return x
