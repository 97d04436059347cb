"""Block params that are pairs (`type: pair`): Inception's 1×7 and 7×1 convolutions.

A pair param is written `[1, 7]`, `1x7` or `3` (both axes); rows take it whole
(`kernel: $kernel`), and the generated class takes a ``tuple[int, int]``. The
network built from the spec is compared with the same network written by hand in
plain torch: shapes, parameter count, MACs (torchinfo) and outputs for copied weights.
"""

from __future__ import annotations

import ast

import torch
import torchinfo
from torch import nn

import cnnspec

SPEC = """
name: PairNet
blocks:
  BasicConv2d:
    params:
      out_maps: int
      kernel: pair
      stride: {type: pair, default: 1}
      padding: {type: pair, default: [0, 0]}
    layers:
      - {name: conv, type: conv, maps: $out_maps, kernel: $kernel, stride: $stride,
         padding: $padding, bias: false}
      - {name: bn, type: batchnorm, eps: 0.001}
      - {name: relu, type: relu}
input: {maps: 3, size: 17x17}
layers:
  - {name: a, type: BasicConv2d, out_maps: 8, kernel: [1, 7], padding: [0, 3]}
  - {name: b, type: BasicConv2d, out_maps: 6, kernel: 7x1, padding: "3x0"}
  - {name: c, type: BasicConv2d, out_maps: 4, kernel: 3, stride: [2, 1], size: 8x15}
"""


def _by_hand() -> nn.Module:
    def unit(cin: int, cout: int, **kw) -> nn.Module:
        m = nn.Module()
        m.conv = nn.Conv2d(cin, cout, bias=False, **kw)
        m.bn = nn.BatchNorm2d(cout, eps=0.001)
        m.relu = nn.ReLU()
        m.forward = lambda x: m.relu(m.bn(m.conv(x)))  # type: ignore[method-assign]
        return m

    net = nn.Sequential()
    net.add_module("a", unit(3, 8, kernel_size=(1, 7), padding=(0, 3)))
    net.add_module("b", unit(8, 6, kernel_size=(7, 1), padding=(3, 0)))
    net.add_module("c", unit(6, 4, kernel_size=3, stride=(2, 1)))
    return net


def _load(tmp_path) -> cnnspec.Network:
    path = tmp_path / "pair.yaml"
    path.write_text(SPEC, encoding="utf-8")
    return cnnspec.load(path)


def test_pair_params_build_torchs_network(tmp_path):
    net = _load(tmp_path)
    assert net.output_shape == (4, 8, 15)
    kernels = [n.kernel for n in net.layers if n.kind == "conv"]
    assert kernels == [(1, 7), (7, 1), (3, 3)]
    model, ref = cnnspec.build(net).eval(), _by_hand().eval()
    ref.load_state_dict(model.state_dict(), strict=True)
    x = torch.randn(2, 3, 17, 17)
    with torch.no_grad():
        torch.testing.assert_close(model(x), ref(x))
    stats = torchinfo.summary(ref, input_size=(1, 3, 17, 17), verbose=0)
    assert net.params == sum(p.numel() for p in ref.parameters()) == 168 + 16 + 336 + 12 + 216 + 8
    assert net.macs == stats.total_mult_adds


def test_the_class_takes_tuples(tmp_path):
    source = cnnspec.torch_source(_load(tmp_path))
    tree = ast.parse(source)
    cls = next(s for s in tree.body if isinstance(s, ast.ClassDef) and s.name == "BasicConv2d")
    init = next(s for s in cls.body if isinstance(s, ast.FunctionDef))
    hints = {a.arg: ast.unparse(a.annotation) for a in init.args.args if a.annotation}
    assert hints["kernel"] == hints["stride"] == hints["padding"] == "tuple[int, int]"
    defaults = [ast.unparse(d) for d in init.args.defaults]
    assert defaults == ["(1, 1)", "(0, 0)"]
    assert "kernel_size=kernel, stride=stride, padding=padding" in source
    assert "self.a = BasicConv2d(3, 8, (1, 7), padding=(0, 3))" in source
    assert "self.c = BasicConv2d(6, 4, (3, 3), stride=(2, 1))" in source
