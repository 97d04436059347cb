"""Random graph specs, as YAML text, through the whole compiler and into PyTorch.

The generator writes graph specs as a person would: blocks with params used in
expressions (`$m * 2`, `$k // 2`, `not $bn`), rows that exist only `if:` a
condition holds (a projection shortcut, an expansion conv, a batchnorm, a
residual add), branches from `input` merged by `add` and `concat` (with the
input itself too), containers with indexed and named children, block rows with
`repeat`, `first` and `names`, a block that is an indexed nn.Sequential, and
branches and merges in the network itself. Each spec must check, compile,
import and run; every leaf module's real output shape (forward hooks) must equal
the IR's node with the same module path, the state_dict keys the IR's module
paths, the parameter counts the IR's, and the MACs torchinfo's.

Profiles: ``ci`` (CI=true: 200 examples, derandomized) and ``dev`` (50).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import torch
import torchinfo
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cnnspec

settings.register_profile(
    "graph-ci",
    max_examples=200,
    deadline=None,
    derandomize=True,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "graph-dev",
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
PROFILE = "graph-ci" if CI else "graph-dev"
PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"

ACTIVATIONS = [
    "relu",
    "relu6",
    "leaky_relu",
    "sigmoid",
    "tanh",
    "hardswish",
    "hardsigmoid",
    "silu",
    "gelu",
]

#: torch's names for the state of each kind of module (besides its path)
STATE = {
    "conv": ("weight", "bias"),
    "fc": ("weight", "bias"),
    "batchnorm": ("weight", "bias", "running_mean", "running_var", "num_batches_tracked"),
}


# --------------------------------------------------------------------------- blocks
#
# Each block is written so that it checks for any arguments the network gives it;
# `out` says what it makes of an input shape (maps, h, w) and its arguments.


def _down(n: int, s: int) -> int:
    """A 3×3 conv with padding 1 (or a 1×1 conv) at stride s: n → ⌊(n − 1)/s⌋ + 1."""
    return (n - 1) // s + 1


@st.composite
def residual_block(draw):
    """ResNet's BasicBlock: a projection shortcut `if:` the stride or the width changes,
    a batchnorm `if: $bn`, the add's inputs in either order."""
    act = draw(st.sampled_from(ACTIVATIONS))
    rows: list[dict] = [
        {"name": "conv1", "type": "conv", "maps": "$m", "kernel": 3, "stride": "$s", "padding": 1}
    ]
    if draw(st.booleans()):
        rows[0]["bias"] = "not $bn"
        rows.append({"name": "bn1", "type": "batchnorm", "if": "$bn"})
    if rows[-1]["type"] == "conv" and draw(st.booleans()):
        rows[-1]["activation"] = act
    else:
        rows.append({"name": "act1", "type": act})
    rows.append({"name": "conv2", "type": "conv", "maps": "$m", "kernel": 3, "padding": 1})
    rows.append(
        {
            "name": draw(st.sampled_from(["downsample", "proj", "shortcut"])),
            "type": "sequential",
            "from": "input",
            "if": "$s != 1 or in_maps != $m",
            "children": draw(st.sampled_from(["indexed", "named"])),
            "layers": [
                {"type": "conv", "maps": "$m", "kernel": 1, "stride": "$s", "bias": False},
                {"type": "batchnorm"},
            ],
        }
    )
    pair = ["conv2", rows[-1]["name"]]
    rows.append({"name": "add", "type": "add", "from": pair if draw(st.booleans()) else pair[::-1]})
    if draw(st.booleans()):
        rows.append({"name": "out", "type": act})
    params = {
        "m": "int",
        "s": {"type": "int", "default": 1},
        "bn": {"type": "bool", "default": draw(st.booleans())},
    }

    def out(shape, args):
        c, h, w = shape
        s = args.get("s", 1)
        return (args["m"], _down(h, s), _down(w, s))

    def args(draw, shape):
        return {"m": draw(st.integers(1, 6)), **({"s": 2} if draw(st.booleans()) else {})}

    return {"params": params, "layers": rows}, out, args, {}


@st.composite
def mix_block(draw):
    """An inception-like block: branches from `input`, concatenated (the input too, maybe)."""
    children = draw(st.sampled_from(["indexed", "named"]))
    branches = {
        "b1": {"name": "b1", "type": "conv", "maps": "$a", "kernel": 1, "from": "input"},
        "b2": {
            "name": "b2",
            "type": "sequential",
            "from": "input",
            "children": children,
            "layers": [
                {"type": "conv", "maps": "$b * 2", "kernel": 1, "activation": "relu"},
                {"type": "conv", "maps": "$b", "kernel": "$k", "padding": "$k // 2"},
            ],
        },
        "b3": {
            "name": "b3",
            "type": "maxpool",
            "kernel": 3,
            "stride": 1,
            "padding": 1,
            "from": "input",
        },
    }
    chosen = draw(st.lists(st.sampled_from(sorted(branches)), min_size=1, max_size=3, unique=True))
    rows = [branches[b] for b in sorted(chosen)]
    sources = [b for b in sorted(chosen)]
    if len(sources) == 1 or draw(st.booleans()):
        sources.insert(draw(st.integers(0, len(sources))), "input")
    rows.append({"name": "cat", "type": "concat", "from": sources})
    if draw(st.booleans()):
        rows.append({"name": "act", "type": draw(st.sampled_from(ACTIVATIONS))})
    params = {"a": "int", "b": "int", "k": {"type": "int", "default": 3}}

    def out(shape, args):
        c, h, w = shape
        maps = {"b1": args["a"], "b2": args["b"], "b3": c, "input": c}
        return (sum(maps[s] for s in sources), h, w)

    def args(draw, shape):
        return {
            "a": draw(st.integers(1, 4)),
            "b": draw(st.integers(1, 4)),
            **({"k": 1} if draw(st.booleans()) else {}),
        }

    return {"params": params, "layers": rows}, out, args, {}


@st.composite
def inverted_block(draw):
    """MobileNetV2's: an expansion conv `if: $t != 1`, a depthwise conv (groups from an
    expression), a projection, and a residual add `if:` the shapes allow it."""
    rows = [
        {"name": "expand", "type": "conv", "maps": "$t * in_maps", "kernel": 1, "if": "$t != 1"},
        {"name": "expand_act", "type": "relu6", "if": "$t != 1"},
        {
            "name": "dw",
            "type": "conv",
            "maps": "$t * in_maps",
            "kernel": 3,
            "stride": "$s",
            "padding": 1,
            "groups": "$t * in_maps",
            "activation": "relu6",
        },
        {"name": "project", "type": "conv", "maps": "$c", "kernel": 1, "bias": False},
        {"name": "bn", "type": "batchnorm"},
        {
            "name": "res",
            "type": "add",
            "from": ["bn", "input"],
            "if": "$s == 1 and in_maps == $c",
        },
    ]
    params = {"t": "int", "c": "int", "s": {"type": "int", "default": 1}}

    def out(shape, args):
        c, h, w = shape
        s = args.get("s", 1)
        return (args["c"], _down(h, s), _down(w, s))

    def args(draw, shape):
        c = shape[0] if draw(st.booleans()) else draw(st.integers(1, 5))
        return {"t": draw(st.integers(1, 3)), "c": c, **({"s": 2} if draw(st.booleans()) else {})}

    return {"params": params, "layers": rows}, out, args, {}


@st.composite
def dense_block(draw):
    """DenseNet's layer: BN-ReLU-conv, its new maps concatenated to the input."""
    rows = [
        {"name": "norm", "type": "batchnorm"},
        {"name": "relu", "type": "relu"},
        {"name": "conv", "type": "conv", "maps": "$g", "kernel": 3, "padding": 1, "bias": False},
        {"name": "concat", "type": "concat", "from": ["input", "conv"]},
    ]
    params = {"g": {"type": "int", "default": 2}}

    def out(shape, args):
        c, h, w = shape
        return (c + args.get("g", 2), h, w)

    def args(draw, shape):
        return {"g": draw(st.integers(1, 4))} if draw(st.booleans()) else {}

    return {"params": params, "layers": rows}, out, args, {}


@st.composite
def cbr_block(draw):
    """torchvision's Conv2dNormActivation: an indexed nn.Sequential class."""
    rows = [
        {"type": "conv", "maps": "$c", "kernel": "$k", "padding": "($k - 1) // 2", "bias": False},
        {"type": "batchnorm"},
        {"type": draw(st.sampled_from(ACTIVATIONS))},
    ]
    params = {"c": "int", "k": {"type": "int", "default": 1}}

    def out(shape, args):
        return (args["c"], shape[1], shape[2])

    def args(draw, shape):
        return {"c": draw(st.integers(1, 5)), **({"k": 3} if draw(st.booleans()) else {})}

    return {"params": params, "children": "indexed", "layers": rows}, out, args, {}


@st.composite
def stage_block(draw):
    """A container whose batchnorm exists only `if: $bn`, then `repeat: $n` copies of a
    block that the block uses (a count that differs per instance: the class loops)."""
    unit = {
        "params": {"c": "int"},
        "layers": [
            {"name": "conv", "type": "conv", "maps": "$c", "kernel": 1},
            {"name": "act", "type": draw(st.sampled_from(ACTIVATIONS))},
        ],
    }
    rows = [
        {
            "name": "body",
            "type": "sequential",
            "children": draw(st.sampled_from(["indexed", "named"])),
            "layers": [
                {"name": "conv", "type": "conv", "maps": "$c", "kernel": 3, "padding": 1},
                {"name": "norm", "type": "batchnorm", "if": "$bn"},
                {"name": "act", "type": "relu"},
            ],
        },
        {"name": "units", "type": "Unit", "c": "$c", "repeat": "$n"},
    ]
    params = {
        "c": "int",
        "n": {"type": "int", "default": 1},
        "bn": {"type": "bool", "default": True},
    }

    def out(shape, args):
        return (args["c"], shape[1], shape[2])

    def args(draw, shape):
        more = {"n": draw(st.integers(1, 3))} if draw(st.booleans()) else {}
        return {"c": draw(st.integers(1, 4)), **more, "bn": draw(st.booleans())}

    return {"params": params, "layers": rows}, out, args, {"Unit": unit}


BLOCKS = {
    "Residual": residual_block,
    "Stage": stage_block,
    "Mix": mix_block,
    "Inverted": inverted_block,
    "Dense": dense_block,
    "CBR": cbr_block,
}


# --------------------------------------------------------------------------- networks


@st.composite
def graph_specs(draw):
    """A valid graph spec as YAML text."""
    chosen = draw(st.lists(st.sampled_from(sorted(BLOCKS)), min_size=1, max_size=3, unique=True))
    blocks, helpers = {}, {}
    for name in chosen:
        body, out, make_args, used = draw(BLOCKS[name]())
        blocks[name] = (body, out, make_args)
        helpers.update(used)
    c = draw(st.integers(1, 4))
    h, w = draw(st.integers(2, 9)), draw(st.integers(2, 9))
    shape = (c, h, w)
    rows: list[dict] = []
    counter = iter(range(1, 1000))

    def name(prefix: str) -> str:
        return f"{prefix}{next(counter)}"

    def block_row(shape):
        kind = draw(st.sampled_from(chosen))
        body, out, make_args = blocks[kind]
        args = make_args(draw, shape)
        row = {"name": name("stage"), "type": kind, **args}
        repeat = draw(st.sampled_from([None, None, 1, 2, 3]))
        if repeat is None:
            return row, out(shape, args)
        row["repeat"] = repeat
        rest = dict(args)
        if "s" in args:  # the first copy strides, as ResNet's stages do
            row.pop("s")
            row["first"] = {"s": args["s"]}
            rest.pop("s")
        if draw(st.booleans()):
            row["names"] = "unit{i}"
        shape = out(shape, args)
        for _ in range(repeat - 1):
            shape = out(shape, rest)
        return row, shape

    if draw(st.booleans()):
        stem = draw(st.integers(1, 6))
        rows.append({"name": "stem", "type": "conv", "maps": stem, "kernel": 3, "padding": 1})
        shape = (stem, h, w)
    for _ in range(draw(st.integers(1, 4))):
        what = draw(st.sampled_from(["block", "block", "container", "merge", "layer"]))
        prev = rows[-1]["name"] if rows else "input"
        if what == "block":
            row, shape = block_row(shape)
        elif what == "container":
            layers = []
            for _ in range(draw(st.integers(1, 3))):
                if draw(st.booleans()):
                    child, shape = block_row(shape)
                    child.pop("name")
                    child.pop("names", None)
                else:
                    child = {"type": draw(st.sampled_from(["batchnorm", *ACTIVATIONS]))}
                layers.append(child)
            kids = draw(st.sampled_from(["indexed", "named"]))
            if kids == "named":
                for i, child in enumerate(layers):
                    child["name"] = f"part{i}"
            row = {"name": name("seq"), "type": "sequential", "children": kids, "layers": layers}
        elif what == "merge":
            # a 1×1 branch beside the current tensor, merged with it (a mul broadcasts)
            kind = draw(st.sampled_from(["add", "concat", "mul"]))
            maps = {
                "add": shape[0],
                "concat": draw(st.integers(1, 4)),
                "mul": draw(st.sampled_from([shape[0], 1])),  # 1 map broadcasts over all
            }[kind]
            side = {"name": name("side"), "type": "conv", "maps": maps, "kernel": 1, "from": prev}
            rows.append(side)
            sources = [prev, side["name"]]
            if draw(st.booleans()):
                sources.reverse()
            row = {"name": name(kind), "type": kind, "from": sources}
            shape = (shape[0] + maps, *shape[1:]) if kind == "concat" else shape
        else:
            kind = draw(st.sampled_from(["batchnorm", "dropout", *ACTIVATIONS]))
            row = {"name": name(kind), "type": kind}
        if "from" not in row and rows and draw(st.integers(0, 3)) == 0:
            row["from"] = prev
        rows.append(row)
    head = draw(st.sampled_from(["fc", "flatten", "maps"]))
    if head != "maps":
        rows.append({"name": "pool", "type": "adaptive_avgpool", "size": 1})
        if head == "flatten":
            rows.append({"name": "flat", "type": "flatten"})
        rows.append({"name": "fc", "type": "fc", "size": draw(st.integers(1, 5))})
    spec = {
        "name": draw(st.sampled_from(["Net", "G", "Model_1"])),
        "blocks": {**helpers, **{k: body for k, (body, _, _) in blocks.items()}},
        "input": {"maps": c, "size": f"{h}x{w}"},
        "layers": rows,
    }
    return yaml.safe_dump(spec, sort_keys=False)


# --------------------------------------------------------------------------- the oracle


def expected_state(net: cnnspec.Network) -> list[str]:
    keys = []
    for node in net.layers:
        for name in STATE.get(node.kind, ()):
            if name == "bias" and node.kind != "batchnorm" and not node.bias:
                continue
            keys.append(f"{node.path}.{name}")
    return keys


def check_one(text: str) -> str:
    """Everything one graph spec must satisfy; returns its generated source."""
    net = cnnspec.loads(text)
    assert net.layout == "graph"
    source = cnnspec.torch_source(net)
    assert cnnspec.torch_source(net) == source, "not deterministic"
    too_long = [line for line in source.splitlines() if len(line) > 100]
    assert not too_long, too_long

    model = cnnspec.build(net).eval()
    leaves = [(p, m) for p, m in model.named_modules() if p and not list(m.children())]
    assert [p for p, _ in leaves] == [n.path for n in net.layers]
    assert [type(m).__name__ for _, m in leaves] == [n.torch_class for n in net.layers]
    assert list(model.state_dict()) == expected_state(net)

    shapes: dict[str, list[tuple[int, ...]]] = {}

    def hook(path):
        return lambda m, i, o: shapes.setdefault(path, []).append(tuple(o.shape))

    handles = [m.register_forward_hook(hook(p)) for p, m in leaves]
    with torch.no_grad():
        y = model(torch.randn(2, *net.input_shape))
    for handle in handles:
        handle.remove()
    wrong = {
        n.path: (shapes.get(n.path), n.output_shape)
        for n in net.layers
        if shapes.get(n.path) != [(2, *n.output_shape)]
    }
    assert not wrong, wrong
    assert tuple(y.shape) == (2, *net.output_shape)

    for (path, module), node in zip(leaves, net.layers):
        assert sum(p.numel() for p in module.parameters()) == node.params, path
    assert sum(p.numel() for p in model.parameters()) == net.params
    stats = torchinfo.summary(model, input_size=(1, *net.input_shape), verbose=0)
    assert (stats.total_params, stats.total_mult_adds) == (net.params, net.macs)
    return source


def test_random_graph_specs_compile_run_and_match(tmp_path, capsys):
    sources: list[str] = []
    forms = (
        "is not None:",  # an optional module
        "if self.use_",  # an optional operation (a residual add)
        "torch.cat(",
        " + ",
        "OrderedDict(",  # named children
        "(nn.Sequential):",  # a block that is an indexed nn.Sequential
        ".append(",  # a container with optional children
        "for _ in range(1, ",  # a repeat count that is a param
    )
    features: set[str] = set()

    @settings(settings.get_profile(PROFILE))
    @given(graph_specs())
    def run(text: str) -> None:
        source = check_one(text)
        sources.append(source)
        features.update(form for form in forms if form in source)

    run()
    for i, source in enumerate(sources):
        (tmp_path / f"g{i:04d}.py").write_text(source, encoding="utf-8")
    for args in (["check", "--no-cache"], ["format", "--check", "--diff", "--no-cache"]):
        done = subprocess.run(
            [sys.executable, "-m", "ruff", *args, "--config", str(PYPROJECT), str(tmp_path)],
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, done.stdout + done.stderr
    with capsys.disabled():
        print(
            f"\n[hypothesis] profile {PROFILE}: {len(sources)} random graph specs checked, "
            f"compiled, run and counted; code forms seen: {len(features)} of {len(forms)}"
            + (
                f" (not: {', '.join(sorted(set(forms) - features))})"
                if len(features) < len(forms)
                else ""
            )
        )
    assert len(sources) >= settings.get_profile(PROFILE).max_examples
    if CI:  # 200 derandomized examples write every form; 50 random may not
        assert features == set(forms), set(forms) - features
