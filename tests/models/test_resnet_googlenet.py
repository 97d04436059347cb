"""ResNet and GoogLeNet: the papers' tables and torchvision's variants.

- specs/resnet18.yaml, resnet50.yaml, googlenet.yaml type He et al. 2016 Table 1 and
  Szegedy et al. 2015 Table 1 as printed; their parameter counts equal those of the
  hand-written references in tests/reference/ (built independently, in plain torch), and
  GoogLeNet's printed figures that do not recompute (the paper's errata) are reported.
- specs/zoo/resnet*.yaml, resnext50_32x4d, wide_resnet50_2 and googlenet are torchvision's
  models: parameters and MACs equal torchvision's (torchinfo's `total_mult_adds`), and their
  module paths and per-module parameter counts equal the references', which follow
  torchvision's state_dict keys.
- Both families share the blocks of specs/blocks/resnet.yaml and googlenet.yaml through
  `include:`; the Bottleneck's `stride_on` puts the stride where the paper (1×1) or
  torchvision (3×3) puts it.
"""

from __future__ import annotations

import collections
from pathlib import Path

import pytest
import torch
import yaml
from reference import googlenet as ref_googlenet
from reference import resnet as ref_resnet

import cnnspec

ROOT = Path(__file__).resolve().parents[2]
SPECS = ROOT / "specs"

# spec stem -> (params, MACs, reference builder). MACs are torchinfo's `total_mult_adds`
# for a 1×3×224×224 input (torchvision 0.29.1's models for the zoo; the references for the
# papers' tables, checked with torchinfo 1.8.0).
ZOO = {
    "resnet18": (11_689_512, 1_814_083_944, ref_resnet.resnet18),
    "resnet34": (21_797_672, 3_663_779_432, ref_resnet.resnet34),
    "resnet50": (25_557_032, 4_089_238_376, ref_resnet.resnet50),
    "resnet101": (44_549_160, 7_801_511_784, ref_resnet.resnet101),
    "resnet152": (60_192_808, 11_513_779_048, ref_resnet.resnet152),
    "resnext50_32x4d": (25_028_904, 4_230_549_096, ref_resnet.resnext50_32x4d),
    "wide_resnet50_2": (68_883_240, 11_398_090_344, ref_resnet.wide_resnet50_2),
    "googlenet": (6_624_904, 1_498_391_752, ref_googlenet.googlenet),
}
PAPER = {
    "resnet18": (11_689_512, 1_814_083_944, ref_resnet.resnet18_paper),
    "resnet50": (25_557_032, 3_858_027_368, ref_resnet.resnet50_paper),
    "googlenet": (6_998_552, 1_585_899_032, ref_googlenet.googlenet_paper),
}

# GoogLeNet's Table 1 errata: (row, code, printed, computed) — every printed figure that
# does not recompute under the paper's convention (weights without biases, K = 1024;
# multiply-adds, M = 10⁶; 2% for its rounding). 4c's 100M and every other row agree.
GOOGLENET_ERRATA = [
    ("conv1", "printed-params", "2.7K", "9,408"),  # 7·7·3·64 weights = 9.2K
    ("conv1", "printed-macs", "34M", "118,013,952"),
    ("inception4c", "printed-params", "463K", "509,440"),  # 497.5K
    ("inception5a", "printed-params", "1072K", "1,042,432"),  # 1018.0K
    ("inception5a", "printed-macs", "54M", "51,079,168"),  # 51.1M
]


@pytest.fixture(scope="module")
def nets() -> dict[str, cnnspec.Network]:
    found = {f"zoo/{stem}": cnnspec.load(SPECS / "zoo" / f"{stem}.yaml") for stem in ZOO}
    found.update({stem: cnnspec.load(SPECS / f"{stem}.yaml") for stem in PAPER})
    return found


def count_params(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def params_by_module(model: torch.nn.Module) -> dict[str, int]:
    """Module path → its own parameters: the state_dict key prefixes that hold weights."""
    out: collections.Counter[str] = collections.Counter()
    for key, p in model.named_parameters():
        out[key.rsplit(".", 1)[0]] += p.numel()
    return dict(out)


def printed_warnings(net: cnnspec.Network) -> list:
    return [d for d in net.warnings if d.code.startswith("printed-")]


def other_warnings(net: cnnspec.Network) -> list[str]:
    """Warnings that are neither the paper's errata nor a floored division ([inexact]:
    stride-2 layers whose padding the spec gives or cnnspec infers)."""
    return [
        d.format()
        for d in net.warnings
        if d.code != "inexact" and not d.code.startswith("printed-")
    ]


# --------------------------------------------------------------------------- papers


@pytest.mark.parametrize("stem", PAPER)
def test_paper_spec_params_equal_the_reference(nets, stem):
    params, macs, build = PAPER[stem]
    net = nets[stem]
    assert net.params == count_params(build()) == params
    assert net.macs == macs
    assert net.input_shape == (3, 224, 224)
    assert net.output_shape == (1000,)


@pytest.mark.parametrize("stem", PAPER)
def test_paper_specs_warn_about_nothing_but_the_papers_errata(nets, stem):
    assert other_warnings(nets[stem]) == []


def test_googlenet_errata_name_exactly_conv1_4c_5a(nets):
    found = printed_warnings(nets["googlenet"])
    assert len(found) == len(GOOGLENET_ERRATA), [d.format() for d in found]
    for d, (row, code, printed, computed) in zip(found, GOOGLENET_ERRATA):
        assert d.severity == "warning"
        assert d.code == code
        assert f"'{row}'" in (d.layer or ""), d.format()
        assert f"prints {printed} " in d.message, d.message
        assert computed in d.message, d.message


def test_googlenet_errata_text(nets):
    lines = [d.format("specs/googlenet.yaml") for d in printed_warnings(nets["googlenet"])]
    tails = [line.split(": warning: ", 1)[1] for line in lines]
    assert tails == [
        "layer 1 'conv1' (conv): the paper prints 2.7K weights; cnnspec counts 9,408 = 9.2K "
        "(K = 1,024) [printed-params]",
        "layer 1 'conv1' (conv): the paper prints 34M MACs; cnnspec counts 118,013,952 = "
        "118.0M (M = 1,000,000) [printed-macs]",
        "layer 12 'inception4c' (Inception): the paper prints 463K weights; cnnspec counts "
        "509,440 = 497.5K (K = 1,024) [printed-params]",
        "layer 16 'inception5a' (Inception): the paper prints 1072K weights; cnnspec counts "
        "1,042,432 = 1,018.0K (K = 1,024) [printed-params]",
        "layer 16 'inception5a' (Inception): the paper prints 54M MACs; cnnspec counts "
        "51,079,168 = 51.1M (M = 1,000,000) [printed-macs]",
    ]


def test_googlenet_3a_recomputes_exactly(nets):
    """The convention that makes the table recompute: 3a's 159K and 128M, exactly."""
    net = nets["googlenet"]
    convs = [n for n in net.layers if n.kind == "conv" and n.path.startswith("inception3a.")]
    weights = [n.out_maps * (n.in_maps // n.groups) * n.kernel[0] * n.kernel[1] for n in convs]
    assert sum(weights) == 163_328  # 159.5K with K = 1024: printed 159K
    macs = sum(w * n.output_shape[1] * n.output_shape[2] for w, n in zip(weights, convs))
    assert macs == 128_049_152  # printed 128M
    assert not [d for d in printed_warnings(net) if "'inception3a'" in (d.layer or "")]


@pytest.mark.parametrize(
    ("stem", "claim", "wrong"),
    [("resnet18", "macs: 1.8G", "macs: 2.0G"), ("resnet50", "macs: 3.8G", "macs: 4.0G")],
)
def test_resnet_flops_row_is_checked(stem, claim, wrong):
    """Table 1's FLOPs row (weight multiply-adds, truncated) agrees; a wrong one warns."""
    path = SPECS / f"{stem}.yaml"
    text = path.read_text(encoding="utf-8")
    assert claim in text
    assert printed_warnings(cnnspec.loads(text, source=str(path))) == []
    (d,) = printed_warnings(cnnspec.loads(text.replace(claim, wrong), source=str(path)))
    assert d.code == "printed-macs"


def test_resnet50_paper_strides_its_first_1x1_and_torchvision_its_3x3(nets):
    paper = {n.path: n for n in nets["resnet50"].layers if n.path}
    zoo = {n.path: n for n in nets["zoo/resnet50"].layers if n.path}
    for stage, layer in (("conv3_x", "layer2"), ("conv4_x", "layer3"), ("conv5_x", "layer4")):
        assert paper[f"{stage}.0.conv1"].stride == (2, 2)
        assert paper[f"{stage}.0.conv2"].stride == (1, 1)
        assert zoo[f"{layer}.0.conv1"].stride == (1, 1)
        assert zoo[f"{layer}.0.conv2"].stride == (2, 2)
        assert paper[f"{stage}.0.downsample.0"].stride == zoo[f"{layer}.0.downsample.0"].stride
    # the same weights, fewer multiply-adds: 3.86 G where torchvision's v1.5 has 4.09 G
    assert nets["resnet50"].params == nets["zoo/resnet50"].params
    assert nets["resnet50"].macs < nets["zoo/resnet50"].macs


def test_googlenet_paper_has_biases_lrn_and_real_5x5_branches(nets):
    layers = nets["googlenet"].layers
    convs = [n for n in layers if n.kind == "conv"]
    assert convs and all(n.bias for n in convs)
    assert not [n for n in layers if n.kind == "batchnorm"]
    assert [n.path for n in layers if n.kind == "lrn"] == ["lrn1", "lrn2"]
    branch3 = [n for n in convs if n.path.endswith("branch3.1.conv")]
    assert len(branch3) == 9
    assert all(n.kernel == (5, 5) and n.padding == (2, 2) for n in branch3)
    (dropout,) = [n for n in layers if n.kind == "dropout"]
    assert dropout.p == 0.4
    (avgpool,) = [n for n in layers if n.kind == "avgpool"]
    assert avgpool.kernel == (7, 7) and avgpool.output_shape == (1024, 1, 1)


# --------------------------------------------------------------------------- zoo


@pytest.mark.parametrize("stem", ZOO)
def test_zoo_counts_equal_torchvision(nets, stem):
    params, macs, _ = ZOO[stem]
    net = nets[f"zoo/{stem}"]
    assert (net.params, net.macs) == (params, macs)
    assert net.output_shape == (1000,)


@pytest.mark.parametrize("stem", ZOO)
def test_zoo_module_paths_are_torchvision_keys(nets, stem):
    """Every module holding parameters sits at torchvision's path with its parameter count,
    and every block instance or container is a module of the reference too."""
    _, _, build = ZOO[stem]
    model = build()
    net = nets[f"zoo/{stem}"]
    got = {n.path: n.params for n in net.layers if n.path and n.params}
    assert got == params_by_module(model)
    modules = dict(model.named_modules())
    assert [g.path for g in net.groups if g.path not in modules] == []
    assert count_params(model) == ZOO[stem][0]


def test_zoo_googlenet_is_torchvisions_departure(nets):
    layers = nets["zoo/googlenet"].layers
    branch3 = [n for n in layers if n.path and n.path.endswith("branch3.1.conv")]
    assert len(branch3) == 9 and all(n.kernel == (3, 3) for n in branch3)
    norms = [n for n in layers if n.kind == "batchnorm"]
    assert len(norms) == 57 and all(n.eps == 0.001 for n in norms)
    assert not [n for n in layers if n.kind == "conv" and n.bias]
    assert not [n for n in layers if n.kind == "lrn"]
    pools = {n.path: n for n in layers if n.kind == "maxpool" and "." not in n.path}
    assert all(n.ceil_mode for n in pools.values())
    assert pools["maxpool4"].kernel == (2, 2)


# --------------------------------------------------------------------------- sharing


@pytest.mark.parametrize(
    ("spec", "blocks"),
    [(f"zoo/{s}", "resnet") for s in ZOO if s != "googlenet"]
    + [("zoo/googlenet", "googlenet"), ("resnet18", "resnet"), ("resnet50", "resnet")]
    + [("googlenet", "googlenet")],
)
def test_specs_share_blocks_by_include(spec, blocks):
    path = SPECS / f"{spec}.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    included = [(path.parent / p).resolve() for p in data["include"]]
    assert included == [(SPECS / "blocks" / f"{blocks}.yaml").resolve()]
    shared = yaml.safe_load(included[0].read_text(encoding="utf-8"))["blocks"]
    assert not set(data.get("blocks") or {}) & set(shared), "a shared block copied"
