"""Random valid specs, as YAML text, through the whole compiler and into PyTorch.

The generator writes specs the way a person would — every layer kind, non-square
inputs and kernels, strides, dilation, groups, ceil_mode, adaptive pools, spatial pyramids,
batchnorm before and after the flatten, dropout, every activation, both layouts,
padding written out, inferred from a declared size, or 'same' — and feeds the
text to ``cnnspec.loads``, so the real front end parses it. Each spec must
check, compile, import and run; every module's real output shape (forward
hooks) and parameter count must equal the checker's prediction, and the MACs
torchinfo's.

Profiles: ``ci`` (CI=true: 300 examples, derandomized) and ``dev`` (50).
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torchinfo
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cnnspec
from cnnspec.kinds import KINDS

TORCH_CLASS = {k: v.torch_class for k, v in KINDS.items() if v.rule and v.torch_class}
#: the segmentation kinds are drawn by no chain here: U-Net's and FCN's specs exercise them
#: against torch (tests/models/test_segmentation.py, tests/backends/torch/test_graph_torch.py:
#: real shapes, MACs)
#: kinds this chain generator does not draw: the transposed convolution and upsampling
#: (the U-Net specs and the graph tests cover them), and the modern rows whose tests are
#: tests/kinds/ and the random graph oracle (tests/graph_oracle.py), which draws them
NOT_DRAWN = ("deconv", "upsample", "layernorm", "groupnorm", "permute", "stochastic_depth")
CHAIN_CLASSES = {v for k, v in TORCH_CLASS.items() if k not in NOT_DRAWN}

settings.register_profile(
    "ci",
    max_examples=300,
    deadline=None,
    derandomize=True,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "dev", max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"
PROFILE = "ci" if os.environ.get("CI", "").lower() in ("1", "true", "yes") else "dev"

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
# user names, some of them the names the checker would give other rows (conv1,
# relu2), some of them awkward in the generated code (x, id, super; `input` is refused)
NAMES = ["conv1", "relu2", "fc1", "block_a", "head", "x", "id", "super", "Layer9", "n_0"]
TITLES = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40
) | st.sampled_from(
    [
        '"""; import os; os.system("x") #',
        "ends with a backslash \\",
        'ends with a quote"',
        "tab\there, newline\nthere, CR\r, NEL\x85, LS\u2028",
        "bidi \u202eevil\u202c and NBSP\xa0 and ×, 합성곱 신경망 CNN",
        "x" * 150,
        " ".join(["word"] * 40),
    ]
)


def pair(draw, a: int, b: int):
    """Write an (a, b) pair the ways the spec format allows."""
    if a == b:
        return draw(st.sampled_from([a, f"{a}x{b}", [a, b]]))
    return draw(st.sampled_from([f"{a}x{b}", f"{a}×{b}", [a, b]]))


def out_size(w: int, k: int, s: int, p: int, d: int = 1, ceil: bool = False) -> int:
    span = w + 2 * p - d * (k - 1) - 1
    if not ceil:
        return span // s + 1
    out = -(-span // s) + 1
    if (out - 1) * s >= w + p:
        out -= 1
    return out


def divisors(n: int) -> list[int]:
    return [g for g in range(1, n + 1) if n % g == 0]


@st.composite
def conv_row(draw, shape):
    c, h, w = shape
    groups = draw(st.sampled_from(divisors(c)))
    maps = groups * draw(st.integers(1, 3))
    row: dict = {"type": "conv", "maps": maps}
    if groups > 1:
        row["groups"] = groups
    ks = [draw(st.integers(1, 3)), draw(st.integers(1, 3))]
    ss = [draw(st.integers(1, 2)), draw(st.integers(1, 2))]
    ds = [draw(st.integers(1, 2)), draw(st.integers(1, 2))]
    mode = draw(st.sampled_from(["none", "explicit", "declared", "same"]))
    if mode == "same" and (ss != [1, 1] or any(d * (k - 1) % 2 for k, d in zip(ks, ds))):
        mode = "explicit"
    if mode == "same":
        ps = [d * (k - 1) // 2 for k, d in zip(ks, ds)]
    elif mode in ("explicit", "declared"):
        ps = [
            draw(st.integers(0, d * (k - 1) if mode == "declared" else 2)) for k, d in zip(ks, ds)
        ]
    else:
        ps = [0, 0]
    for i, n in enumerate((h, w)):
        if ds[i] * (ks[i] - 1) + 1 > n + 2 * ps[i]:  # the kernel would overhang: shrink it
            ks[i], ds[i] = 1, 1
            if mode == "declared":
                ps[i] = 0
    out = [out_size(n, k, s, p, d) for n, k, s, p, d in zip((h, w), ks, ss, ps, ds)]
    row["kernel"] = pair(draw, *ks)
    if ss != [1, 1] or draw(st.booleans()):
        row["stride"] = pair(draw, *ss)
    if ds != [1, 1]:
        row["dilation"] = pair(draw, *ds)
    if mode == "same":
        row["padding"] = "same"
    elif mode == "explicit":
        row["padding"] = pair(draw, *ps)
    if mode == "declared" or draw(st.booleans()):
        row["size"] = pair(draw, *out)
    if draw(st.booleans()):
        row["bias"] = False
    act = draw(st.sampled_from([None, "none", *ACTIVATIONS, "ReLU"]))
    if act:
        row["activation"] = act
    same = mode == "same" and c == maps
    return row, (maps, *out), same


@st.composite
def pool_row(draw, shape):
    c, h, w = shape
    kind = draw(st.sampled_from(["maxpool", "avgpool"]))
    ks = [draw(st.integers(1, 3)), draw(st.integers(1, 3))]
    ps = [draw(st.integers(0, k // 2)) for k in ks]
    explicit_stride = draw(st.booleans())
    ss = [draw(st.integers(1, 3)), draw(st.integers(1, 3))] if explicit_stride else list(ks)
    for i, n in enumerate((h, w)):
        if ks[i] > n + 2 * ps[i]:
            ks[i], ps[i] = 1, 0
            if not explicit_stride:
                ss[i] = 1
    ceil = draw(st.booleans())
    out = [out_size(n, k, s, p, 1, ceil) for n, k, s, p in zip((h, w), ks, ss, ps)]
    row: dict = {"type": kind, "kernel": pair(draw, *ks)}
    if explicit_stride:
        row["stride"] = pair(draw, *ss)
    if ps != [0, 0]:
        row["padding"] = pair(draw, *ps)
    if ceil:
        row["ceil_mode"] = True
    if draw(st.booleans()):
        row["size"] = pair(draw, *out)
    if draw(st.booleans()):
        row["maps"] = c
    return row, (c, *out)


@st.composite
def specs(draw):
    """A valid spec as YAML text, and what the generator knows about it."""
    c = draw(st.integers(1, 4))
    h, w = draw(st.integers(1, 9)), draw(st.integers(1, 9))
    shape: tuple[int, ...] = (c, h, w)
    names = iter(draw(st.permutations(NAMES)))
    layers: list[dict] = []

    def name(row: dict) -> dict:
        if draw(st.integers(0, 4)) == 0:
            row["name"] = next(names)
        return row

    for _ in range(draw(st.integers(0, 5))):
        kind = draw(
            st.sampled_from(
                ["conv", "conv", "pool", "adaptive", "batchnorm", "lrn", "dropout", "act"]
            )
        )
        if kind == "conv":
            row, shape, same = draw(conv_row(shape))
            if same and draw(st.booleans()):
                row["repeat"] = 2
        elif kind == "pool":
            row, shape = draw(pool_row(shape))
        elif kind == "adaptive":
            target = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
            kind = draw(st.sampled_from(["adaptive_avgpool", "adaptive_maxpool"]))
            row = {"type": kind, "size": pair(draw, *target)}
            shape = (shape[0], *target)
        elif kind == "batchnorm":
            row = {"type": "batchnorm"}
            if draw(st.booleans()):
                row["maps"] = shape[0]
        elif kind == "lrn":
            row = {"type": "lrn"}
            if draw(st.booleans()):
                row["n"] = draw(st.integers(1, 6))
        elif kind == "dropout":
            row = {"type": "dropout"}
            if draw(st.booleans()):
                row["p"] = draw(st.sampled_from([0.0, 0.1, 0.25, 0.5, 0.9, 1e-05]))
        else:
            row = {"type": draw(st.sampled_from(ACTIVATIONS))}
            if draw(st.booleans()):
                row["repeat"] = draw(st.integers(1, 2))
        layers.append(name(row))

    flatten = draw(st.sampled_from(["fc", "explicit", "none", "spp"]))
    if flatten == "explicit":
        layers.append(name({"type": "flatten"}))
    elif flatten == "spp":  # a spatial pyramid ends the features (its levels fit H×W)
        levels = draw(st.lists(st.integers(1, min(shape[1:])), min_size=1, max_size=3))
        row = {"type": "spp", "levels": levels}
        if draw(st.booleans()):
            row["pool"] = draw(st.sampled_from(["max", "avg"]))
        if draw(st.booleans()):
            row["size"] = shape[0] * sum(n * n for n in levels)
        layers.append(name(row))
    if flatten != "none":
        for _ in range(draw(st.integers(1 if flatten == "fc" else 0, 4))):
            kind = draw(st.sampled_from(["fc", "fc", "batchnorm", "dropout", "act"]))
            if flatten == "fc" and not any(r["type"] == "fc" for r in layers):
                kind = "fc"
            if kind == "fc":
                row = {"type": "fc", "size": draw(st.integers(1, 6))}
                if draw(st.booleans()):
                    row["bias"] = False
                act = draw(st.sampled_from([None, "none", *ACTIVATIONS]))
                if act:
                    row["activation"] = act
            elif kind == "batchnorm":
                row = {"type": "batchnorm"}
            elif kind == "dropout":
                row = {"type": "dropout", "p": 0.5}
            else:
                row = {"type": draw(st.sampled_from(ACTIVATIONS))}
            layers.append(name(row))
    if not layers or all(r["type"] == "flatten" for r in layers):
        layers.append({"type": "relu"})
    last = layers[-1]
    if last["type"] == "fc" and draw(st.booleans()):
        grid = draw(st.permutations([last["size"], 1, 1]))  # the fc read as maps×H×W
        layers.append(name({"type": "reshape", "shape": grid}))
    if draw(st.booleans()):  # softmax over dim=1, as the last layer
        last = layers[-1]
        if last["type"] in ("conv", "fc") and "activation" not in last and draw(st.booleans()):
            last["activation"] = "softmax"
        else:
            layers.append(name({"type": "softmax"}))

    spec: dict = {"name": draw(st.sampled_from(["Net", "T", "Model_1", "x", "input"]))}
    if draw(st.booleans()):
        spec["title"] = draw(TITLES)
    layout = draw(st.sampled_from([None, "sequential", "flat"]))
    if layout:
        spec["layout"] = layout
    spec["input"] = {"maps": c, "size": pair(draw, h, w)}
    spec["layers"] = layers
    return yaml.safe_dump(spec, sort_keys=False, allow_unicode=draw(st.booleans()))


def leaf_modules(model: torch.nn.Module) -> list[torch.nn.Module]:
    return [m for m in model.modules() if not list(m.children())]


def check_one(text: str) -> str:
    """Everything one spec must satisfy; returns its generated source."""
    net = cnnspec.loads(text)
    source = cnnspec.torch_source(net)
    assert cnnspec.torch_source(net) == source, "not deterministic"
    too_long = [line for line in source.splitlines() if len(line) > 100]
    assert not too_long, too_long

    model = cnnspec.build(net).eval()
    leaves = leaf_modules(model)
    assert [type(m).__name__ for m in leaves] == [n.torch_class for n in net.layers]
    if net.layout == "flat":
        assert [name for name, _ in model.named_children()] == [n.name for n in net.layers]

    shapes: list[tuple[int, ...]] = []
    hooks = [m.register_forward_hook(lambda m, i, o: shapes.append(tuple(o.shape))) for m in leaves]
    with torch.no_grad():
        y = model(torch.randn(2, *net.input_shape))
    for hook in hooks:
        hook.remove()
    assert shapes == [(2, *n.output_shape) for n in net.layers]
    assert tuple(y.shape) == (2, *net.output_shape)

    for module, node in zip(leaves, net.layers):
        assert sum(p.numel() for p in module.parameters()) == node.params, node.name
    assert sum(p.numel() for p in model.parameters()) == net.params

    stats = torchinfo.summary(model, input_size=(1, *net.input_shape), verbose=0)
    assert stats.total_params == net.params
    assert stats.total_mult_adds == net.macs
    assert math.prod(net.output_shape) == y[0].numel()
    return source


def test_random_specs_compile_run_and_match(tmp_path, capsys):
    sources: list[str] = []
    classes: set[str] = set()

    @settings(settings.get_profile(PROFILE))
    @given(specs())
    def run(text: str) -> None:
        source = check_one(text)
        sources.append(source)
        classes.update(n.torch_class for n in cnnspec.loads(text).layers)

    run()
    # the generated files are ruff-clean and formatted (one ruff run for all of them)
    for i, source in enumerate(sources):
        (tmp_path / f"m{i:04d}.py").write_text(source, encoding="utf-8")
    for args in (["check", "--no-cache"], ["format", "--check", "--no-cache"]):
        done = subprocess.run(
            [sys.executable, "-m", "ruff", *args, "--config", str(PYPROJECT), str(tmp_path)],
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, done.stdout + done.stderr
    missing = (CHAIN_CLASSES | {"BatchNorm1d"}) - classes
    with capsys.disabled():
        print(
            f"\n[hypothesis] profile {PROFILE}: {len(sources)} random specs checked, compiled, "
            f"run and counted; modules covered: {len(classes)}"
            + (f" (not this time: {', '.join(sorted(missing))})" if missing else "")
        )
    assert len(sources) >= settings.get_profile(PROFILE).max_examples
    if PROFILE == "ci":  # 300 derandomized examples cover every module; 50 random may not
        assert not missing, missing


@pytest.mark.parametrize(
    "text",
    [
        # the smallest of each layout, and a spec that is nothing but a flatten and an fc
        "name: A\ninput: {maps: 1, size: 1x1}\nlayers:\n  - {type: relu}\n",
        "name: A\nlayout: flat\ninput: {maps: 2, size: 3x1}\nlayers:\n  - {type: flatten}\n"
        "  - {type: dropout}\n",
        "name: A\ninput: {maps: 2, size: 3x1}\nlayers:\n  - {type: fc, size: 1}\n",
        # every layer kind once
        """\
name: Every
input: {maps: 2, size: 7x5}
layers:
  - {type: conv, maps: 4, kernel: 3x2, stride: [2, 1], dilation: [1, 2], groups: 2}
  - {type: batchnorm}
  - {type: leaky_relu}
  - {type: maxpool, kernel: 2, stride: 1, padding: 1, ceil_mode: true}
  - {type: avgpool, kernel: 2, size: 2x3, ceil_mode: true}
  - {type: adaptive_maxpool, size: 3x2}
  - {type: adaptive_avgpool, size: 2}
  - {type: sigmoid}
  - {type: fc, size: 3, activation: tanh}
  - {type: batchnorm}
  - {type: dropout, p: 0.25}
  - {type: relu}
  - {type: fc, size: 2, activation: softmax}
""",
    ],
)
def test_edge_specs(text):
    check_one(text)
