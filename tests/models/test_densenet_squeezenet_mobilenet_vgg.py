"""DenseNet, SqueezeNet, MobileNetV2 and VGG: the papers' tables and torchvision's variants.

- specs/densenet121.yaml, squeezenet.yaml, mobilenet_v2.yaml and specs/vgg_configs/*.yaml
  type Huang et al. 2017 Table 1, Iandola et al. 2016 Table 1, Sandler et al. 2018 Table 2
  and Simonyan & Zisserman 2015 Table 1 as printed. Their parameter counts, MACs and
  per-module parameters equal those of the plain-torch builders written here,
  independently of the specs (the papers' variants: 227×227 SqueezeNet, fixed pools,
  MobileNetV2's 1×1-conv classifier, VGG's configurations A–E). The figures the papers
  print — SqueezeNet's per-layer parameters, MobileNetV2's 3.4 M parameters and 300 M
  multiply-adds, VGG's Table 2 — are declared as `params`/`macs` claims and recompute.
- specs/zoo/densenet{121,161,169,201}, squeezenet1_{0,1} and mobilenet_v2 are torchvision's
  models: parameters and MACs equal torchvision's (torchinfo's `total_mult_adds`), and their
  module paths and per-module parameter counts equal the hand-written references of
  tests/reference/, which follow torchvision's state_dict keys.
- Both forms of each family share the blocks of specs/blocks/densenet.yaml,
  squeezenet.yaml and mobilenet.yaml through `include:`.
"""

from __future__ import annotations

import collections
import functools
from collections import OrderedDict
from pathlib import Path

import pytest
import torch
import torchinfo
import yaml
from reference import densenet as ref_densenet
from reference import mobilenet_v2 as ref_mobilenet_v2
from reference import squeezenet as ref_squeezenet
from torch import nn

import cnnspec

ROOT = Path(__file__).resolve().parents[2]
SPECS = ROOT / "specs"


# --------------------------------------------------------------------------- builders
# Plain-torch models of the papers' variants, written from the papers (not from the
# specs), with the module names the paper specs give their rows, so that per-module
# parameter counts can be compared path by path.


class _DenseLayer(nn.Module):
    """BN-ReLU-Conv 1×1 (4k maps) - BN-ReLU-Conv 3×3 (k maps); x -> cat([x, new], 1)."""

    def __init__(self, in_ch: int, k: int) -> None:
        super().__init__()
        self.norm1 = nn.BatchNorm2d(in_ch)
        self.relu1 = nn.ReLU()
        self.conv1 = nn.Conv2d(in_ch, 4 * k, 1, bias=False)
        self.norm2 = nn.BatchNorm2d(4 * k)
        self.relu2 = nn.ReLU()
        self.conv2 = nn.Conv2d(4 * k, k, 3, padding=1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        new = self.conv2(self.relu2(self.norm2(self.conv1(self.relu1(self.norm1(x))))))
        return torch.cat([x, new], 1)


def densenet121_paper() -> nn.Module:
    """Table 1, DenseNet-121 column, k = 32: stem 2k maps with BN-ReLU (the authors'
    code), 3×3/2 max pool, blocks 6, 12, 24, 16, transitions with θ = 0.5, BN-ReLU,
    7×7 global average pool, fc 1000, softmax."""
    k, ch = 32, 64
    rows: list[tuple[str, nn.Module]] = [
        ("conv0", nn.Conv2d(3, ch, 7, stride=2, padding=3, bias=False)),
        ("norm0", nn.BatchNorm2d(ch)),
        ("relu0", nn.ReLU()),
        ("pool0", nn.MaxPool2d(3, stride=2, padding=1)),
    ]
    for i, n in enumerate((6, 12, 24, 16), 1):
        rows.append(
            (f"denseblock{i}", nn.Sequential(*(_DenseLayer(ch + j * k, k) for j in range(n))))
        )
        ch += n * k
        if i < 4:
            transition = OrderedDict(
                norm=nn.BatchNorm2d(ch),
                relu=nn.ReLU(),
                conv=nn.Conv2d(ch, ch // 2, 1, bias=False),
                pool=nn.AvgPool2d(2, stride=2),
            )
            rows.append((f"transition{i}", nn.Sequential(transition)))
            ch //= 2
    rows += [
        ("norm5", nn.BatchNorm2d(ch)),
        ("relu5", nn.ReLU()),
        ("pool5", nn.AvgPool2d(7)),
        ("flatten", nn.Flatten()),
        ("fc", nn.Linear(ch, 1000)),
        ("softmax", nn.Softmax(dim=1)),
    ]
    return nn.Sequential(OrderedDict(rows))


class _Fire(nn.Module):
    def __init__(self, in_ch: int, s1x1: int, e1x1: int, e3x3: int) -> None:
        super().__init__()
        self.squeeze = nn.Conv2d(in_ch, s1x1, 1)
        self.expand1x1 = nn.Conv2d(s1x1, e1x1, 1)
        self.expand3x3 = nn.Conv2d(s1x1, e3x3, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s = torch.relu(self.squeeze(x))
        return torch.cat([torch.relu(self.expand1x1(s)), torch.relu(self.expand3x3(s))], 1)


def squeezenet_paper() -> nn.Module:
    """Table 1 with a 227×227 input: conv1 96 7×7/2, max pools 3×3/2 after conv1, fire4,
    fire8 (no ceil_mode needed: 111 → 55 → 27 → 13), dropout after fire9, conv10 1×1,
    13×13 average pool, softmax."""
    fire = {  # name: (in, s1x1, e1x1, e3x3)
        "fire2": (96, 16, 64, 64),
        "fire3": (128, 16, 64, 64),
        "fire4": (128, 32, 128, 128),
        "fire5": (256, 32, 128, 128),
        "fire6": (256, 48, 192, 192),
        "fire7": (384, 48, 192, 192),
        "fire8": (384, 64, 256, 256),
        "fire9": (512, 64, 256, 256),
    }
    rows: list[tuple[str, nn.Module]] = [
        ("conv1", nn.Conv2d(3, 96, 7, stride=2)),
        ("relu1", nn.ReLU()),
        ("maxpool1", nn.MaxPool2d(3, stride=2)),
    ]
    for name, args in fire.items():
        rows.append((name, _Fire(*args)))
        if name in ("fire4", "fire8"):
            rows.append((f"maxpool{name[-1]}", nn.MaxPool2d(3, stride=2)))
    rows += [
        ("dropout9", nn.Dropout(0.5)),
        ("conv10", nn.Conv2d(512, 1000, 1)),
        ("relu10", nn.ReLU()),
        ("avgpool10", nn.AvgPool2d(13, stride=1)),
        ("flatten", nn.Flatten()),
        ("softmax", nn.Softmax(dim=1)),
    ]
    return nn.Sequential(OrderedDict(rows))


def _conv_bn_relu6(in_ch: int, out_ch: int, kernel: int = 3, stride: int = 1, groups: int = 1):
    return nn.Sequential(
        nn.Conv2d(in_ch, out_ch, kernel, stride, (kernel - 1) // 2, groups=groups, bias=False),
        nn.BatchNorm2d(out_ch),
        nn.ReLU6(),
    )


class _InvertedResidual(nn.Module):
    """Table 1: 1×1 expansion (t·k maps, none when t = 1), 3×3 depthwise with stride s,
    linear 1×1 projection to c maps; residual when s = 1 and k = c."""

    def __init__(self, in_ch: int, t: int, c: int, s: int) -> None:
        super().__init__()
        hidden = in_ch * t
        expand = [_conv_bn_relu6(in_ch, hidden, 1)] if t != 1 else []
        self.conv = nn.Sequential(
            *expand,
            _conv_bn_relu6(hidden, hidden, 3, s, groups=hidden),
            nn.Conv2d(hidden, c, 1, bias=False),
            nn.BatchNorm2d(c),
        )
        self.residual = s == 1 and in_ch == c

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv(x) if self.residual else self.conv(x)


class _Sequence(nn.Module):
    """One line (t, c, n, s) of Table 2: n inverted residual blocks, the first with stride s."""

    def __init__(self, in_ch: int, t: int, c: int, n: int, s: int) -> None:
        super().__init__()
        self.blocks = nn.Sequential(
            *(_InvertedResidual(in_ch if i == 0 else c, t, c, s if i == 0 else 1) for i in range(n))
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.blocks(x)


def mobilenet_v2_paper() -> nn.Module:
    """Table 2: conv2d 32 /2, seven bottleneck lines, conv2d 1×1 1280, avgpool 7×7,
    conv2d 1×1 to k = 1000 (with bias)."""
    table = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2)]
    table += [(6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)]
    rows: list[tuple[str, nn.Module]] = [("conv1", _conv_bn_relu6(3, 32, 3, 2))]
    ch = 32
    for i, (t, c, n, s) in enumerate(table, 1):
        rows.append((f"block{i}", _Sequence(ch, t, c, n, s)))
        ch = c
    rows += [
        ("conv2", _conv_bn_relu6(ch, 1280, 1)),
        ("avgpool", nn.AvgPool2d(7)),
        ("conv3", nn.Conv2d(1280, 1000, 1)),
    ]
    return nn.Sequential(OrderedDict(rows))


#: VGG Table 1, each configuration's column as printed (M: maxpool).
VGG_TABLE1 = {
    "a": "conv3-64 M conv3-128 M conv3-256 conv3-256 M conv3-512 conv3-512 M conv3-512 conv3-512 M",
    "a_lrn": "conv3-64 LRN M conv3-128 M conv3-256 conv3-256 M conv3-512 conv3-512 M "
    "conv3-512 conv3-512 M",
    "b": "conv3-64 conv3-64 M conv3-128 conv3-128 M conv3-256 conv3-256 M "
    "conv3-512 conv3-512 M conv3-512 conv3-512 M",
    "c": "conv3-64 conv3-64 M conv3-128 conv3-128 M conv3-256 conv3-256 conv1-256 M "
    "conv3-512 conv3-512 conv1-512 M conv3-512 conv3-512 conv1-512 M",
    "d": "conv3-64 conv3-64 M conv3-128 conv3-128 M conv3-256 conv3-256 conv3-256 M "
    "conv3-512 conv3-512 conv3-512 M conv3-512 conv3-512 conv3-512 M",
    "e": "conv3-64 conv3-64 M conv3-128 conv3-128 M "
    "conv3-256 conv3-256 conv3-256 conv3-256 M conv3-512 conv3-512 conv3-512 conv3-512 M "
    "conv3-512 conv3-512 conv3-512 conv3-512 M",
}

#: VGG Table 2: parameters in millions.
VGG_TABLE2 = {"a": 133, "a_lrn": 133, "b": 133, "c": 134, "d": 138, "e": 144}


class _VGG(nn.Module):
    def __init__(self, config: str) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        ch = 3
        for row in VGG_TABLE1[config].split():
            if row == "M":
                layers.append(nn.MaxPool2d(2, 2))
            elif row == "LRN":  # AlexNet's: k = 2, n = 5, α = 1e-4 (PyTorch's alpha is α·n)
                layers.append(nn.LocalResponseNorm(5, alpha=5e-4, beta=0.75, k=2.0))
            else:  # convK-M: K×K, M maps, stride 1, size kept, ReLU
                kernel, maps = map(int, row.removeprefix("conv").split("-"))
                layers += [nn.Conv2d(ch, maps, kernel, padding=kernel // 2), nn.ReLU()]
                ch = maps
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Sequential(
            nn.Linear(512 * 7 * 7, 4096),
            nn.ReLU(),
            nn.Dropout(0.5),
            nn.Linear(4096, 4096),
            nn.ReLU(),
            nn.Dropout(0.5),
            nn.Linear(4096, 1000),
            nn.Softmax(dim=1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(torch.flatten(self.features(x), 1))


# --------------------------------------------------------------------------- figures

# zoo spec stem -> (params, MACs, reference builder). The figures are torchvision's
# (0.29.1; MACs are torchinfo 1.8.0's `total_mult_adds` for 1×3×224×224), and the
# hand-written references reproduce them (checked below).
ZOO = {
    "densenet121": (7_978_856, 2_834_246_312, ref_densenet.densenet121),
    "densenet161": (28_681_000, 7_728_128_008, ref_densenet.densenet161),
    "densenet169": (14_149_480, 3_360_002_728, ref_densenet.densenet169),
    "densenet201": (20_013_928, 4_291_595_944, ref_densenet.densenet201),
    "squeezenet1_0": (1_248_424, 823_270_824, ref_squeezenet.squeezenet1_0),
    "squeezenet1_1": (1_235_496, 351_741_288, ref_squeezenet.squeezenet1_1),
    "mobilenet_v2": (3_504_872, 300_809_384, ref_mobilenet_v2.mobilenet_v2),
}

# paper spec (relative to specs/, no suffix) -> (params, MACs, builder, input, output).
# MACs are torchinfo's for the builder.
PAPER = {
    "densenet121": (7_978_856, 2_834_246_312, densenet121_paper, (3, 224, 224), (1000,)),
    "squeezenet": (1_248_424, 837_119_208, squeezenet_paper, (3, 227, 227), (1000,)),
    "mobilenet_v2": (3_504_872, 300_809_384, mobilenet_v2_paper, (3, 224, 224), (1000, 1, 1)),
    "vgg_configs/vgg_a": (132_863_336, 7_616_525_288, lambda: _VGG("a"), (3, 224, 224), (1000,)),
    "vgg_configs/vgg_a_lrn": (
        132_863_336,
        7_616_525_288,
        lambda: _VGG("a_lrn"),
        (3, 224, 224),
        (1000,),
    ),
    "vgg_configs/vgg_b": (133_047_848, 11_320_718_312, lambda: _VGG("b"), (3, 224, 224), (1000,)),
    "vgg_configs/vgg_c": (133_638_952, 11_784_444_904, lambda: _VGG("c"), (3, 224, 224), (1000,)),
    "vgg_configs/vgg_d": (138_357_544, 15_483_821_032, lambda: _VGG("d"), (3, 224, 224), (1000,)),
    "vgg_configs/vgg_e": (143_667_240, 19_646_923_752, lambda: _VGG("e"), (3, 224, 224), (1000,)),
}

# SqueezeNet Table 1, "#parameter before pruning" (weights and biases), as printed.
SQUEEZENET_PRINTED = {
    "conv1": 14_208,
    "fire2": 11_920,
    "fire3": 12_432,
    "fire4": 45_344,
    "fire5": 49_440,
    "fire6": 104_880,
    "fire7": 111_024,
    "fire8": 188_992,
    "fire9": 197_184,
    "conv10": 513_000,
}


# --------------------------------------------------------------------------- helpers


@functools.cache
def load(stem: str) -> cnnspec.Network:
    """A spec under specs/ (``zoo/densenet121``, ``squeezenet``), loaded once."""
    return cnnspec.load(SPECS / f"{stem}.yaml")


def count_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def params_by_module(model: nn.Module) -> dict[str, int]:
    """Module path → its own parameters: the state_dict key prefixes that hold weights."""
    out: collections.Counter[str] = collections.Counter()
    for key, p in model.named_parameters():
        out[key.rsplit(".", 1)[0]] += p.numel()
    return dict(out)


def spec_params_by_module(net: cnnspec.Network) -> dict[str, int]:
    return {n.path: n.params for n in net.layers if n.path and n.params}


def torchinfo_counts(build, input_shape: tuple[int, ...]) -> tuple[int, int]:
    """(params, MACs) of a model as torchinfo counts them; on the meta device, so nothing
    is allocated or computed."""
    with torch.device("meta"):
        model = build().eval()
        stats = torchinfo.summary(model, input_size=(1, *input_shape), device="meta", verbose=0)
    return stats.total_params, stats.total_mult_adds


def printed_warnings(net: cnnspec.Network) -> list:
    return [d for d in net.warnings if d.code.startswith("printed-")]


def other_warnings(net: cnnspec.Network) -> list[str]:
    """Warnings other than a floored division ([inexact]: torchvision's 7×7/2 stems and
    stride-2 convolutions on even sizes) and the papers' printed figures."""
    return [
        d.format()
        for d in net.warnings
        if d.code != "inexact" and not d.code.startswith("printed-")
    ]


# --------------------------------------------------------------------------- papers


@pytest.mark.parametrize("stem", PAPER)
def test_paper_spec_counts_equal_an_independent_model(stem):
    params, macs, build, input_shape, output_shape = PAPER[stem]
    net = load(stem)
    assert net.input_shape == input_shape
    assert net.output_shape == output_shape
    assert count_params(build()) == params
    assert net.params == params
    assert net.macs == macs
    assert torchinfo_counts(build, input_shape) == (params, macs)


@pytest.mark.parametrize("stem", PAPER)
def test_paper_spec_modules_hold_the_independent_models_parameters(stem):
    *_, build, _, _ = PAPER[stem]
    model = build()
    net = load(stem)
    assert spec_params_by_module(net) == params_by_module(model)
    modules = dict(model.named_modules())
    assert [g.path for g in net.groups if g.path not in modules] == []


@pytest.mark.parametrize("stem", PAPER)
def test_paper_specs_warn_about_nothing_else(stem):
    net = load(stem)
    assert other_warnings(net) == []
    assert [d.format() for d in printed_warnings(net)] == []


@pytest.mark.parametrize("stem", PAPER)
def test_paper_specs_output_is_what_the_builder_gives(stem):
    *_, build, input_shape, output_shape = PAPER[stem]
    with torch.device("meta"), torch.no_grad():
        y = build().eval()(torch.empty(1, *input_shape))
    assert tuple(y.shape[1:]) == output_shape == load(stem).output_shape


def test_densenet121_paper_is_table1():
    net = load("densenet121")
    layers = [n for n in net.layers if n.path]
    dense = {g.path for g in net.groups if g.path.count(".") == 1 and "denseblock" in g.path}
    per_block = collections.Counter(p.split(".")[0] for p in dense)
    assert per_block == {"denseblock1": 6, "denseblock2": 12, "denseblock3": 24, "denseblock4": 16}
    assert sum(1 for n in net.nodes if n.kind == "concat") == 58
    conv0, *_ = layers
    assert (conv0.path, conv0.out_maps, conv0.kernel, conv0.stride) == ("conv0", 64, (7, 7), (2, 2))
    assert not [n for n in net.layers if n.kind == "conv" and n.bias]
    sizes = {n.path: n.output_shape for n in layers}
    assert sizes["pool0"] == (64, 56, 56)
    # the table prints no paddings: inferred from the printed sizes
    assert {n.path: n.padding for n in layers if n.padding_inferred} == {
        "conv0": (3, 3),
        "pool0": (1, 1),
        "pool5": (0, 0),
    }
    assert sizes["transition1.pool"] == (128, 28, 28)
    assert sizes["transition3.pool"] == (512, 7, 7)
    assert sizes["pool5"] == (1024, 1, 1)
    # the bottleneck makes 4k = 128 maps and every layer adds k = 32
    assert {n.out_maps for n in net.layers if (n.path or "").endswith(".conv1")} == {128}
    assert {n.out_maps for n in net.layers if (n.path or "").endswith(".conv2")} == {32}


def test_squeezenet_declares_the_papers_parameter_column():
    """Every printed figure is declared on its row, and recomputes (weights + biases)."""
    path = SPECS / "squeezenet.yaml"
    table = yaml.safe_load(path.read_text(encoding="utf-8"))["table"].splitlines()
    header = table[0].split()
    rows = {cells[1]: cells for cells in (line.split() for line in table[1:]) if cells[0] != "#"}
    declared = {
        name: int(cells[header.index("params")])
        for name, cells in rows.items()
        if cells[header.index("params")] != "-"
    }
    assert declared == SQUEEZENET_PRINTED
    net = load("squeezenet")
    computed = collections.Counter()
    for n in net.layers:
        if n.path:
            computed[n.path.split(".")[0]] += n.params
    assert {name: computed[name] for name in SQUEEZENET_PRINTED} == SQUEEZENET_PRINTED
    assert printed_warnings(net) == []


def test_squeezenet_wrong_figure_warns():
    path = SPECS / "squeezenet.yaml"
    text = path.read_text(encoding="utf-8")
    assert text.count("104880") == 1
    (d,) = printed_warnings(cnnspec.loads(text.replace("104880", "104800"), source=str(path)))
    assert d.code == "printed-params"
    assert "'fire6'" in (d.layer or "")
    assert "104880" not in d.message and "104,880" in d.message


def test_squeezenet_paper_sizes_are_the_papers():
    """227×227 input: conv1 111×111, fire2 55×55 (torchvision's 224 gives 109 and 54)."""
    paper = {n.path: n.output_shape for n in load("squeezenet").layers if n.path}
    assert paper["conv1"] == (96, 111, 111)
    assert paper["fire2.expand3x3"][1:] == (55, 55)
    assert paper["conv10"] == (1000, 13, 13)
    zoo = {n.path: n.output_shape for n in load("zoo/squeezenet1_0").layers if n.path}
    assert zoo["features.0"] == (96, 109, 109)
    assert zoo["features.3.expand3x3"][1:] == (54, 54)


@pytest.mark.parametrize(
    ("claim", "wrong", "code"),
    [
        ("params: 3.4M", "params: 3.6M", "printed-params"),
        ("macs: 300M", "macs: 320M", "printed-macs"),
    ],
)
def test_mobilenet_v2_totals_recompute_and_a_wrong_one_warns(claim, wrong, code):
    """The text's 3.4 M parameters and 300 M multiply-adds: weights only, truncated."""
    path = SPECS / "mobilenet_v2.yaml"
    text = path.read_text(encoding="utf-8")
    assert claim in text
    assert printed_warnings(cnnspec.loads(text, source=str(path))) == []
    (d,) = printed_warnings(cnnspec.loads(text.replace(claim, wrong), source=str(path)))
    assert d.code == code


def test_mobilenet_v2_weights_under_the_papers_convention():
    net = load("mobilenet_v2")
    weighted = [n for n in net.layers if n.kind in ("conv", "fc")]
    weights = [n.out_maps * (n.in_maps // n.groups) * n.kernel[0] * n.kernel[1] for n in weighted]
    assert sum(weights) == 3_469_760  # printed 3.4 M
    sizes = [n.output_shape[1] * n.output_shape[2] for n in weighted]
    weight_macs = sum(w * hw for w, hw in zip(weights, sizes))
    assert weight_macs == 300_774_272  # printed 300 M


def test_mobilenet_v2_paper_repeats_each_line_n_times_with_stride_s_first():
    net = load("mobilenet_v2")
    blocks = sorted(
        {g.path for g in net.groups if g.path.count(".") == 2 and ".blocks." in g.path},
        key=lambda p: (p.split(".")[0], int(p.split(".")[2])),
    )
    per_line = collections.Counter(p.split(".")[0] for p in blocks)
    assert [per_line[f"block{i}"] for i in range(1, 8)] == [1, 2, 3, 4, 3, 3, 1]
    depthwise = {
        n.path.rsplit(".conv.", 1)[0]: n.stride
        for n in net.layers
        if n.kind == "conv" and n.groups > 1
    }
    strides = {f"block{i}": s for i, s in enumerate((1, 2, 2, 2, 1, 2, 1), 1)}
    for block, stride in depthwise.items():
        line, _, copy = block.split(".")
        assert stride == ((strides[line],) * 2 if copy == "0" else (1, 1)), block


@pytest.mark.parametrize("config", VGG_TABLE2)
def test_vgg_params_match_table2_to_its_rounding(config):
    stem = f"vgg_configs/vgg_{config}"
    net = load(stem)
    assert round(net.params / 1e6) == VGG_TABLE2[config]
    text = (SPECS / f"{stem}.yaml").read_text(encoding="utf-8")
    assert f"\nparams: {VGG_TABLE2[config]}M\n" in text
    assert printed_warnings(net) == []
    wrong = text.replace(f"\nparams: {VGG_TABLE2[config]}M\n", "\nparams: 100M\n")
    (d,) = printed_warnings(cnnspec.loads(wrong, source=str(SPECS / f"{stem}.yaml")))
    assert d.code == "printed-params"


def test_vgg_a_lrn_and_c_have_their_special_rows():
    lrn = [n for n in load("vgg_configs/vgg_a_lrn").layers if n.kind == "lrn"]
    assert [(n.path, n.lrn) for n in lrn] == [("features.2", (5, 0.0005, 0.75, 2.0))]
    convs = [n for n in load("vgg_configs/vgg_c").layers if n.kind == "conv"]
    assert [n.out_maps for n in convs if n.kernel == (1, 1)] == [256, 512, 512]
    assert all(n.padding == (0, 0) for n in convs if n.kernel == (1, 1))
    assert all(n.padding == (1, 1) for n in convs if n.kernel == (3, 3))


# --------------------------------------------------------------------------- zoo


@pytest.mark.parametrize("stem", ZOO)
def test_zoo_counts_equal_torchvision(stem):
    params, macs, _ = ZOO[stem]
    net = load(f"zoo/{stem}")
    assert (net.params, net.macs) == (params, macs)
    assert net.input_shape == (3, 224, 224)
    assert net.output_shape == (1000,)


@pytest.mark.parametrize("stem", ZOO)
def test_zoo_references_have_torchvisions_counts(stem):
    params, macs, build = ZOO[stem]
    assert torchinfo_counts(build, (3, 224, 224)) == (params, macs)


@pytest.mark.parametrize("stem", ZOO)
def test_zoo_module_paths_are_torchvision_keys(stem):
    """Every module holding parameters sits at torchvision's path with its parameter count,
    and every block instance or container is a module of the reference too."""
    _, _, build = ZOO[stem]
    model = build()
    net = load(f"zoo/{stem}")
    assert spec_params_by_module(net) == params_by_module(model)
    modules = dict(model.named_modules())
    assert [g.path for g in net.groups if g.path not in modules] == []


@pytest.mark.parametrize("stem", ZOO)
def test_zoo_specs_warn_about_nothing_but_floored_divisions(stem):
    assert other_warnings(load(f"zoo/{stem}")) == []
    assert printed_warnings(load(f"zoo/{stem}")) == []


def test_zoo_mobilenet_v2_expansion_only_when_t_is_not_1():
    paths = {n.path: n for n in load("zoo/mobilenet_v2").layers if n.path}
    # t = 1: no expansion, conv.0 is the depthwise unit
    assert paths["features.1.conv.0.0"].groups == 32
    assert paths["features.1.conv.1"].kernel == (1, 1)
    # t = 6: conv.0 the 1×1 expansion to 6·16 maps, conv.1 the depthwise 3×3 with stride 2
    assert paths["features.2.conv.0.0"].kernel == (1, 1)
    assert paths["features.2.conv.0.0"].out_maps == 96
    assert paths["features.2.conv.1.0"].groups == 96
    assert paths["features.2.conv.1.0"].stride == (2, 2)
    assert paths["features.2.conv.3"].kind == "batchnorm"
    assert "features.2.conv.4" not in paths  # the projection has no activation
    assert paths["features.0.2"].kind == paths["features.18.2"].kind == "relu6"


def test_zoo_mobilenet_v2_residuals_where_stride_1_and_maps_equal():
    net = load("zoo/mobilenet_v2")
    adds = sorted(int(n.scope.split(".")[1]) for n in net.nodes if n.kind == "add")
    assert adds == [3, 5, 6, 8, 9, 10, 12, 13, 15, 16]


def test_zoo_squeezenet_pools_use_ceil_mode():
    pools = [n for n in load("zoo/squeezenet1_0").layers if n.kind == "maxpool"]
    assert [(n.path, n.ceil_mode, n.output_shape[1]) for n in pools] == [
        ("features.2", True, 54),
        ("features.6", True, 27),
        ("features.11", True, 13),
    ]


# --------------------------------------------------------------------------- sharing


@pytest.mark.parametrize(
    ("spec", "blocks"),
    [(f"zoo/{s}", "densenet") for s in ZOO if s.startswith("densenet")]
    + [(f"zoo/{s}", "squeezenet") for s in ZOO if s.startswith("squeezenet")]
    + [("zoo/mobilenet_v2", "mobilenet")]
    + [("densenet121", "densenet"), ("squeezenet", "squeezenet"), ("mobilenet_v2", "mobilenet")],
)
def test_specs_share_blocks_by_include(spec, blocks):
    path = SPECS / f"{spec}.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    included = [(path.parent / p).resolve() for p in data["include"]]
    assert included == [(SPECS / "blocks" / f"{blocks}.yaml").resolve()]
    shared = yaml.safe_load(included[0].read_text(encoding="utf-8"))["blocks"]
    assert not set(data.get("blocks") or {}) & set(shared), "a shared block copied"
