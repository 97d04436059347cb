"""The Graphviz diagram: golden DOT text, what `dot` makes of it, and escaping.

Re-bless the golden files after an intended change::

    CNNSPEC_BLESS=1 .venv/bin/python -m pytest tests/test_diagram.py -q
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import graphviz
import pytest

import cnnspec
from cnnspec.backends import diagram
from cnnspec.backends import format as fmt
from cnnspec.backends.diagram import render_dot, render_image

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = Path(__file__).resolve().parent / "golden_dot"
SEEDS = sorted((ROOT / "specs").glob("*.yaml"))
ALL_SPECS = SEEDS + sorted((ROOT / "specs" / "zoo").glob("*.yaml"))
BLESS = os.environ.get("CNNSPEC_BLESS") == "1"

GOLDEN_CASES = [(spec, False) for spec in SEEDS] + [(ROOT / "specs" / "vgg16.yaml", True)]


def _golden_name(spec: Path, collapse: bool) -> str:
    return f"{spec.stem}{'.collapse' if collapse else ''}.dot"


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


# --------------------------------------------------------------------------- golden files


@pytest.mark.parametrize(
    ("spec", "collapse"),
    GOLDEN_CASES,
    ids=[_golden_name(s, c) for s, c in GOLDEN_CASES],
)
def test_dot_matches_golden(spec: Path, collapse: bool) -> None:
    text = render_dot(_net(spec), collapse=collapse)
    golden = GOLDEN / _golden_name(spec, collapse)
    if BLESS:
        GOLDEN.mkdir(exist_ok=True)
        golden.write_text(text, encoding="utf-8", newline="\n")
    assert golden.exists(), f"no golden file {golden}: run with CNNSPEC_BLESS=1"
    expected = golden.read_text(encoding="utf-8")
    if text != expected:
        diff = "".join(
            difflib.unified_diff(
                expected.splitlines(True), text.splitlines(True), str(golden), "render_dot"
            )
        )
        pytest.fail(f"DOT differs from {golden.name} (CNNSPEC_BLESS=1 re-blesses):\n{diff}")


def test_dot_is_the_same_in_a_fresh_interpreter() -> None:
    """Byte-identical across runs: no hash order, ids or timestamps leak in."""
    code = (
        "import sys, cnnspec; from cnnspec.backends.diagram import render_dot; "
        "sys.stdout.buffer.write(render_dot(cnnspec.load('specs/vgg16.yaml'), collapse=True)"
        ".encode())"
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
    here = render_dot(_net(ROOT / "specs" / "vgg16.yaml"), collapse=True).encode()
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
        for g in diagram.groups(_net(ROOT / "specs" / f"{stem}.yaml"))
        if g.kind == "stage"
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


@pytest.mark.parametrize("spec", SEEDS, ids=[s.stem for s in SEEDS])
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
    root = ET.fromstring(svg)
    width = float(root.get("width").removesuffix("pt"))
    height = float(root.get("height").removesuffix("pt"))
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
    monkeypatch.setattr(diagram.shutil, "which", lambda name: None)
    assert render_image("digraph { a }", "png") is None


def test_render_image_reports_a_dot_failure() -> None:
    with pytest.raises(diagram.RenderError, match="dot -Tsvg failed"):
        render_image("digraph { a -> }", "svg")


def test_render_image_png() -> None:
    png = render_image(render_dot(_net(ROOT / "specs" / "lenet5.yaml")), "png")
    assert png[:8] == b"\x89PNG\r\n\x1a\n"


def test_compile_without_dot_writes_dot_and_warns_once(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from cnnspec import cli

    monkeypatch.setattr(diagram.shutil, "which", lambda name: None)
    specs = [str(ROOT / "specs" / "lenet5.yaml"), str(ROOT / "specs" / "vgg16.yaml")]
    rc = cli.main(["compile", *specs, "-o", str(tmp_path), "--format", "png"])
    err = capsys.readouterr().err
    assert rc == 0, err
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "lenet5.dot",
        "lenet5.py",
        "vgg16.dot",
        "vgg16.py",
    ]
    assert (tmp_path / "vgg16.dot").read_text() == render_dot(_net(ROOT / "specs" / "vgg16.yaml"))
    warnings = [line for line in err.splitlines() if "Graphviz" in line]
    assert len(warnings) == 1 and "install Graphviz" in warnings[0], err


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
