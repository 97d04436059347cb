"""A paper's printed figures (``params: 138M``, ``macs: 15.5G``) against what cnnspec counts.

A row, or the whole network, may carry the parameter and multiply-accumulate counts
its paper prints. They are compared with the counts of the nodes the row made, at the
printed precision (``1.8e9``: the mantissa's), under the spec's ``printed:`` convention
(units, weights without biases, a relative tolerance), and a disagreement is a warning.
"""

from __future__ import annotations

import math
from typing import Any

from ..diagnostics import Diagnostic
from ..ir import Node
from ..kinds import KINDS
from ..kinds.base import RowContext
from ..spec.values import printed_value


def check_printed(
    convention: Any, row: Any, ctx: RowContext, nodes: list[Node], label: str | None = None
) -> None:
    """Warn where ``row``'s printed params or MACs disagree with the counts of ``nodes``.

    ``label`` names the subject of a network-wide figure (``network 'vgg16'``)."""
    weights = convention is not None and convention.counts == "weights"
    units: dict[str, float] = {
        "": 1,
        "K": convention.K if convention else 1000,
        "M": convention.M if convention else 10**6,
        "G": convention.G if convention else 10**9,
    }
    params = sum(_weights(n) if weights else n.params for n in nodes)
    macs = sum(_weight_macs(n) if weights else n.macs for n in nodes)
    what = "weights" if weights else "params"
    tolerance = convention.tolerance if convention else 0.0
    for key, computed, noun in (("params", params, what), ("macs", macs, "MACs")):
        text = getattr(row, key)
        if text is None:
            continue
        message = _disagreement(text, computed, noun, units, tolerance)
        if message is None:
            continue
        if label is None:
            ctx.warn(message, f"printed-{key}", key)
        else:
            ctx.diagnostics.append(
                Diagnostic("warning", message, f"printed-{key}", ctx.at(key), label)
            )


def _disagreement(
    text: str, computed: int, noun: str, units: dict[str, float], tolerance: float
) -> str | None:
    """The warning for a printed figure ``text`` that ``computed`` does not round to."""
    number, unit = printed_value(text, units)
    mantissa, _, exponent = text.strip().rstrip("KMGkmg ").partition("e")
    mantissa, _, exponent2 = mantissa.partition("E")
    exponent = exponent or exponent2
    if exponent:  # 1.8e9: the printed precision is the mantissa's
        number, unit = float(mantissa), 10.0 ** int(exponent)
    exact = computed / unit
    decimals = len(mantissa.split(".")[1]) if "." in mantissa else 0
    step = 10**-decimals
    truncated = math.floor(exact / step + 1e-9) * step
    rounded = round(exact / step) * step
    if abs(truncated - number) < step / 2 or abs(rounded - number) < step / 2:
        return None
    if tolerance and abs(exact - number) <= tolerance * max(exact, number):
        return None
    suffix = text.strip()[-1].upper() if text.strip()[-1].isalpha() else ""
    if exponent:
        suffix = f"e{int(exponent)}"
    shown = f"{exact:,.{max(decimals, 1)}f}{suffix}" if suffix else f"{computed:,}"
    base = f" ({suffix} = {unit:,.0f})" if suffix and not exponent else ""
    return f"the paper prints {text} {noun}; cnnspec counts {computed:,} = {shown}{base}"


def _weights(node: Node) -> int:
    """The weights papers print (the kind's weight rule: biases aside)."""
    rule = KINDS[node.kind].weights
    return rule(node) if rule is not None else 0


def _weight_macs(node: Node) -> int:
    """Each weight once per output position (H×W for a convolution, once for an fc)."""
    return _weights(node) * math.prod(node.output_shape[1:])
