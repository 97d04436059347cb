"""Rounding where a paper depends on it: SSD300's `pool3` (VGG16's third max pool, in
ceil mode) turns the 75×75 map of conv3_3 into 38×38, where a floor would give 37×37.
cnnspec's count is compared with plain torch's nn.MaxPool2d."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import cnnspec

SPEC = """
name: SSDPool3
input: {maps: 256, size: %s}
layers:
  - {name: pool3, type: maxpool, kernel: 2, stride: 2%s}
"""


@pytest.mark.parametrize("n", [75, 74, 38, 19, 5, 3])
@pytest.mark.parametrize("ceil", [True, False])
def test_a_pool_rounds_as_torch_does(n: int, ceil: bool):
    net = cnnspec.loads(SPEC % (f"{n}x{n}", ", ceil_mode: true" if ceil else ""))
    want = nn.MaxPool2d(2, 2, ceil_mode=ceil)(torch.zeros(1, 256, n, n)).shape[1:]
    assert net.output_shape == tuple(want)


def test_ssd300_pool3_turns_75_into_38():
    net = cnnspec.loads(SPEC % ("75x75", ", ceil_mode: true, size: 38x38"))
    assert net.output_shape == (256, 38, 38)
    assert nn.MaxPool2d(2, 2, ceil_mode=True)(torch.zeros(1, 256, 75, 75)).shape[-1] == 38
    assert "nn.MaxPool2d(kernel_size=2, stride=2, ceil_mode=True)" in cnnspec.torch_source(net)


def test_without_ceil_mode_38_is_a_size_mismatch_that_names_it():
    """With `padding: 0` written (left out, a padding of 1 is inferred that also gives 38)."""
    with pytest.raises(cnnspec.SpecError) as err:
        cnnspec.loads(SPEC % ("75x75", ", padding: 0, size: 38x38"))
    (d,) = err.value.diagnostics
    assert d.code == "size-mismatch"
    assert "37×37" in d.message and "ceil_mode: true" in d.message
