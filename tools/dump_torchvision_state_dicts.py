"""Write tests/reference/torchvision_state_dicts.json from torchvision itself.

torchvision cannot be imported beside the project's own torch build, so run this
under a separate environment that has torchvision, from the repository root:

    python3 -m venv /tmp/tvenv
    /tmp/tvenv/bin/pip install torch==2.14.1 torchvision==0.29.1
    /tmp/tvenv/bin/python tools/dump_torchvision_state_dicts.py

For each model (weights=None) the fixture records every state_dict entry in
order, buffers included, as [key, shape], and `params`, the sum of numel over
model.parameters(). The output is deterministic.
"""

import json
import sys
from pathlib import Path

import torch
import torchvision
from torchvision import models

MODELS = [
    "vgg11",
    "vgg11_bn",
    "vgg13",
    "vgg13_bn",
    "vgg16",
    "vgg16_bn",
    "vgg19",
    "vgg19_bn",
    "alexnet",
]
ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "reference" / "torchvision_state_dicts.json"


def describe(name: str) -> dict:
    model = getattr(models, name)(weights=None)
    return {
        "params": sum(p.numel() for p in model.parameters()),
        "state_dict": [[key, list(t.shape)] for key, t in model.state_dict().items()],
    }


def render(data: dict) -> str:
    """JSON with one state_dict entry per line: compact, diffable, deterministic."""
    lines = ["{", f'  "source": {json.dumps(data["source"])},', '  "models": {']
    names = list(data["models"])
    for i, name in enumerate(names):
        entry = data["models"][name]
        lines.append(f"    {json.dumps(name)}: {{")
        lines.append(f'      "params": {entry["params"]},')
        lines.append('      "state_dict": [')
        rows = entry["state_dict"]
        for j, row in enumerate(rows):
            comma = "," if j < len(rows) - 1 else ""
            lines.append(f"        {json.dumps(row)}{comma}")
        lines.append("      ]")
        lines.append("    }" + ("," if i < len(names) - 1 else ""))
    lines += ["  }", "}"]
    return "\n".join(lines) + "\n"


def main() -> int:
    data = {
        "source": (
            f"torchvision {torchvision.__version__.split('+')[0]} "
            f"(torch {torch.__version__.split('+')[0]}), "
            "torchvision.models.<name>(weights=None), "
            "by tools/dump_torchvision_state_dicts.py"
        ),
        "models": {name: describe(name) for name in MODELS},
    }
    text = render(data)
    assert json.loads(text) == data
    OUT.write_text(text, encoding="utf-8")
    for name, entry in data["models"].items():
        n = len(entry["state_dict"])
        print(f"{name:10s} {entry['params']:>12,d} params {n:3d} entries")
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
