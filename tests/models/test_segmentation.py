"""Segmentation networks: U-Net as Figure 1 prints it, and torchvision's
fcn_resnet50.

specs/unet.yaml (Ronneberger et al. 2015, Figure 1): every size of the figure is a
declared, checked claim and shows in ``cnnspec summary --format json``; 23 conv layers;
31,030,658 params; the hand-written tests/reference/unet.py has the same parameters and,
with its weights copied in, the same outputs; cnnspec's MACs (transposed convolutions
counted on their input) equal an independent count over the reference's modules, and
torchinfo's figure is higher by exactly (stride² − 1) × the up-convolutions' weight MACs.

specs/zoo/fcn_resnet50.yaml: torchvision's fcn_resnet50(weights=None,
weights_backbone=None, aux_loss=False) as recorded in tests/reference/torchvision_graphs.json
— state_dict keys and shapes in order, params, MACs, every recorded module's output shape,
the dilations, and the output fingerprint (the tensor torchvision returns under "out").

The bad inputs of the segmentation rows are tests/bad/seg_*.yaml (run, with their exact
text, by tests/corpus/test_bad_specs.py); here only their codes and where they point.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import re
from pathlib import Path

import pytest
import torch
import torchinfo
from fingerprint import compare, fill_, fixed_input, sample
from reference import unet as reference_unet

import cnnspec
from cnnspec.cli import main as cli_main
from cnnspec.diagnostics import SpecError

ROOT = Path(__file__).resolve().parents[2]
UNET = "specs/unet.yaml"
FCN = "specs/zoo/fcn_resnet50.yaml"
FIXTURE = ROOT / "tests" / "reference" / "torchvision_graphs.json"

UNET_PARAMS = 31_030_658
#: cnnspec's count: a transposed conv counted on its input (C_in·H_in·W_in·C_out·K_h·K_w)
UNET_MACS = 150_562_777_888
FCN_PARAMS = 32_957_013

#: Figure 1, arrow by arrow: (module path in the generated model, maps, size)
FIGURE_1 = [
    # contracting path
    ("enc1.0", 64, 570),
    ("enc1.2", 64, 568),
    ("pool1", 64, 284),
    ("enc2.0", 128, 282),
    ("enc2.2", 128, 280),
    ("pool2", 128, 140),
    ("enc3.0", 256, 138),
    ("enc3.2", 256, 136),
    ("pool3", 256, 68),
    ("enc4.0", 512, 66),
    ("enc4.2", 512, 64),
    ("pool4", 512, 32),
    ("enc5.0", 1024, 30),
    ("enc5.2", 1024, 28),
    # expansive path: up-conv (halving the maps), copy and crop, two 3×3 convs
    ("up4", 512, 56),
    ("dec4.0", 512, 54),
    ("dec4.2", 512, 52),
    ("up3", 256, 104),
    ("dec3.0", 256, 102),
    ("dec3.2", 256, 100),
    ("up2", 128, 200),
    ("dec2.0", 128, 198),
    ("dec2.2", 128, 196),
    ("up1", 64, 392),
    ("dec1.0", 64, 390),
    ("dec1.2", 64, 388),
    ("head", 2, 388),
]
#: the copy-and-crop concatenations: (row, encoder row, maps, size)
CROPS = [
    ("cat4", "enc4", 1024, 56),
    ("cat3", "enc3", 512, 104),
    ("cat2", "enc2", 256, 200),
    ("cat1", "enc1", 128, 392),
]


@pytest.fixture(autouse=True)
def _at_root(monkeypatch):
    monkeypatch.chdir(ROOT)  # specs and diagnostics name files relative to the root


@pytest.fixture(scope="module")
def unet() -> cnnspec.Network:
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(ROOT)
        return cnnspec.load(UNET)


@pytest.fixture(scope="module")
def fcn() -> cnnspec.Network:
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(ROOT)
        return cnnspec.load(FCN)


@pytest.fixture(scope="module")
def fcn_record() -> tuple[dict, list[int]]:
    data = json.loads(FIXTURE.read_text(encoding="utf-8"))
    return data["models"]["fcn_resnet50"], data["input_shape"]


def cli(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli_main(list(args))
    return code, out.getvalue(), err.getvalue()


# --------------------------------------------------------------------------- U-Net: figures


def test_unet_checks_clean():
    code, out, err = cli("check", UNET)
    assert code == 0, err
    assert err == "", "no warnings: every division of Figure 1 is whole"
    assert out == (
        "specs/unet.yaml: ok: UNet, 31,030,658 params, 150,562,777,888 MACs, "
        "1×572×572 → 2×388×388\n"
    )


def test_unet_summary_json_shows_every_size_of_figure_1():
    code, out, err = cli("summary", "--format", "json", UNET)
    assert code == 0, err
    summary = json.loads(out)
    assert summary["input_shape"] == [1, 572, 572]
    assert summary["output_shape"] == [2, 388, 388]
    assert summary["params"] == UNET_PARAMS
    assert summary["macs"] == UNET_MACS
    by_path = {row["path"]: row for row in summary["layers"] if row["path"]}
    for path, maps, size in FIGURE_1:
        assert by_path[path]["output_shape"] == [maps, size, size], path
    by_id = {row["id"]: row for row in summary["layers"]}
    for cat, encoder, maps, size in CROPS:
        row = by_id[cat]
        assert row["type"] == "concat" and row["output_shape"] == [maps, size, size], cat
        # the skip first, cropped to the up-conv's H×W (the last input)
        up = "up" + cat[-1]
        assert row["inputs"] == [f"{encoder}.relu2", up], cat
    # every size the figure prints (and no other) is among the per-layer shapes
    printed = {572} | {size for _, _, size in FIGURE_1}
    shown = {row["output_shape"][1] for row in summary["layers"]}
    assert shown | {572} == printed
    # the nine DoubleConv levels carry their figures in the groups too
    groups = {g["path"]: g for g in summary["groups"]}
    assert [g["block"] for g in summary["groups"]] == ["DoubleConv"] * 9
    assert groups["enc1"]["output_shape"] == [64, 568, 568]
    assert groups["dec1"]["output_shape"] == [64, 388, 388]


def test_unet_has_23_conv_layers_all_unpadded(unet):
    convs = [n for n in unet.layers if n.kind in ("conv", "deconv")]
    assert len(convs) == 23
    assert sum(n.kind == "deconv" for n in convs) == 4
    assert [n.kernel for n in convs].count((3, 3)) == 18
    for n in convs:
        assert n.padding == (0, 0), n.path
        if n.kind == "deconv":
            assert (n.kernel, n.stride, n.output_padding) == ((2, 2), (2, 2), (0, 0)), n.path
            assert n.out_maps * 2 == n.in_maps, "an up-conv halves the maps"
    assert unet.layers[-1].path == "head" and unet.layers[-1].kernel == (1, 1)
    assert sum(n.kind == "relu" for n in unet.layers) == 18  # no activation on the head


@pytest.mark.parametrize(
    ("old", "new", "code"),
    [
        ("mid: 570", "mid: 571", "size-mismatch"),  # a DoubleConv's first conv
        ("maps: 64, size: 568x568", "maps: 64, size: 566x566", "size-mismatch"),  # its output
        (
            "kernel: 2x2, stride: 2, size: 284x284",
            "kernel: 2x2, stride: 2, size: 286x286",
            "no-padding",
        ),
        ("stride: 2, size: 56x56", "stride: 2, size: 58x58", "no-padding"),  # an up-conv
        ("maps: 1024, size: 56x56", "maps: 1024, size: 54x54", "size-mismatch"),  # a concat
        (
            "maps: 2, kernel: 1x1, size: 388x388",
            "maps: 2, kernel: 1x1, size: 386x386",
            "no-padding",
        ),
    ],
    ids=["conv", "block", "pool", "deconv", "concat", "head"],
)
def test_unet_sizes_are_checked_claims(old, new, code):
    """A wrong figure anywhere in the table is an error at that row, not decoration."""
    text = (ROOT / UNET).read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    with pytest.raises(SpecError) as caught:
        cnnspec.loads(text.replace(old, new), source=UNET)
    errors = [d for d in caught.value.diagnostics if d.severity == "error"]
    assert errors, caught.value
    wrong = new.rsplit(" ", 1)[1].split("x")[0]  # the figure typed wrong: 571, 566, …
    assert any(d.code == code and wrong in d.message for d in errors), [d.format() for d in errors]


# --------------------------------------------------------------------------- U-Net: reference


def _reference_key(key: str) -> str:
    """tests/reference/unet.py's state_dict key → the generated model's.

    down.i.j → enc{i+1}.j; upconv.i → up{4-i}; up.i.j → dec{4-i}.j; head → head."""
    head, _, rest = key.partition(".")
    if head == "down":
        i, _, rest = rest.partition(".")
        return f"enc{int(i) + 1}.{rest}"
    if head == "upconv":
        i, _, rest = rest.partition(".")
        return f"up{4 - int(i)}.{rest}"
    if head == "up":
        i, _, rest = rest.partition(".")
        return f"dec{4 - int(i)}.{rest}"
    return key


def _module_macs(module: torch.nn.Module, x: torch.Tensor, y: torch.Tensor) -> int:
    """MACs of one conv or transposed conv, counted from its real input and output.

    Conv2d: every output element meets (C_in/groups)·K_h·K_w weights. ConvTranspose2d:
    every INPUT element meets (C_out/groups)·K_h·K_w weights (the work a transposed conv
    does; counting it per output element, as torchinfo does, multiplies by stride²). The
    bias: one per output element."""
    kh, kw = module.kernel_size
    out = y[0].numel()
    bias = out if module.bias is not None else 0
    if isinstance(module, torch.nn.ConvTranspose2d):
        return x[0].numel() * (module.out_channels // module.groups) * kh * kw + bias
    if isinstance(module, torch.nn.Conv2d):
        return out * (module.in_channels // module.groups) * kh * kw + bias
    raise AssertionError(f"unexpected module {module}")


def _count_macs(model: torch.nn.Module, input_shape) -> dict[str, int]:
    """Per-module MACs of ``model`` (on the meta device: shapes only), by forward hooks."""
    counts: dict[str, int] = {}

    def hook(name):
        def record(module, inputs, output):
            counts[name] = counts.get(name, 0) + _module_macs(module, inputs[0], output)

        return record

    handles = [
        m.register_forward_hook(hook(name))
        for name, m in model.named_modules()
        if isinstance(m, (torch.nn.Conv2d, torch.nn.ConvTranspose2d))
    ]
    with torch.no_grad():
        model(torch.empty(*input_shape, device="meta"))
    for handle in handles:
        handle.remove()
    return counts


def test_unet_reference_has_the_same_parameters(unet):
    with torch.device("meta"):
        model, reference = cnnspec.build(unet), reference_unet.unet()
    assert sum(p.numel() for p in reference.parameters()) == UNET_PARAMS
    assert sum(p.numel() for p in model.parameters()) == unet.params == UNET_PARAMS
    ours = {k: tuple(t.shape) for k, t in model.state_dict().items()}
    theirs = {_reference_key(k): tuple(t.shape) for k, t in reference.state_dict().items()}
    assert ours == theirs


def test_unet_macs_equal_an_independent_count_of_the_reference(unet):
    with torch.device("meta"):
        reference = reference_unet.unet().eval()
    counts = _count_macs(reference, (1, *unet.input_shape))
    by_path = {
        _reference_key(name + ".weight").removesuffix(".weight"): c for name, c in counts.items()
    }
    nodes = {n.path: n.macs for n in unet.layers if n.kind in ("conv", "deconv")}
    assert by_path == nodes  # module for module
    assert sum(counts.values()) == unet.macs == UNET_MACS


def test_torchinfo_counts_transposed_convs_stride_squared_too_high(unet):
    """Documented, not copied: torchinfo counts a ConvTranspose2d's weights once per
    OUTPUT element (its 'Mult-Adds' for the up-convs are stride² = 4 × the weight MACs);
    everything else agrees with cnnspec."""
    with torch.device("meta"):
        reference = reference_unet.unet().eval()
        model = cnnspec.build(unet).eval()
        theirs = torchinfo.summary(
            reference, input_size=(1, *unet.input_shape), device="meta", verbose=0
        )
        ours = torchinfo.summary(model, input_size=(1, *unet.input_shape), device="meta", verbose=0)
    assert theirs.total_params == ours.total_params == UNET_PARAMS
    assert theirs.total_mult_adds == ours.total_mult_adds
    excess = 0
    for n in unet.layers:
        if n.kind == "deconv":
            stride2 = n.stride[0] * n.stride[1]
            weight_macs = n.macs - n.out_maps * math.prod(n.output_shape[1:])  # less the bias
            excess += (stride2 - 1) * weight_macs
    assert excess == 16_894_132_224
    assert theirs.total_mult_adds == unet.macs + excess == 167_456_910_112


def test_unet_computes_the_same_function_as_the_reference(unet):
    """The reference's weights copied into the generated model: the same output, to the
    bit (the same operations in the same order, the skip cropped centred)."""
    torch.manual_seed(0)
    reference = reference_unet.unet().eval()
    model = cnnspec.build(unet).eval()
    state = {_reference_key(k): v for k, v in reference.state_dict().items()}
    model.load_state_dict(state, strict=True)
    x = torch.randn(1, *unet.input_shape)
    with torch.no_grad():
        expected, got = reference(x), model(x)
    assert tuple(got.shape) == (1, 2, 388, 388)
    torch.testing.assert_close(got, expected, rtol=0, atol=0)


# --------------------------------------------------------------------------- FCN-ResNet50


def test_fcn_checks_and_counts(fcn, fcn_record):
    record, input_shape = fcn_record
    assert fcn.params == record["params"] == FCN_PARAMS
    # no transposed conv here: cnnspec's MACs are torchinfo's (the interpolation counts 0)
    assert fcn.macs == record["total_mult_adds"] == 26_484_569_040
    assert [1, *fcn.input_shape] == input_shape
    assert [1, *fcn.output_shape] == record["output_shape"] == [1, 21, 224, 224]
    last = fcn.nodes[-1]
    assert fcn.output == last.id
    assert last.kind == "upsample" and last.functional and last.path is None
    assert (last.mode, last.align_corners) == ("bilinear", False)


def test_fcn_state_dict_is_torchvisions(fcn, fcn_record):
    record, _ = fcn_record
    with torch.device("meta"):
        model = cnnspec.build(fcn)
    got = [[key, list(t.shape)] for key, t in model.state_dict().items()]
    assert got == record["state_dict"]
    keys = [k for k, _ in got]
    assert keys[0] == "backbone.conv1.weight"
    assert "backbone.layer4.2.conv3.weight" in keys
    assert keys[-1] == "classifier.4.bias"
    assert not any(".fc." in k or k.startswith("backbone.fc") for k in keys)
    assert sum(t.numel() for t in model.parameters()) == FCN_PARAMS


def test_fcn_every_recorded_module_has_torchvisions_shape(fcn, fcn_record):
    """The fixture records each leaf module's output at 224×224. torchvision's Bottleneck
    calls one `relu` three times where the block has relu1, relu2, relu3 (no state): those
    are compared by position within the block."""
    record, _ = fcn_record
    ours = {n.path: list(n.output_shape) for n in fcn.layers if n.path}
    relus: dict[str, list] = {}
    for path, shape in record["modules"]:
        if re.fullmatch(r"backbone\.layer\d\.\d+\.relu", path):
            relus.setdefault(path, []).append(shape)
            continue
        assert ours.get(path) == shape, path
    for path, shapes in relus.items():
        assert [ours[f"{path}{i}"] for i in (1, 2, 3)] == shapes, path
    # the dilated stages keep the stride-8 maps of layer2
    for stage in ("layer2", "layer3", "layer4"):
        assert ours[f"backbone.{stage}.0.conv3"][1:] == [28, 28]


def test_fcn_dilations_are_torchvisions(fcn):
    """replace_stride_with_dilation=[False, True, True]: a stage's first block has the
    dilation of the stage before, the others the new one; padding = dilation; the
    projections of layer3 and layer4 have stride 1."""
    conv2 = {n.path: n for n in fcn.layers if n.path and n.path.endswith(".conv2")}
    want = {"layer1": [1] * 3, "layer2": [1] * 4, "layer3": [1] + [2] * 5, "layer4": [2, 4, 4]}
    for stage, dilations in want.items():
        for i, d in enumerate(dilations):
            node = conv2[f"backbone.{stage}.{i}.conv2"]
            assert node.dilation == node.padding == (d, d), node.path
            assert node.stride == ((2, 2) if (stage, i) == ("layer2", 0) else (1, 1)), node.path
    for stage in ("layer3", "layer4"):
        down = next(n for n in fcn.layers if n.path == f"backbone.{stage}.0.downsample.0")
        assert down.stride == (1, 1) and down.kernel == (1, 1)


def test_fcn_output_is_torchvisions_out(fcn, fcn_record):
    """The same function: torchvision's output under "out" for the fixed weights and
    input of tests/fingerprint.py, to rtol 1e-4; the generated model returns the tensor."""
    record, input_shape = fcn_record
    model = fill_(cnnspec.build(fcn).double().eval())
    with torch.no_grad():
        y = model(fixed_input(input_shape))
    assert isinstance(y, torch.Tensor)
    assert list(y.shape) == record["output_shape"]
    problem = compare(sample(y), record["fingerprint"], rtol=1e-4)
    assert problem is None, problem


def test_fcn_source_interpolates_to_the_input_size(fcn):
    source = cnnspec.torch_source(fcn)
    assert (
        'nn.functional.interpolate(\n            out, size=x.shape[2:], mode="bilinear", '
        "align_corners=False\n        )" in source
    )
    assert "class DilatedBottleneck(nn.Module):" in source


# --------------------------------------------------------------------------- bad input

#: case → (code, line, the text the column points at)
BAD = {
    "seg_crop_grow": ("crop-grow", 13, "center"),
    "seg_upsample_scale": ("size-mismatch", 7, "41x41"),
    "seg_deconv_negative_padding": ("no-padding", 7, "60x60"),
    "seg_deconv_output_padding": ("output-padding", 6, "2, size: 57x57"),
}
#: the arithmetic each message must show
ARITHMETIC = {
    "seg_crop_grow": ["52×52", "'pool1' is only 30×30"],
    "seg_upsample_scale": ["27×1.5 = 40.5", "40×40", "41×41"],
    "seg_deconv_negative_padding": ["(28 − 1)·2 − 2·P + (2 − 1) + OP + 1 = 60", "padding -2"],
    "seg_deconv_output_padding": ["output_padding 2", "max(stride, dilation) = 2"],
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_segmentation_input_is_located_with_its_arithmetic(case):
    path = f"tests/bad/{case}.yaml"
    code, out, err = cli("check", path)
    assert code == 1 and out == ""
    errors = [line for line in err.splitlines() if ": error: " in line]
    assert len(errors) == 1, err
    want_code, line, token = BAD[case]
    m = re.match(rf"^{re.escape(path)}:(\d+):(\d+): error: .+ \[([a-z-]+)\]$", errors[0])
    assert m, errors[0]
    assert (int(m[1]), m[3]) == (line, want_code), errors[0]
    text = (ROOT / path).read_text(encoding="utf-8").splitlines()[line - 1]
    assert text[int(m[2]) - 1 :].startswith(token), (text, m[2])
    for piece in ARITHMETIC[case]:
        assert piece in errors[0], (piece, errors[0])
