"""Write tests/reference/torchvision_stochastic_depth.json: every StochasticDepth module's
drop probability in torchvision's EfficientNet and ConvNeXt builders, by module path.

    /work/tvenv/bin/python tools/dump_stochastic_depth.py   # torchvision's environment

(builders called with no weights: the probabilities are the architecture's defaults).
"""

from __future__ import annotations

import json
from pathlib import Path

BUILDERS = [f"efficientnet_b{i}" for i in range(8)] + [
    "efficientnet_v2_s",
    "efficientnet_v2_m",
    "efficientnet_v2_l",
    "convnext_tiny",
    "convnext_small",
    "convnext_base",
    "convnext_large",
]

OUT = (
    Path(__file__).resolve().parent.parent
    / "tests"
    / "reference"
    / "torchvision_stochastic_depth.json"
)


def main() -> None:
    import torchvision
    from torchvision.ops import StochasticDepth

    found = {}
    for name in BUILDERS:
        model = getattr(torchvision.models, name)()
        found[name] = [
            [path, m.p] for path, m in model.named_modules() if isinstance(m, StochasticDepth)
        ]
    header = {
        "produced_by": "tools/dump_stochastic_depth.py under torchvision "
        + torchvision.__version__,
        "what": "[module path, p] of every torchvision.ops.StochasticDepth, in module order",
    }
    OUT.write_text(json.dumps({"about": header, "models": found}, indent=1) + "\n")


if __name__ == "__main__":
    main()
