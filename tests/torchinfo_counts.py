"""cnnspec's MACs converted to what torchinfo reports, where the two count differently
by design (docs/spec-format.md: Counting conventions, Modern rows)."""

from __future__ import annotations

import math

import cnnspec


def torchinfo_macs(net: cnnspec.Network) -> int:
    """What torchinfo reports: cnnspec's MACs, but a transposed convolution's weights
    counted at every output position instead of every input position, an fc over
    channels-last data (H×W×C) counted once instead of at each of its H·W positions, and
    a layer scale not at all (docs/spec-format.md: Counting conventions, Modern rows)."""
    extra = 0
    for node in net.layers:
        if node.kind == "deconv":
            weights = node.in_maps * node.out_maps // node.groups * math.prod(node.kernel)
            extra += weights * (math.prod(node.output_shape[1:]) - math.prod(node.input_shape[1:]))
        if node.kind == "fc" and len(node.input_shape) == 3:
            extra -= node.params * (math.prod(node.input_shape[:-1]) - 1)
    # a layer scale: torchinfo counts no MACs for a parameter not named weight or bias
    extra -= sum(n.macs for n in net.nodes if n.state is not None)
    return net.macs + extra
