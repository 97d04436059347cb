"""Stage 1, the loader: YAML text → data plus the 1-based position of every key and value."""

from __future__ import annotations

import pytest

from cnnspec.frontend.load import MAX_DEPTH, MAX_NODES, decode, load_text


def load_ok(text: str):
    doc, problems = load_text(text)
    assert problems == [], problems
    return doc


def load_bad(text: str):
    doc, problems = load_text(text)
    assert doc is None
    assert len(problems) == 1
    return problems[0]


SPEC = """\
name: LeNet5
input: {maps: 1, size: 32×32}
layers:
  - {type: conv, kernel: 5×5, maps: 6}
  - type: maxpool
    kernel: 2
"""


def test_positions_of_keys_and_values_are_one_based():
    doc = load_ok(SPEC)
    assert doc.data["layers"][1] == {"type": "maxpool", "kernel": 2}
    assert (doc.key_pos[("name",)].line, doc.key_pos[("name",)].col) == (1, 1)
    assert (doc.value_pos[("name",)].line, doc.value_pos[("name",)].col) == (1, 7)
    assert doc.value_pos[("layers", 0)] == doc.pos(("layers", 0))
    assert (doc.value_pos[("layers", 0)].line, doc.value_pos[("layers", 0)].col) == (4, 5)
    assert (
        doc.key_pos[("layers", 1, "kernel")].line,
        doc.key_pos[("layers", 1, "kernel")].col,
    ) == (
        6,
        5,
    )
    assert (
        doc.value_pos[("layers", 1, "kernel")].line,
        doc.value_pos[("layers", 1, "kernel")].col,
    ) == (
        6,
        13,
    )


def test_columns_count_characters_not_bytes():
    """'×' is two bytes in UTF-8; the column after it is still one character on."""
    doc = load_ok(SPEC)
    # "  - {type: conv, kernel: 5×5, maps: 6}": 'maps' is the 31st character
    assert doc.key_pos[("layers", 0, "maps")].col == 31
    assert doc.value_pos[("layers", 0, "maps")].col == 37
    # "input: {maps: 1, size: 32×32}"
    assert doc.value_pos[("input", "size")].col == 24


def test_nearest_located_ancestor():
    doc = load_ok(SPEC)
    assert doc.pos(("layers", 0, "stride")) == doc.value_pos[("layers", 0)]
    assert doc.pos(("nothing",)) == doc.value_pos[()]


def test_a_byte_order_mark_is_skipped():
    text, problems = decode("\ufeffname: A\n".encode())
    assert problems == [] and text == "name: A\n"


def test_yaml_1_1_booleans_remember_their_text():
    doc = load_ok("name: no\nbias: True\nquoted: 'yes'\n")
    assert doc.data == {"name": False, "bias": True, "quoted": "yes"}
    assert doc.raw[("name",)] == "no"


def test_scalars_keep_their_five_kinds():
    doc = load_ok("a: 1\nb: 1.5\nc: ~\nd: text\ne: '7'\nf: -0\ng: 1_000\n")
    assert doc.data == {"a": 1, "b": 1.5, "c": None, "d": "text", "e": "7", "f": 0, "g": 1000}


@pytest.mark.parametrize(
    "text, code, line, col, words",
    [
        ("a: 1\nb: 2\na: 3\n", "duplicate-key", 3, 1, "duplicate key 'a' (first given at line 1)"),
        ("x: {k: 1, k: 2}\n", "duplicate-key", 1, 11, "duplicate key 'k'"),
        ("a: [1, 2\nb: 3\n", "yaml-syntax", 2, 2, "did not find expected ',' or ']'"),
        ("a: {b: 1\n", "yaml-syntax", 2, 1, "did not find expected ',' or '}'"),
        ("a:\n\tb: 1\n", "yaml-syntax", 2, 1, "tab character"),
        ("a: 1\n---\nb: 2\n", "yaml-documents", 2, 1, "more than one YAML document"),
        ("", "empty", 1, 1, "empty"),
        ("# only a comment\n", "empty", 1, 1, "empty"),
        ("a: b\x00\n", "encoding", 1, 5, "U+0000"),
        ("a: \x07\n", "encoding", 1, 4, "U+0007"),
        ("a: &x [1]\nb: *y\n", "yaml-syntax", 2, 4, "unknown alias *y"),
        ("a: !!python/object:os.system x\n", "yaml-tag", 1, 4, "!!python/object:os.system"),
        ("a: !!python/name:os.system\n", "yaml-tag", 1, 4, "unsupported YAML tag"),
        ("a: !!set {x, y}\n", "yaml-tag", 1, 4, "!!set"),
        ("a: !!omap [b: 1]\n", "yaml-tag", 1, 4, "!!omap"),
        ("a: !!binary aGk=\n", "yaml-tag", 1, 4, "!!binary"),
        ("a: !local x\n", "yaml-tag", 1, 4, "!local"),
        ("a: 2024-01-01\n", "yaml-type", 1, 4, "as a date"),
        ("a: 2024-01-01 10:00:00\n", "yaml-type", 1, 4, "as a date"),
        ("a: 010\n", "yaml-number", 1, 4, "octal number in YAML 1.1 (= 8)"),
        ("a: 1:20\n", "yaml-number", 1, 4, "base-60 number in YAML 1.1 (= 80)"),
        ("a: 1:20.5\n", "yaml-number", 1, 4, "base-60"),
        ("a: 0x1F\n", "yaml-number", 1, 4, "hexadecimal"),
        ("a: 0b101\n", "yaml-number", 1, 4, "binary"),
        ("a: " + "9" * 5000 + "\n", "yaml-number", 1, 4, "5,000 digits"),
        ("a: !!int x\n", "yaml-number", 1, 4, "not a decimal number"),
        ("a: !!float x\n", "yaml-number", 1, 4, "tagged !!float"),
        ("a: !!bool x\n", "yaml-type", 1, 4, "tagged !!bool"),
        ("base: &b {x: 1}\nc: {<<: *b}\n", "yaml-key", 2, 5, "merge keys"),
        ("? [a, b]\n: 1\n", "yaml-key", 1, 3, "not a collection"),
        ("a: &k x\n*k : 1\n", "yaml-key", 2, 1, "not an alias"),
        ("a: " + "[" * 100 + "]" * 100 + "\n", "too-deep", 1, 4 + MAX_DEPTH - 1, "deeper than 64"),
        ("a: " + "[" * 5000 + "]" * 5000 + "\n", "too-deep", 1, 1003, "deeper than 64"),
    ],
)
def test_malformed_yaml(text, code, line, col, words):
    d = load_bad(text)
    assert (d.code, d.pos.line, d.pos.col) == (code, line, col), d
    assert words in d.message


def test_invalid_utf8_is_located():
    text, problems = decode(b"a: 1\nb: caf\xe9\n")
    assert text is None
    [d] = problems
    assert (d.code, d.pos.line, d.pos.col) == ("encoding", 2, 7)
    assert "0xe9" in d.message


def test_alias_bomb_is_stopped_by_the_node_count():
    lines = ['a: &a ["x","x","x","x","x","x","x","x","x"]']
    for prev, name in zip("abcdefgh", "bcdefghi"):
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    d = load_bad("\n".join(lines) + "\n")
    assert d.code == "too-large"
    assert f"{MAX_NODES:,}" in d.message


def test_aliases_within_the_limits_expand():
    doc = load_ok("a: &r {type: relu}\nlayers: [*r, *r]\n")
    assert doc.data["layers"] == [{"type": "relu"}, {"type": "relu"}]
