"""The PyTorch backend for graph networks: every graph spec, compiled, built and run.

For each spec under specs/ and specs/zoo/ whose layout is "graph": the generated
source parses, is deterministic, ruff-clean and `ruff format`-stable; the model
builds and runs; every leaf module's real output shape (forward hooks) is the
IR's for the node with the same module path; the state_dict keys are exactly
the IR's module paths with torch's parameter and buffer names, in order; params
equal the IR's and MACs torchinfo's (whose count for a transposed convolution
differs by design). The zoo specs named like torchvision models match
tests/reference/torchvision_graphs.json (keys and shapes in order, params, MACs,
and the output fingerprint of tests/fingerprint.py). ResNet-18 goes through
torch.compile (fullgraph) and torch.export.
"""

from __future__ import annotations

import ast
import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torchinfo
import yaml
from fingerprint import WEIGHT_GAIN, compare, fixed_input, output, sample
from torchinfo_counts import torchinfo_macs

import cnnspec
from cnnspec.backends import torch as backend
from cnnspec.backends.torch.render import HELPERS as HELPER_TABLE
from cnnspec.diagnostics import SpecError

#: the classes and functions a generated module defines besides its own
HELPER_NAMES = {name for _, name, _ in HELPER_TABLE}
ROOT = Path(__file__).resolve().parents[3]
FIXTURE = ROOT / "tests" / "reference" / "torchvision_graphs.json"

ZOO_FIXTURE = ROOT / "tests" / "reference" / "torchvision_zoo.json"


def _recorded() -> set[str]:
    """The models the fixtures record; a zoo spec with one of these names is torchvision's
    model and must match its record."""
    names: set[str] = set()
    for path in (FIXTURE, ZOO_FIXTURE):
        names |= set(json.loads(path.read_text(encoding="utf-8"))["models"])
    return names


TORCHVISION_MODELS = _recorded()

#: torch's names for the state of each kind of module (besides its path)
STATE = {
    "conv": ("weight", "bias"),
    "deconv": ("weight", "bias"),
    "fc": ("weight", "bias"),
    "batchnorm": ("weight", "bias", "running_mean", "running_var", "num_batches_tracked"),
    "layernorm": ("weight", "bias"),
    "groupnorm": ("weight", "bias"),
}


def _is_graph(path: Path) -> bool:
    """Whether the spec is a graph; one that does not load counts when it looks like one,
    so that its failure shows here rather than the spec going untested."""
    try:
        return cnnspec.load(path.relative_to(ROOT)).layout == "graph"
    except Exception:  # its own tests show why
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        return isinstance(data, dict) and ("include" in data or "blocks" in data)


def _specs() -> list[Path]:
    paths = sorted((ROOT / "specs").glob("*.yaml")) + sorted(
        (ROOT / "specs" / "zoo").glob("*.yaml")
    )
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(ROOT)
        return [p for p in paths if _is_graph(p)]


GRAPHS = _specs()
IDS = [str(p.relative_to(ROOT / "specs").with_suffix("")) for p in GRAPHS]
ZOO = [p for p in GRAPHS if p.parent.name == "zoo" and p.stem in TORCHVISION_MODELS]


@pytest.fixture(autouse=True)
def _at_root(monkeypatch):
    monkeypatch.chdir(ROOT)  # headers name the spec relative to the working directory


def load(path: Path) -> cnnspec.Network:
    return cnnspec.load(path.relative_to(ROOT))


def expected_state(net: cnnspec.Network) -> list[str]:
    """The state_dict keys the IR implies: each module's path and torch's names, in order."""
    keys = []
    for node in net.layers:
        for name in STATE.get(node.kind, ()):
            if name == "bias" and node.kind in ("conv", "deconv", "fc") and not node.bias:
                continue
            keys.append(f"{node.path}.{name}")
    # torch lists a module's own parameters (a layer scale's) before its children's keys
    owned = [n.state for n in net.nodes if n.state is not None]
    for state in owned:
        holder = state.rpartition(".")[0]
        prefix = holder + "." if holder else ""
        mine = {k for k in owned if k.rpartition(".")[0] == holder}
        inside = [i for i, k in enumerate(keys) if k.startswith(prefix) and k not in mine]
        keys.insert(inside[0] if inside else len(keys), state)
    return keys


def leaf_paths(model: torch.nn.Module) -> list[str]:
    return [name for name, m in model.named_modules() if name and not list(m.children())]


# --------------------------------------------------------------------------- the source


def test_every_graph_spec_is_found():
    stems = {p.stem for p in GRAPHS}
    assert {"resnet18", "googlenet", "densenet121"} <= stems, stems


@pytest.mark.parametrize("path", GRAPHS, ids=IDS)
def test_source_is_deterministic_and_parses(path):
    net = load(path)
    source = cnnspec.torch_source(net)
    assert cnnspec.torch_source(load(path)) == source, "not deterministic"
    tree = ast.parse(source)
    classes = [
        s.name for s in tree.body if isinstance(s, ast.ClassDef) and s.name not in HELPER_NAMES
    ]
    assert classes == [c.name for c in net.classes] and classes[-1] == net.name
    too_long = [line for line in source.splitlines() if len(line) > 100]
    assert not too_long, too_long


def test_sources_pass_ruff(tmp_path):
    failed = []
    for path, ident in zip(GRAPHS, IDS):
        try:
            source = cnnspec.torch_source(load(path))
        except SpecError:
            failed.append(ident)  # its own test shows the diagnostics
            continue
        (tmp_path / f"{ident.replace('/', '_')}.py").write_text(source, encoding="utf-8")
    for args in (["check"], ["format", "--check", "--diff"]):
        done = subprocess.run(
            [sys.executable, "-m", "ruff", *args, "--no-cache", "--config", "pyproject.toml"]
            + [str(tmp_path)],
            capture_output=True,
            text=True,
            cwd=ROOT,
        )
        assert done.returncode == 0, done.stdout + done.stderr
    assert not failed, f"these specs do not load: {failed}"


def test_render_never_imports_torch():
    code = (
        "import sys, cnnspec\n"
        "for spec in ('zoo/resnet18', 'zoo/googlenet', 'zoo/densenet121'):\n"
        "    cnnspec.torch_source(cnnspec.load(f'specs/{spec}.yaml'))\n"
        "assert 'torch' not in sys.modules, 'torch was imported'\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_resnet18_reads_like_torchvision():
    source = cnnspec.torch_source(load(ROOT / "specs" / "zoo" / "resnet18.yaml"))
    block = source.split("class BasicBlock(nn.Module):", 1)[1].split("\nclass ", 1)[0]
    assert "    def __init__(self, in_maps: int, planes: int, stride: int = 1) -> None:" in block
    assert "        self.downsample: nn.Module | None = None\n" in block
    assert "        if stride != 1 or in_maps != planes:\n" in block
    forward = block.split("def forward(self, x: torch.Tensor) -> torch.Tensor:\n", 1)[1]
    assert forward.splitlines()[0] == "        out = self.conv1(x)  # -> planes×…"
    assert (
        "        downsample = x\n"
        "        if self.downsample is not None:\n"
        "            downsample = self.downsample(x)"
    ) in forward
    assert "        out = out + downsample  # -> planes×…\n" in forward
    assert forward.rstrip().endswith("return out")
    network = source.split("class ResNet18(nn.Module):", 1)[1]
    assert "        x = self.layer1(x)  # -> 64×56×56\n" in network
    assert "        x = torch.flatten(x, 1)  # -> 512\n" in network
    assert "OrderedDict" not in source


def test_inception_concatenates_named_branches():
    source = cnnspec.torch_source(load(ROOT / "specs" / "zoo" / "googlenet.yaml"))
    forward = source.split("class Inception(nn.Module):", 1)[1].split("def forward", 1)[1]
    for i in range(1, 5):
        assert f"        branch{i} = self.branch{i}(x)  # -> " in forward
    assert "torch.cat(\n            [branch1, branch2, branch3, branch4], 1\n        )" in forward


def test_named_containers_use_an_ordered_dict():
    source = cnnspec.torch_source(load(ROOT / "specs" / "zoo" / "densenet121.yaml"))
    assert "from collections import OrderedDict\n\nimport torch\n" in source
    assert '                    ("denselayer1", DenseLayer(64, 32)),\n' in source
    assert '("denseblock1", denseblock1),  # -> 256×56×56' in source


# --------------------------------------------------------------------------- the model


@pytest.fixture(scope="module", params=GRAPHS, ids=IDS)
def built(request):
    """(network, model, output shapes by module path, output), one forward pass each."""
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(ROOT)
        net = load(request.param)
    torch.manual_seed(0)
    model = cnnspec.build(net).eval()
    shapes: dict[str, list[tuple[int, ...]]] = {}

    def hook(path):
        return lambda m, i, o: shapes.setdefault(path, []).append(tuple(o.shape[1:]))

    training = {n.path for n in net.layers if net.training_only(n)}
    eval_paths = [p for p in leaf_paths(model) if p not in training]
    handles = [model.get_submodule(p).register_forward_hook(hook(p)) for p in eval_paths]
    with torch.no_grad():
        y = model(torch.randn(1, *net.input_shape))
    for handle in handles:
        handle.remove()
    if training:  # the training outputs run in training mode only (batch norm wants 2 images)
        handles = [model.get_submodule(p).register_forward_hook(hook(p)) for p in training]
        with torch.no_grad():
            model.train()(torch.randn(2, *net.input_shape))
        model.eval()
        for handle in handles:
            handle.remove()
    return net, model, shapes, y


def test_runs_to_the_declared_output(built):
    net, _, _, y = built
    if net.outputs:  # `outputs:`: a tuple or a dict of them, each its declared shape
        ys = list(y.values()) if net.outputs_dict else list(y)
        assert (list(y) if net.outputs_dict else len(y)) == (
            [o.key for o in net.outputs] if net.outputs_dict else len(net.outputs)
        )
    else:
        ys = [y]
    assert [tuple(t.shape) for t in ys] == [(1, *o.shape) for o in net.returned]
    assert all(torch.isfinite(t).all() for t in ys)


def test_every_leaf_module_has_the_predicted_shape(built):
    net, model, shapes, _ = built
    assert leaf_paths(model) == [n.path for n in net.layers]
    wrong = {
        n.path: (shapes.get(n.path), n.output_shape)
        for n in net.layers
        if shapes.get(n.path) != [n.output_shape]
    }
    assert not wrong, wrong


def test_state_dict_keys_are_the_module_paths(built):
    net, model, _, _ = built
    assert list(model.state_dict()) == expected_state(net)


def test_params_equal_the_ir(built):
    net, model, _, _ = built
    assert sum(p.numel() for p in model.parameters()) == net.params
    for node in net.layers:
        got = sum(p.numel() for p in model.get_submodule(node.path).parameters())
        assert got == node.params, node.path


def test_params_and_macs_equal_torchinfo(built):
    net, _, _, _ = built
    with torch.device("meta"):  # counts need shapes only
        model = cnnspec.build(net).eval()
        stats = torchinfo.summary(model, input_size=(1, *net.input_shape), device="meta", verbose=0)
    assert (stats.total_params, stats.total_mult_adds) == (net.params, torchinfo_macs(net))


# --------------------------------------------------------------------------- torchvision


def _torchvision(name: str) -> tuple[dict, list[int]]:
    """The fixtures' record of torchvision's ``name``, and the input shape it was made with."""
    for path in (FIXTURE, ZOO_FIXTURE):
        data = json.loads(path.read_text(encoding="utf-8"))
        if name in data["models"]:
            entry = data["models"][name]
            return entry, entry.get("input_shape", data.get("input_shape"))
    raise AssertionError(f"{name} is recorded in neither {FIXTURE.name} nor {ZOO_FIXTURE.name}")


@pytest.mark.parametrize("path", ZOO, ids=[p.stem for p in ZOO])
def test_zoo_graph_matches_torchvision(path):
    """Key for key, shape for shape, in order (so pretrained weights load strictly); the
    same counts; and the same function: torchvision's output for the fixed weights and
    input of tests/fingerprint.py, to rtol 1e-4."""
    net = load(path)
    expected, input_shape = _torchvision(path.stem)
    with torch.device("meta"):
        meta = cnnspec.build(net).eval()
        stats = torchinfo.summary(meta, input_size=(1, *net.input_shape), device="meta", verbose=0)
    got = [[key, list(t.shape)] for key, t in meta.state_dict().items()]
    assert got == expected["state_dict"]
    assert net.params == expected["params"]
    assert torchinfo_macs(net) == stats.total_mult_adds == expected["total_mult_adds"]
    gain = expected.get("weight_gain", WEIGHT_GAIN)  # see tests/fingerprint.py
    y = output(cnnspec.build(net), fixed_input(input_shape), gain)
    assert list(y.shape) == expected["output_shape"]
    problem = compare(sample(y), expected["fingerprint"], rtol=1e-4)
    assert problem is None, problem


# --------------------------------------------------------------------------- compilers


@pytest.fixture(scope="module")
def resnet18():
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(ROOT)
        net = load(ROOT / "specs" / "zoo" / "resnet18.yaml")
    torch.manual_seed(0)
    model = cnnspec.build(net).eval()
    x = torch.randn(1, 3, 64, 64)  # the adaptive pool takes any size; small keeps it quick
    with torch.no_grad():
        return model, x, model(x)


def test_resnet18_compiles_as_one_graph(resnet18):
    """fullgraph=True: dynamo captures forward without a break (the `is not None` tests of
    optional modules included). aot_eager, not inductor: inductor's C++ build of the
    kernels takes over a minute on a small CPU, and the capture is what the source decides."""
    import torch._dynamo

    model, x, expected = resnet18
    torch._dynamo.reset()
    compiled = torch.compile(model, fullgraph=True, backend="aot_eager")
    with torch.no_grad():
        got = compiled(x)
    torch.testing.assert_close(got, expected)


def test_resnet18_exports(resnet18):
    """torch.export, what deployment takes today (torch.jit.script works too, but torch 2.13
    deprecates it)."""
    model, x, expected = resnet18
    program = torch.export.export(model, (x,))
    with torch.no_grad():
        torch.testing.assert_close(program.module()(x), expected)


# --------------------------------------------------------------------------- optional children

STAGE = """\
name: Net
blocks:
  Stage:
    params:
      c: int
      bn: {type: bool, default: true}
    layers:
      - name: body
        type: sequential
        children: CHILDREN
        layers:
          - {name: conv, type: conv, maps: $c, kernel: 3, padding: 1}
          - {name: norm, type: batchnorm, if: $bn}
          - {name: act, type: relu}
input: {maps: 2, size: 4x4}
layers:
  - {name: stage, type: Stage, c: 3}
"""


@pytest.mark.parametrize("children", ["indexed", "named"])
def test_a_containers_optional_child_is_built_under_its_condition(children):
    """A child that exists `if:` a condition: the container is built from a list (or an
    OrderedDict) a child at a time. Every instance here has the batchnorm, so the IR drops
    the condition; it is put back by hand, as an instance without it would leave it."""
    net = cnnspec.loads(STAGE.replace("CHILDREN", children))
    stage = net.classes[0]
    body = stage.members[0]
    conv, norm, act = body.children
    body = dataclasses.replace(body, children=(conv, dataclasses.replace(norm, cond="bn"), act))
    stage = dataclasses.replace(stage, members=(body,))
    optional = dataclasses.replace(net, classes=(stage, *net.classes[1:]))
    source = cnnspec.torch_source(optional)
    if children == "indexed":
        assert "        body: list[nn.Module] = []\n        body.append(nn.Conv2d(" in source
        assert "  # -> c×H×W\n        if bn:\n" in source
        assert "            body.append(nn.BatchNorm2d(c))  # -> c×H×W\n" in source
        assert "        self.body = nn.Sequential(*body)  # -> c×H×W\n" in source
    else:
        assert "        body: OrderedDict[str, nn.Module] = OrderedDict()\n" in source
        assert '            body["norm"] = nn.BatchNorm2d(c)  # -> c×H×W\n' in source
        assert "        self.body = nn.Sequential(body)  # -> c×H×W\n" in source
    model = cnnspec.build(optional)
    assert list(model.state_dict()) == list(cnnspec.build(net).state_dict())
    assert list(model.state_dict()) == expected_state(net)
    without = type(model.stage)(2, 3, bn=False)
    assert [type(m).__name__ for m in without.body] == ["Conv2d", "ReLU"]
    x = torch.randn(1, 2, 4, 4)
    assert tuple(without(x).shape) == tuple(model(x).shape) == (1, 3, 4, 4)


# --------------------------------------------------------------------------- free text

NASTY_TITLES = [
    '"""; import os; os.system("x") #',
    'ends with a quote"',
    "ends with a backslash \\",
    "a\nnewline, a\ttab, a NUL\x00, bidi \u202eevil\u202c, ×, 합성곱 😀",
    "\\N{BULLET} \\x41 {braces} {{ jinja }} {% raw %} %s",
    "x" * 300,
    " ".join(["word"] * 60),
]


def test_block_titles_stay_inside_their_docstrings(tmp_path):
    for i, title in enumerate(NASTY_TITLES):
        spec = {
            "name": "Nasty",
            "blocks": {"B": {"title": title, "layers": [{"type": "relu"}]}},
            "input": {"maps": 1, "size": 2},
            "layers": [{"name": "b", "type": "B"}],
        }
        source = cnnspec.torch_source(cnnspec.loads(yaml.safe_dump(spec)))
        tree = ast.parse(source)
        assert [type(s).__name__ for s in tree.body] == [
            "Expr", "Import", "ImportFrom", "ClassDef", "ClassDef"
        ]  # fmt: skip
        doc = ast.get_docstring(tree.body[3], clean=True)
        assert "".join(doc.split()) == "".join(title.split()), (title, doc)
        assert not any(ch in source for ch in "\x00\r\x85\u2028\u202e\t")
        (tmp_path / f"nasty{i}.py").write_text(source, encoding="utf-8")
    for args in (["check"], ["format", "--check", "--diff"]):
        done = subprocess.run(
            [sys.executable, "-m", "ruff", *args, "--no-cache", "--config", "pyproject.toml"]
            + [str(tmp_path)],
            capture_output=True,
            text=True,
            cwd=ROOT,
        )
        assert done.returncode == 0, done.stdout + done.stderr


def test_code_from_the_ir_is_checked_before_it_is_written():
    """Expressions reach the source only as arithmetic over the class's arguments."""
    net = load(ROOT / "specs" / "zoo" / "resnet18.yaml")
    block = net.classes[0]
    for bad in ("__import__('os').system('x')", "planes); import os; (1", "open", "x.y"):
        for member in (
            dataclasses.replace(block.members[5], cond=bad),
            dataclasses.replace(block.members[0], node=dataclasses.replace(
                block.members[0].node, out_maps=type(block.members[0].node.out_maps)(bad)
            )),
        ):  # fmt: skip
            members = tuple(member if m.name == member.name else m for m in block.members)
            classes = (dataclasses.replace(block, members=members), *net.classes[1:])
            with pytest.raises(backend.RenderError):
                cnnspec.torch_source(dataclasses.replace(net, classes=classes))
    network = net.classes[-1]
    layer1 = dataclasses.replace(network.members[4], copies=((None, ("64", "64); (1")),))
    members = (*network.members[:4], layer1, *network.members[5:])
    classes = (*net.classes[:-1], dataclasses.replace(network, members=members))
    with pytest.raises(backend.RenderError):
        cnnspec.torch_source(dataclasses.replace(net, classes=classes))


# --------------------------------------------------------------------------- line wrapping


def test_line_wrapping_agrees_with_ruff_format(tmp_path):
    """The statements the backend lays out, at their limits, are what `ruff format` writes."""
    from cnnspec.backends.torch.linewrap import Call, condition_lines, lines

    a, b, c = "a" * 38, "b" * 38, "c" * 30
    block = Call("Block", ("in_maps", "planes * 4", "stride=stride", "groups=groups"))
    statements = [
        lines(Call("nn.Sequential", (block, block)), 8, f"self.{a} = ", "", "-> 64×56×56"),
        lines(Call("nn.Sequential", (block,) * 3, explode=True), 8, "self.layer = "),
        lines(Call("nn.Sequential", (Call("OrderedDict", (Call("", (
            Call("", ('"conv0"', Call("nn.Conv2d", ("3", "64", "kernel_size=7", "bias=False")))),
            Call("", (f'"{a}"', Call(b, (c, c, c)))),
        ), "[]", comments=("-> 64×112×112", "-> 1")),)),)), 8, "self.features = "),
        lines(Call("torch.cat", (Call("", (a, b, c), "[]"), "1")), 8, "out = ", "", "-> 1×2×3"),
        lines(Call("", (Call(b, (a, c)),), "[]"), 8, f"{c}: list[nn.Module] = "),
        lines(f"{a} + {b} + {c}", 8, "out = ", "", "-> (planes * 4)×H×W"),
        condition_lines("self.use_add = ", f"{a} == 1 or {b} == {c} and {c} + {a} != 5", 8, ""),
        [*condition_lines("if ", f"{a} != 1 or {b} // 3 != {c} * 4", 8), "            pass"],
        [*condition_lines("if ", f"stride != 1 or in_maps != {a}", 8), "            pass"],
    ]  # fmt: skip
    signature = lines(Call("def g", ("self", *(f"{n}: int = 1" for n in (a, b, c)))), 4, "", ":")
    source = "class A:\n    def f(self):\n" + "\n".join("\n".join(s) for s in statements)
    source += "\n\n" + "\n".join(signature) + "\n        pass\n"
    path = tmp_path / "laid_out.py"
    path.write_text(source, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "ruff", "format", "--diff", "--no-cache", "--config"]
        + [str(ROOT / "pyproject.toml"), str(path)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr
