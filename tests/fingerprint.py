"""A deterministic "output fingerprint" of a model: same weights, same input, compare outputs.

This module must not import torchvision: tools/dump_torchvision_state_dicts.py uses it (in a
separate environment that has torchvision) to record fingerprints of torchvision models, and the
tests use it (with the project's own torch) to fingerprint the generated models. Two models
with the same state_dict keys, shapes and order and the same computation get the same
fingerprint, up to float64 rounding.

The procedure:

* ``fill_(model)`` overwrites every floating-point entry of ``model.state_dict()``, the k-th
  entry (k = 0, 1, 2, ... in state_dict order, buffers included), with a fixed function of
  position, not random numbers. With ``i = arange(numel)`` (int64, laid out in the tensor's
  row-major order), ``q = (i*i) mod 1_000_003`` (exact integer arithmetic) and

      base = sin(0.37*i + 2*pi*q/1_000_003 + 1.3*k + 0.5)    (float64)

  - ndim >= 2 (conv / linear weights): ``sqrt(2) * base / sqrt(numel / shape[0])`` (fan-in
    scaling, so that deep networks neither explode nor vanish);
  - keys ending in ``running_var``: ``1.0 + 0.5*base`` (stays in [0.5, 1.5]);
  - other 1-D keys ending in ``weight`` (norm scales): ``1.0 + 0.1*base``;
  - every other floating tensor (biases, running_mean): ``0.1*base``.

  Integer buffers (``num_batches_tracked``) are left alone.

  Why the chirp term ``2*pi*q/M`` and the gain ``sqrt(2)`` (the procedure as first specified
  had ``base = sin(0.37*i + 1.3*k + 0.5)`` and gain 1): a weight filled with a sinusoid of its
  flat index ``i = o*fan_in + r`` is ``sin(a_o + 0.37*r)``, a matrix of rank 2, so every conv
  and linear layer kept only two directions of its input. Outputs came out as a pure
  sinusoid over the classes (std/mean|y| = 1.11 for every classifier), mobilenet_v2's and
  squeezenet's outputs hardly depended on the input (relative change 1e-6 .. 1e-9 for a
  different input), and moving one feature map by one pixel inside googlenet or deep in
  densenet121 left the fingerprint within rtol=1e-4. In the quadratic phase ``q`` (mod a
  prime M, so the wrap is seamless) the cross term ``2*o*r*fan_in`` couples row and column
  like a discrete Fourier matrix, which makes the weight matrices full rank. The gain:
  ``base`` has RMS 1/sqrt(2) and batch norm in eval mode does not renormalise, so with gain
  1 each conv + ReLU halves the signal's RMS and plain chains (squeezenet, mobilenet_v2)
  lose the input; gain 2 (He) makes residual networks grow to ~1e9 (resnet152), where the
  last layer's bias no longer shows. With ``sqrt(2)``, a one-pixel shift of one leaf
  module's output (first, middle or last layers) and dropping the final bias each changed
  the fingerprint of every model tried by at least 3.7x the tolerance. Networks that gate
  every block (squeeze-and-excitation's sigmoid halves the signal where no residual carries
  it, as in the deeper EfficientNets) still lose the input at sqrt(2): their fixture entry
  records the smallest ``weight_gain`` of 1.5, 1.6, 1.7, 1.8 at which the output depends on
  the input, and the test fills with the same gain.
* ``fixed_input(shape)`` is ``sin(0.01*arange(numel) + 0.1)`` in float64, reshaped.
* ``fingerprint(model, input_shape)`` runs ``model.double().eval()``, ``fill_``, and the
  forward pass on ``fixed_input(input_shape)`` under ``torch.no_grad()``; see its docstring
  for how the output is turned into a list of floats.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence

import torch

INPUT_SHAPE = (1, 3, 224, 224)
# outputs with more values than this are sampled (see fingerprint)
FULL_LIMIT = 2000
SAMPLES = 1000


CHIRP_MODULUS = 1_000_003  # a prime
WEIGHT_GAIN = math.sqrt(2.0)


def _base(numel: int, k: int) -> torch.Tensor:
    """``sin(0.37*i + 2*pi*((i*i) mod M)/M + 1.3*k + 0.5)`` for i = 0 .. numel-1 (float64)."""
    idx = torch.arange(numel, dtype=torch.int64)
    q = torch.remainder(idx * idx, CHIRP_MODULUS).to(torch.float64)
    i = idx.to(torch.float64)
    return torch.sin(0.37 * i + (2.0 * math.pi / CHIRP_MODULUS) * q + 1.3 * k + 0.5)


def fill_(model: torch.nn.Module, gain: float = WEIGHT_GAIN) -> torch.nn.Module:
    """Overwrite the floating-point state_dict entries of ``model`` in place; return it.

    ``gain`` replaces sqrt(2) for the weights of ndim >= 2 (see the module's docstring)."""
    with torch.no_grad():
        for k, (key, t) in enumerate(model.state_dict().items()):
            if not t.is_floating_point():
                continue
            base = _base(t.numel(), k)
            if t.ndim >= 2:
                value = gain * base / math.sqrt(t.numel() / t.shape[0])
            elif key.endswith("running_var"):
                value = 1.0 + 0.5 * base
            elif key.endswith("weight"):
                value = 1.0 + 0.1 * base
            else:
                value = 0.1 * base
            t.copy_(value.reshape(t.shape))
    return model


def fixed_input(shape: Sequence[int] = INPUT_SHAPE, phase: float = 0.1) -> torch.Tensor:
    """``sin(0.01*arange(numel) + phase)`` as float64, reshaped to ``shape``."""
    n = math.prod(shape)
    return torch.sin(0.01 * torch.arange(n, dtype=torch.float64) + phase).reshape(tuple(shape))


def output(model: torch.nn.Module, x: torch.Tensor, gain: float = WEIGHT_GAIN) -> torch.Tensor:
    """The filled float64 model's output for ``x`` (the ``"out"`` entry of a dict output)."""
    model = fill_(model.double().eval(), gain)
    with torch.no_grad():
        y = model(x.double())
    if isinstance(y, dict):
        y = y["out"]
    return y


def sample(y: torch.Tensor, samples: int = SAMPLES, full_limit: int = FULL_LIMIT) -> list[float]:
    """Flatten ``y``; keep all of it up to FULL_LIMIT (2000) values, else a fixed sample.

    For n = y.numel() > 2000 the result has 1002 values: ``flat[(j * n) // 1000]`` for
    j = 0 .. 999 (evenly spaced flat indices, starting at 0), then ``flat.sum()``, then
    ``flat.abs().sum()``. ``samples`` and ``full_limit`` replace 1000 and 2000 (the
    detection fixture keeps 100 of outputs over 200 values, as it records many outputs).
    """
    flat = y.detach().double().reshape(-1)
    n = flat.numel()
    if n <= full_limit:
        return [float(v) for v in flat.tolist()]
    idx = torch.tensor([(j * n) // samples for j in range(samples)], dtype=torch.long)
    picked = [float(v) for v in flat[idx].tolist()]
    return picked + [float(flat.sum()), float(flat.abs().sum())]


def fingerprint(
    model: torch.nn.Module,
    input_shape: Sequence[int] = INPUT_SHAPE,
    *,
    x: torch.Tensor | None = None,
    gain: float = WEIGHT_GAIN,
) -> list[float]:
    """``model.double().eval()``, ``fill_``, forward ``fixed_input(input_shape)``, ``sample``.

    The model is changed in place (float64, eval mode, filled weights). A dict output (as
    torchvision's segmentation models return) is replaced by its ``"out"`` entry. The
    flattened output is returned whole as Python floats when it has at most 2000 values;
    otherwise as 1002 values: the 1000 values at flat indices ``(j * n) // 1000`` for
    j = 0 .. 999, then the sum and the sum of absolute values of the whole output.
    ``x`` replaces the fixed input (for checks that the output depends on the input);
    ``gain`` the weights' gain (a fixture records it for a model that needs another).
    """
    if x is None:
        x = fixed_input(input_shape)
    return sample(output(model, x, gain))


def compare(got: Sequence[float], expected: Sequence[float], rtol: float = 1e-4) -> str | None:
    """None when ``got`` matches ``expected``, else a message about the worst mismatch.

    Value j matches when ``|got[j] - expected[j]| <= rtol * (|expected[j]| + scale)``, where
    scale is the median absolute value of ``expected`` (so values near zero are not held to a
    purely relative tolerance; the median, unlike the mean, is not inflated by the sum and
    sum-of-absolute-values entries of a sampled fingerprint).
    """
    if len(got) != len(expected):
        return f"fingerprint length {len(got)} != expected {len(expected)}"
    if not got:
        return None
    bad = [j for j, v in enumerate(got) if not math.isfinite(v)]
    if bad:
        return f"non-finite value {got[bad[0]]} at index {bad[0]} ({len(bad)} in all)"
    scale = statistics.median(abs(e) for e in expected)

    def excess(g: float, e: float) -> float:
        """|g - e| in units of the tolerance; inf for any difference when that is 0."""
        tol = rtol * (abs(e) + scale)
        if tol == 0.0:
            return 0.0 if g == e else math.inf
        return abs(g - e) / tol

    ratios = [excess(g, e) for g, e in zip(got, expected)]
    worst_j = max(range(len(ratios)), key=ratios.__getitem__)
    if ratios[worst_j] <= 1.0:
        return None
    g, e = got[worst_j], expected[worst_j]
    n_bad = sum(1 for r in ratios if r > 1.0)
    return (
        f"{n_bad} of {len(expected)} values differ; worst at index {worst_j}: "
        f"got {g!r}, expected {e!r} (abs diff {abs(g - e):.3g}, {ratios[worst_j]:.3g}x the "
        f"tolerance rtol={rtol:g} * (|expected| + median|expected| {scale:.3g}))"
    )
