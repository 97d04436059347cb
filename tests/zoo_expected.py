"""Expected parameter counts of the specs under specs/zoo/, keyed by file stem.

Each was checked by building the equivalent model by hand in PyTorch; the
torchvision ones also equal `params` in tests/reference/torchvision_state_dicts.json
(torchvision 0.29.1), and their state_dict keys and shapes match it key for key.
"""

ZOO_PARAMS = {
    "vgg11": 132_863_336,
    "vgg11_bn": 132_868_840,
    "vgg13": 133_047_848,
    "vgg13_bn": 133_053_736,
    "vgg16_bn": 138_365_992,
    "vgg19": 143_667_240,
    "vgg19_bn": 143_678_248,
    "alexnet_torchvision": 61_100_840,
    "alexnet_two_tower": 60_965_224,
    "lenet5_lecun": 61_706,
}

# zoo spec stem -> torchvision.models builder whose state_dict the spec's
# generated (sequential) model must reproduce key for key
ZOO_TORCHVISION = {
    "vgg11": "vgg11",
    "vgg11_bn": "vgg11_bn",
    "vgg13": "vgg13",
    "vgg13_bn": "vgg13_bn",
    "vgg16_bn": "vgg16_bn",
    "vgg19": "vgg19",
    "vgg19_bn": "vgg19_bn",
    "alexnet_torchvision": "alexnet",
}
