"""Every classification CNN builder of torchvision.models has a zoo spec that is torchvision's.

The list below is torchvision 0.29's classification builders, the vision transformers (ViT,
Swin, MaxViT) left out: 68 names. Each must have ``specs/zoo/<name>.yaml`` and a record in
the fixtures (tests/reference/torchvision_*.json), so that
tests/backends/torch/test_graph_torch.py (graphs) or tests/models/test_reference_models.py
(chains) compares it with torchvision key for key, in params, MACs and outputs.

GoogLeNet and Inception-v3 are there both as torchvision builds them by default (with their
auxiliary classifiers, `training_outputs:`) and without.
"""

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ZOO = ROOT / "specs" / "zoo"
REFERENCE = ROOT / "tests" / "reference"

BUILDERS = [
    "alexnet",
    *(f"convnext_{s}" for s in ("tiny", "small", "base", "large")),
    *(f"densenet{n}" for n in (121, 161, 169, 201)),
    *(f"efficientnet_b{i}" for i in range(8)),
    *(f"efficientnet_v2_{s}" for s in ("s", "m", "l")),
    "googlenet",
    "inception_v3",
    *(f"mnasnet{s}" for s in ("0_5", "0_75", "1_0", "1_3")),
    "mobilenet_v2",
    "mobilenet_v3_large",
    "mobilenet_v3_small",
    *(f"regnet_x_{s}" for s in ("400mf", "800mf", "1_6gf", "3_2gf", "8gf", "16gf", "32gf")),
    *(
        f"regnet_y_{s}"
        for s in ("400mf", "800mf", "1_6gf", "3_2gf", "8gf", "16gf", "32gf", "128gf")
    ),
    *(f"resnet{n}" for n in (18, 34, 50, 101, 152)),
    "resnext50_32x4d",
    "resnext101_32x8d",
    "resnext101_64x4d",
    *(f"shufflenet_v2_x{s}" for s in ("0_5", "1_0", "1_5", "2_0")),
    "squeezenet1_0",
    "squeezenet1_1",
    *(f"vgg{n}{bn}" for n in (11, 13, 16, 19) for bn in ("", "_bn")),
    "wide_resnet50_2",
    "wide_resnet101_2",
]

#: torchvision's builds with and without their auxiliary classifiers
VARIANTS = ["googlenet_aux", "inception_v3_no_aux"]

#: the spec of torchvision's vgg16 is the seed spec's twin, not a zoo file of its own name
SPEC_NAME = {"alexnet": "alexnet_torchvision", "vgg16": "../vgg16"}


def _recorded() -> set[str]:
    names: set[str] = set()
    for path in REFERENCE.glob("torchvision_*.json"):
        names |= set(json.loads(path.read_text(encoding="utf-8"))["models"])
    return names


def test_the_list_is_torchvisions_68_classification_cnns():
    assert len(BUILDERS) == len(set(BUILDERS)) == 68


def test_every_builder_is_recorded_in_the_fixtures():
    assert set(BUILDERS + VARIANTS) - _recorded() == set()


def test_every_builder_has_a_zoo_spec():
    have = {n for n in BUILDERS + VARIANTS if (ZOO / f"{SPEC_NAME.get(n, n)}.yaml").exists()}
    assert set(BUILDERS + VARIANTS) - have == set()
