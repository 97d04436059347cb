"""``log`` and ``**`` in block expressions: RegNet's quantized linear widths.

The evaluator's arithmetic is compared with Python's ``math`` (the independent side),
the generated Python source with the evaluator (executed with ``math`` in scope), and
the integer discipline with what a row needs.
"""

from __future__ import annotations

import math

import pytest

from cnnspec import expr as ex

ENV = {"w0": 48, "wa": 27.89, "wm": 2.09, "d": 16, "i": 2, "n": 5}


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("log(8, 2)", math.log(8, 2)),
        ("log($wm)", math.log(2.09)),
        ("log(($w0 + $wa * 3) / $w0) / log($wm)", math.log((48 + 27.89 * 3) / 48) / math.log(2.09)),
        ("2 ** 10", 1024),
        ("$n ** 2", 25),
        ("$n ** 0", 1),
        ("2.0 ** -1", 0.5),
        ("$wm ** $i", 2.09**2),
        ("4 ** 0.5", 2.0),
        ("round($w0 * $wm ** $i / 8) * 8", 208),
        ("-2 ** 2", -4),  # as in Python: the power binds tighter
    ],
)
def test_log_and_power_are_pythons(text, value):
    out = ex.parse(text).evaluate(ENV)
    assert out == value and type(out) is type(value)


def test_the_quantized_widths_of_regnety_400mf():
    # s_j = round(log(u_j / w0) / log(wm)), w_j = round(w0 · wm^s_j / 8) · 8, block by block
    step = ex.parse("round(log(($w0 + $wa * $j) / $w0) / log($wm))")
    width = ex.parse("round($w0 * $wm ** $s / 8) * 8")
    widths = []
    for j in range(16):
        s = step.evaluate({**ENV, "j": j})
        widths.append(width.evaluate({**ENV, "s": s}))
    assert widths == [48] + [104] * 3 + [208] * 6 + [440] * 6


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("log(0)", "log of 0: a logarithm needs a number above 0"),
        ("log($n - 7)", "log of -2: a logarithm needs a number above 0"),
        ("log(8, 1)", "log in base 1: a base is above 0 and not 1"),
        ("log(8, -2)", "log in base -2"),
        ("log(1, 2, 3)", "log() takes 1 to 2 arguments, not 3"),
        ("2 ** -1", "a power of integers needs an exponent of at least 0"),
        ("$n ** 20", "$n ** 20 = 5 ** 20 is beyond the limit of 1,000,000,000,000"),
        ("10 ** 10 ** 10", "beyond the limit"),
        ("2.0 ** 5000", "beyond the limit"),
        ("(-2.0) ** 0.5", "a negative number has no real power of a fraction"),
        ("0.0 ** -1", "division by zero"),
        ("pow(2, 3)", "'pow' is not a function an expression may call"),
    ],
)
def test_what_log_and_power_may_not_do(text, message):
    with pytest.raises(ex.ExprError) as info:
        ex.parse(text).evaluate(ENV)
    assert message in str(info.value)


@pytest.mark.parametrize(
    "text",
    [
        "round($w0 * $wm ** $i / 8) * 8",
        "ceil($w0 * ($wm ** ($i + 0.5) - 1) / $wa)",
        "log($w0, 2) + $n ** 3 // 7",
        "floor(log($d) / log($wm))",
    ],
)
def test_the_generated_source_computes_what_the_evaluator_does(text):
    e = ex.parse(text)
    source = e.python(ENV)
    assert "**" in source or "math.log(" in source
    got = eval(source, {"math": math, "round": round}, dict(ENV))  # noqa: S307 - our own source
    want = e.evaluate(ENV)
    assert got == want and type(got) is type(want)


def test_log_is_a_float_where_a_whole_number_is_needed():
    # log's result is a float, whatever its argument: the generated `/` stays true
    assert ex.parse("log($n) / 2").python({"n": 5}) == "math.log(n) / 2"
    assert ex.parse("$n ** 2 / 5").python({"n": 5}) == "n**2 // 5"
