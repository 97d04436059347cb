"""A mutation fuzzer over the seed specs: the only outcomes allowed are a checked
network (whose summaries and PyTorch source render) or a SpecError whose every
diagnostic has a position and a code. Anything else — a traceback, a hang — is a bug.

Examples: about 200 in all locally; with CI=true about 3000, derandomized;
CNNSPEC_FUZZ_EXAMPLES=N runs N per fuzz test (and a fresh random seed each run
unless CI=true).
"""

from __future__ import annotations

import ast
import copy
import os
import re
import time
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cnnspec
from cnnspec.backends.summary import RENDERERS
from cnnspec.diagnostics import SpecError

ROOT = Path(__file__).resolve().parents[2]
SEEDS = sorted((ROOT / "specs").glob("*.yaml")) + sorted((ROOT / "specs" / "zoo").glob("*.yaml"))
SEED_TEXT = [p.read_text(encoding="utf-8") for p in SEEDS]
SEED_DATA = [yaml.safe_load(t) for t in SEED_TEXT]
ROWS = [row for data in SEED_DATA for row in data.get("layers", [])]

CI = os.environ.get("CI", "").lower() == "true"
TESTS = 3
#: examples per fuzz test; CNNSPEC_FUZZ_EXAMPLES=20000 for a long hunt
EXAMPLES = int(os.environ.get("CNNSPEC_FUZZ_EXAMPLES", (3000 if CI else 200) // TESTS))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=CI,
    database=None if CI else settings.default.database,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
#: a hang guard, not a speed test (bench/ times cnnspec): a spec takes milliseconds, a
#: hang never ends; generous so that a 2-core machine shared under load never fails it
SECONDS = 30.0

KEYS = [
    "type", "name", "maps", "size", "kernel", "stride", "padding", "dilation", "groups",
    "bias", "activation", "ceil_mode", "p", "repeat", "input", "layers", "table", "title",
    "layout", "kernal", "image",
]  # fmt: skip
WORDS = [
    "5x5", "3×3", "2", "same", "relu", "softmax", "none", "no", "yes", "on", "conv", "fc",
    "maxpool", "flatten", "batchnorm", "adaptive_avgpool", "1e3", "010", "1:20", "0x10",
    "2024-01-01", ".inf", ".nan", "-", "—", "", "~", "forward", "class", "_x", "Ａ", "*a",
    "&a x", "!!set {}", "[1, 2, 3]", "{}", "'6'", "6.0", "true", "99999999999", "-1", "0",
]  # fmt: skip
SCALARS = st.one_of(
    st.integers(-3, 300),
    st.integers(-(10**12), 10**12),
    st.floats(allow_nan=True, allow_infinity=True, width=32),
    st.booleans(),
    st.none(),
    st.sampled_from(WORDS),
    st.text(max_size=8),
)
VALUES = st.one_of(
    SCALARS,
    st.lists(st.integers(-2, 40), max_size=3),
    st.dictionaries(st.sampled_from(KEYS), st.integers(0, 9), max_size=2),
)
BYTES = [
    b"\t", b"\x00", b"\xff", b"\xc3", b"{", b"}", b"[", b"]", b":", b"&a ", b"*a", b"!!", b"\n",
    b"- ", b"#", b"'", b'"', "×".encode(), b"\r", b"---\n", b"|", b">", b"%", b" ",
]  # fmt: skip


def outcome(data: bytes) -> None:
    """The fuzzing oracle."""
    start = time.perf_counter()
    try:
        net = cnnspec.loads(data, source="fuzz.yaml")
    except SpecError as exc:
        assert time.perf_counter() - start < SECONDS
        assert exc.errors, "a SpecError without an error"
        lines = data.count(b"\n") + 2
        for d in exc.diagnostics:
            assert d.pos is not None, d
            assert 1 <= d.pos.line <= lines and d.pos.col >= 1, d
            assert re.fullmatch(r"[a-z][a-z0-9-]*", d.code), d
            assert "\n" not in d.format("fuzz.yaml"), d
        return
    assert time.perf_counter() - start < SECONDS
    assert net.params == sum(n.params for n in net.nodes)
    assert all(v >= 1 for n in net.nodes for v in n.output_shape)
    for render in RENDERERS.values():
        assert isinstance(render(net), str)
    try:  # the torch backend is a colleague's; it must not import torch
        from cnnspec.backends.torch import render_torch
    except ImportError:  # pragma: no cover
        return
    ast.parse(render_torch(net))


# --------------------------------------------------------------------------- structured


def _paths(node, path=()):
    yield path
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _paths(v, path + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _paths(v, path + (i,))


def _get(node, path):
    for part in path:
        node = node[part]
    return node


def _mutate(draw, data):
    paths = list(_paths(data))
    path = draw(st.sampled_from(paths))
    op = draw(st.sampled_from(["drop", "retype", "perturb", "add", "splice", "remove", "swap"]))
    parent = _get(data, path[:-1]) if path else None
    layers = data.get("layers") if isinstance(data, dict) else None
    if op == "drop" and path:
        del parent[path[-1]]
    elif op == "retype" and path:
        parent[path[-1]] = draw(VALUES)
    elif op == "perturb" and path and isinstance(parent[path[-1]], int):
        value = parent[path[-1]]
        parent[path[-1]] = draw(
            st.sampled_from([value + 1, value - 1, value * 2, value // 2, -value, 0, value * 1000])
        )
    elif op == "add":
        target = _get(data, path)
        if isinstance(target, dict):
            target[draw(st.sampled_from(KEYS))] = draw(VALUES)
    elif op == "splice" and isinstance(layers, list):
        # a deep copy: a later mutation inside the spliced row must not change ROWS, or
        # the next example draws from other rows (hypothesis's FlakyStrategyDefinition)
        layers.insert(draw(st.integers(0, len(layers))), copy.deepcopy(draw(st.sampled_from(ROWS))))
    elif op == "remove" and isinstance(layers, list) and layers:
        layers.pop(draw(st.integers(0, len(layers) - 1)))
    elif op == "swap" and isinstance(layers, list) and len(layers) > 1:
        i, j = draw(st.integers(0, len(layers) - 1)), draw(st.integers(0, len(layers) - 1))
        layers[i], layers[j] = layers[j], layers[i]


@FUZZ
@given(st.data())
def test_fuzz_structured(data):
    seed = data.draw(st.sampled_from(range(len(SEEDS))), label="seed")
    spec = yaml.safe_load(SEED_TEXT[seed])
    for _ in range(data.draw(st.integers(1, 4), label="mutations")):
        _mutate(data.draw, spec)
    flow = data.draw(st.booleans(), label="flow")
    text = yaml.safe_dump(spec, default_flow_style=flow, sort_keys=False, allow_unicode=True)
    outcome(text.encode())


# --------------------------------------------------------------------------- textual


@FUZZ
@given(st.data())
def test_fuzz_text(data):
    """Line- and token-level edits: duplicated keys, spliced rows, YAML 1.1 surprises."""
    seed = data.draw(st.sampled_from(range(len(SEEDS))), label="seed")
    lines = SEED_TEXT[seed].splitlines(keepends=True)
    for _ in range(data.draw(st.integers(1, 4), label="edits")):
        i = data.draw(st.integers(0, max(len(lines) - 1, 0)))
        op = data.draw(st.sampled_from(["dup", "drop", "splice", "token", "number"]))
        if not lines:
            break
        if op == "dup":
            lines.insert(i, lines[i])
        elif op == "drop":
            del lines[i]
        elif op == "splice":
            other = data.draw(st.sampled_from(SEED_TEXT)).splitlines(keepends=True)
            lines.insert(i, data.draw(st.sampled_from(other)))
        else:
            tokens = list(re.finditer(r"\d+" if op == "number" else r"[\w.×-]+", lines[i]))
            if tokens:
                m = data.draw(st.sampled_from(tokens))
                new = str(data.draw(SCALARS if op == "token" else st.integers(-5, 10**6)))
                lines[i] = lines[i][: m.start()] + new + lines[i][m.end() :]
    outcome("".join(lines).encode("utf-8", "surrogatepass"))


@FUZZ
@given(st.data())
def test_fuzz_bytes(data):
    """Corrupted bytes: inserted, replaced or deleted anywhere in the file."""
    seed = data.draw(st.sampled_from(range(len(SEEDS))), label="seed")
    raw = bytearray(SEED_TEXT[seed].encode())
    for _ in range(data.draw(st.integers(1, 6), label="corruptions")):
        at = data.draw(st.integers(0, len(raw)))
        op = data.draw(st.sampled_from(["insert", "replace", "delete"]))
        chunk = data.draw(st.one_of(st.sampled_from(BYTES), st.binary(min_size=1, max_size=3)))
        if op == "insert":
            raw[at:at] = chunk
        elif op == "replace":
            raw[at : at + len(chunk)] = chunk
        else:
            del raw[at : at + data.draw(st.integers(1, 8))]
    outcome(bytes(raw))


@pytest.mark.parametrize("seed", SEEDS, ids=[p.stem for p in SEEDS])
def test_every_seed_passes_the_oracle(seed):
    outcome(seed.read_bytes())
