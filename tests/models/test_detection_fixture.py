"""tests/reference/torchvision_detection.json is whole and consistent in itself.

The fixture (written by tools/dump_torchvision_state_dicts.py --detection) is the oracle of
the specs of torchvision's detection and segmentation networks; these tests check it with
figures that do not come from it: the parameter count from the state_dict's shapes, the
FrozenBatchNorm2d layout's 53 fewer entries (ResNet-50's 53 batch norms lose
num_batches_tracked), SSD300's 8,732 default boxes from its per-level head outputs, the RPN's
3 anchors per location (3 and 12 channels), and the heads after RoI pooling, rebuilt here in
plain torch, reproducing the recorded outputs on their replayed inputs.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import detection_fixture as dfx
import pytest
import torch
from fingerprint import compare

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "tests" / "reference" / "torchvision_detection.json"

MODELS = [
    "fasterrcnn_resnet50_fpn",
    "fasterrcnn_resnet50_fpn_v2",
    "retinanet_resnet50_fpn",
    "fcos_resnet50_fpn",
    "ssd300_vgg16",
    "ssdlite320_mobilenet_v3_large",
    "maskrcnn_resnet50_fpn",
    "keypointrcnn_resnet50_fpn",
    "deeplabv3_resnet50",
    "deeplabv3_mobilenet_v3_large",
    "lraspp_mobilenet_v3_large",
    "fcn_resnet50",
]
#: torchvision freezes the ResNet-50 body's batch norms when weights are given
FROZEN_BODY = {
    "fasterrcnn_resnet50_fpn",
    "retinanet_resnet50_fpn",
    "fcos_resnet50_fpn",
    "maskrcnn_resnet50_fpn",
    "keypointrcnn_resnet50_fpn",
}
BUFFER_SUFFIXES = ("running_mean", "running_var", "num_batches_tracked")
#: anchors per location of each level: (family, per-level anchors)
ANCHORS = {
    "ssd300_vgg16": [4, 6, 6, 6, 4, 4],
    "ssdlite320_mobilenet_v3_large": [6] * 6,
    "retinanet_resnet50_fpn": [9] * 5,
    "fcos_resnet50_fpn": [1] * 5,
}
CLASSES = 91


@pytest.fixture(scope="module")
def fixture() -> dict:
    return json.loads(FIXTURE.read_text(encoding="utf-8"))


def _outputs(entry: dict, shape: list[int]) -> dict:
    return dfx.recorded(entry, shape)


def test_every_model_is_recorded_and_the_file_stays_small(fixture):
    assert list(fixture["models"]) == MODELS
    assert FIXTURE.stat().st_size < 3_000_000
    assert fixture["procedure"] == dfx.__doc__.strip()
    assert fixture["box_fractions"] == [list(b) for b in dfx.BOX_FRACTIONS]


def test_faster_rcnn_has_348_entries_and_295_in_the_pretrained_layout(fixture):
    entry = fixture["models"]["fasterrcnn_resnet50_fpn"]
    assert len(entry["state_dict"]) == 348
    assert entry["frozen_keys"] == 295


@pytest.mark.parametrize("name", MODELS)
def test_params_are_the_state_dict_less_its_buffers(fixture, name):
    entry = fixture["models"][name]
    rows = entry["state_dict"]
    assert len({key for key, _ in rows}) == len(rows)
    params = sum(math.prod(shape) for key, shape in rows if not key.endswith(BUFFER_SUFFIXES))
    assert params == entry["params"]


@pytest.mark.parametrize("name", MODELS)
def test_the_pretrained_layout_drops_the_frozen_norms_counters(fixture, name):
    entry = fixture["models"][name]
    keys = [key for key, _ in entry["state_dict"]]
    body = [k for k in keys if k.startswith("backbone.body.") and k.endswith("num_batches_tracked")]
    if name in FROZEN_BODY:
        assert len(body) == 53  # ResNet-50: the stem, 16 blocks x 3, 4 downsamples
        assert entry["frozen_keys"] == len(keys) - 53
        assert "FrozenBatchNorm2d" in fixture["fields"]["frozen_constructor"]
    else:
        assert entry["frozen_keys"] == len(keys)


def test_ssd300_has_8732_default_boxes_from_its_head_outputs(fixture):
    entry = fixture["models"]["ssd300_vgg16"]
    got = _outputs(entry, [1, 3, 300, 300])
    sides = [got[f"backbone.{i}"][0][2] for i in range(6)]
    assert sides == [38, 19, 10, 5, 3, 1]
    assert sum(s * s * a for s, a in zip(sides, ANCHORS["ssd300_vgg16"])) == 8732
    assert got["head.cls_logits"][0] == [1, 8732, CLASSES]
    assert got["head.bbox_regression"][0] == [1, 8732, 4]


@pytest.mark.parametrize("name", sorted(ANCHORS))
def test_per_level_head_widths_are_anchors_times_outputs(fixture, name):
    """Each level's classification output has anchors x classes channels, its regression
    anchors x 4, and the whole head's boxes are the sum of H x W x anchors."""
    entry = fixture["models"][name]
    for shape in entry["input_shapes"]:
        got = _outputs(entry, shape)
        boxes = 0
        for i, anchors in enumerate(ANCHORS[name]):
            _, c, h, w = got[f"head.classification_head.{i}"][0]
            assert c == anchors * CLASSES
            assert got[f"head.regression_head.{i}"][0] == [1, anchors * 4, h, w]
            boxes += h * w * anchors
        assert got["head.cls_logits"][0] == [1, boxes, CLASSES]
        assert got["head.bbox_regression"][0] == [1, boxes, 4]


@pytest.mark.parametrize(
    "name",
    [
        "fasterrcnn_resnet50_fpn",
        "fasterrcnn_resnet50_fpn_v2",
        "maskrcnn_resnet50_fpn",
        "keypointrcnn_resnet50_fpn",
    ],
)
def test_the_fpn_rpn_has_3_anchors_per_location_on_each_level(fixture, name):
    entry = fixture["models"][name]
    assert any("18 and 36" in note for note in fixture["notes"])
    for shape in entry["input_shapes"]:
        got = _outputs(entry, shape)
        strides = [4, 8, 16, 32, 64]
        for i, key in enumerate(["0", "1", "2", "3", "pool"]):
            feature = got[f"backbone.{key}"][0]
            assert feature[:2] == [1, 256]
            assert feature[2] == math.ceil(shape[2] / strides[i])
            assert got[f"rpn.head.cls_logits.{i}"][0] == [1, 3, *feature[2:]]
            assert got[f"rpn.head.bbox_pred.{i}"][0] == [1, 12, *feature[2:]]


@pytest.mark.parametrize("name", [m for m in MODELS if "rcnn" not in m])
def test_recorded_outputs_and_macs_cover_both_sizes(fixture, name):
    entry = fixture["models"][name]
    for shape in entry["input_shapes"]:
        key = dfx.size_key(shape)
        macs = [row for row in entry["mult_adds"] if row[0] == key]
        assert macs and all(row[3] > 0 for row in macs)
        got = _outputs(entry, shape)
        if entry["family"] in ("segmentation", "lraspp"):
            assert got["model.out"][0] == [1, 21, *shape[2:]]


class _Placeholder(torch.nn.Module):
    """Holds state_dict entries it never computes with (uint8: fill_ skips them)."""


def _stub(entry: dict, real: dict[str, torch.nn.Module]) -> torch.nn.Module:
    """A module with the entry's state_dict keys and shapes in order, where the modules at the
    paths of ``real`` are those modules and everything else a placeholder."""
    root = _Placeholder()

    def parent_of(path: list[str]) -> torch.nn.Module:
        module = root
        for part in path[:-1]:
            if not hasattr(module, part):
                module.add_module(part, _Placeholder())
            module = getattr(module, part)
        return module

    for key, shape in entry["state_dict"]:
        prefix = next((p for p in real if key.startswith(p + ".")), None)
        if prefix is None:
            path = key.split(".")
            parent_of(path).register_buffer(path[-1], torch.empty(shape, dtype=torch.uint8))
            continue
        path = prefix.split(".")
        parent = parent_of(path)
        if not hasattr(parent, path[-1]):
            parent.add_module(path[-1], real[prefix])
    return root


class _TwoLayerBoxHead(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc6 = torch.nn.Linear(256 * 7 * 7, 1024)
        self.fc7 = torch.nn.Linear(1024, 1024)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.fc7(torch.relu(self.fc6(x.flatten(1)))))


class _BoxPredictor(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.cls_score = torch.nn.Linear(1024, CLASSES)
        self.bbox_pred = torch.nn.Linear(1024, 4 * CLASSES)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.cls_score(x), self.bbox_pred(x)


class _MaskPredictor(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv5_mask = torch.nn.ConvTranspose2d(256, 256, 2, stride=2)
        self.mask_fcn_logits = torch.nn.Conv2d(256, CLASSES, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.mask_fcn_logits(torch.relu(self.conv5_mask(x)))


def _mask_head() -> torch.nn.Module:
    layers = [
        torch.nn.Sequential(torch.nn.Conv2d(256, 256, 3, padding=1), torch.nn.ReLU())
        for _ in range(4)
    ]
    return torch.nn.Sequential(*layers)


@pytest.mark.parametrize("name", ["fasterrcnn_resnet50_fpn", "maskrcnn_resnet50_fpn"])
def test_hand_built_roi_heads_reproduce_the_replayed_outputs(fixture, name):
    """The box head (two fully connected layers) and predictor, and Mask R-CNN's four 3x3
    convolutions and transposed-conv predictor, written here from their published
    description, on the fixture's replayed inputs: the helper's procedure run with the
    project's torch gives the recorded values."""
    entry = fixture["models"][name]
    real = {
        "roi_heads.box_head": _TwoLayerBoxHead(),
        "roi_heads.box_predictor": _BoxPredictor(),
    }
    if name.startswith("mask"):
        real |= {"roi_heads.mask_head": _mask_head(), "roi_heads.mask_predictor": _MaskPredictor()}
    model = _stub(entry, real)
    assert [[k, list(t.shape)] for k, t in model.state_dict().items()] == entry["state_dict"]
    for shape in entry["input_shapes"]:
        got = dfx.replay_fingerprints(model, entry, shape)
        want = {k: v for k, v in dfx.recorded(entry, shape).items() if k.startswith("replay.")}
        assert set(got) == set(want) and len(want) == (5 if name.startswith("mask") else 3)
        for key, (want_shape, values) in want.items():
            assert got[key][0] == want_shape, key
            assert compare(got[key][1], values) is None, key


def _graphs() -> dict:
    path = ROOT / "tests" / "reference" / "torchvision_graphs.json"
    return json.loads(path.read_text(encoding="utf-8"))["models"]


@pytest.mark.parametrize("name", sorted(FROZEN_BODY | {"fasterrcnn_resnet50_fpn_v2"}))
def test_the_detectors_body_is_the_recorded_resnet50_less_its_classifier(fixture, name):
    """The graph fixture's resnet50 (recorded separately) under backbone.body, fc dropped."""
    resnet = [[f"backbone.body.{k}", s] for k, s in _graphs()["resnet50"]["state_dict"]]
    body = [
        row for row in fixture["models"][name]["state_dict"] if row[0].startswith("backbone.body.")
    ]
    assert body == [row for row in resnet if not row[0].startswith("backbone.body.fc.")]


def test_fcn_with_aux_is_the_graph_fixtures_fcn_and_an_aux_classifier(fixture):
    rows = fixture["models"]["fcn_resnet50"]["state_dict"]
    assert [r for r in rows if not r[0].startswith("aux_classifier.")] == _graphs()["fcn_resnet50"][
        "state_dict"
    ]
    assert any(r[0].startswith("aux_classifier.") for r in rows)
