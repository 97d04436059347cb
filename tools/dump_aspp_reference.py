"""Write tests/reference/aspp_torchvision.json: torchvision's DeepLabV3 ASPP head.

Run with an environment that has torchvision (not the project's):

    /work/tvenv/bin/python tools/dump_aspp_reference.py > tests/reference/aspp_torchvision.json

It records ``deeplabv3_resnet50(weights=None, weights_backbone=None).classifier[0]``:
its state_dict ([key, shape] in order, relative to ``classifier.0.``), its parameter
count, torchinfo's multiply-adds at 2048×28×28 in eval mode, and the output fingerprint
of tests/fingerprint.py's procedure at that input size.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import torch
import torchinfo
import torchvision

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
import fingerprint  # noqa: E402

SHAPE = (2048, 28, 28)


def main() -> None:
    model = torchvision.models.segmentation.deeplabv3_resnet50(weights=None, weights_backbone=None)
    aspp = model.classifier[0].eval()
    stats = torchinfo.summary(aspp, input_size=(1, *SHAPE), verbose=0)
    record = {
        "produced_by": "/work/tvenv/bin/python tools/dump_aspp_reference.py "
        f"(torch {torch.__version__}, torchvision {torchvision.__version__})",
        "constructor": "deeplabv3_resnet50(weights=None, weights_backbone=None).classifier[0]",
        "input_shape": list(SHAPE),
        "params": sum(p.numel() for p in aspp.parameters()),
        "total_mult_adds": stats.total_mult_adds,
        "state_dict": [[k, list(v.shape)] for k, v in aspp.state_dict().items()],
        "fingerprint": fingerprint.fingerprint(aspp, (1, *SHAPE)),
    }
    json.dump(record, sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
