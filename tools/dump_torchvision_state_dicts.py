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

The fingerprint code is imported from tests/fingerprint.py by path, so the tests run the
same code with the project's torch. Before writing, it checks that each fingerprint is not
degenerate: the output's std is over 1e-6 of its mean |value|, and a different input
(sin(0.023*i + 0.7)) changes the output by over 1e-3 of its max |value|.
"""

import json
import math
import sys
from pathlib import Path

import torch
import torchinfo
import torchvision
from torchvision import models

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
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
    FP_PER_LINE fingerprint values per line. Compact, diffable, deterministic."""
    lines = ["{"]
    for key in head:
        lines.append(f"  {json.dumps(key)}: {json.dumps(data[key])},")
    lines.append('  "models": {')
    names = list(data["models"])
    for i, name in enumerate(names):
        entry = data["models"][name]
        lines.append(f"    {json.dumps(name)}: {{")
        for key in scalars:
            lines.append(f"      {json.dumps(key)}: {json.dumps(entry[key])},")
        if "weight_gain" in entry:
            lines.append(f'      "weight_gain": {json.dumps(entry["weight_gain"])},')
        for key in lists:
            lines.append(f"      {json.dumps(key)}: [")
            rows = entry[key]
            for j, row in enumerate(rows):
                comma = "," if j < len(rows) - 1 else ""
                lines.append(f"        {json.dumps(row)}{comma}")
            lines.append("      ],")
        lines.append('      "fingerprint": [')
        values = entry["fingerprint"]
        chunks = [values[j : j + FP_PER_LINE] for j in range(0, len(values), FP_PER_LINE)]
        for j, chunk in enumerate(chunks):
            comma = "," if j < len(chunks) - 1 else ""
            lines.append(f"        {json.dumps(chunk, allow_nan=False)[1:-1]}{comma}")
        lines.append("      ]")
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
        "source": (
            f"torchvision {torchvision.__version__.split('+')[0]} "
            f"(torch {torch.__version__.split('+')[0]}, "
            f"torchinfo {torchinfo.__version__.split('+')[0]}), "
            "by tools/dump_torchvision_state_dicts.py"
        ),
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
        "source": (
            f"torchvision {torchvision.__version__.split('+')[0]} "
            f"(torch {torch.__version__.split('+')[0]}, "
            f"torchinfo {torchinfo.__version__.split('+')[0]}), "
            "by tools/dump_torchvision_state_dicts.py --zoo"
        ),
        "fields": ZOO_FIELDS,
        "models": models_out,
    }
    text = render_zoo(data)
    assert json.loads(text) == data
    ZOO_OUT.write_text(text, encoding="utf-8")
    print(f"wrote {ZOO_OUT}")


def main() -> int:
    if sys.argv[1:] == ["--zoo"]:
        main_zoo()
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
