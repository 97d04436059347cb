"""How values are written: numbers in ASCII digits only, null never standing for an absent
key, the documented spellings of kernels and 'same', and the limits on dilations and groups."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from spec_text import report, spec

import cnnspec

ROOT = Path(__file__).resolve().parents[2]


def test_nothing_quoted_is_not_told_to_remove_quotes():
    [line] = report(spec("{type: conv, maps: ４, kernel: 3}"))
    assert "remove the quotes" not in line
    assert line.endswith(
        "'maps': expected an integer, got the string '４' (FULLWIDTH DIGIT FOUR is not one of "
        "the digits 0–9; write '4') [type]"
    )


FOREIGN = ["３", "٣", "३"]  # full-width, Arabic-Indic, Devanagari


@pytest.mark.parametrize("digit", FOREIGN)
@pytest.mark.parametrize(
    "where",
    [
        "input size",
        "input maps",
        "conv maps",
        "conv kernel",
        "conv size",
        "conv stride",
        "pool padding",
        "repeat",
        "table cell",
    ],
)
def test_numbers_are_written_with_ascii_digits_everywhere(where, digit):
    """`size: ８x٨` and a table cell `３` were read as numbers; `maps: ４` was not."""
    d = digit
    texts = {
        "input size": spec("{type: relu}", input=f"{{maps: 3, size: {d}x{d}}}"),
        "input maps": spec("{type: relu}", input=f"{{maps: {d}, size: 5x5}}"),
        "conv maps": spec(f"{{type: conv, maps: {d}, kernel: 3}}"),
        "conv kernel": spec(f"{{type: conv, maps: 2, kernel: {d}x{d}}}"),
        "conv size": spec(f"{{type: conv, maps: 2, kernel: 3, size: {d}}}"),
        "conv stride": spec(f"{{type: conv, maps: 2, kernel: 3, stride: {d}}}"),
        "pool padding": spec(f"{{type: maxpool, kernel: 3, padding: [{d}, 1]}}"),
        "repeat": spec(f"{{type: relu, repeat: {d}}}"),
        "table cell": (
            f"name: N\ntable: |\n  type maps size kernel\n  image 3 5x5 -\n  conv {d} - 3\n"
        ),
    }
    lines = report(texts[where])
    assert len(lines) == 1, lines
    assert "is not one of the digits 0–9; write '" in lines[0], lines


@pytest.mark.parametrize(
    "row",
    [
        "{type: conv, maps: 2, kernel: 3, padding: null}",
        "{type: conv, maps: 2, kernel: 3, size: ~}",
        "{type: conv, maps: 2, kernel: 3, activation: ~}",
        "{type: conv, maps: 2, kernel: 3, name: ~}",
        "{type: maxpool, kernel: 3, maps: ~}",
        "{type: maxpool, kernel: 3, stride: null}",
        "{type: batchnorm, maps: ~}",
        "{type: fc, size: 2, activation: null}",
    ],
)
def test_null_is_an_error_for_every_key(row):
    """`padding: null` was accepted (as absent) while `maps: ~` on a conv was an error."""
    [line] = report(spec(row))
    assert "got nothing (null); to leave it unset, leave the key out" in line


def test_null_at_the_top_level_too():
    lines = report("name: N\ntitle: ~\ninput: {maps: 1, size: 4x4}\nlayers:\n  - {type: relu}\n")
    assert lines == [
        "t.yaml:2:8: error: 'title': expected a value, got nothing (null); to leave it unset, "
        "leave the key out [value]"
    ]


@pytest.mark.parametrize("p", ["-0.0", "0", "-0"])
def test_dropout_zero_is_zero(p):
    net = cnnspec.loads(spec(f"{{type: dropout, p: {p}}}"))
    value = net.nodes[0].p
    assert value == 0.0 and isinstance(value, float) and math.copysign(1.0, value) == 1.0
    assert "nn.Dropout(p=0.0)" in cnnspec.torch_source(net)


@pytest.mark.parametrize("kernel", ["3x3", "3×3", "3X3", "3*3", "' 3 x 3 '", "[3, 3]", "3"])
@pytest.mark.parametrize("padding", ["same", "SAME", "Same"])
def test_documented_spellings(kernel, padding):
    net = cnnspec.loads(spec(f"{{type: conv, maps: 2, kernel: {kernel}, padding: {padding}}}"))
    assert net.nodes[0].kernel == (3, 3) and net.nodes[0].padding_same
    docs = (ROOT / "docs" / "spec-format.md").read_text(encoding="utf-8")
    assert "`5X5`" in docs and "`5*5`" in docs and "case-insensitive" in docs


def test_dilation_and_groups_limits_are_applied_and_documented():
    [line] = report(spec("{type: conv, maps: 2, kernel: 3, dilation: 100001}"))
    assert "beyond the limit of 100,000" in line
    [line] = report(spec("{type: conv, maps: 2, kernel: 3, groups: 1000001}"))
    assert "beyond the limit of 1,000,000" in line
    docs = (ROOT / "docs" / "spec-format.md").read_text(encoding="utf-8")
    limits = docs[docs.index("Limits (each is a diagnostic") :].split("\n\n")[0]
    assert "dilations" in limits and "`groups`" in limits and "inferred" in limits
