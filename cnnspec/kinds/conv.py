"""Convolutions: ``conv`` (nn.Conv2d) and ``deconv`` (nn.ConvTranspose2d)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, WithJsonSchema

from ..spec.values import (
    Dilation,
    Kernel,
    Maps,
    OptPadding,
    OptSize,
    Padding,
    Size,
    Stride,
    pair_schema,
    parse_pair,
)
from .activation import Activation, OptActivation
from .base import LayerKind, Resolved, RowContext, Shape, size_text
from .row import ACTIVATION_AFTER, SIZE_CHECKED, RowModel
from .window import window

_PADDING = (
    "Zero padding per side: int, HxW, or 'same' (stride 1; PyTorch's padding='same'). "
    "When absent and `size` is declared, the smallest padding that yields `size` is "
    "inferred; otherwise 0."
)


class Conv(RowModel):
    """A 2-D convolution (nn.Conv2d)."""

    type: Literal["conv"]
    maps: Maps = Field(description="Output feature maps (channels).")
    size: OptSize = Field(None, description=SIZE_CHECKED)
    kernel: Kernel = Field(description="Kernel size: 5, 5x5, 5×5 or [5, 5].")
    stride: Stride = Field((1, 1), description="Stride, default 1.")
    padding: OptPadding = Field(None, description=_PADDING)
    dilation: Dilation = Field((1, 1), description="Spacing between kernel taps, default 1.")
    groups: Maps = Field(1, description="Blocked connections; must divide in and out maps.")
    bias: bool = Field(True, description="Learn an additive bias.")
    activation: OptActivation = Field(None, description=ACTIVATION_AFTER)


OutputPadding = Annotated[
    tuple[int, int],
    BeforeValidator(lambda v: parse_pair(v, what="output padding", minimum=0)),
    WithJsonSchema(pair_schema(0)),
]


class Deconv(RowModel):
    """A transposed 2-D convolution (nn.ConvTranspose2d): U-Net's up-convolution."""

    type: Literal["deconv"]
    maps: Maps = Field(description="Output feature maps (channels).")
    size: Size | None = Field(
        None,
        description="Declared output size (H×W). Optional; when given it must equal "
        "(W − 1)·S − 2P + D·(K − 1) + output_padding + 1, and missing padding and "
        "output_padding are inferred from it.",
    )
    kernel: Kernel = Field(description="Kernel size: 2, 2x2 or [2, 2].")
    stride: Stride = Field((1, 1), description="Stride, default 1.")
    padding: Padding | None = Field(
        None, description="Padding taken off each side of the output (int or HxW); default 0."
    )
    output_padding: OutputPadding | None = Field(
        None,
        description="Extra rows/columns added on one side (below max(stride, dilation)).",
    )
    dilation: Dilation = Field((1, 1), description="Spacing between kernel taps, default 1.")
    groups: Maps = Field(1, description="Blocked connections; must divide in and out maps.")
    bias: bool = Field(True, description="Learn an additive bias.")
    activation: Activation | None = Field(None, description=ACTIVATION_AFTER)


# --------------------------------------------------------------------------- conv


def _check_groups(ctx: RowContext, c: int) -> None:
    row = ctx.spec_row
    if c % row.groups or row.maps % row.groups:
        ctx.error(
            f"groups={row.groups} must divide both the input maps ({c}) and the output maps "
            f"({row.maps})",
            "groups",
            "groups",
        )


def conv_rule(ctx: RowContext, shape) -> Resolved:
    row: Conv = ctx.spec_row
    c = shape[0]
    _check_groups(ctx, c)
    found = window(ctx, shape, row.kernel, row.stride, row.dilation, pool=False, ceil=False)
    if found is None:
        return Resolved(None)
    (_, oh, ow), padding, inferred, same = found
    per_group = c // row.groups if c % row.groups == 0 else c
    params = row.maps * per_group * row.kernel[0] * row.kernel[1] + (row.maps if row.bias else 0)
    return Resolved(
        (row.maps, oh, ow),
        params=params,
        fields=_fields(row, c, padding, inferred, padding_same=same),
    )


def _fields(row: Any, c: int, padding: Any, inferred: bool, **extra: Any) -> dict[str, Any]:
    """The node fields a convolution and a transposed one share, and ``extra``."""
    return dict(
        in_maps=c,
        out_maps=row.maps,
        kernel=row.kernel,
        stride=row.stride,
        padding=padding,
        padding_inferred=inferred,
        dilation=row.dilation,
        groups=row.groups,
        bias=row.bias,
        **extra,
    )


def conv_macs(shape: Shape, res: Resolved) -> int:
    """Every parameter once per output position."""
    assert res.output_shape is not None
    _, oh, ow = res.output_shape
    return res.params * oh * ow


# --------------------------------------------------------------------------- deconv


def _deconv_out(w: int, k: int, s: int, p: int, d: int, op: int) -> int:
    return (w - 1) * s - 2 * p + d * (k - 1) + op + 1


def _deconv_formula(w: int, k: int, s: int, p: Any, d: int, op: Any) -> str:
    dil = f"{d}·({k} − 1)" if d != 1 else f"({k} − 1)"
    return f"({w} − 1)·{s} − 2·{p} + {dil} + {op} + 1"


def _deconv_inferred(ctx: RowContext, axes: list, padding) -> tuple[tuple, tuple] | None:
    """The padding (when the row leaves it out) and the output padding that give the
    declared size, per axis; None (reported) when none do."""
    row = ctx.spec_row
    found = []
    for (n, k, st, d), want, given_p in zip(axes, row.size, padding):
        base = _deconv_out(n, k, st, 0, d, 0)
        if row.padding is not None:
            p, op = given_p, want - _deconv_out(n, k, st, given_p, d, 0)
        else:
            gap = base - want  # 2P − output_padding
            p = max(0, (gap + 1) // 2)
            op = 2 * p - gap
        if p < 0 or op < 0 or op >= max(st, d):
            need = f"{(base - want) / 2:g}" if row.padding is None else None
            if row.padding is None and base < want:
                why = f"it would need padding {need}: a deconv cannot pad its output outward"
            else:
                why = (
                    f"output_padding would have to be {op}, but it must be below "
                    f"max(stride, dilation) = {max(st, d)}"
                )
            ctx.error(
                f"no padding P and output padding OP give "
                f"{_deconv_formula(n, k, st, 'P', d, 'OP')} = {want}, as the row "
                f"declares; {why}",
                "no-padding",
                "size",
            )
            return None
        found.append((p, op))
    return (found[0][0], found[1][0]), (found[0][1], found[1][1])


def _deconv_padding(ctx: RowContext, axes: list) -> tuple[tuple, tuple, bool] | None:
    """(padding, output padding, whether the padding was inferred), or None (reported)."""
    row = ctx.spec_row
    padding = (0, 0) if row.padding is None else row.padding
    if padding == "same":
        ctx.error("padding 'same' is not defined for a deconv", "padding-same", "padding")
        return None
    out_pad = row.output_padding
    inferred = False
    if row.size is not None and (row.padding is None or out_pad is None):
        found = _deconv_inferred(ctx, axes, padding)
        if found is None:
            return None
        padding, out_pad = found
        inferred = row.padding is None
    out_pad = out_pad or (0, 0)
    for (_, _, st, d), op in zip(axes, out_pad):
        if op >= max(st, d):
            ctx.error(
                f"output_padding {op} must be below max(stride, dilation) = {max(st, d)} "
                "(PyTorch's rule)",
                "output-padding",
                "output_padding",
            )
            return None
    return padding, out_pad, inferred


def deconv_rule(ctx: RowContext, shape) -> Resolved:
    """A transposed convolution: out = (W − 1)·S − 2P + D·(K − 1) + output_padding + 1."""
    row = ctx.spec_row
    c, h, w = shape
    _check_groups(ctx, c)
    axes = list(zip((h, w), row.kernel, row.stride, row.dilation))
    found = _deconv_padding(ctx, axes)
    if found is None:
        return Resolved(None)
    padding, out_pad, inferred = found
    out = tuple(
        _deconv_out(n, k, st, p, d, op) for (n, k, st, d), p, op in zip(axes, padding, out_pad)
    )
    if any(o < 1 for o in out):
        formula = _deconv_formula(
            h, row.kernel[0], row.stride[0], padding[0], row.dilation[0], out_pad[0]
        )
        ctx.error(
            f"{formula} = {out[0]}: an output needs at least 1",
            "kernel-too-large",
            "padding",
        )
        return Resolved(None)
    if row.size is not None and out != tuple(row.size):
        arith = "; ".join(
            f"{_deconv_formula(n, k, st, p, d, op)} = {o}"
            for (n, k, st, d), p, op, o in zip(axes, padding, out_pad, out)
        )
        ctx.error(f"{arith}, but the row declares {size_text(row.size)}", "size-mismatch", "size")
        return Resolved(None)
    per_group = row.maps // row.groups if row.maps % row.groups == 0 else row.maps
    weights = c * per_group * row.kernel[0] * row.kernel[1]
    bias = row.maps if row.bias else 0
    return Resolved(
        (row.maps, *out),
        params=weights + bias,
        fields=_fields(row, c, padding, inferred, output_padding=out_pad),
    )


def deconv_macs(shape: Shape, res: Resolved) -> int:
    """Every input element meets (C_out/groups)·K_h·K_w weights; plus one per output
    element for the bias (torchinfo counts on the output size: stride² too high)."""
    assert res.output_shape is not None
    _, h, w = shape
    _, oh, ow = res.output_shape
    bias = res.fields["out_maps"] if res.fields["bias"] else 0
    return (res.params - bias) * h * w + bias * oh * ow


def conv_weights(node: Any) -> int:
    """The weights a paper prints for a convolution: C_out·(C_in/groups)·K_h·K_w."""
    if not (node.kernel and node.in_maps and node.out_maps):
        return 0
    return node.out_maps * (node.in_maps // node.groups) * node.kernel[0] * node.kernel[1]


# --------------------------------------------------------------------------- the kinds

_HYPER = ("in_maps", "out_maps", "kernel", "stride", "padding", "dilation", "groups", "bias")
_KEYS = {k: k for k in ("kernel", "stride", "padding", "dilation", "groups", "bias")}

CONV = LayerKind(
    "conv",
    Conv,
    conv_rule,
    "conv",
    "convolution",
    macs=conv_macs,
    weights=conv_weights,
    spatial=True,
    maps="declared",
    maps_key="maps",
    torch_class="Conv2d",
    hyper=(*_HYPER, "padding_same"),
    keys=_KEYS,
)
DECONV = LayerKind(
    "deconv",
    Deconv,
    deconv_rule,
    "deconv",
    "transposed conv",
    macs=deconv_macs,
    spatial=True,
    maps="declared",
    maps_key="maps",
    torch_class="ConvTranspose2d",
    hyper=(*_HYPER, "output_padding"),
    keys={**_KEYS, "output_padding": "output_padding"},
)
