"""One mistake, one diagnostic: after a wrong row the walk carries on with what PyTorch
computes, so the rows after it, right for that, draw none."""

from __future__ import annotations

import pytest
from spec_text import report, spec


@pytest.mark.parametrize(
    "first",
    [
        "{type: conv, maps: 4, kernel: 3, padding: 0, size: 30}",  # [size-mismatch]: 28 is right
        "{type: conv, maps: 4, kernel: 3, size: 40}",  # [no-padding]
        "{type: conv, maps: 4, kernel: 40, size: 28}",  # [kernel-too-large]
    ],
    ids=["size-mismatch", "no-padding", "kernel-too-large"],
)
def test_one_wrong_row_is_one_diagnostic(first):
    """The rows after it are right for 28×28 (what the first row should give): before,
    the declared 30 or 40 was carried on, and each row after drew an error too."""
    lines = report(
        spec(
            first,
            "{type: maxpool, kernel: 2, size: 14}",
            "{type: conv, maps: 8, kernel: 5, padding: 0, size: 10}",
            "{type: fc, size: 10}",
            input="{maps: 3, size: 30x30}",
        )
    )
    assert len(lines) == 1, lines
    assert lines[0].startswith("t.yaml:4:")


def test_after_a_size_mismatch_the_walk_carries_what_pytorch_computes():
    lines = report(
        spec(
            "{type: conv, maps: 4, kernel: 3, padding: 0, size: 4}",
            "{type: conv, maps: 4, kernel: 3, padding: 0, size: 2}",  # wrong for 3: 1
            input="{maps: 3, size: 5x5}",
        )
    )
    assert [line.split(": ", 3)[3] for line in lines] == [
        "(5 − 3 + 2·0)/1 + 1 = 3, but the row declares 4×4 [size-mismatch]",
        "(3 − 3 + 2·0)/1 + 1 = 1, but the row declares 2×2 [size-mismatch]",
    ]


def test_a_late_image_row_is_one_diagnostic():
    lines = report("name: N\ntable: |\n  type maps size kernel\n  conv 2 - 3\n  image 1 8x8 -\n")
    assert lines == [
        "t.yaml:5:3: error: an image row stands for 'input:', so it must be the table's "
        "first row [table]"
    ]
