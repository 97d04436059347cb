"""The Graphviz diagram: what `dot` makes of the DOT text, folding, escaping.

The DOT of every seed spec is part of the golden record in generated/ (see
tests/corpus/test_generated.py); `cnnspec compile specs/*.yaml` re-blesses it.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import graphviz
import pytest

import cnnspec
from cnnspec.backends import diagram
from cnnspec.backends import format as fmt
from cnnspec.backends.diagram import graph_plan, image, render_dot, render_image

ROOT = Path(__file__).resolve().parents[3]
SEEDS = sorted((ROOT / "specs").glob("*.yaml"))


def _is_chain(spec: Path) -> bool:
    try:
        return cnnspec.load(spec).layout != "graph"
    except cnnspec.SpecError:
        return False  # test_dot_accepts_every_spec reports it


CHAIN_SEEDS = [s for s in SEEDS if _is_chain(s)]
ALL_SPECS = SEEDS + sorted((ROOT / "specs" / "zoo").glob("*.yaml"))


def _net(spec: Path) -> cnnspec.Network:
    return cnnspec.load(spec)


def _dot_json(dot_text: str) -> dict:
    done = subprocess.run(
        ["dot", "-Tjson"], input=dot_text.encode(), capture_output=True, timeout=60
    )
    assert done.returncode == 0, done.stderr.decode()
    assert done.stderr == b"", done.stderr.decode()  # not even a warning
    return json.loads(done.stdout)


def _layer_nodes(graph: dict) -> list[dict]:
    """The drawn layer nodes (and input/output), in id order: n0, n1, …"""
    nodes = [o for o in graph["objects"] if "nodes" not in o and o["name"].startswith("n")]
    return sorted(nodes, key=lambda o: int(o["name"][1:]))


def _svg_text(svg: bytes) -> str:
    root = ET.fromstring(svg)
    return "\n".join(
        (el.text or "") for el in root.iter() if el.tag.endswith("}text") or el.tag == "text"
    )


def _svg_size(svg: bytes) -> tuple[float, float]:
    root = ET.fromstring(svg)
    return (
        float(root.get("width", "").removesuffix("pt")),
        float(root.get("height", "").removesuffix("pt")),
    )


# --------------------------------------------------------------------------- determinism


@pytest.mark.parametrize(
    ("spec", "kwargs"),
    [
        ("specs/vgg16.yaml", "collapse=True"),
        ("specs/zoo/resnet152.yaml", ""),
        ("specs/zoo/googlenet.yaml", ""),
    ],
    ids=["vgg16-collapse", "resnet152", "googlenet"],
)
def test_dot_is_the_same_in_a_fresh_interpreter(spec: str, kwargs: str) -> None:
    """Byte-identical across runs: no hash order, ids or timestamps leak in."""
    code = (
        "import sys, cnnspec; from cnnspec.backends.diagram import render_dot; "
        f"sys.stdout.buffer.write(render_dot(cnnspec.load({spec!r}), {kwargs}).encode())"
    )
    outs = {
        subprocess.run(
            [sys.executable, "-c", code],
            cwd=ROOT,
            capture_output=True,
            check=True,
            env={**os.environ, "PYTHONHASHSEED": seed},
        ).stdout
        for seed in ("1", "2")
    }
    here = render_dot(_net(ROOT / spec), **({"collapse": True} if kwargs else {})).encode()
    assert outs == {here}


# --------------------------------------------------------------------------- the API


def test_diagram_api_returns_a_digraph_that_matches_the_dot_text() -> None:
    net = _net(ROOT / "specs" / "lenet5.yaml")
    graph = cnnspec.diagram(net)
    assert isinstance(graph, graphviz.Digraph)
    assert hasattr(graph, "_repr_mimebundle_")  # shows itself in Jupyter
    assert graph.source == render_dot(net)
    assert cnnspec.diagram(net, collapse=True).source == render_dot(net, collapse=True)


STAGE_LABELS = {
    "vgg16": [
        "block 1 · 2× conv3-64",
        "block 2 · 2× conv3-128",
        "block 3 · 3× conv3-256",
        "block 4 · 3× conv3-512",
        "block 5 · 3× conv3-512",
    ],
    # a stage whose convs differ lists them
    "alexnet": ["block 1 · conv11-96", "block 2 · conv5-256", "block 3 · 2× conv3-384, conv3-256"],
}


@pytest.mark.parametrize("stem", sorted(STAGE_LABELS))
def test_stages_are_labelled_like_the_book(stem: str) -> None:
    labels = [
        diagram.stage_label(g.number, g.rows)
        for g in diagram.stages(_net(ROOT / "specs" / f"{stem}.yaml"))
        if g.role == "stage"
    ]
    assert labels == STAGE_LABELS[stem]


# --------------------------------------------------------------------------- what dot sees


@pytest.mark.parametrize("collapse", [False, True], ids=["full", "collapse"])
@pytest.mark.parametrize("spec", ALL_SPECS, ids=[s.stem for s in ALL_SPECS])
def test_dot_accepts_every_spec(spec: Path, collapse: bool) -> None:
    dot_text = render_dot(_net(spec), collapse=collapse)
    done = subprocess.run(
        ["dot", "-Tsvg"], input=dot_text.encode(), capture_output=True, timeout=60
    )
    assert done.returncode == 0, done.stderr.decode()
    assert done.stderr == b"", done.stderr.decode()  # not even a warning
    assert done.stdout.lstrip().startswith(b"<?xml")


@pytest.mark.parametrize("spec", CHAIN_SEEDS, ids=[s.stem for s in CHAIN_SEEDS])
def test_dot_json_has_a_node_per_row_and_shape_labelled_edges(spec: Path) -> None:
    net = _net(spec)
    rows = list(net.rows())
    graph = _dot_json(render_dot(net))
    nodes = _layer_nodes(graph)
    assert [n["name"] for n in nodes] == [f"n{i}" for i in range(len(rows) + 2)]
    # the node labels carry each row's name and output shape, in order
    for node, row in zip(nodes[1:-1], rows):
        assert f"<b>{row.node.name}</b>" in node["label"]
        assert f"<b>{fmt.shape(row.output_shape)}</b>" in node["label"]
    # the visible edges run input → each row → output, labelled with the tensor shape
    by_id = {o["_gvid"]: o["name"] for o in graph["objects"]}
    edges = [
        (by_id[e["tail"]], by_id[e["head"]], e["label"].strip())
        for e in graph.get("edges", [])
        if e.get("style") != "invis"
    ]
    shapes = [fmt.shape(net.input_shape)] + [fmt.shape(r.output_shape) for r in rows]
    flat = net.flatten
    if flat is not None:
        first = net.classifier[0]
        at = next(i for i, r in enumerate(rows) if r.node is first)
        shapes[at] = f"{fmt.shape(flat.input_shape)} → {fmt.shape(flat.output_shape)}"
    expected = [(f"n{i}", f"n{i + 1}", shape) for i, shape in enumerate(shapes)]
    assert sorted(edges, key=lambda e: int(e[0][1:])) == expected


def test_vgg16_is_drawn_as_five_blocks_and_a_classifier() -> None:
    graph = _dot_json(render_dot(_net(ROOT / "specs" / "vgg16.yaml")))
    clusters = [o for o in graph["objects"] if o["name"].startswith("cluster_")]
    labels = [c.get("label", "") for c in clusters if c["name"] != "cluster_legend"]
    assert labels[:5] == [
        "block 1 · 2× conv3-64",
        "block 2 · 2× conv3-128",
        "block 3 · 3× conv3-256",
        "block 4 · 3× conv3-512",
        "block 5 · 3× conv3-512",
    ]
    assert labels[5] == "classifier"
    assert "<b>VGG16 (Figure 6-13)</b>" in graph["label"]


def test_vgg16_is_not_a_strip() -> None:
    """Readable at normal zoom: neither side runs to thousands of pixels."""
    svg = render_image(render_dot(_net(ROOT / "specs" / "vgg16.yaml")), "svg")
    assert svg is not None
    width, height = _svg_size(svg)
    assert width < 1200 and height < 1400, (width, height)
    assert 0.5 < width / height < 2


def test_collapse_folds_repeated_rows_into_one_node_marked_xn() -> None:
    net = _net(ROOT / "specs" / "vgg16.yaml")
    nodes = _layer_nodes(_dot_json(render_dot(net, collapse=True)))
    # 5 conv runs + 5 pools + fc, dropout, fc, dropout, fc + input and output
    assert len(nodes) == 17
    marks = [n["label"] for n in nodes if "×3</b>" in n["label"]]
    assert len(marks) == 3
    assert "conv5 … conv7" in marks[0]
    assert "295,168 + 2×590,080 params" in marks[0]


# --------------------------------------------------------------------------- escaping

HOSTILE = [
    'say "hi"',
    "back\\slash\\",
    "trailing \\",
    "<b>bold</b>",
    "] evil [",
    'x"]; n0 -> n0 [label="pwned',
    "two\nlines",
    "}; digraph { a -> b",
    "&amp; &lt; &#60;",
    "tab\there",
    "<<table>>",
    "ctrl\x01char",
]


def _hostile_net(text: str) -> cnnspec.Network:
    """VGG16 with ``text`` in its title and in every layer name (IR built by hand)."""
    net = _net(ROOT / "specs" / "vgg16.yaml")
    names = {n.id: f"{text}{i}" for i, n in enumerate(net.nodes)}
    nodes = tuple(
        dataclasses.replace(
            n,
            id=names[n.id],
            name=names[n.id],
            inputs=tuple(names.get(i, i) for i in n.inputs),
            activation_of=names[n.activation_of] if n.activation_of else None,
        )
        for n in net.nodes
    )
    return dataclasses.replace(net, title=text, name=text, nodes=nodes)


@pytest.mark.parametrize("text", HOSTILE, ids=[repr(t) for t in HOSTILE])
def test_hostile_title_and_names_do_not_change_the_graph(text: str) -> None:
    plain = _net(ROOT / "specs" / "vgg16.yaml")
    net = _hostile_net(text)
    dot_text = render_dot(net)
    # the structure (everything outside the labels) is the same as for the plain net
    assert dot_text.count("\n") == render_dot(plain).count("\n")
    assert "digraph network {" in dot_text  # a hostile graph name is not used
    graph = _dot_json(dot_text)
    assert len(_layer_nodes(graph)) == len(list(plain.rows())) + 2
    assert len(graph["edges"]) == len(_dot_json(render_dot(plain))["edges"])
    # and every character of the text comes out as text
    svg_text = _svg_text(render_image(dot_text, "svg"))
    shown = text.replace("\t", " ").replace("\x01", "\ufffd")
    for line in shown.split("\n"):
        assert line in svg_text


def test_title_injection_through_a_spec() -> None:
    """A spec's title is free text: it reaches the diagram only as escaped text."""
    spec = (ROOT / "specs" / "lenet5.yaml").read_text()
    hostile = 'Evil \\"]; <b>x</b> ] evil [ }'
    spec = spec.replace(
        "title: LeNet-5 example network (Table 6-1)", f"title: {json.dumps(hostile)}"
    )
    net = cnnspec.loads(spec)
    assert net.title == hostile
    dot_text = render_dot(net)
    assert "Evil \\&quot;]; &lt;b&gt;x&lt;/b&gt; ] evil [ }" in dot_text
    assert hostile in _svg_text(render_image(dot_text, "svg"))


def test_plain_labels_are_escaped_with_graphviz_escape() -> None:
    assert diagram.plain_text("a\\l<b>") == graphviz.escape("a\\l<b>")
    assert diagram.html_text('<a href="x">&\'\n') == (
        "&lt;a href=&quot;x&quot;&gt;&amp;&#x27;<br/>"
    )


# --------------------------------------------------------------------------- without dot


def test_render_image_without_dot_returns_none(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    assert render_image("digraph { a }", "svg") is None
    monkeypatch.setattr(image.shutil, "which", lambda name: None)
    assert render_image("digraph { a }", "png") is None


def test_render_image_reports_a_dot_failure() -> None:
    with pytest.raises(diagram.GraphvizError, match="dot -Tsvg failed"):
        render_image("digraph { a -> }", "svg")


def test_render_image_png() -> None:
    png = render_image(render_dot(_net(ROOT / "specs" / "lenet5.yaml")), "png")
    assert png[:8] == b"\x89PNG\r\n\x1a\n"


def test_compile_without_dot_writes_nothing_unless_asked_for_no_image(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without Graphviz a spec whose images must be drawn writes nothing (exit 3), each
    named with how to install it and which flags leave the images out; with them, the
    .py and .dot are written."""
    from cnnspec import cli

    monkeypatch.setattr(image.shutil, "which", lambda name: None)
    specs = [str(ROOT / "specs" / "lenet5.yaml"), str(ROOT / "specs" / "vgg16.yaml")]
    rc = cli.main(["compile", *specs, "-o", str(tmp_path), "--format", "png"])
    err = capsys.readouterr().err
    assert rc == 3, err
    assert list(tmp_path.iterdir()) == []
    lines = err.splitlines()
    assert [line.split(": ")[2] for line in lines] == specs
    assert all("install Graphviz" in line for line in lines), err
    assert "(pass --no-svg and leave out --format png to write vgg16.py" in lines[1]
    rc = cli.main(["compile", *specs, "-o", str(tmp_path), "--no-svg"])
    assert rc == 0, capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "lenet5.dot",
        "lenet5.py",
        "vgg16.dot",
        "vgg16.py",
    ]
    assert (tmp_path / "vgg16.dot").read_text() == render_dot(_net(ROOT / "specs" / "vgg16.yaml"))


def test_compile_with_dot_writes_svg_and_png(tmp_path: Path) -> None:
    from cnnspec import cli

    rc = cli.main(["compile", str(ROOT / "specs" / "lenet5.yaml"), "-o", str(tmp_path)])
    assert rc == 0
    assert (tmp_path / "lenet5.svg").read_bytes().lstrip().startswith(b"<?xml")
    rc = cli.main(
        ["compile", str(ROOT / "specs" / "lenet5.yaml"), "-o", str(tmp_path), "--format", "png"]
    )
    assert rc == 0
    assert (tmp_path / "lenet5.png").read_bytes()[:4] == b"\x89PNG"


# =========================================================================== graphs

ZOO = ROOT / "specs" / "zoo"
BIG = ["resnet152", "densenet201", "googlenet"]

#: Specs written here to reach what the zoo does not: a U-Net (deconv, cropped
#: concatenations, long skips), runs folded inside folded runs, identical instances
#: at the top level, and a block whose rows carry `activation:`.
UNET = """
name: UNetLike
title: A small U-Net (two levels)
input: {maps: 1, size: 572x572}
blocks:
  Double:
    params: {width: int}
    children: indexed
    layers:
      - {type: conv, maps: $width, kernel: 3, activation: relu}
      - {type: conv, maps: $width, kernel: 3, activation: relu}
layers:
  - {name: down1, type: Double, width: 64}
  - {name: pool1, type: maxpool, kernel: 2, stride: 2}
  - {name: down2, type: Double, width: 128}
  - {name: pool2, type: maxpool, kernel: 2, stride: 2}
  - {name: bottom, type: Double, width: 256}
  - {name: up2, type: deconv, maps: 128, kernel: 2, stride: 2}
  - {name: cat2, type: concat, from: [down2, up2], crop: center}
  - {name: dec2, type: Double, width: 128}
  - {name: up1, type: deconv, maps: 64, kernel: 2, stride: 2}
  - {name: cat1, type: concat, from: [down1, up1], crop: center}
  - {name: dec1, type: Double, width: 64}
  - {name: head, type: conv, maps: 2, kernel: 1}
"""

NESTED = """
name: Nested
input: {maps: 16, size: 32x32}
blocks:
  Unit:
    params: {width: int}
    layers:
      - {name: conv, type: conv, maps: $width, kernel: 3, padding: 1, bias: false}
      - {name: bn, type: batchnorm}
      - {name: add, type: add, from: [bn, input]}
      - {name: relu, type: relu}
  Stage:
    params: {width: int}
    layers:
      - {name: units, type: Unit, width: $width, repeat: 3}
      - {name: pool, type: maxpool, kernel: 1, stride: 1}
layers:
  - {name: stem, type: conv, maps: 16, kernel: 3, padding: 1, activation: relu}
  - {name: stages, type: Stage, width: 16, repeat: 4}
  - {name: twin1, type: Unit, width: 16}
  - {name: twin2, type: Unit, width: 16}
  - {name: pool, type: adaptive_avgpool, size: 1}
  - {name: fc, type: fc, size: 10}
"""

INLINE = {"unet": UNET, "nested": NESTED}


def _graph_net(name: str) -> cnnspec.Network:
    if name in INLINE:
        return cnnspec.loads(INLINE[name], source=f"{name}.yaml")
    path = ZOO / f"{name}.yaml"
    return _net(path if path.exists() else ROOT / "specs" / f"{name}.yaml")


def _visible_edges(graph: dict) -> list[dict]:
    by_id = {o["_gvid"]: o["name"] for o in graph["objects"]}
    return [
        {**e, "tail": by_id[e["tail"]], "head": by_id[e["head"]]}
        for e in graph.get("edges", [])
        if e.get("style") != "invis"
    ]


def _between_copies(tail: str, head: str, runs: tuple[tuple[str, ...], ...]) -> bool:
    """Whether the IR edge tail → head runs from one copy of a folded run to the
    next — at any level of folding (a copy of a copy stands for its representative)."""

    def copy_of(node: str, run: tuple[str, ...]) -> int | None:
        return next((k for k, p in enumerate(run) if node.startswith(p + ".")), None)

    def fold(node: str) -> str:  # one level: a copy becomes its representative
        for run in runs:
            k = copy_of(node, run)
            if k:
                return run[0] + node[len(run[k]) :]
        return node

    while True:
        for run in runs:
            a, b = copy_of(tail, run), copy_of(head, run)
            if a is not None and b is not None and a != b:
                return True
        up = fold(tail), fold(head)
        if up == (tail, head):
            return False
        tail, head = up


GRAPH_CASES = [
    ("resnet18", {}),
    ("resnet18", {"expand": True}),
    ("resnet18", {"depth": 1}),
    ("resnet18", {"depth": 2}),
    ("resnet50", {}),
    ("resnet152", {}),
    ("googlenet", {}),
    ("googlenet", {"depth": 2}),
    ("densenet201", {}),
    ("densenet201", {"depth": 2}),
    ("squeezenet1_1", {}),
    ("unet", {}),
    ("nested", {}),
    ("nested", {"collapse": True}),
    ("nested", {"collapse": True, "depth": 2}),
]


@pytest.mark.parametrize(
    ("name", "kwargs"),
    GRAPH_CASES,
    ids=[
        f"{n}-{','.join(f'{k}={v}' for k, v in kw.items()) or 'default'}" for n, kw in GRAPH_CASES
    ],
)
def test_every_ir_edge_is_drawn(name: str, kwargs: dict) -> None:
    """Every IR edge between two drawn nodes is an edge of the drawing, labelled with
    the shape it carries; an edge into a folded block goes to the block's node; an
    edge from one copy of a folded run to the next is not drawn (the copies are
    drawn once). The drawing has no other edges."""
    net = _graph_net(name)
    plan = graph_plan(net, **kwargs)
    graph = _dot_json(plan.digraph.source)
    drawn = plan.drawn
    want: dict[tuple[str, str], set[str]] = {}
    ir_edges = [(i, n.id) for n in net.nodes for i in n.inputs] + [(net.output, "output")]
    shapes = {n.id: n.output_shape for n in net.nodes} | {"input": net.input_shape}
    for tail, head in ir_edges:
        if drawn[tail] == drawn[head] or _between_copies(tail, head, plan.runs):
            continue
        want.setdefault((drawn[tail], drawn[head]), set()).add(fmt.shape(shapes[tail]))
    got = {(e["tail"], e["head"]): e["label"].strip() for e in _visible_edges(graph)}
    assert set(got) == set(want)
    for key, label in got.items():
        if "…" not in label:  # a folded run's edges carry ranges: 96…256×56×56
            assert label in want[key], (key, label)
    # every IR node is drawn by a node that exists
    names = {o["name"] for o in graph["objects"] if "nodes" not in o}
    assert set(drawn.values()) <= names


@pytest.mark.parametrize("name", BIG)
def test_big_networks_fit_a_page_by_default(name: str, tmp_path: Path) -> None:
    """`cnnspec compile` of ResNet-152, DenseNet-201 and GoogLeNet: SVGs whose longer
    side is at most 4000 pt, the same bytes on a second run, DOT that `dot -Tjson`
    takes without a warning."""
    from cnnspec import cli

    spec = str(ZOO / f"{name}.yaml")
    assert cli.main(["compile", spec, "-o", str(tmp_path / "a")]) == 0
    assert cli.main(["compile", spec, "-o", str(tmp_path / "b")]) == 0
    for ext in ("dot", "svg"):
        first = (tmp_path / "a" / f"{name}.{ext}").read_bytes()
        assert first == (tmp_path / "b" / f"{name}.{ext}").read_bytes()
    width, height = _svg_size((tmp_path / "a" / f"{name}.svg").read_bytes())
    assert max(width, height) <= 4000, (width, height)
    _dot_json((tmp_path / "a" / f"{name}.dot").read_text())


def test_expanded_resnet152_would_pass_the_page() -> None:
    """What the folding saves: drawn in full, ResNet-152 runs far past a page."""
    net = _graph_net("resnet152")
    full = graph_plan(net, expand=True)
    assert full.runs == () and full.depth is None and not full.folded
    assert full.estimate[1] > 3 * diagram.PAGE
    folded = graph_plan(net)
    assert folded.folded and folded.depth is None and max(folded.estimate) <= diagram.PAGE


def _cluster_labels(plan: diagram.GraphPlan) -> list[str]:
    graph = _dot_json(plan.digraph.source)
    return [
        o.get("label", "")
        for o in graph["objects"]
        if o["name"].startswith("cluster_") and o["name"] != "cluster_legend"
    ]


def test_resnet152_folds_repeated_bottlenecks_with_their_params() -> None:
    net = _graph_net("resnet152")
    plan = graph_plan(net)
    groups = {g.path: g for g in net.groups}
    rest = sum(groups[f"layer3.{i}"].params for i in range(1, 36))
    labels = _cluster_labels(plan)
    assert f"layer3.1 … 35 · Bottleneck × 35 · {fmt.short(rest)} params" in labels
    assert "layer3.0 · Bottleneck · 1.51 M params" in labels
    assert ("layer1.0", "layer1.1", "layer1.2") not in plan.runs  # layer1.0 differs
    assert ("layer1.1", "layer1.2") in plan.runs
    # every copy is drawn by its representative's nodes
    assert plan.drawn["layer3.35.conv2"] == plan.drawn["layer3.1.conv2"]
    assert plan.drawn["layer3.0.conv2"] != plan.drawn["layer3.1.conv2"]


def test_densenet_folds_a_whole_dense_block_and_keeps_edges_linear() -> None:
    net = _graph_net("densenet201")
    plan = graph_plan(net)
    params = next(g.params for g in net.groups if g.path == "features.denseblock3")
    assert f"features.denseblock3 · DenseLayer × 48 · {fmt.short(params)} params" in (
        _cluster_labels(plan)
    )
    expanded = _dot_json(graph_plan(net, expand=True).digraph.source)
    layers = sum(1 for g in net.groups if g.block == "DenseLayer")
    # dense connectivity as a concat chain: a bounded number of edges per dense layer
    assert len(expanded["edges"]) < 6 * layers
    # the folded copies see growing inputs: the edges into and inside the fold say so
    labels = [e["label"].strip() for e in _visible_edges(_dot_json(plan.digraph.source))]
    assert "64…224×56×56" in labels


def test_depth_folds_blocks_into_one_node_each() -> None:
    net = _graph_net("resnet18")
    one = graph_plan(net, depth=1)  # layer1 … layer4: one node each
    assert one.depth == 1
    assert one.drawn["layer1.0.conv1"] == one.drawn["layer1.1.relu2"]
    assert one.drawn["layer1.0.conv1"] != one.drawn["layer2.0.conv1"]
    assert one.drawn["conv1"] == one.drawn["bn1"]  # the network's own rows stay drawn
    assert one.drawn["maxpool"] not in (one.drawn["conv1"], one.drawn["layer1.0.conv1"])
    two = graph_plan(net, depth=2)  # each BasicBlock one node, in its layer's cluster
    assert two.drawn["layer1.0.conv1"] == two.drawn["layer1.0.relu2"]
    assert two.drawn["layer1.0.conv1"] != two.drawn["layer1.1.conv1"]
    label = next(
        o["label"]
        for o in _dot_json(two.digraph.source)["objects"]
        if o["name"] == two.drawn["layer2.0.conv1"]
    )
    assert "<b>0</b>" in label and "BasicBlock" in label  # named inside layer2's cluster
    assert "planes 128 · stride 2" in label and "230,144 params" in label
    with pytest.raises(ValueError):
        graph_plan(net, depth=0)


def test_inception_branches_are_side_by_side_in_order() -> None:
    """Four columns, left to right as written, meeting at a concat below them."""
    net = _graph_net("googlenet")
    plan = graph_plan(net)
    assert plan.depth is None and plan.runs == ()  # GoogLeNet fits without folding
    graph = _dot_json(plan.digraph.source)
    pos = {
        o["name"]: tuple(map(float, o["pos"].split(",")))
        for o in graph["objects"]
        if "pos" in o and "nodes" not in o
    }
    for module in ("inception3a", "inception4c", "inception5b"):
        heads = [
            plan.drawn[f"{module}.branch1.conv"],
            plan.drawn[f"{module}.branch2.0.conv"],
            plan.drawn[f"{module}.branch3.0.conv"],
            plan.drawn[f"{module}.branch4.maxpool1"],
        ]
        xs = [pos[h][0] for h in heads]
        assert xs == sorted(xs) and len(set(xs)) == 4, (module, xs)
        cat = pos[plan.drawn[f"{module}.cat"]]
        assert all(cat[1] < pos[h][1] for h in heads)  # below (y grows upwards)


def test_shortcuts_are_drawn_in_their_own_colour() -> None:
    """An identity shortcut (an edge whose head is also reached along the block) is
    drawn in the shortcut colour; ResNet-18 has one per block without a downsample."""
    net = _graph_net("resnet18")
    plan = graph_plan(net, expand=True)
    edges = _visible_edges(_dot_json(plan.digraph.source))
    skips = [(e["tail"], e["head"]) for e in edges if e.get("color") == diagram.SKIP_COLOR]
    identity = [
        (plan.drawn[n.inputs[1]], plan.drawn[n.id])
        for n in net.nodes
        if n.kind == "add" and "downsample" not in n.inputs[1]
    ]
    assert sorted(skips) == sorted(identity) and len(identity) == 5
    assert "shortcut" in plan.digraph.source  # the legend explains the colour


def test_merges_are_small_nodes_and_blocks_are_clusters() -> None:
    net = _graph_net("resnet18")
    plan = graph_plan(net, expand=True)
    graph = _dot_json(plan.digraph.source)
    nodes = {o["name"]: o for o in graph["objects"] if "nodes" not in o}
    add = nodes[plan.drawn["layer1.0.add"]]  # add + the ReLU after it
    assert add["shape"] == "box" and "+" in add["label"] and "ReLU" in add["label"]
    labels = _cluster_labels(plan)
    assert "layer1 · 147.97 k params" in labels
    assert "layer1.0 · BasicBlock · 73.98 k params" in labels
    # nested as the module tree nests: layer2.0's cluster is inside layer2's
    clusters = {o.get("label", ""): o for o in graph["objects"] if "nodes" in o}
    outer, inner = (
        clusters["layer2 · 525.57 k params"],
        clusters["layer2.0 · BasicBlock · 230.14 k params"],
    )
    assert set(inner["nodes"]) < set(outer["nodes"])
    # conv + batch norm + ReLU share one node; the ReLU names itself in it
    conv = nodes[plan.drawn["layer1.0.conv1"]]
    assert plan.drawn["layer1.0.bn1"] == plan.drawn["layer1.0.relu1"] == conv["name"]
    assert "+ BatchNorm2d · ReLU" in conv["label"]


def test_title_and_legend_of_a_graph() -> None:
    net = _graph_net("resnet50")
    source = graph_plan(net).digraph.source
    assert "<b>ResNet-50 (torchvision)</b>" in source
    assert "25,557,032 params · 4.09 G MACs · 3×224×224 → 1000" in source
    for word in ("convolution", "max pool", "adaptive pool", "fully connected", "shortcut"):
        assert word in source


def test_chains_ignore_the_graph_options() -> None:
    net = _net(ROOT / "specs" / "vgg16.yaml")
    assert render_dot(net, expand=True, depth=1) == render_dot(net)


def test_hostile_title_and_names_in_a_graph() -> None:
    net = _graph_net("resnet18")
    text = 'x"]; n0 -> n0 [label="<b>pwned</b>\\'
    nodes = tuple(dataclasses.replace(n, name=f"{text}{i}") for i, n in enumerate(net.nodes))
    hostile = dataclasses.replace(net, title=text, nodes=nodes)
    plain_graph = _dot_json(render_dot(net))
    graph = _dot_json(render_dot(hostile))
    assert len(graph["objects"]) == len(plain_graph["objects"])
    assert len(graph["edges"]) == len(plain_graph["edges"])
    svg = render_image(render_dot(hostile), "svg")
    assert svg is not None and text in _svg_text(svg)


# --------------------------------------------------------------------------- SVG records


def test_svg_names_its_dot_not_the_graphviz_version() -> None:
    dot_text = render_dot(_net(ROOT / "specs" / "lenet5.yaml"))
    svg = render_image(dot_text, "svg")
    assert svg is not None
    assert b"graphviz version" not in svg
    assert diagram.svg_is_current(svg, dot_text)
    assert not diagram.svg_is_current(svg, dot_text + " ")
    assert not diagram.svg_is_current(None, dot_text)


@pytest.mark.parametrize("spec", ["specs/lenet5.yaml", "specs/zoo/resnet18.yaml"])
def test_compile_check_passes_with_another_graphviz(
    spec: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An SVG drawn by another Graphviz version — its own version comment, another
    layout — is current as long as it was drawn from the same DOT text (and is the
    whole file that Graphviz printed, as cnnspec stamped it)."""
    from cnnspec import cli

    stem = Path(spec).stem
    assert cli.main(["compile", str(ROOT / spec), "-o", str(tmp_path)]) == 0
    svg = tmp_path / f"{stem}.svg"
    text = svg.read_text()
    dot_text = (tmp_path / f"{stem}.dot").read_text()
    # what another Graphviz would print: its version comment, another width
    printed = re.sub(r"<!-- cnnspec:[^>]*-->\n", "", text, count=1)
    printed = re.sub(r'width="\d+pt"', 'width="1234pt"', printed, count=1).replace(
        "<svg", "<!-- Generated by graphviz version 99.1.0 (20991231.0000)\n -->\n<svg", 1
    )
    other = image.stamp_svg(printed.encode(), dot_text).decode()
    assert "99.1.0" not in other and 'width="1234pt"' in other
    svg.write_text(other)
    capsys.readouterr()
    assert cli.main(["compile", "--check", str(ROOT / spec), "-o", str(tmp_path)]) == 0
    assert capsys.readouterr().out == ""
    assert cli.main(["compile", str(ROOT / spec), "-o", str(tmp_path)]) == 0
    assert "up to date" in capsys.readouterr().out
    assert svg.read_text() == other  # not rewritten
    # an SVG drawn from other DOT text is stale; so is one edited after it was stamped
    for stale in (
        text.replace("sha256 ", "sha256 0", 1),
        re.sub(r'width="\d+pt"', 'width="1234pt"', text, count=1),
    ):
        svg.write_text(stale)
        assert cli.main(["compile", "--check", str(ROOT / spec), "-o", str(tmp_path)]) == 1
        assert f"would change: {svg}" in capsys.readouterr().out


def test_compile_expand_and_depth_options(tmp_path: Path) -> None:
    from cnnspec import cli

    spec = str(ZOO / "resnet50.yaml")
    net = _graph_net("resnet50")
    for args, kwargs in (
        ([], {}),
        (["--expand"], {"expand": True}),
        (["--depth", "2"], {"depth": 2}),
    ):
        out = tmp_path / "-".join(args or ["default"])
        assert cli.main(["compile", spec, "-o", str(out), *args]) == 0
        assert (out / "resnet50.dot").read_text() == render_dot(net, **kwargs)
    assert cli.build_parser().parse_args(["compile", spec, "--depth", "3"]).diagram_depth == 3
    with pytest.raises(SystemExit):
        cli.build_parser().parse_args(["compile", spec, "--depth", "0"])


def test_unet_is_drawn_as_a_u():
    """Each crop-and-concat sits beside the encoder map it crops (the same rank), to its
    right: the encoder runs down the left, the decoder climbs back up the right, and
    the skip connections run across."""
    net = cnnspec.load(ROOT / "specs" / "unet.yaml")
    plan = graph_plan(net)
    graph = _dot_json(plan.digraph.source)
    pos = {
        o["name"]: tuple(float(v) for v in o["pos"].split(","))
        for o in graph["objects"]
        if "pos" in o
    }
    crops = [n for n in net.nodes if n.kind == "concat" and n.crop == "center"]
    assert len(crops) == 4
    heights = []
    for concat in crops:
        source, merge = plan.drawn[concat.inputs[0]], plan.drawn[concat.id]
        assert pos[merge][1] == pos[source][1], concat.name  # side by side
        assert pos[merge][0] > pos[source][0], concat.name  # the decoder to the right
        heights.append(pos[merge][1])
    # the decoder climbs: cat4 (deepest) lowest, cat1 highest (Graphviz's y grows upward)
    by_level = dict(zip((c.name for c in crops), heights))
    assert by_level["cat4"] < by_level["cat3"] < by_level["cat2"] < by_level["cat1"]


# --------------------------------------------------------------------------- scale


def _wide(n: int, crop: bool = False) -> str:
    """``n`` 1×1 convs of the input, concatenated (cropped to the centre, with ``crop``)."""
    rows = "".join(
        f"  - {{name: b{i}, type: conv, maps: 1, kernel: 1, from: input}}\n" for i in range(n)
    )
    inputs = ", ".join(f"b{i}" for i in range(n))
    extra = ", crop: center" if crop else ""
    return (
        f"name: Wide{n}\ninput: {{maps: 4, size: 8x8}}\nlayers:\n{rows}"
        f"  - {{name: cat, type: concat, from: [{inputs}]{extra}}}\n"
    )


def _stack(n: int) -> str:
    """``n`` residual blocks (conv, add with the block's input, ReLU)."""
    return f"""name: Stack{n}
input: {{maps: 4, size: 8x8}}
blocks:
  Res:
    layers:
      - {{name: conv, type: conv, maps: 4, kernel: 3, padding: 1}}
      - {{name: add, type: add, from: [conv, input]}}
      - {{name: relu, type: relu}}
layers:
  - {{name: blocks, type: Res, repeat: {n}}}
"""


def _dense(n: int) -> str:
    """A dense block of ``n`` layers: each concatenates its input and a conv of it, so
    the folded copies see ``n`` different input widths."""
    return f"""name: Dense{n}
input: {{maps: 4, size: 8x8}}
blocks:
  Layer:
    layers:
      - {{name: conv, type: conv, maps: 2, kernel: 3, padding: 1}}
      - {{name: cat, type: concat, from: [input, conv]}}
layers:
  - {{name: layers, type: Layer, repeat: {n}}}
"""


def _chain(n: int) -> str:
    """A chain of ``n`` ReLU + pool pairs after one conv and pool: one long loose stage."""
    body = "  - {type: relu}\n  - {type: maxpool, kernel: 1, stride: 1}\n" * n
    return (
        "name: Pools\ninput: {maps: 3, size: 8x8}\nlayers:\n"
        "  - {type: conv, maps: 4, kernel: 1}\n  - {type: maxpool, kernel: 1, stride: 1}\n" + body
    )


def _work(fn) -> int:
    """The lines of the diagram package and of graphviz that ``fn()`` runs: the work it
    does, counted (the same on every machine and under any load), not timed."""
    roots = (str(Path(diagram.__file__).parent), str(Path(graphviz.__file__).parent))
    lines = 0

    def count(frame, event, arg):
        nonlocal lines
        if event == "line":
            lines += 1
        return count

    def enter(frame, event, arg):
        return count if frame.f_code.co_filename.startswith(roots) else None

    before = sys.gettrace()
    sys.settrace(enter)
    try:
        fn()
    finally:
        sys.settrace(before)
    return lines


SCALE_CASES = {
    "wide-concat": (_wide, {}),
    "wide-crop-concat": (lambda n: _wide(n, crop=True), {}),
    "residual-stack": (_stack, {}),
    "residual-stack-expanded": (_stack, {"expand": True}),
    "dense-block": (_dense, {}),
    "chain-of-pools": (_chain, {}),
}


@pytest.mark.parametrize("case", sorted(SCALE_CASES))
def test_diagram_work_grows_linearly(case: str) -> None:
    """Twice the branches, blocks or rows, twice the work (a quadratic step — a search
    per pair of branches, say — would make it four times): the diagram of a 10,000-wide
    concat or a 5,000-block stack takes seconds, as its check does, not minutes."""
    make, kwargs = SCALE_CASES[case]
    sizes = (200, 400, 800)
    nets = [cnnspec.loads(make(n)) for n in sizes]
    work = [_work(lambda net=net: render_dot(net, **kwargs)) for net in nets]
    ratios = [big / small for small, big in zip(work, work[1:])]
    assert all(1.8 < r < 2.2 for r in ratios), (work, ratios)


def test_subgraphs_never_copy_their_parent(monkeypatch: pytest.MonkeyPatch) -> None:
    """graphviz's ``with g.subgraph(name=…)`` copies all of ``g``'s lines so far, so n
    clusters would cost n²: the diagram builds each subgraph on its own and adds it whole."""
    calls: list[bool] = []
    real = graphviz.Digraph.subgraph

    def subgraph(self, graph=None, **kwargs):
        calls.append(graph is None)
        return real(self, graph, **kwargs)

    monkeypatch.setattr(graphviz.Digraph, "subgraph", subgraph)
    render_dot(_net(ROOT / "specs" / "vgg16.yaml"))
    render_dot(cnnspec.load(ROOT / "specs" / "unet.yaml"))
    render_dot(_graph_net("resnet18"), expand=True)
    assert calls and not any(calls)
