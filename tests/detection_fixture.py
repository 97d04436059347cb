"""The raw CNN outputs of a detection or segmentation network, as named sub-calls.

tests/reference/torchvision_detection.json records, for torchvision's detection and
segmentation models, the outputs below at two input sizes; tools/dump_torchvision_state_dicts.py
computes them with this module (on torchvision's model), and a test computes them with the same
code on a generated module whose state_dict is torchvision's, key for key. Nothing here imports
torchvision. Every call goes through ``model.get_submodule(path)``, so a generated module must
have the same submodule paths (it has, when its state_dict keys are torchvision's) and each
submodule must take what torchvision's takes: a tensor, except where noted.

The procedure, for one input shape (1, 3, H, W):

* ``fill_(model.double().eval(), gain)`` (tests/fingerprint.py; gain is the entry's
  ``weight_gain``, else sqrt(2)); x = ``fixed_input((1, 3, H, W))``.
* ``backbone(x)``: a dict of feature maps (torchvision's OrderedDict), recorded as
  ``backbone.<key>`` in its order. The levels below are its values in that order.
* family ``rcnn`` (Faster, Mask and Keypoint R-CNN), per level i (every backbone output):
  t = ``rpn.head.conv(f_i)``; ``rpn.head.cls_logits.<i>`` = ``rpn.head.cls_logits(t)`` and
  ``rpn.head.bbox_pred.<i>`` = ``rpn.head.bbox_pred(t)`` (what ``rpn.head(levels)`` returns).
  Then for each branch b of box, mask, keypoint the model has (``roi_heads.<b>_roi_pool``):
  pooled = ``roi_heads.<b>_roi_pool(features, [boxes(H, W)], [(H, W)])`` (torchvision's
  MultiScaleRoIAlign over features '0'..'3'; only where ``roi_pool`` is asked for, as it
  needs torchvision.ops) recorded as ``roi_heads.<b>_roi_pool``, then ``roi_heads.<b>_head``
  on it and ``roi_heads.<b>_predictor`` on that (the box predictor returns scores and box
  deltas: ``.scores``, ``.bbox_deltas``). The same head and predictor run on a replayed
  input ``fixed_input(shape, phase=0.1)`` of the pooled output's shape (the entry's
  ``replay_inputs``), recorded under ``replay.`` + the same names: a generated head can be
  compared without RoI align.
* family ``retinanet``, per level i: ``head.classification_head.<i>`` =
  ``head.classification_head.cls_logits(head.classification_head.conv(f_i))`` and
  ``head.regression_head.<i>`` = ``head.regression_head.bbox_reg(head.regression_head.conv(f_i))``;
  then ``head(levels)`` (a list in, a dict out: torchvision's per-anchor concatenation),
  recorded as ``head.<key>``.
* family ``fcos``: as retinanet, and ``head.regression_head.ctrness.<i>`` =
  ``head.regression_head.bbox_ctrness(head.regression_head.conv(f_i))``. The per-level box
  regression is bbox_reg's output before the ReLU that torchvision's head applies; the
  whole head's ``head.bbox_regression`` is after it.
* family ``ssd``, per level i: ``head.classification_head.<i>`` =
  ``head.classification_head.module_list.<i>(f_i)``, ``head.regression_head.<i>`` likewise;
  then ``head(levels)`` as for retinanet (its second dimension is the number of default boxes).
* family ``segmentation`` (FCN, DeepLabV3): ``classifier`` = ``classifier(features['out'])``,
  ``aux_classifier`` = ``aux_classifier(features['aux'])`` where the model has one, and
  ``model.<key>`` = ``model(x)`` (a dict, after the final interpolation to H x W).
* family ``lraspp``: ``classifier`` = ``classifier(features)`` (the dict in) and ``model.<key>``.

Each recorded output is ``sample(y, SAMPLES, FULL_LIMIT)`` of tests/fingerprint.py: the whole
output up to 200 values, else 100 evenly spaced values, the sum and the sum of |values|.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from fingerprint import WEIGHT_GAIN, compare, fill_, fixed_input, sample

SAMPLES = 100
FULL_LIMIT = 200
#: the RoI boxes, as fractions (x1, y1, x2, y2) of the image's width and height: the whole
#: image and boxes of several sizes, so that torchvision's level mapping sends them to
#: features '2', '1' and '0' at the sizes recorded
BOX_FRACTIONS = (
    (0.0, 0.0, 1.0, 1.0),
    (0.1, 0.2, 0.5, 0.6),
    (0.3, 0.1, 0.9, 0.4),
    (0.05, 0.5, 0.3, 0.95),
    (0.6, 0.55, 0.7, 0.7),
    (0.2, 0.2, 0.25, 0.3),
)
REPLAY_PHASE = 0.1
ROI_BRANCHES = ("box", "mask", "keypoint")

Outputs = dict[str, torch.Tensor]


def boxes(height: int, width: int) -> torch.Tensor:
    """BOX_FRACTIONS in pixels: an (N, 4) float64 tensor of (x1, y1, x2, y2)."""
    scale = torch.tensor([width, height, width, height], dtype=torch.float64)
    return torch.tensor(BOX_FRACTIONS, dtype=torch.float64) * scale


def size_key(shape: Sequence[int]) -> str:
    """``1x3x320x320``: how the fixture names an input shape."""
    return "x".join(str(d) for d in shape)


def _call(model: torch.nn.Module, path: str, *args: Any) -> Any:
    return model.get_submodule(path)(*args)


def _features(model: torch.nn.Module, x: torch.Tensor, out: Outputs) -> dict[str, torch.Tensor]:
    feats = _call(model, "backbone", x)
    if not isinstance(feats, dict):
        raise TypeError(f"backbone returned {type(feats).__name__}, not a dict of features")
    for key, value in feats.items():
        out[f"backbone.{key}"] = value
    return dict(feats)


def _per_level(model: torch.nn.Module, levels: list, head: str, calls: dict, out: Outputs) -> None:
    """``out[f"{head}.{name}.{i}"] = last(first(f_i))`` for each (name: (first, last)) of calls."""
    for i, f in enumerate(levels):
        for name, (first, last) in calls.items():
            t = _call(model, f"{head}.{first}", f) if first else f
            out[f"{head}.{name}.{i}"] = _call(model, f"{head}.{last}", t)


def _whole_head(model: torch.nn.Module, levels: list, out: Outputs) -> None:
    result = _call(model, "head", levels)
    assert isinstance(result, dict)
    for key, value in result.items():
        out[f"head.{key}"] = value


def _roi_chain(
    model: torch.nn.Module, branch: str, pooled: torch.Tensor, prefix: str, out: Outputs
):
    h = _call(model, f"roi_heads.{branch}_head", pooled)
    out[f"{prefix}roi_heads.{branch}_head"] = h
    pred = _call(model, f"roi_heads.{branch}_predictor", h)
    if isinstance(pred, tuple):
        out[f"{prefix}roi_heads.{branch}_predictor.scores"] = pred[0]
        out[f"{prefix}roi_heads.{branch}_predictor.bbox_deltas"] = pred[1]
    else:
        out[f"{prefix}roi_heads.{branch}_predictor"] = pred


def _rcnn(model, x, feats, out, roi_pool: bool, replay_inputs: dict, phase: float) -> None:
    levels = list(feats.values())
    _per_level(
        model,
        levels,
        "rpn.head",
        {"cls_logits": ("conv", "cls_logits"), "bbox_pred": ("conv", "bbox_pred")},
        out,
    )
    height, width = x.shape[-2:]
    for branch in ROI_BRANCHES:
        name = f"roi_heads.{branch}_roi_pool"
        if getattr(model.get_submodule("roi_heads"), f"{branch}_roi_pool", None) is None:
            continue
        if roi_pool:
            pooled = _call(model, name, feats, [boxes(height, width)], [(height, width)])
            out[name] = pooled
            _roi_chain(model, branch, pooled, "", out)
            replay_inputs.setdefault(name, list(pooled.shape))
        replay = fixed_input(replay_inputs[name], phase=phase)
        _roi_chain(model, branch, replay, "replay.", out)


def outputs(
    model: torch.nn.Module,
    family: str,
    x: torch.Tensor,
    *,
    roi_pool: bool = False,
    replay_inputs: dict | None = None,
    replay_phase: float = REPLAY_PHASE,
) -> Outputs:
    """Every recorded output of ``model`` (already filled, float64, eval) for input ``x``.

    ``roi_pool``: run the RoI pooling modules (torchvision.ops) too; ``replay_inputs`` maps
    ``roi_heads.<b>_roi_pool`` to the pooled shape the replayed head input has (filled in from
    the pooled outputs when ``roi_pool`` is set); ``replay_phase`` the replayed inputs'
    phase."""
    replay_inputs = {} if replay_inputs is None else replay_inputs
    out: Outputs = {}
    with torch.no_grad():
        feats = _features(model, x, out)
        levels = list(feats.values())
        if family == "rcnn":
            _rcnn(model, x, feats, out, roi_pool, replay_inputs, replay_phase)
        elif family in ("retinanet", "fcos"):
            reg = {"regression_head": ("regression_head.conv", "regression_head.bbox_reg")}
            if family == "fcos":
                reg["regression_head.ctrness"] = (
                    "regression_head.conv",
                    "regression_head.bbox_ctrness",
                )
            cls = {
                "classification_head": (
                    "classification_head.conv",
                    "classification_head.cls_logits",
                )
            }
            _per_level(model, levels, "head", {**cls, **reg}, out)
            _whole_head(model, levels, out)
        elif family == "ssd":
            for side in ("classification_head", "regression_head"):
                for i, f in enumerate(levels):
                    out[f"head.{side}.{i}"] = _call(model, f"head.{side}.module_list.{i}", f)
            _whole_head(model, levels, out)
        elif family in ("segmentation", "lraspp"):
            _segmentation(model, family, x, feats, out)
        else:
            raise ValueError(f"unknown family {family!r}")
    return out


def _segmentation(model, family: str, x: torch.Tensor, feats: dict, out: Outputs) -> None:
    if family == "lraspp":
        out["classifier"] = _call(model, "classifier", feats)
    else:
        out["classifier"] = _call(model, "classifier", feats["out"])
        if getattr(model, "aux_classifier", None) is not None:
            out["aux_classifier"] = _call(model, "aux_classifier", feats["aux"])
    for key, value in model(x).items():
        out[f"model.{key}"] = value


def fingerprints(
    model: torch.nn.Module, entry: dict, shape: Sequence[int], *, roi_pool: bool = False
) -> dict[str, tuple[list[int], list[float]]]:
    """Fill ``model`` as the fixture entry says and return {output name: (shape, sample)}."""
    fill_(model.double().eval(), entry.get("weight_gain", WEIGHT_GAIN))
    replay = {
        name: shape_
        for key, name, shape_ in entry.get("replay_inputs", [])
        if key == size_key(shape)
    }
    got = outputs(
        model, entry["family"], fixed_input(shape), roi_pool=roi_pool, replay_inputs=replay
    )
    return {name: (list(y.shape), sample(y, SAMPLES, FULL_LIMIT)) for name, y in got.items()}


def recorded(entry: dict, shape: Sequence[int]) -> dict[str, tuple[list[int], list[float]]]:
    """The fixture entry's outputs for input ``shape``: {name: (shape, sample)}."""
    key = size_key(shape)
    return {name: (s, values) for k, name, s, values in entry["outputs"] if k == key}


def mismatches(model: torch.nn.Module, entry: dict, *, rtol: float = 1e-4) -> list[str]:
    """Compare a generated module with a fixture entry at both recorded input shapes.

    Every recorded output but the RoI-pooled ones (and the heads run on them) must be
    computed, with its shape and (tests/fingerprint.py's ``compare``) values; returns one
    message per difference, [] when the module is the recorded network."""
    problems = []
    for shape in entry["input_shapes"]:
        got = fingerprints(model, entry, shape)
        for name, (want_shape, want) in recorded(entry, shape).items():
            if "roi_pool" in name or (name.startswith("roi_heads.") and name not in got):
                continue
            if name not in got:
                problems.append(f"{size_key(shape)} {name}: not computed")
                continue
            got_shape, values = got[name]
            if got_shape != want_shape:
                problems.append(f"{size_key(shape)} {name}: shape {got_shape} != {want_shape}")
                continue
            message = compare(values, want, rtol)
            if message:
                problems.append(f"{size_key(shape)} {name}: {message}")
    return problems


def replay_fingerprints(
    model: torch.nn.Module, entry: dict, shape: Sequence[int]
) -> dict[str, tuple[list[int], list[float]]]:
    """Only the heads after RoI pooling, on their replayed inputs (``replay.`` outputs).

    ``model`` needs the heads and predictors at torchvision's paths and the entry's
    state_dict keys in order (the weights are filled by position), nothing else callable."""
    fill_(model.double().eval(), entry.get("weight_gain", WEIGHT_GAIN))
    out: Outputs = {}
    with torch.no_grad():
        for key, name, pooled in entry["replay_inputs"]:
            if key == size_key(shape):
                branch = name.removeprefix("roi_heads.").removesuffix("_roi_pool")
                _roi_chain(model, branch, fixed_input(pooled, phase=REPLAY_PHASE), "replay.", out)
    return {name: (list(y.shape), sample(y, SAMPLES, FULL_LIMIT)) for name, y in out.items()}
