"""(f) in-process: ``cnnspec.loads`` against building the network on PyTorch's meta device.

The strongest peer for "what shapes does this network produce, and how big is it" is
PyTorch itself: instantiate the model under ``torch.device("meta")`` (no memory, no
initialisation arithmetic) and run a meta forward on 1×3×224×224. Both sides run in this
process, interleaved (A B, B A, …), medians compared.

- cnnspec: ``cnnspec.loads(text, source=path)``, the spec's text read once beforehand;
  files named by ``include:`` are read inside the timing (as ``cnnspec.load`` reads them).
  cnnspec's memo caches (``functools.lru_cache``) are emptied before each call, outside the
  timing, so no sample starts from the previous sample's answers.

Both sides run with the garbage collector collected before and off during the timed call.
- meta: ``with torch.device("meta"): model = Ref(); model(torch.empty(1, 3, 224, 224))``
  under ``torch.no_grad()``, with the hand-written classes in ``tests/reference/``.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import sys
import time
from collections.abc import Iterator

from .harness import ROOT, Row, clear_caches, interleave, median, seconds, yes

#: spec, module under tests/reference, the factory the module exports, a name for the row
CASES = (
    ("specs/vgg16.yaml", "vgg16", "VGG16", "vgg16"),
    ("specs/zoo/resnet50.yaml", "resnet", "resnet50", "zoo/resnet50"),
    ("specs/zoo/googlenet.yaml", "googlenet", "googlenet", "zoo/googlenet"),
    ("specs/zoo/densenet121.yaml", "densenet", "densenet121", "zoo/densenet121"),
)
TARGET = 20.0
INPUT = (1, 3, 224, 224)


@contextlib.contextmanager
def _collector_off() -> Iterator[None]:
    """The garbage collector collected before, and off during, a timed call (both sides).

    With torch imported the heap holds some 165,000 objects, and a collection the call's own
    allocations trigger walks them all: that is the host process's cost, not the call's
    (``cnnspec check`` runs with the collector off, ``cnnspec.cli.run``)."""
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def meta_device(repeats: int, warmup: int) -> list[Row]:
    import torch

    import cnnspec

    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    rows = []
    for spec, module, factory, name in CASES:
        path = ROOT / spec
        text = path.read_bytes()
        source = str(path)  # include: paths resolve from the spec's directory
        make = getattr(importlib.import_module(f"tests.reference.{module}"), factory)

        def ours(text=text, source=source) -> float:
            clear_caches()
            with _collector_off():
                start = time.perf_counter()
                net = cnnspec.loads(text, source=source)
                took = time.perf_counter() - start
            assert net.output_shape == (1000,), net.output_shape
            return took

        def meta(make=make) -> float:
            with _collector_off():
                start = time.perf_counter()
                with torch.device("meta"), torch.no_grad():
                    model = make()
                    out = model(torch.empty(INPUT))
                took = time.perf_counter() - start
            assert tuple(out.shape) == (1, 1000), out.shape
            return took

        samples = interleave({"cnnspec": ours, "meta": meta}, repeats=repeats, warmup=warmup)
        a, b = median(samples["cnnspec"]), median(samples["meta"])
        speedup = b / a
        rows.append(
            Row(
                f"f. `cnnspec.loads` {name} vs meta-device build + forward",
                seconds(a),
                seconds(b),
                f"{speedup:.1f}× faster",
                f"≥ {TARGET:g}× faster",
                yes(speedup >= TARGET),
            )
        )
    return rows
