"""LeNet-5 example network, written by hand after Table 6-1 of the book.

Input 1x32x32; conv 6@5x5 -> ReLU -> maxpool 2x2/2 -> conv 16@5x5 -> ReLU ->
maxpool 2x2/2 -> fc 120 -> ReLU -> fc 84 -> ReLU -> fc 2 -> softmax.
61,026 parameters.
"""

import torch
from torch import nn


class LeNet5(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 6, kernel_size=5, stride=1),  # -> 6x28x28
            nn.ReLU(),
            nn.MaxPool2d(kernel_size=2, stride=2),  # -> 6x14x14
            nn.Conv2d(6, 16, kernel_size=5, stride=1),  # -> 16x10x10
            nn.ReLU(),
            nn.MaxPool2d(kernel_size=2, stride=2),  # -> 16x5x5
        )
        self.classifier = nn.Sequential(
            nn.Linear(16 * 5 * 5, 120),
            nn.ReLU(),
            nn.Linear(120, 84),
            nn.ReLU(),
            nn.Linear(84, 2),
            nn.Softmax(dim=1),
        )

    def forward(self, x):
        x = self.features(x)
        x = torch.flatten(x, 1)
        x = self.classifier(x)
        return x
