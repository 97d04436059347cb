"""The PyTorch backend: what the generated module file looks like, and that it is safe.

Generated files are deterministic, ruff-clean and formatted, carry the header,
a docstring with the title and the layer table, and a shape comment on every
layer line; free text reaches them only inside escaped literals; the compile
path never imports torch; torchvision's state_dict keys come out where the
product promises them.
"""

from __future__ import annotations

import ast
import dataclasses
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import yaml
from reference.lenet_code611 import BOOK_PRINTOUT
from zoo_expected import ZOO_TORCHVISION

import cnnspec
from cnnspec.backends import format as fmt
from cnnspec.backends import torch as backend
from cnnspec.backends.torch import render
from cnnspec.backends.torch.linewrap import LINE_LENGTH
from cnnspec.cli import main
from cnnspec.kinds import KINDS

TORCH_CLASS = {k: v.torch_class for k, v in KINDS.items() if v.rule and v.torch_class}

ROOT = Path(__file__).resolve().parents[3]
ALL_SPECS = sorted((ROOT / "specs").glob("*.yaml"))
ALL_SPECS += sorted((ROOT / "specs" / "zoo").glob("*.yaml"))


def _is_chain(path: Path) -> bool:
    """A chain spec (layout sequential or flat); graph specs are test_graph_torch.py's.
    One that does not load counts when it looks like a chain (no blocks, no include)."""
    try:
        return cnnspec.load(path).layout != "graph"
    except Exception:  # its own tests show why
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        return not (isinstance(data, dict) and {"include", "blocks"} & set(data))


SPECS = [p for p in ALL_SPECS if _is_chain(p)]
SPEC_IDS = [p.stem for p in SPECS]
PYPROJECT = ROOT / "pyproject.toml"
FIXTURE = ROOT / "tests" / "reference" / "torchvision_state_dicts.json"


NASTY_TITLES = [
    '"""; import os; os.system("x") #',
    "'''; import os #",
    '"quoted" at the start, \\" and \\\\ and \\n written out',
    "ends with a backslash \\",
    'ends with a quote"',
    "a\nnewline, a\rreturn, a\ttab, a NUL\x00, NEL\x85 and LS\u2028",
    "bidi \u202eevil\u202c, NBSP\xa0, ×, 합성곱 신경망 (Korean), 😀",
    "\\N{BULLET} \\x41 {braces} {{ jinja }} {% raw %} %s",
    "x" * 300,
    " ".join(["word"] * 80),
]

# rows that make every long-line path fire: 40-character names (+ a repeat
# suffix), huge maps and sizes, non-square everything, a flat layout
WIDE_SPEC = f"""\
name: {"W" * 40}
title: {"t" * 120}
layout: flat
input: {{maps: 1000000, size: 99999x99998}}
layers:
  - name: {"c" * 40}
    type: conv
    maps: 1000000
    kernel: 3x5
    stride: 2x1
    padding: 1x2
    dilation: 2x1
    groups: 100000
    bias: false
    activation: leaky_relu
    repeat: 12
  - {{name: {"p" * 40}, type: maxpool, kernel: 3x2, stride: 1x2, padding: 1x1, ceil_mode: true}}
  - {{name: {"a" * 40}, type: adaptive_avgpool, size: 99999x99998}}
  - {{name: {"b" * 40}, type: batchnorm}}
  - {{name: {"f" * 40}, type: fc, size: 100000, bias: false}}
  - {{name: {"d" * 40}, type: dropout, p: 0.000001}}
"""


def titled(title: str) -> cnnspec.Network:
    spec = {"name": "Nasty", "title": title, "input": {"maps": 1, "size": 2}}
    return cnnspec.loads(yaml.safe_dump({**spec, "layers": [{"type": "relu"}]}))


def load(stem_or_path) -> cnnspec.Network:
    return cnnspec.load(stem_or_path)


@pytest.fixture(autouse=True)
def _in_repo_root(monkeypatch):
    # spec paths show relative to the working directory, as a user types them
    monkeypatch.chdir(ROOT)


@pytest.fixture(scope="module")
def sources() -> dict[str, str]:
    """Every shipped spec's generated source, keyed by file stem."""
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(ROOT)
        return {p.stem: cnnspec.torch_source(load(p.relative_to(ROOT))) for p in SPECS}


def init_lines(source: str) -> list[str]:
    """The network class's ``__init__`` (the module's last class; helper classes such as
    an spp row's PyramidPool2d come before it)."""
    body = source.rsplit("\nclass ", 1)[1].split("def __init__", 1)[1].split("def forward", 1)[0]
    return body.splitlines()


def ruff(*args: str, path: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "ruff",
            *args,
            "--no-cache",
            "--config",
            str(ROOT / "pyproject.toml"),
        ]
        + [str(path)],
        capture_output=True,
        text=True,
    )


# --------------------------------------------------------------------------- the file


@pytest.mark.parametrize("path", SPECS, ids=SPEC_IDS)
def test_output_is_byte_identical_on_every_run(path, sources):
    rel = path.relative_to(ROOT)
    assert cnnspec.torch_source(load(rel)) == sources[path.stem]
    assert cnnspec.torch_source(load(rel)) == cnnspec.torch_source(load(rel))


def test_header_names_the_spec_without_a_timestamp(sources):
    for path in SPECS:
        rel = path.relative_to(ROOT).as_posix()
        first = sources[path.stem].splitlines()[0]
        assert first == f"# Generated by cnnspec from {rel}. Do not edit."
    # an absolute path is cut to its file name: no machine's layout in the output
    absolute = cnnspec.torch_source(load(ROOT / "specs" / "lenet5.yaml"))
    net = load("specs/lenet5.yaml")
    if not Path(net.source).is_absolute():  # the working directory is the repository
        assert absolute == cnnspec.torch_source(net)


def test_docstring_holds_the_title_and_the_layer_table(sources):
    net = load("specs/vgg16.yaml")
    doc = ast.get_docstring(ast.parse(sources["vgg16"]), clean=False)
    assert doc.startswith("VGG16 (Figure 6-13)\n")
    assert "138,357,544 parameters, 15,483,821,032 multiply-accumulates" in doc
    table = [line.split() for line in doc.splitlines() if re.match(r"\s*\d+  ", line)]
    assert [row[1] for row in table] == [n.name for n in net.layers]
    assert [row[2] for row in table] == [n.torch_class for n in net.layers]
    assert [row[3] for row in table] == [fmt.shape(n.output_shape) for n in net.layers]
    assert [row[-1] for row in table] == [fmt.count(n.params) for n in net.layers]


@pytest.mark.parametrize("path", SPECS, ids=SPEC_IDS)
def test_every_layer_line_carries_its_shape(path, sources):
    net = load(path.relative_to(ROOT))
    lines = [line for line in init_lines(sources[path.stem]) if "nn." in line or "  # -> " in line]
    layers = [line for line in lines if "nn.Sequential(" not in line]
    assert len(layers) == len(net.layers)
    for line, node in zip(layers, net.layers):
        assert line.endswith(f"  # -> {fmt.shape(node.output_shape)}"), line
        # torch's own modules, or a helper class the generated module defines
        assert re.search(rf"(?<![\w.])(nn\.)?{node.torch_class}\(", line), line


def test_generated_files_are_ruff_clean_and_formatted(sources, tmp_path):
    files = dict(sources)
    for i, title in enumerate(NASTY_TITLES):
        files[f"nasty{i}"] = cnnspec.torch_source(titled(title))
    files["wide"] = cnnspec.torch_source(cnnspec.loads(WIDE_SPEC))
    for stem, source in files.items():
        (tmp_path / f"{stem}.py").write_text(source, encoding="utf-8")
        too_long = [line for line in source.splitlines() if len(line) > LINE_LENGTH]
        assert not too_long, (stem, too_long)
    for args in (["check"], ["format", "--check", "--diff"]):
        done = ruff(*args, path=tmp_path)
        assert done.returncode == 0, done.stdout + done.stderr


def test_square_pairs_are_ints_and_others_tuples():
    source = cnnspec.torch_source(cnnspec.loads(WIDE_SPEC))
    conv = """\
        self.cccccccccccccccccccccccccccccccccccccccc_1 = nn.Conv2d(
            1000000,
            1000000,
            kernel_size=(3, 5),
            stride=(2, 1),
            padding=(1, 2),
            dilation=(2, 1),
            groups=100000,
            bias=False,
        )  # -> 1000000×49999×99998
"""
    assert conv in source
    calls = {ast.unparse(c) for c in ast.walk(ast.parse(source)) if isinstance(c, ast.Call)}
    for call in (
        "nn.MaxPool2d(kernel_size=(3, 2), stride=(1, 2), padding=1, ceil_mode=True)",
        "nn.AdaptiveAvgPool2d((99999, 99998))",
        "nn.BatchNorm2d(1000000)",
        "nn.Linear(9999700002000000, 100000, bias=False)",
        "nn.Dropout(p=1e-06)",
        "nn.LeakyReLU()",
    ):
        assert call in calls, call
    vgg = cnnspec.torch_source(load("specs/vgg16.yaml"))
    assert "nn.Conv2d(3, 64, kernel_size=3, padding=1),  # -> 64×224×224" in vgg
    assert "nn.MaxPool2d(kernel_size=2, stride=2),  # -> 64×112×112" in vgg
    assert "nn.Dropout(p=0.5)," in vgg and "nn.Softmax(dim=1)," in vgg
    assert "nn.ReLU()," in vgg and "inplace" not in vgg


# --------------------------------------------------------------------------- safety


@pytest.mark.parametrize("title", NASTY_TITLES, ids=range(len(NASTY_TITLES)))
def test_free_text_stays_inside_its_literal(title):
    net = titled(title)
    source = cnnspec.torch_source(net)
    tree = ast.parse(source)
    assert [type(s).__name__ for s in tree.body] == ["Expr", "Import", "ImportFrom", "ClassDef"]
    assert [type(s).__name__ for s in tree.body[3].body] == ["FunctionDef", "FunctionDef"]
    doc = ast.get_docstring(tree, clean=False)
    # the title comes back character for character; only whitespace may differ,
    # where a long title is filled into lines
    shown = doc.rsplit("\n\nNasty: input", 1)[0]
    assert "".join(shown.split()) == "".join(title.split())
    assert not any(ch in source for ch in "\x00\r\x85\u2028\u202e\xa0\t")


def test_names_are_checked_again_before_they_become_code():
    net = load("specs/lenet5.yaml")
    for bad in ("os.system", "a b", "class", "é"):
        with pytest.raises(backend.RenderError):
            cnnspec.torch_source(dataclasses.replace(net, name=bad))
    node = dataclasses.replace(net.layers[0], name="x = 1; import os #")
    with pytest.raises(backend.RenderError):
        cnnspec.torch_source(dataclasses.replace(net, nodes=(node, *net.layers[1:])))


def test_source_is_parsed_before_it_is_returned():
    net = load("specs/lenet5.yaml")
    with pytest.raises(backend.RenderError, match="does not parse"):
        render._self_check(net, "class LeNet5(:\n", "")
    with pytest.raises(backend.RenderError, match="unexpected statements"):
        render._self_check(net, '"""d\n"""\nimport os\n', "d\n")


def test_render_never_imports_torch():
    code = (
        "import sys, cnnspec\n"
        "for stem in ('lenet5', 'vgg16', 'lenet_code611'):\n"
        "    cnnspec.torch_source(cnnspec.load(f'specs/{stem}.yaml'))\n"
        "assert 'torch' not in sys.modules, 'torch was imported'\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_templates_are_strict_and_one_macro_per_layer_kind():
    env = backend.environment()
    assert env.undefined.__name__ == "StrictUndefined"
    macros = env.get_template("_layers.jinja").module
    for kind in TORCH_CLASS:
        assert callable(getattr(macros, kind)), kind
    assert backend.TEMPLATE == "model.py.jinja"


def test_templates_do_no_arithmetic():
    templates = sorted((ROOT / "cnnspec" / "templates").glob("*.jinja"))
    assert {p.name for p in templates} >= {"_layers.jinja", "model.py.jinja", "graph.py.jinja"}
    for path in templates:
        text = re.sub(r"\{#.*?#\}", "", path.read_text(encoding="utf-8"), flags=re.S)
        for tag in re.findall(r"\{[{%]-?(.*?)-?[}%]\}", text, flags=re.S):
            assert not re.search(r"\s[-+*/%]\s|\*\*|//", tag), f"{path.name}: {{{tag}}}"


# --------------------------------------------------------------------------- layouts


def test_lenet_code611_prints_like_the_book():
    assert str(cnnspec.build(load("specs/lenet_code611.yaml"))) == BOOK_PRINTOUT


def _torchvision(name: str) -> dict:
    return json.loads(FIXTURE.read_text(encoding="utf-8"))["models"][name]


@pytest.mark.parametrize(
    ("spec", "tv_name"),
    [("specs/vgg16.yaml", "vgg16")]
    + [(f"specs/zoo/{stem}.yaml", tv) for stem, tv in sorted(ZOO_TORCHVISION.items())],
)
def test_state_dict_matches_torchvision(spec, tv_name):
    with torch.device("meta"):  # shapes only: no 500 MB of random weights
        model = cnnspec.build(load(spec))
    got = [[key, list(t.shape)] for key, t in model.state_dict().items()]
    assert got == _torchvision(tv_name)["state_dict"]


def test_vgg16_loads_torchvision_weights_strictly():
    with torch.device("meta"):
        model = cnnspec.build(load("specs/vgg16.yaml"))
    weights = {key: torch.empty(shape) for key, shape in _torchvision("vgg16")["state_dict"]}
    model.load_state_dict(weights, strict=True, assign=True)


def layers(*rows: str, layout: str = "sequential", size: str = "4x6") -> cnnspec.Network:
    body = "".join(f"  - {row}\n" for row in rows)
    return cnnspec.loads(
        f"name: M\nlayout: {layout}\ninput: {{maps: 2, size: {size}}}\nlayers:\n{body}"
    )


def test_sequential_omits_empty_sections():
    conv_only = cnnspec.torch_source(layers("{type: conv, maps: 3, kernel: 3, padding: same}"))
    assert "self.features" in conv_only and "classifier" not in conv_only
    assert "torch.flatten" not in conv_only
    fc_only = cnnspec.torch_source(layers("{type: fc, size: 5}"))
    assert "self.features" not in fc_only and "self.classifier" in fc_only
    assert "        x = torch.flatten(x, 1)  # -> 48\n        x = self.classifier(x)" in fc_only
    flatten_last = layers("{type: relu}", "{type: flatten}")
    source = cnnspec.torch_source(flatten_last)
    assert "classifier" not in source
    assert "x = self.features(x)  # -> 2×4×6\n        x = torch.flatten(x, 1)  # -> 48\n" in source
    assert tuple(cnnspec.build(flatten_last)(torch.randn(3, 2, 4, 6)).shape) == (3, 48)


def test_flatten_row_lets_dropout_open_the_classifier():
    net = load("specs/zoo/alexnet_torchvision.yaml")
    model = cnnspec.build(net)
    assert type(model.classifier[0]).__name__ == "Dropout"
    assert type(model.features[-1]).__name__ == "AdaptiveAvgPool2d"
    assert "nn.AdaptiveAvgPool2d(6),  # -> 256×6×6" in cnnspec.torch_source(net)


def test_flat_layout_names_attributes_and_flattens_where_the_network_says():
    net = layers(
        "{name: x, type: conv, maps: 4, kernel: 2x3, stride: [1, 2]}",
        "{type: batchnorm}",
        "{name: inputs, type: flatten}",
        "{type: fc, size: 3, activation: tanh}",
        "{type: batchnorm}",
        layout="flat",
    )
    source = cnnspec.torch_source(net)
    assert "self.x = nn.Conv2d(2, 4, kernel_size=(2, 3), stride=(1, 2))  # -> 4×3×2\n" in source
    assert "self.batchnorm2 = nn.BatchNorm1d(3)  # -> 3\n" in source
    forward = source.split("def forward", 1)[1]
    assert forward.index("self.batchnorm1(x)") < forward.index("torch.flatten(x, 1)  # -> 24")
    assert forward.index("torch.flatten") < forward.index("self.fc1(x)")
    model = cnnspec.build(net).eval()
    assert [name for name, _ in model.named_children()] == [n.name for n in net.layers]
    assert tuple(model(torch.randn(2, 2, 4, 6)).shape) == (2, 3)


def test_build_execs_the_same_source_under_a_cnnspec_filename():
    net = load("specs/lenet5.yaml")
    model = cnnspec.build(net)
    assert type(model).__name__ == "LeNet5"
    code = type(model).forward.__code__
    assert code.co_filename == "<cnnspec:LeNet5>"
    import linecache

    assert "".join(linecache.getlines(code.co_filename)) == cnnspec.torch_source(net)


# --------------------------------------------------------------------------- the command


def test_compile_writes_the_module_and_check_finds_drift(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["compile", "specs/lenet5.yaml", "specs/vgg16.yaml", "-o", str(out)]) == 0
    for stem in ("lenet5", "vgg16"):
        written = (out / f"{stem}.py").read_text(encoding="utf-8")
        assert written == cnnspec.torch_source(load(f"specs/{stem}.yaml"))
    assert main(["compile", "specs/lenet5.yaml", "-o", str(out), "--check"]) == 0
    (out / "lenet5.py").write_text("# edited\n", encoding="utf-8")
    assert main(["compile", "specs/lenet5.yaml", "-o", str(out), "--check"]) == 1
    assert "would change" in capsys.readouterr().out
    assert (out / "lenet5.py").read_text(encoding="utf-8") == "# edited\n"


def test_reserved_names_cover_every_nn_module_attribute():
    """A flat model's attribute must not shadow nn.Module's own members."""
    import torch

    from cnnspec.spec.values import RESERVED_NAMES

    public = {n for n in dir(torch.nn.Module) if not n.startswith("_")}
    assert public <= RESERVED_NAMES, sorted(public - RESERVED_NAMES)
    assert "training" in RESERVED_NAMES  # an instance attribute, not in dir(nn.Module)
