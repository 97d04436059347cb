"""(d) forward latency: each generated seed model against its hand-written reference.

Both models hold the same weights (the generated ``state_dict`` copied into the
reference by order), run on the CPU in eval mode under ``torch.inference_mode``,
with a fixed thread count.

Two kinds of noise, two remedies:

- Load from other processes on a shared machine: samples alternate A B, B A, …,
  and the ratio is the median of the pairs' ratios, each pair run back to back.
- Where a model's weights happen to lie in memory: a memory-bound layer (the
  book's LeNet reads a 184 MB fc1 weight for one image) runs a few percent faster
  or slower from one instantiation to the next, whichever code built it. So the
  pairs are spread over several rounds, each with freshly built models, built in
  alternating order.
"""

from __future__ import annotations

import gc
import importlib
import sys
import time
from dataclasses import dataclass, field

from .harness import ROOT, Row, interleave, median, seconds, yes

#: spec stem, module under tests/reference, class name
SEEDS = (
    ("lenet5", "lenet5", "LeNet5"),
    ("alexnet", "alexnet", "AlexNet"),
    ("vgg16", "vgg16", "VGG16"),
    ("lenet_code611", "lenet_code611", "LeNet"),
)
BATCHES = (1, 8)
TOLERANCE = 0.03
TARGET = f"1.00 ± {TOLERANCE:.2f}"


@dataclass(frozen=True)
class Plan:
    """How hard to sample one row (model, batch)."""

    rounds: int  # fresh instantiations of both models
    warmup: int  # forwards per model and round before timing (the first checks outputs)
    sample_s: float  # a sample repeats the forward until it lasts about this long
    budget_s: float  # the pairs of samples for one row, all rounds together, take about this
    min_pairs: int  # per round
    max_pairs: int  # per round
    #: a forward slower than this is timed in the first round only, with the whole budget
    #: (VGG16 at batch 8 takes seconds, is compute-bound and unmoved by where its weights lie)
    heavy_s: float


FULL = Plan(rounds=3, warmup=2, sample_s=0.2, budget_s=12.0, min_pairs=2, max_pairs=10, heavy_s=1.0)
QUICK = Plan(rounds=1, warmup=1, sample_s=0.0, budget_s=0.0, min_pairs=1, max_pairs=1, heavy_s=1.0)


@dataclass
class Samples:
    generated: list[float] = field(default_factory=list)
    reference: list[float] = field(default_factory=list)
    problem: str | None = None
    heavy: bool = False

    def row(self, label: str) -> Row:
        if self.problem:
            return Row.failed(label, TARGET, self.problem)
        # each pair ran back to back, so a pair's ratio is immune to slow changes in load
        ratio = median([g / r for g, r in zip(self.generated, self.reference)])
        return Row(
            label,
            seconds(median(self.generated)),
            seconds(median(self.reference)),
            f"{ratio:.3f}",
            TARGET,
            yes(abs(ratio - 1) <= TOLERANCE),
        )


def copy_weights(src, dst) -> None:
    """Load ``src``'s tensors into ``dst`` by position (names may differ, shapes may not)."""
    values = list(src.state_dict().values())
    target = dst.state_dict()
    shapes = [tuple(v.shape) for v in values], [tuple(v.shape) for v in target.values()]
    if shapes[0] != shapes[1]:
        raise ValueError(f"state_dicts differ: {shapes[0]} vs {shapes[1]}")
    dst.load_state_dict(dict(zip(target.keys(), values)), strict=True)


def _reference_class(module: str, cls: str):
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    return getattr(importlib.import_module(f"tests.reference.{module}"), cls)


def latency(plan: Plan, threads: int) -> list[Row]:
    import torch

    import cnnspec

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    rows: list[Row] = []
    for stem, module, cls in SEEDS:
        labels = [f"d. forward `{stem}`, batch {b}" for b in BATCHES]
        results = {b: Samples() for b in BATCHES}
        try:
            net = cnnspec.load(ROOT / "specs" / f"{stem}.yaml")
            reference_class = _reference_class(module, cls)
            inputs = {b: torch.randn(b, *net.input_shape) for b in BATCHES}
            for round_ in range(plan.rounds):
                if round_ % 2 == 0:
                    generated, reference = cnnspec.build(net), reference_class()
                else:
                    reference, generated = reference_class(), cnnspec.build(net)
                copy_weights(generated, reference)
                generated.eval()
                reference.eval()
                with torch.inference_mode():
                    for batch in BATCHES:
                        _measure(generated, reference, inputs[batch], plan, results[batch], round_)
                del generated, reference
                gc.collect()
        except Exception as exc:  # noqa: BLE001 - a row says what failed; the others still run
            rows += [Row.failed(label, TARGET, f"{type(exc).__name__}: {exc}") for label in labels]
            continue
        rows += [results[b].row(label) for label, b in zip(labels, BATCHES)]
    return rows


def _measure(generated, reference, x, plan: Plan, into: Samples, round_: int) -> None:
    import torch

    if into.problem or (round_ > 0 and into.heavy):
        return
    start = time.perf_counter()
    out_ref = reference(x)
    once = time.perf_counter() - start
    out_gen = generated(x)
    if not torch.allclose(out_gen, out_ref, rtol=1e-5, atol=1e-6):
        diff = (out_gen - out_ref).abs().max().item()
        into.problem = f"outputs differ (max |Δ| = {diff:.3g})"
        return
    into.heavy = once > plan.heavy_s
    if not into.heavy:
        for _ in range(plan.warmup - 1):
            generated(x)
            reference(x)

    calls = max(1, round(plan.sample_s / once))
    budget = plan.budget_s if into.heavy else plan.budget_s / plan.rounds
    pairs = min(plan.max_pairs, max(plan.min_pairs, int(budget / (2 * calls * once))))

    def sample(model) -> float:
        start = time.perf_counter()
        for _ in range(calls):
            model(x)
        return (time.perf_counter() - start) / calls

    samples = interleave(
        {"generated": lambda: sample(generated), "reference": lambda: sample(reference)},
        repeats=pairs,
        warmup=0,
    )
    into.generated += samples["generated"]
    into.reference += samples["reference"]
