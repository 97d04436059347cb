"""Write the torchvision fixtures in tests/reference/ from torchvision itself.

torchvision cannot be imported beside the project's own torch build, so run this once, in a
separate environment outside the repository that has torchvision, from the repository root:

    python3 -m venv /work/tvenv
    /work/tvenv/bin/pip install torch==2.14.1 torchvision==0.29.1 torchinfo==1.8.0
    /work/tvenv/bin/python tools/dump_torchvision_state_dicts.py

It writes three files; all are deterministic (running it twice gives the same bytes).
`--zoo` writes only the third.

tests/reference/torchvision_state_dicts.json: for each of MODELS (weights=None), every
state_dict entry in order, buffers included, as [key, shape], and `params`, the sum of numel
over model.parameters().

tests/reference/torchvision_graphs.json: for each of GRAPH_MODELS (constructor recorded in
the entry), with input 1x3x224x224:
  constructor      how the model was built
  params           sum of numel over model.parameters()
  total_mult_adds  torchinfo.summary(model, input_size=(1, 3, 224, 224), verbose=0)
  output_shape     shape of the output, batch dimension included ("out" for fcn_resnet50)
  state_dict       [key, shape] for every state_dict entry in order, buffers included
  classes          [qualified name, class name] for every module of named_modules(), the
                   root "" first, in registration order; containers are those whose name
                   is a prefix of another's
  modules          [qualified name, output shape without the batch dimension] for every
                   leaf module (no children), in call order, from forward hooks; a module
                   called twice (resnet's shared relu) has one row per call
  fingerprint      tests/fingerprint.py's fingerprint(model) (float64, filled weights, fixed
                   input; sampled for outputs over 2000 values, see that module)

tests/reference/torchvision_zoo.json: for each of ZOO_MODELS, the classification builders
the two files above leave out (and GoogLeNet and Inception-v3 with and without their
auxiliary classifiers): constructor, input_shape (224x224, 299x299 for Inception-v3),
params, total_mult_adds, output_shape, state_dict and fingerprint as above, for that
input shape (no classes or modules: the file stays small enough to read).

`--detection` writes only tests/reference/torchvision_detection.json: for each of
DETECTION_MODELS (torchvision's detection and segmentation networks, weights=None,
weights_backbone=None), constructor, params, state_dict, frozen_keys (the number of
state_dict entries of the layout torchvision builds when pretrained weights are asked for:
FrozenBatchNorm2d in the ResNet-50 body of the v1 detectors), torchinfo's mult-adds of the
sub-modules it can run on a tensor, and at two input shapes the shapes and samples of the
raw CNN outputs that tests/detection_fixture.py computes (backbone features, head outputs per
level, the heads after RoI pooling; its docstring, the fixture's "procedure", says how), so
that a test computes the same with that module on a generated network. It took 14 minutes
on 2 busy cores (load 7 to 9); one thread, so that the floats repeat byte for byte.

The fingerprint code is imported from tests/fingerprint.py by path, so the tests run the
same code with the project's torch. Before writing, it checks that each fingerprint is not
degenerate: the output's std is over 1e-6 of its mean |value|, and a different input
(sin(0.023*i + 0.7)) changes the output by over 1e-3 of its max |value|.
"""

import inspect
import json
import math
import sys
import typing
from pathlib import Path
from unittest import mock

import torch
import torchinfo
import torchvision
from torchvision import models
from torchvision.models._api import WeightsEnum
from torchvision.ops.misc import FrozenBatchNorm2d

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
import detection_fixture as dfx  # noqa: E402  (tests/detection_fixture.py, likewise)
import fingerprint as fp  # noqa: E402  (tests/fingerprint.py, shared with the tests)

MODELS = [
    "vgg11",
    "vgg11_bn",
    "vgg13",
    "vgg13_bn",
    "vgg16",
    "vgg16_bn",
    "vgg19",
    "vgg19_bn",
    "alexnet",
]
OUT = ROOT / "tests" / "reference" / "torchvision_state_dicts.json"

# name -> constructor text, evaluated with `models` in scope
GRAPH_MODELS = {
    name: f"models.{name}(weights=None)"
    for name in [
        "resnet18",
        "resnet34",
        "resnet50",
        "resnet101",
        "resnet152",
        "resnext50_32x4d",
        "wide_resnet50_2",
    ]
}
GRAPH_MODELS["googlenet"] = (
    "models.googlenet(weights=None, aux_logits=False, transform_input=False, init_weights=False)"
)
GRAPH_MODELS.update(
    {
        name: f"models.{name}(weights=None)"
        for name in [
            "densenet121",
            "densenet161",
            "densenet169",
            "densenet201",
            "squeezenet1_0",
            "squeezenet1_1",
            "mobilenet_v2",
        ]
    }
)
GRAPH_MODELS["fcn_resnet50"] = (
    "models.segmentation.fcn_resnet50(weights=None, weights_backbone=None, aux_loss=False)"
)
INPUT_SHAPE = (1, 3, 224, 224)

# the classification builders of torchvision.models not in GRAPH_MODELS or MODELS; the
# fixture key is the zoo spec's name (specs/zoo/<key>.yaml)
ZOO_MODELS = {
    name: f"models.{name}(weights=None)"
    for name in [
        "resnext101_32x8d",
        "resnext101_64x4d",
        "wide_resnet101_2",
        "mobilenet_v3_large",
        "mobilenet_v3_small",
        *(f"efficientnet_b{i}" for i in range(8)),
        "efficientnet_v2_s",
        "efficientnet_v2_m",
        "efficientnet_v2_l",
        *(f"regnet_x_{s}" for s in ("400mf", "800mf", "1_6gf", "3_2gf", "8gf", "16gf", "32gf")),
        *(
            f"regnet_y_{s}"
            for s in ("400mf", "800mf", "1_6gf", "3_2gf", "8gf", "16gf", "32gf", "128gf")
        ),
        *(f"convnext_{s}" for s in ("tiny", "small", "base", "large")),
        *(f"shufflenet_v2_x{s}" for s in ("0_5", "1_0", "1_5", "2_0")),
        *(f"mnasnet{s}" for s in ("0_5", "0_75", "1_0", "1_3")),
    ]
}
ZOO_MODELS["inception_v3"] = "models.inception_v3(weights=None, init_weights=False)"
ZOO_MODELS["inception_v3_no_aux"] = (
    "models.inception_v3(weights=None, aux_logits=False, init_weights=False)"
)
ZOO_MODELS["googlenet_aux"] = "models.googlenet(weights=None, init_weights=False)"
ZOO_INPUT = {"inception_v3": (1, 3, 299, 299), "inception_v3_no_aux": (1, 3, 299, 299)}
ZOO_OUT = ROOT / "tests" / "reference" / "torchvision_zoo.json"
GRAPHS_OUT = ROOT / "tests" / "reference" / "torchvision_graphs.json"
FP_PER_LINE = 8


def describe(name: str) -> dict:
    model = getattr(models, name)(weights=None)
    return {
        "params": sum(p.numel() for p in model.parameters()),
        "state_dict": [[key, list(t.shape)] for key, t in model.state_dict().items()],
    }


def render(data: dict) -> str:
    """JSON with one state_dict entry per line: compact, diffable, deterministic."""
    lines = ["{", f'  "source": {json.dumps(data["source"])},', '  "models": {']
    names = list(data["models"])
    for i, name in enumerate(names):
        entry = data["models"][name]
        lines.append(f"    {json.dumps(name)}: {{")
        lines.append(f'      "params": {entry["params"]},')
        lines.append('      "state_dict": [')
        rows = entry["state_dict"]
        for j, row in enumerate(rows):
            comma = "," if j < len(rows) - 1 else ""
            lines.append(f"        {json.dumps(row)}{comma}")
        lines.append("      ]")
        lines.append("    }" + ("," if i < len(names) - 1 else ""))
    lines += ["  }", "}"]
    return "\n".join(lines) + "\n"


def build(name: str) -> torch.nn.Module:
    return eval({**GRAPH_MODELS, **ZOO_MODELS}[name], {"models": models})


def leaf_outputs(model: torch.nn.Module, rows: list) -> list:
    """Forward hooks on every leaf module that append [name, output shape sans batch]."""
    handles = []
    for qual, module in model.named_modules():
        if any(True for _ in module.children()):
            continue

        def hook(_module, _inputs, out, qual=qual):
            if not isinstance(out, torch.Tensor):
                raise TypeError(f"leaf module {qual} returned {type(out).__name__}")
            rows.append([qual, list(out.shape[1:])])

        handles.append(module.register_forward_hook(hook))
    return handles


def degenerate(
    name: str, y: torch.Tensor, shape: tuple = INPUT_SHAPE, gain: float = fp.WEIGHT_GAIN
) -> str | None:
    """Why the output is no fingerprint (no spread, or no dependence on the input), or None."""
    mean_abs = y.abs().mean().item()
    spread = y.std().item() / mean_abs if mean_abs else 0.0
    n = math.prod(shape)
    other = torch.sin(0.023 * torch.arange(n, dtype=torch.float64) + 0.7).reshape(shape)
    y2 = fp.output(build(name), other, gain)
    change = ((y - y2).abs().max() / y.abs().max()).item()
    if not torch.isfinite(y).all() or spread <= 1e-6 or change <= 1e-3:
        return f"{name}: degenerate fingerprint (std/mean|y| {spread}, change {change})"
    return None


def check_fingerprint(name: str, y: torch.Tensor, shape: tuple = INPUT_SHAPE) -> str:
    """Fail unless the output has spread and depends on the input; return a summary line."""
    problem = degenerate(name, y, shape)
    if problem:
        raise SystemExit(problem)
    return summary_line(y)


def summary_line(y: torch.Tensor) -> str:
    mean_abs = y.abs().mean().item()
    return f"mean|y| {mean_abs:.3g}, std/mean|y| {y.std().item() / mean_abs:.3g}"


#: the weights' gains tried, in order, for a zoo model (see tests/fingerprint.py)
GAINS = (fp.WEIGHT_GAIN, 1.5, 1.6, 1.7, 1.8)


def describe_graph(name: str) -> tuple[dict, str]:
    model = build(name)
    params = sum(p.numel() for p in model.parameters())
    state_dict = [[key, list(t.shape)] for key, t in model.state_dict().items()]
    classes = [[qual, type(m).__name__] for qual, m in model.named_modules()]
    stats = torchinfo.summary(build(name), input_size=INPUT_SHAPE, verbose=0, device="cpu")
    rows: list = []
    handles = leaf_outputs(model, rows)
    y = fp.output(model, fp.fixed_input(INPUT_SHAPE))  # what fp.fingerprint(model) runs
    for handle in handles:
        handle.remove()
    entry = {
        "constructor": "torchvision." + GRAPH_MODELS[name],
        "params": params,
        "total_mult_adds": int(stats.total_mult_adds),
        "output_shape": list(y.shape),
        "state_dict": state_dict,
        "classes": classes,
        "modules": rows,
        "fingerprint": fp.sample(y),
    }
    return entry, check_fingerprint(name, y)


def render_graphs(data: dict) -> str:
    """Like render: one list entry per line, FP_PER_LINE fingerprint values per line."""
    return _render_models(
        data,
        ("source", "input_shape", "fields"),
        ("constructor", "params", "total_mult_adds", "output_shape"),
        ("state_dict", "classes", "modules"),
    )


def _render_models(data: dict, head: tuple, scalars: tuple, lists: tuple) -> str:
    """The fixture's JSON: the ``head`` keys on a line each, then per model its ``scalars``
    (and ``weight_gain`` where recorded), one entry of each of its ``lists`` per line, and
    FP_PER_LINE fingerprint values per line where it has a fingerprint. Compact, diffable,
    deterministic."""
    lines = ["{"]
    for key in head:
        lines.append(f"  {json.dumps(key)}: {json.dumps(data[key])},")
    lines.append('  "models": {')
    names = list(data["models"])
    for i, name in enumerate(names):
        entry = data["models"][name]
        lines.append(f"    {json.dumps(name)}: {{")
        fields = [[f"      {json.dumps(key)}: {json.dumps(entry[key])}"] for key in scalars]
        if "weight_gain" in entry:
            fields.append([f'      "weight_gain": {json.dumps(entry["weight_gain"])}'])
        for key in lists:
            rows = [f"        {json.dumps(row, allow_nan=False)}" for row in entry[key]]
            fields.append([f"      {json.dumps(key)}: [", ",\n".join(rows), "      ]"])
        if "fingerprint" in entry:
            values = entry["fingerprint"]
            chunks = [values[j : j + FP_PER_LINE] for j in range(0, len(values), FP_PER_LINE)]
            text = [f"        {json.dumps(chunk, allow_nan=False)[1:-1]}" for chunk in chunks]
            fields.append(['      "fingerprint": [', ",\n".join(text), "      ]"])
        for j, field in enumerate(fields):
            field = [line for line in field if line]
            lines += field[:-1] + [field[-1] + ("," if j < len(fields) - 1 else "")]
        lines.append("    }" + ("," if i < len(names) - 1 else ""))
    lines += ["  }", "}"]
    return "\n".join(lines) + "\n"


FIELDS = {
    "constructor": "how the model was built (torchvision.models...)",
    "params": "sum of numel over model.parameters()",
    "total_mult_adds": "torchinfo 1.8.0 summary(model, input_size=input_shape).total_mult_adds",
    "output_shape": "output shape for input_shape, batch included ('out' of a dict output)",
    "state_dict": "[key, shape] for every state_dict entry in order, buffers included",
    "classes": "[qualified name, class name] for every module of named_modules(), root first",
    "modules": "[qualified name, output shape sans batch] per call of each leaf module",
    "fingerprint": "tests/fingerprint.py fingerprint(model, input_shape)",
}


def _source(flag: str) -> str:
    """What a fixture was recorded with, and by which mode of this tool."""
    return (
        f"torchvision {torchvision.__version__.split('+')[0]} "
        f"(torch {torch.__version__.split('+')[0]}, "
        f"torchinfo {torchinfo.__version__.split('+')[0]}), "
        f"by tools/dump_torchvision_state_dicts.py{flag}"
    )


def main_graphs() -> None:
    torch.set_num_threads(1)  # one summation order, so the floats repeat byte for byte
    models_out = {}
    for name in GRAPH_MODELS:
        entry, summary = describe_graph(name)
        models_out[name] = entry
        print(
            f"{name:16s} {entry['params']:>12,d} params {entry['total_mult_adds']:>15,d} "
            f"mult-adds {len(entry['state_dict']):4d} entries {len(entry['modules']):4d} calls; "
            f"{summary}",
            flush=True,
        )
    data = {
        "source": _source(""),
        "input_shape": list(INPUT_SHAPE),
        "fields": FIELDS,
        "models": models_out,
    }
    text = render_graphs(data)
    assert json.loads(text) == data
    GRAPHS_OUT.write_text(text, encoding="utf-8")
    print(f"wrote {GRAPHS_OUT}")


def describe_zoo(name: str) -> tuple[dict, str]:
    shape = ZOO_INPUT.get(name, INPUT_SHAPE)
    model = build(name)
    stats = torchinfo.summary(build(name), input_size=shape, verbose=0, device="cpu")
    entry = {
        "constructor": "torchvision." + ZOO_MODELS[name],
        "input_shape": list(shape),
        "params": sum(p.numel() for p in model.parameters()),
        "total_mult_adds": int(stats.total_mult_adds),
        "state_dict": [[key, list(t.shape)] for key, t in model.state_dict().items()],
    }
    for gain in GAINS:
        y = fp.output(model, fp.fixed_input(shape), gain)
        problem = degenerate(name, y, shape, gain)
        if problem is None:
            break
        print(f"  gain {gain:.3g}: {problem}", flush=True)
    else:
        raise SystemExit(problem)
    entry["output_shape"] = list(y.shape)
    if gain != fp.WEIGHT_GAIN:
        entry["weight_gain"] = gain
    entry["fingerprint"] = fp.sample(y)
    return entry, summary_line(y) + f", weight gain {gain:.3g}"


def render_zoo(data: dict) -> str:
    """Like render_graphs, without classes and modules, with each model's input shape."""
    return _render_models(
        data,
        ("source", "fields"),
        ("constructor", "input_shape", "params", "total_mult_adds", "output_shape"),
        ("state_dict",),
    )


ZOO_FIELDS = {
    **{k: v for k, v in FIELDS.items() if k not in ("classes", "modules")},
    "input_shape": "the input shape of total_mult_adds, output_shape and fingerprint",
    "total_mult_adds": "torchinfo 1.8.0 summary(model, input_size=input_shape).total_mult_adds",
    "output_shape": "output shape for input_shape, batch included",
    "weight_gain": "the gain tests/fingerprint.py fills the weights with, where not sqrt(2)",
}


def main_zoo() -> None:
    torch.set_num_threads(1)
    models_out = {}
    for name in ZOO_MODELS:
        entry, summary = describe_zoo(name)
        models_out[name] = entry
        print(
            f"{name:20s} {entry['params']:>12,d} params {entry['total_mult_adds']:>15,d} "
            f"mult-adds {len(entry['state_dict']):4d} entries; {summary}",
            flush=True,
        )
    data = {
        "source": _source(" --zoo"),
        "fields": ZOO_FIELDS,
        "models": models_out,
    }
    text = render_zoo(data)
    assert json.loads(text) == data
    ZOO_OUT.write_text(text, encoding="utf-8")
    print(f"wrote {ZOO_OUT}")


# --- tests/reference/torchvision_detection.json (--detection) --------------------------------

FPN_SIZES = ((1, 3, 320, 320), (1, 3, 256, 384))
SEG_SIZES = ((1, 3, 224, 224), (1, 3, 256, 320))
#: name -> (builder under torchvision.models, extra keyword arguments, family of
#: tests/detection_fixture.py, the two input shapes); SSD300 takes no side under ~270 (at
#: 256 its last unpadded 3x3 convolution meets a 2x4 map), hence its 320x384
DETECTION_MODELS = {
    "fasterrcnn_resnet50_fpn": ("detection.fasterrcnn_resnet50_fpn", "", "rcnn", FPN_SIZES),
    "fasterrcnn_resnet50_fpn_v2": ("detection.fasterrcnn_resnet50_fpn_v2", "", "rcnn", FPN_SIZES),
    "retinanet_resnet50_fpn": ("detection.retinanet_resnet50_fpn", "", "retinanet", FPN_SIZES),
    "fcos_resnet50_fpn": ("detection.fcos_resnet50_fpn", "", "fcos", FPN_SIZES),
    "ssd300_vgg16": ("detection.ssd300_vgg16", "", "ssd", ((1, 3, 300, 300), (1, 3, 320, 384))),
    "ssdlite320_mobilenet_v3_large": (
        "detection.ssdlite320_mobilenet_v3_large",
        "",
        "ssd",
        ((1, 3, 320, 320), (1, 3, 256, 384)),
    ),
    "maskrcnn_resnet50_fpn": ("detection.maskrcnn_resnet50_fpn", "", "rcnn", FPN_SIZES),
    "keypointrcnn_resnet50_fpn": ("detection.keypointrcnn_resnet50_fpn", "", "rcnn", FPN_SIZES),
    "deeplabv3_resnet50": (
        "segmentation.deeplabv3_resnet50",
        "aux_loss=True",
        "segmentation",
        SEG_SIZES,
    ),
    "deeplabv3_mobilenet_v3_large": (
        "segmentation.deeplabv3_mobilenet_v3_large",
        "aux_loss=True",
        "segmentation",
        SEG_SIZES,
    ),
    "lraspp_mobilenet_v3_large": (
        "segmentation.lraspp_mobilenet_v3_large",
        "",
        "lraspp",
        SEG_SIZES,
    ),
    "fcn_resnet50": ("segmentation.fcn_resnet50", "aux_loss=True", "segmentation", SEG_SIZES),
}
DETECTION_OUT = ROOT / "tests" / "reference" / "torchvision_detection.json"
#: the sub-modules torchinfo counts, on the tensor the fixture feeds them ("" is the model)
MAC_CALLS = {
    "rcnn": ("backbone", "roi_heads.box_head", "roi_heads.mask_head", "roi_heads.keypoint_head"),
    "retinanet": ("backbone",),
    "fcos": ("backbone",),
    "ssd": ("backbone",),
    "segmentation": ("",),
    "lraspp": ("",),
}
ALT_PHASE = 1.1  # the other input (and replayed head inputs) of the degeneracy check


def _builder(name: str):
    path, extra, _family, _sizes = DETECTION_MODELS[name]
    builder = models
    for part in path.split("."):
        builder = getattr(builder, part)
    kwargs = dict(kv.split("=") for kv in extra.split(", ") if kv)
    return builder, {k: eval(v) for k, v in kwargs.items()}


def _backbone_weights(builder) -> WeightsEnum:
    """The builder's default weights_backbone, else the first of the enum it takes."""
    param = inspect.signature(builder).parameters["weights_backbone"]
    if param.default is not None:
        return param.default
    (enum_class,) = [a for a in typing.get_args(param.annotation) if a is not type(None)]
    return next(iter(enum_class))


def detection_constructor(name: str, pretrained_layout: bool = False) -> str:
    path, extra, _family, _sizes = DETECTION_MODELS[name]
    backbone = "None"
    if pretrained_layout:
        enum = _backbone_weights(_builder(name)[0])
        backbone = f"{type(enum).__name__}.{enum.name}"
    args = ", ".join(a for a in ("weights=None", f"weights_backbone={backbone}", extra) if a)
    text = f"torchvision.models.{path}({args})"
    if pretrained_layout:
        text += ", with WeightsEnum.get_state_dict and nn.Module.load_state_dict stubbed out"
    return text


def build_detection(name: str, pretrained_layout: bool = False) -> torch.nn.Module:
    """The model with weights=None, weights_backbone=None; with ``pretrained_layout``, as the
    builder makes it when pretrained backbone weights are asked for (the builder's default
    weights_backbone: FrozenBatchNorm2d where torchvision freezes the backbone's norms), the
    weights' download and loading stubbed out, since only the layout is wanted."""
    builder, kwargs = _builder(name)
    if not pretrained_layout:
        return builder(weights=None, weights_backbone=None, **kwargs)
    enum = _backbone_weights(builder)
    with (
        mock.patch.object(WeightsEnum, "get_state_dict", lambda *a, **k: {}),
        mock.patch.object(torch.nn.Module, "load_state_dict", lambda *a, **k: None),
    ):
        return builder(weights=None, weights_backbone=enum, **kwargs)


def _det_problems(out: dict, alt: dict) -> list[str]:
    """Outputs that are no fingerprint: non-finite, no spread, or not moved by the input
    (the other input ``fixed_input(shape, phase=ALT_PHASE)``, replayed inputs likewise)."""
    problems = []
    for key, y in out.items():
        mean_abs = y.abs().mean().item()
        spread = y.std().item() / mean_abs if mean_abs and y.numel() > 1 else 0.0
        top = y.abs().max().item()
        change = (y - alt[key]).abs().max().item() / top if top else 0.0
        flat = y.numel() > 1 and spread <= 1e-6  # a single value has no spread to ask for
        if not torch.isfinite(y).all() or flat or change <= 1e-3:
            problems.append(f"{key} (std/mean|y| {spread:.3g}, change {change:.3g})")
    return problems


def _det_run(model, name: str, gain: float) -> tuple[list, list, list[str]]:
    """Outputs and replayed inputs at both sizes for one weight gain, and what is degenerate."""
    family, sizes = DETECTION_MODELS[name][2:]
    rows, replay_rows, problems = [], [], []
    fp.fill_(model.double().eval(), gain)
    for shape in sizes:
        key = dfx.size_key(shape)
        replay: dict = {}
        out = dfx.outputs(model, family, fp.fixed_input(shape), roi_pool=True, replay_inputs=replay)
        alt = dfx.outputs(
            model,
            family,
            fp.fixed_input(shape, phase=ALT_PHASE),
            roi_pool=True,
            replay_phase=ALT_PHASE,
        )
        _check_calls(model, family, out)
        problems += [f"{key} {p}" for p in _det_problems(out, alt)]
        replay_rows += [[key, n, s] for n, s in replay.items()]
        rows += [
            [key, n, list(y.shape), fp.sample(y, dfx.SAMPLES, dfx.FULL_LIMIT)]
            for n, y in out.items()
        ]
    return rows, replay_rows, problems


def _check_calls(model, family: str, out: dict) -> None:
    """The per-level sub-calls are what torchvision's own head calls return."""
    if family != "rcnn":
        return
    levels = [v for k, v in out.items() if k.startswith("backbone.")]
    with torch.no_grad():
        objectness, deltas = model.rpn.head(levels)
    for i, (o, d) in enumerate(zip(objectness, deltas, strict=True)):
        assert torch.equal(o, out[f"rpn.head.cls_logits.{i}"])
        assert torch.equal(d, out[f"rpn.head.bbox_pred.{i}"])


def _det_macs(model, name: str, replay_rows: list) -> list:
    family, sizes = DETECTION_MODELS[name][2:]
    rows = []
    for shape in sizes:
        key = dfx.size_key(shape)
        pooled = {n.replace("_roi_pool", "_head"): s for k, n, s in replay_rows if k == key}
        for call in MAC_CALLS[family]:
            if call and call != "backbone" and call not in pooled:
                continue
            in_shape = list(shape) if call in ("", "backbone") else pooled[call]
            sub = model.get_submodule(call) if call else model
            stats = torchinfo.summary(
                sub, input_data=[fp.fixed_input(in_shape)], verbose=0, device="cpu"
            )
            rows.append([key, call, in_shape, int(stats.total_mult_adds)])
    return rows


def describe_detection(name: str) -> tuple[dict, str]:
    family, sizes = DETECTION_MODELS[name][2:]
    model = build_detection(name)
    frozen = build_detection(name, pretrained_layout=True)
    n_frozen = sum(isinstance(m, FrozenBatchNorm2d) for m in frozen.modules())
    entry = {
        "constructor": detection_constructor(name),
        "family": family,
        "frozen_constructor": detection_constructor(name, pretrained_layout=True),
        "frozen_keys": len(frozen.state_dict()),
        "params": sum(p.numel() for p in model.parameters()),
        "input_shapes": [list(s) for s in sizes],
        "state_dict": [[key, list(t.shape)] for key, t in model.state_dict().items()],
    }
    for gain in GAINS:
        rows, replay_rows, problems = _det_run(model, name, gain)
        if not problems:
            break
        print(f"  gain {gain:.3g}: degenerate {problems[:3]} ({len(problems)} in all)", flush=True)
    else:
        raise SystemExit(f"{name}: degenerate outputs {problems}")
    if gain != fp.WEIGHT_GAIN:
        entry["weight_gain"] = gain
    entry["mult_adds"] = _det_macs(model, name, replay_rows)
    entry["replay_inputs"] = replay_rows
    entry["outputs"] = rows
    return entry, f"{n_frozen} FrozenBatchNorm2d, {len(rows)} outputs, weight gain {gain:.3g}"


DETECTION_FIELDS = {
    "constructor": "how the model was built (weights=None, weights_backbone=None: nn.BatchNorm2d)",
    "family": "which sub-calls tests/detection_fixture.py makes (see procedure)",
    "frozen_constructor": "how the pretrained layout was built (FrozenBatchNorm2d where "
    "torchvision freezes the backbone's norms when weights are given)",
    "frozen_keys": "number of state_dict entries of the pretrained layout (FrozenBatchNorm2d "
    "has no num_batches_tracked)",
    "params": "sum of numel over model.parameters()",
    "input_shapes": "the two input shapes of mult_adds, replay_inputs and outputs",
    "weight_gain": "the gain tests/fingerprint.py fills the weights with, where not sqrt(2)",
    "mult_adds": "[input shape, sub-module ('' the whole model), its input's shape, torchinfo "
    "1.8.0 summary(sub-module, input_data=[fixed_input(shape)]).total_mult_adds]; torchinfo "
    "is not run on the heads that take a list of levels (RPN, RetinaNet, FCOS, SSD heads) "
    "nor on the RoI pooling",
    "replay_inputs": "[input shape, RoI pooling module, the shape of the replayed head input]",
    "state_dict": "[key, shape] for every state_dict entry in order, buffers included",
    "outputs": "[input shape, output name, output shape, tests/detection_fixture.py's sample]",
}

DETECTION_NOTES = [
    "The network is filled and called as tests/detection_fixture.py's docstring says (the "
    "procedure): no anchors, box coding, NMS or resizing transform, which are no CNN.",
    "RoI boxes (x1, y1, x2, y2) = box_fractions * (W, H, W, H), image "
    "size (H, W) = the input's; torch.ops.torchvision (roi_align) does not exist beside the "
    "project's CPU torch, so the heads after RoI pooling are also recorded on replayed inputs "
    "fixed_input(replay shape, phase=0.1) (names starting replay.).",
    "Anchors: torchvision's FPN RPN has 3 anchors per location on each level (one size per "
    "level, aspect ratios 0.5, 1, 2) and one sigmoid objectness per anchor, so its heads have "
    "3 (cls_logits) and 12 (bbox_pred) channels; the paper's single-level RPN has 9 anchors "
    "with 2 softmax scores each: 18 and 36.",
    "SSD: the second dimension of head.cls_logits is the number of default boxes, the sum "
    "over levels of H*W*anchors (SSD300: 38^2*4 + 19^2*6 + 10^2*6 + 5^2*6 + 3^2*4 + 1^2*4 = "
    "8732); the per-level outputs have anchors*classes and anchors*4 channels.",
]


def render_detection(data: dict) -> str:
    return _render_models(
        data,
        ("source", "procedure", "box_fractions", "notes", "fields"),
        ("constructor", "family", "frozen_constructor", "frozen_keys", "params", "input_shapes"),
        ("mult_adds", "replay_inputs", "state_dict", "outputs"),
    )


def main_detection() -> None:
    torch.set_num_threads(1)
    models_out = {}
    for name in DETECTION_MODELS:
        entry, summary = describe_detection(name)
        models_out[name] = entry
        print(
            f"{name:30s} {entry['params']:>11,d} params {len(entry['state_dict']):4d} entries "
            f"({entry['frozen_keys']} pretrained); {summary}",
            flush=True,
        )
    data = {
        "source": _source(" --detection"),
        "procedure": dfx.__doc__.strip(),
        "box_fractions": [list(b) for b in dfx.BOX_FRACTIONS],
        "notes": DETECTION_NOTES,
        "fields": DETECTION_FIELDS,
        "models": models_out,
    }
    text = render_detection(data)
    assert json.loads(text) == data
    DETECTION_OUT.write_text(text, encoding="utf-8")
    print(f"wrote {DETECTION_OUT} ({len(text):,d} bytes)")


def main() -> int:
    if sys.argv[1:] == ["--zoo"]:
        main_zoo()
        return 0
    if sys.argv[1:] == ["--detection"]:
        main_detection()
        return 0
    data = {
        "source": (
            f"torchvision {torchvision.__version__.split('+')[0]} "
            f"(torch {torch.__version__.split('+')[0]}), "
            "torchvision.models.<name>(weights=None), "
            "by tools/dump_torchvision_state_dicts.py"
        ),
        "models": {name: describe(name) for name in MODELS},
    }
    text = render(data)
    assert json.loads(text) == data
    OUT.write_text(text, encoding="utf-8")
    for name, entry in data["models"].items():
        n = len(entry["state_dict"])
        print(f"{name:10s} {entry['params']:>12,d} params {n:3d} entries")
    print(f"wrote {OUT}")
    main_graphs()
    return 0


if __name__ == "__main__":
    sys.exit(main())
