"""Summaries of graph networks (DESIGN: "The JSON summary and the API for graphs").

The text summary of a graph spec is its module tree, as torchinfo prints it: one row
per module, indented by nesting, each block instance and container a row of its own
with its params and MACs subtotals; ``--depth N`` folds everything below N levels into
the block's row. Markdown keeps the book's table form, one line per row the network
writes. JSON entries carry ``path``, ``inputs``, ``depth`` (and, for graphs, ``id``,
``scope`` and a ``groups`` list). Chain specs' summaries stay byte for byte what they
were.

The subtotals are cross-checked against a model built by ``cnnspec.build`` (on torch's
meta device: no memory for weights), module by module.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

import cnnspec
from cnnspec.backends import summary
from cnnspec.cli import main
from cnnspec.kinds import OPERATIONS

ROOT = Path(__file__).resolve().parents[3]
RESNET18 = "specs/zoo/resnet18.yaml"

#: a small graph: a block with an `if:` row (present in some instances only), a
#: repeated block with `first:`, branches and a concat at the top, a named container,
#: an implicit flatten before the fc
SMALL = """\
name: Small
input: {maps: 3, size: 16x16}
blocks:
  Res:
    params:
      planes: int
      stride: {type: int, default: 1}
    layers:
      - {name: conv1, type: conv, maps: $planes, kernel: 3, stride: $stride, padding: 1,
         activation: relu}
      - {name: conv2, type: conv, maps: $planes, kernel: 3, padding: 1}
      - name: down
        type: sequential
        from: input
        if: $stride != 1 or in_maps != $planes
        layers:
          - {type: conv, maps: $planes, kernel: 1, stride: $stride}
          - {type: batchnorm}
      - {name: add, type: add, from: [conv2, down]}
      - {name: relu, type: relu}
layers:
  - {name: stem, type: conv, maps: 8, kernel: 3, padding: 1, activation: relu}
  - {name: a, type: Res, planes: 8}
  - {name: b, type: Res, planes: 16, repeat: 2, first: {stride: 2}}
  - {name: left, type: conv, maps: 4, kernel: 1, from: b}
  - {name: right, type: conv, maps: 4, kernel: 1, from: b}
  - {name: cat, type: concat, from: [left, right]}
  - name: head
    type: sequential
    children: named
    layers:
      - {name: pool, type: adaptive_avgpool, size: 1}
  - {name: fc, type: fc, size: 10}
"""

#: blocks inside blocks, `names:` on a repeat, an indexed container of blocks written
#: by hand, an explicit flatten row and a top-level add
NESTED = """\
name: Nested
input: {maps: 4, size: 8x8}
blocks:
  Unit:
    params:
      width: int
    layers:
      - {name: conv, type: conv, maps: $width, kernel: 3, padding: 1, bias: false}
      - {name: norm, type: batchnorm}
      - {name: act, type: relu6}
  Pair:
    params:
      width: int
    layers:
      - {name: first, type: Unit, width: $width}
      - {name: second, type: Unit, width: $width}
      - {name: sum, type: add, from: [first, second]}
layers:
  - {name: units, type: Unit, width: 4, repeat: 3, names: "unit{i}"}
  - {name: pairs, type: sequential, layers: [{type: Pair, width: 4}, {type: Pair, width: 4}]}
  - {name: skip, type: add, from: [units, pairs]}
  - {name: pool, type: adaptive_maxpool, size: 2}
  - {name: flat, type: flatten}
  - {name: fc, type: fc, size: 3, activation: softmax}
"""

#: a repeated block row inside an indexed container: the copies' nn.Sequential is the
#: container's child 1, not an attribute named after the row
INDEXED = """\
name: Indexed
input: {maps: 4, size: 8x8}
blocks:
  Unit:
    params:
      width: int
    layers:
      - {name: conv, type: conv, maps: $width, kernel: 3, padding: 1, bias: false}
      - {name: norm, type: batchnorm}
layers:
  - name: features
    type: sequential
    layers:
      - {type: conv, maps: 4, kernel: 1}
      - {name: units, type: Unit, width: 6, repeat: 2}
  - {name: pool, type: adaptive_avgpool, size: 1}
  - {name: flat, type: flatten}
  - {name: fc, type: fc, size: 3}
"""


def graph_specs() -> list[str]:
    """Every graph spec of the repository that checks (others are being written)."""
    found = []
    for path in sorted([*ROOT.glob("specs/*.yaml"), *ROOT.glob("specs/zoo/*.yaml")]):
        rel = path.relative_to(ROOT).as_posix()
        try:
            net = load(rel)
        except cnnspec.SpecError:
            continue
        if net.layout == "graph":
            found.append(rel)
    return found


_loaded: dict[str, cnnspec.Network] = {}


def load(spec: str) -> cnnspec.Network:
    if spec not in _loaded:
        _loaded[spec] = cnnspec.load(ROOT / spec if not Path(spec).is_absolute() else spec)
    return _loaded[spec]


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> cnnspec.Network:
    return cnnspec.loads(SMALL, source="small.yaml")


@pytest.fixture(scope="module")
def nested() -> cnnspec.Network:
    return cnnspec.loads(NESTED, source="nested.yaml")


# --------------------------------------------------------------------------- reading it back


def parse_text(text: str) -> list[dict]:
    """The rows of a graph text summary, as a reader takes them in: the module path
    (rebuilt from the indentation), whether the row has a module index, the output
    shape, params and MACs."""
    lines = text.splitlines()
    header = lines[2]
    name_at = header.index("Layer (type)")
    shape_at = header.index("Output shape")
    params_end = header.index("Params") + len("Params")  # right-aligned columns
    macs_end = header.index("MACs") + len("MACs")
    body = lines[4 : lines.index(lines[1], 4)]
    assert body[0].split() == ["input", body[0].split()[1]]
    rows, stack = [], []
    for line in body[1:]:
        cell = line[name_at:shape_at].rstrip()
        label = cell.lstrip(" ")
        indent = len(cell) - len(label)
        assert indent % 2 == 0, line
        level = indent // 2
        assert level <= len(stack), f"a row nested under nothing: {line}"
        del stack[level:]
        name, _, kind = label.partition(" (")
        kind = kind or name  # an operation named like its kind: "add", "flatten"
        path = ".".join([*stack, name])
        stack.append(name)
        rows.append(
            {
                "line": line,
                "level": level,
                "path": path,
                "name": name,
                "type": kind.removesuffix(")"),
                "index": line[:name_at].strip(),
                "shape": line[shape_at:].split()[0],
                "params": int(line[:params_end].split()[-1].replace(",", "")),
                "macs": int(line[:macs_end].split()[-1].replace(",", "")),
            }
        )
    return rows


def groups_of(net: cnnspec.Network) -> dict[str, object]:
    return {g.path: g for g in net.groups}


# --------------------------------------------------------------------------- text


def test_resnet18_full_text_is_the_module_tree():
    net = load(RESNET18)
    text = summary.render_text(net)
    rows = parse_text(text)
    by_path = {r["path"]: r for r in rows}
    # every module is a row, at its path; every group is a header row above its children
    for node in net.layers:
        assert by_path[node.path]["index"] == str(node.index)
    for g in net.groups:
        row = by_path[g.path]
        assert row["index"] == ""
        assert (row["params"], row["macs"]) == (g.params, g.macs)
    assert by_path["layer1"]["type"] == "BasicBlock ×2"
    assert by_path["layer1.0"]["type"] == "BasicBlock"
    assert by_path["layer2.0.downsample"]["type"] == "Sequential"
    assert by_path["layer2.0.downsample.0"]["type"] == "Conv2d"
    assert by_path["layer2.0.downsample.0"]["level"] == 3
    # the add rows are operations: no index, zero counts, inside their block
    adds = [r for r in rows if r["name"] == "add"]
    assert len(adds) == 8 and all(r["index"] == "" and r["params"] == 0 for r in adds)
    assert "None" not in text and "()" not in text
    assert text.endswith("Params: 11,689,512\nMACs:   1,814,083,944 (1.81 G, one image)\n")


def test_resnet18_depth_1_folds_every_block():
    net = load(RESNET18)
    rows = parse_text(summary.render_text(net, depth=1))
    assert [r["path"] for r in rows] == [
        "conv1", "bn1", "relu", "maxpool", "layer1", "layer2", "layer3", "layer4",
        "avgpool", "flatten", "fc",
    ]  # fmt: skip
    assert sum(r["params"] for r in rows) == net.params
    assert sum(r["macs"] for r in rows) == net.macs
    text = summary.render_text(net, depth=1)
    assert "--depth 1: rows nested deeper are folded into their block's row" in text


@pytest.mark.parametrize("depth", [1, 2, 3, 4])
def test_every_depth_shows_exactly_the_rows_above_it(depth, small, nested):
    for net in (load(RESNET18), small, nested):
        full = parse_text(summary.render_text(net))
        folded = parse_text(summary.render_text(net, depth=depth))
        assert [r["path"] for r in folded] == [r["path"] for r in full if r["level"] < depth]
        # the rows at the top level still add up to the network
        top = [r for r in folded if r["level"] == 0]
        assert sum(r["params"] for r in top) == net.params
        assert sum(r["macs"] for r in top) == net.macs


def test_a_deep_enough_depth_is_the_full_table(small):
    assert summary.render_text(small, depth=99) == summary.render_text(small)
    assert "--depth" not in summary.render_text(small, depth=99)


def test_levels_agree_with_the_ir_depths(small, nested):
    for net in (load(RESNET18), small, nested):
        items = list(summary.walk(summary.tree(net)))
        assert len(items) == len(net.nodes) + len(net.groups)
        for item in items:
            if item.group is not None:
                assert item.level == item.group.depth - 1, item.group.path
            else:
                assert item.level == item.node.depth, item.node.id


def test_a_group_subtotal_is_the_sum_of_its_leaves(small, nested):
    for net in (load(RESNET18), small, nested):
        nodes = {n.id: n for n in net.nodes}
        for item in summary.walk(summary.tree(net)):
            if item.group is None:
                continue
            leaves = [i.node for i in summary.walk(item.children) if i.node is not None]
            assert {n.id for n in leaves} == set(item.group.nodes)
            assert item.group.params == sum(nodes[i].params for i in item.group.nodes)
            assert item.group.macs == sum(nodes[i].macs for i in item.group.nodes)


def test_small_graph_text(small):
    rows = parse_text(summary.render_text(small))
    by_path = {r["path"]: r for r in rows}
    assert by_path["a"]["type"] == "Res"
    assert "a.down" not in by_path  # `if:` false in a: no such module
    assert by_path["b"]["type"] == "Res ×2"
    assert by_path["b.0.down.1"]["type"] == "BatchNorm2d"
    assert by_path["head"]["type"] == "Sequential"
    assert by_path["cat"]["type"] == "concat"
    assert by_path["flatten1"]["shape"] == "8×1×1"  # the flatten row shows in → out
    assert "8×1×1 → 8" in by_path["flatten1"]["line"]
    assert [r["path"] for r in rows if r["level"] == 0] == [
        "stem", "relu1", "a", "b", "left", "right", "cat", "head", "flatten1", "fc",
    ]  # fmt: skip


def test_nested_blocks_and_named_copies(nested):
    rows = parse_text(summary.render_text(nested))
    by_path = {r["path"]: r for r in rows}
    assert by_path["units"]["type"] == "Unit ×3"
    assert by_path["units.unit2"]["type"] == "Unit"
    assert by_path["units.unit2.act"]["type"] == "ReLU6"
    assert by_path["pairs"]["type"] == "Sequential"  # written by hand, not a repeat
    assert by_path["pairs.1.second.conv"]["level"] == 3
    assert by_path["pairs.1.sum"]["type"] == "add"
    assert by_path["skip"]["type"] == "add"


# --------------------------------------------------------------------------- markdown


def test_markdown_is_one_line_per_top_level_row():
    net = load(RESNET18)
    text = summary.render_markdown(net)
    table = [line for line in text.splitlines() if line.startswith("| ")][1:]
    cells = [[c.strip() for c in line.strip("|").split("|")] for line in table]
    assert [c[0] for c in cells] == [
        "image", "conv1", "bn1", "relu", "maxpool", "layer1", "layer2", "layer3", "layer4",
        "avgpool", "flatten", "fc",
    ]  # fmt: skip
    layer2 = cells[6]
    assert layer2 == ["layer2", "BasicBlock ×2", "128", "28×28", "-", "-", "-", "-", "525,568"]
    params = sum(int(c[-1].replace(",", "")) for c in cells[1:])
    assert params == net.params


def test_markdown_joins_activations_and_drops_the_implicit_flatten(small):
    text = summary.render_markdown(small)
    names = [line.split("|")[1].strip() for line in text.splitlines() if line.startswith("| ")]
    assert names == [
        "Layer", "image", "stem", "a", "b", "left", "right", "cat", "head", "fc",
    ]  # fmt: skip
    assert "| stem | conv | 8 | 16×16 | 3×3 | 1 | 1 | ReLU | 224 |" in text
    assert "| head | sequential | 8 | 1×1 |" in text


def test_markdown_names_activations_the_book_has_no_word_for(nested):
    # relu6 is not among the book's activations: its torch class, not a crash
    text = summary.render_markdown(nested)
    assert "| fc | fc | - | 3 | - | - | - | Softmax | 51 |" in text
    chain = cnnspec.loads(
        "name: R6\ninput: {maps: 3, size: 8x8}\nlayers:\n"
        "  - {type: conv, maps: 4, kernel: 3, activation: relu6}\n  - {type: fc, size: 2}\n"
    )
    assert "| ReLU6 |" in summary.render_markdown(chain)


# --------------------------------------------------------------------------- json


def test_json_entries_and_groups(small):
    data = json.loads(summary.render_json(small))
    layers = data["layers"]
    seen = {"input"}
    for entry in layers:
        assert set(entry["inputs"]) <= seen, f"{entry['id']} reads something not yet listed"
        seen.add(entry["id"])
        assert list(entry)[:9] == [
            "index", "id", "name", "type", "module", "path", "inputs", "depth", "scope",
        ]  # fmt: skip
    groups = {g["path"]: g for g in data["groups"]}
    assert groups["b.0"] == {
        "path": "b.0", "name": "0", "kind": "block", "block": "Res", "depth": 2,
        "input_shape": [8, 16, 16], "output_shape": [16, 8, 8], "params": 3664,
        "macs": 232480, "args": {"planes": 16, "stride": 2},
    }  # fmt: skip
    for g in data["groups"]:
        inside = [
            e for e in layers if e["scope"] == g["path"] or e["scope"].startswith(g["path"] + ".")
        ]
        assert g["params"] == sum(e["params"] for e in inside)
        assert g["macs"] == sum(e["macs"] for e in inside)


def test_chain_json_gains_no_graph_fields():
    data = json.loads(summary.render_json(load("specs/vgg16.yaml")))
    assert "groups" not in data
    assert all("id" not in e and "scope" not in e for e in data["layers"])


# --------------------------------------------------------------------------- chains unchanged

#: sha256 (first 16 hex digits) of each chain spec's summary, recorded before graph
#: summaries existed: chain output must not move by a byte (README shows it)
CHAIN_SUMMARIES = {
    "specs/lenet5.yaml": ("988f3e50ffa53899", "877e7170cac8468b", "beb8c3bb30ebaba6"),
    "specs/lenet5_table.yaml": ("988f3e50ffa53899", "877e7170cac8468b", "beb8c3bb30ebaba6"),
    "specs/alexnet.yaml": ("239599c5f2acb89a", "a6912cff3a461c8f", "748c70ce5c5ba176"),
    "specs/vgg16.yaml": ("61a930ec6202f949", "deb2633f5484521d", "d2dce0a387ae141f"),
    "specs/lenet_code611.yaml": ("e6e2527be275de78", "dcab654aeb3c9d0a", "f3c8a7daba0ef941"),
    "specs/zoo/alexnet_torchvision.yaml": (
        "090333a7aa9dfffa",
        "c258560cdd2d92c9",
        "4a15600f2dadf5d8",
    ),
    "specs/zoo/alexnet_two_tower.yaml": (
        "7787fd4a8c6112f4",
        "6ab81c64e95b038d",
        "325cd23f1d5ddf58",
    ),
    "specs/zoo/lenet5_lecun.yaml": ("1cc94433ee61fe4d", "427d61676abe83be", "3dd4b9681b00d9b3"),
    "specs/zoo/vgg11_bn.yaml": ("ad31313c6f516a36", "47230924d43ef1cc", "638027eef0355f4d"),
}


@pytest.mark.parametrize("spec", sorted(CHAIN_SUMMARIES))
def test_chain_summaries_are_byte_identical(spec):
    net = load(spec)
    assert net.layout != "graph"
    got = tuple(
        hashlib.sha256(summary.RENDERERS[f](net).encode()).hexdigest()[:16]
        for f in ("text", "markdown", "json")
    )
    assert got == CHAIN_SUMMARIES[spec], "a chain summary changed: compare with git stash"
    # --depth changes nothing for a chain: it has one level
    assert summary.render_text(net, depth=1) == summary.render_text(net)


# --------------------------------------------------------------------------- command line


def test_cli_depth(monkeypatch, capsys):
    monkeypatch.chdir(ROOT)
    assert main(["summary", "--depth", "1", RESNET18]) == 0
    assert capsys.readouterr().out == summary.render_text(load(RESNET18), depth=1)
    assert main(["summary", RESNET18]) == 0
    assert capsys.readouterr().out == summary.render_text(load(RESNET18))


@pytest.mark.parametrize("depth", ["0", "-1", "x", "1.5"])
def test_cli_depth_must_be_a_level(depth, monkeypatch, capsys):
    monkeypatch.chdir(ROOT)
    with pytest.raises(SystemExit) as exc:
        main(["summary", "--depth", depth, RESNET18])
    assert exc.value.code == 2
    assert (
        "argument --depth: expected a whole number of levels, 1 or more" in capsys.readouterr().err
    )


@pytest.mark.parametrize("fmt", ["json", "markdown"])
def test_cli_depth_is_for_text(fmt, monkeypatch, capsys):
    monkeypatch.chdir(ROOT)
    assert main(["summary", "--format", fmt, "--depth", "2", RESNET18]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert f"--depth folds the text summary; it does not apply to --format {fmt}" in captured.err


# --------------------------------------------------------------------------- against torch


def _model_on_meta(net):
    import torch

    with torch.device("meta"):
        return cnnspec.build(net)


def _count(module) -> int:
    return sum(p.numel() for p in module.parameters())


def _check_against_model(net) -> None:
    model = _model_on_meta(net)
    assert _count(model) == net.params
    rows = parse_text(summary.render_text(net))
    checked = 0
    for row in rows:
        if row["index"] == "" and row["type"] in {
            "add",
            "concat",
            "mul",
            "flatten",
            "upsample",
            *OPERATIONS,
        }:
            continue  # an operation without a module
        if row["index"] == "" and row["type"] == "scale":  # a parameter without a module
            assert model.get_parameter(row["path"]).numel() == row["params"], row["line"]
            continue
        module = model.get_submodule(row["path"])
        assert _count(module) == row["params"], row["line"]
        checked += 1
    assert checked == len(net.layers) + len(net.groups)
    # and every block's subtotal is the sum of its leaves' parameters in the model, and
    # of the parameters its modules hold themselves (a layer scale)
    for g in net.groups:
        inside = [m for _, m in model.get_submodule(g.path).named_modules()]
        leaves = [m for m in inside if not list(m.children())]
        own = sum(p.numel() for m in inside if list(m.children()) for p in m.parameters(False))
        assert sum(_count(m) for m in leaves) + own == g.params, g.path


@pytest.mark.parametrize("spec", ["SMALL", "NESTED", "INDEXED"])
def test_subtotals_equal_the_built_models_modules(spec):
    text = globals()[spec]
    _check_against_model(cnnspec.loads(text, source=f"{spec.lower()}.yaml"))


def test_an_indexed_containers_repeated_row_is_shown_by_its_index():
    net = cnnspec.loads(INDEXED, source="indexed.yaml")
    paths = [row["path"] for row in parse_text(summary.render_text(net))]
    assert "features.1" in paths and "features.1.0.conv" in paths
    assert not [p for p in paths if "units" in p]


@pytest.mark.parametrize("spec", graph_specs())
def test_subtotals_of_the_repositorys_graph_specs(spec):
    _check_against_model(load(spec))
