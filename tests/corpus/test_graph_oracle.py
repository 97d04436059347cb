"""The graph oracle: random graph specs, each against a twin built in plain torch.

tests/graph_oracle.py draws each spec together with nothing of cnnspec's: a separate
interpreter of the spec language (as docs/graphs.md and docs/spec-format.md describe it)
builds the twin from nn.Module subclasses written there, running a real tensor through
every layer, so that torch decides every shape and refuses what it refuses. For every
spec:

- accept/reject: a spec the twin refuses (torch raises, or a documented rule of the
  format) must be rejected, every error located; one the twin builds must be accepted
  (where the docs leave a choice open, a located refusal is allowed too);
- the IR: every module path, its torch class, output shape, params and MACs; every block
  instance and container; the module-less operations; the totals; the [unused] warning;
- ``cnnspec.build(net)`` and the exec'd ``cnnspec.torch_source(net)``: state_dict keys and
  shapes in order, the twin's weights loaded by key (strict), outputs in eval mode equal
  (rtol 1e-4); the source's module is build()'s (repr, keys);
- each generated block class: its defaults are the spec's, and called with them (or other
  values the spec allows) it builds what the twin builds for those arguments;
- now and then torchinfo's params and MACs on the twin.

Counts: ``CNNSPEC_GRAPH_ORACLE_N`` specs (1,000, locally and in CI: about 45 s of CPU,
2 to 3 minutes on a loaded 2-core machine; 20,000 or more on demand), seeds
``CNNSPEC_GRAPH_ORACLE_SEED-0 …``.
``-s`` prints the counts. ``python tests/graph_oracle.py --n 3000 --shrink DIR`` writes a
minimised spec per kind of disagreement; the ones found so far are in
tests/corpus/graph_oracle_repros/ (``python tests/graph_oracle.py --judge FILE`` judges one again).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch
from graph_oracle import (
    IN_MAPS,
    INPUT,
    Block,
    Param,
    Refused,
    Spec,
    Stats,
    Twin,
    draw,
    judge,
    op,
    param,
    parse_spec,
    render,
    run_oracle,
)

# 1,000 keeps CI's share under ~3 minutes on a loaded 2-core machine; more on demand.
N = int(os.environ.get("CNNSPEC_GRAPH_ORACLE_N", 1000))
SEED = os.environ.get("CNNSPEC_GRAPH_ORACLE_SEED", "0")

pytestmark = pytest.mark.filterwarnings(
    "ignore:Using padding='same'", "ignore:Initializing zero-element tensors"
)

#: what the generator must reach in a run of a few hundred specs (the twin's tags)
REACH = (
    "block instance",
    "block in a block",
    "repeat of a block",
    "repeat: $expr",
    "first:",
    "names:",
    "if: true",
    "if: false",
    "from",
    "from: input",
    "add",
    "concat",
    "mul",
    "crop: center",
    "sequential, indexed",
    "sequential, named",
    "indexed block",
    "depthwise conv",
    "grouped conv",
    "deconv",
    "upsample",
    "upsample to the input size",
    "batchnorm",
    "activation:",
    "maxpool",
    "avgpool",
    "adaptive_avgpool",
    "lrn",
    "dropout",
    "repeat of a layer",
    "required param after a default",
    "flatten",
    "fc flattens",
    "split",
    "channel_shuffle",
    "gelu",
    "permute",
    "layernorm",
    "groupnorm",
    "scale",
    "spp",
    "reshape",
    "outputs: tuple",
    "outputs: dict",
)


@pytest.fixture(scope="module")
def stats() -> Stats:
    result = run_oracle(N, SEED)
    print("\n" + result.report())
    missing = [t for t in REACH if not result.tags[t]]
    print(f"[graph oracle] features drawn: {len(REACH) - len(missing)} of {len(REACH)}")
    return result


#: Kinds of disagreement still open, each a known bug with its repro in
#: tests/corpus/graph_oracle_repros/ or seen in random runs and not yet shrunk. Every
#: other kind fails the test; fixing one of these means deleting its entry here.
OPEN: tuple[str, ...] = ()


def _is_open(category: str) -> bool:
    return category.startswith(OPEN)


def test_graph_oracle_agrees_with_torch(stats: Stats) -> None:
    print(
        "[graph oracle] disagreeing specs:",
        stats.disagreeing,
        "by kind:",
        dict(stats.categories),
    )
    shown = []
    for sig, n in stats.signatures.most_common():
        if _is_open(sig[0] if isinstance(sig, tuple) else str(sig)):
            continue
        if len(shown) == 3:
            break
        key, _, v = stats.examples[sig]
        details = "\n".join(f"  {c}: {d}" for c, d in v.findings)
        shown.append(f"{sig} ({n}×); seed {key}, twin {v.twin}:\n{details}\n{v.text}")
    new = {c: n for c, n in stats.categories.items() if not _is_open(c)}
    assert not new, (
        f"{stats.disagreeing} of {stats.drawn} specs disagree, in kinds not known to be open "
        f"({new}); the commonest:\n\n" + "\n\n".join(shown)
    )


def test_graph_oracle_twin_judges_what_it_draws(stats: Stats) -> None:
    assert stats.broken == 0
    assert stats.unsure <= stats.drawn // 20, stats.unsure
    assert stats.both_accept + stats.disagreeing >= stats.drawn // 3
    assert stats.both_reject >= stats.drawn // 20


def test_graph_oracle_reaches_every_feature(stats: Stats) -> None:
    wanted = REACH if stats.drawn >= 200 else REACH[:12]  # a short run: the common ones
    missing = [t for t in wanted if not stats.tags[t]]
    assert not missing, f"{stats.drawn} specs never drew {missing}"


# --------------------------------------------------------------------------- the twin itself


def _residual_spec() -> Spec:
    """ResNet's BasicBlock, written with the oracle's own model (no generator)."""
    m, s = param("m"), param("s")
    block = Block(
        "Basic",
        [Param("m", "int"), Param("s", "int", 1)],
        [
            {"name": "conv1", "type": "conv", "maps": m, "kernel": 3, "stride": s, "padding": 1},
            {"name": "bn1", "type": "batchnorm"},
            {
                "name": "down",
                "type": "sequential",
                "from": INPUT,
                "if": op(op(s, "!=", 1), "or", op(IN_MAPS, "!=", m)),
                "layers": [
                    {"type": "conv", "maps": m, "kernel": 1, "stride": s, "bias": False},
                    {"type": "batchnorm"},
                ],
            },
            {"name": "add", "type": "add", "from": ["bn1", "down"]},
        ],
    )
    layers = [
        {"name": "stem", "type": "conv", "maps": 4, "kernel": 3, "padding": 1},
        {"name": "layer1", "type": "Basic", "m": 4, "repeat": 2, "first": {"s": 2}},
        {"name": "fc", "type": "fc", "size": 3},
    ]
    return Spec("Net", 3, 8, 8, [block], layers)


def test_twin_builds_the_documented_module_tree() -> None:
    twin = Twin(_residual_spec()).run()
    keys = list(twin.module.state_dict())
    assert keys[:2] == ["stem.weight", "stem.bias"]
    assert "layer1.0.down.0.weight" in keys and "layer1.0.down.1.running_mean" in keys
    assert not any(k.startswith("layer1.1.down") for k in keys)  # stride 1: no projection
    assert keys[-2:] == ["fc.weight", "fc.bias"]
    assert twin.leaves["layer1.0.conv1"].shape == (4, 4, 4)
    assert twin.leaves["fc"].params == 4 * 4 * 4 * 3 + 3
    assert twin.groups["layer1"].cls == "Sequential" and twin.groups["layer1.1"].cls == "Basic"
    assert twin.output == (3,)
    y = twin.module.eval()(torch.randn(2, 3, 8, 8))
    assert tuple(y.shape) == (2, 3)


def test_judge_finds_nothing_in_a_spec_cnnspec_gets_right() -> None:
    v = judge(_residual_spec(), torchinfo_check=True)
    assert (v.twin, v.cnnspec, v.findings) == ("accepted", "accepted", [])
    assert "repeat: 2" in v.text and "first: {s: 2}" in v.text


def test_twin_refuses_what_torch_or_the_format_refuses() -> None:
    spec = _residual_spec()
    spec.layers[1]["m"] = 5  # copy 1 adds 5 maps to its 5-map input: fine; the stem has 4
    spec.layers[1].pop("first")
    spec.blocks[0].layers[2].pop("if")
    spec.blocks[0].layers[2]["layers"][0]["maps"] = 6  # the projection makes 6 maps, not 5
    with pytest.raises(Refused, match="add of the shapes") as caught:
        Twin(spec).run()
    assert caught.value.by == "rule"
    v = judge(spec)
    assert (v.twin, v.cnnspec, v.findings) == ("refused", "rejected", [])
    spec = _residual_spec()
    spec.layers[0]["kernel"] = 11  # an 11×11 kernel over a padded 10×10 input
    with pytest.raises(Refused, match="Kernel size") as caught:
        Twin(spec).run()
    assert caught.value.by == "torch"


def test_drawing_is_deterministic() -> None:
    assert render(draw("7-7")) == render(draw("7-7"))
    assert render(draw("7-7")) != render(draw("7-8"))


REPROS = sorted((Path(__file__).parent / "graph_oracle_repros").glob("*.yaml"))


@pytest.mark.parametrize("path", REPROS, ids=[p.stem for p in REPROS])
def test_every_repro_agrees_now(path: Path) -> None:
    """The minimised disagreements found so far stay fixed: the twin and cnnspec agree."""
    v = judge(parse_spec(path.read_text(encoding="utf-8")))
    assert v.findings == [], (v.twin, v.cnnspec, v.findings)
    assert v.twin != "broken"


def test_repro_files_read_back_as_the_oracle_wrote_them() -> None:
    """`--judge FILE` reads a spec back into the oracle's model: the same YAML, the same verdict."""
    for i in range(60):
        spec = draw(f"read-{i}")
        text = render(spec)
        back = parse_spec(text)
        assert render(back) == text
        if i % 20 == 0:
            a, b = judge(spec), judge(back)
            assert (a.twin, a.cnnspec, a.findings) == (b.twin, b.cnnspec, b.findings)
