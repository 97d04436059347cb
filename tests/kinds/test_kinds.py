"""The layer kinds (cnnspec/kinds/): one record per kind, and the sets derived from them."""

from __future__ import annotations

import dataclasses
import typing
from pathlib import Path

import pytest

import cnnspec
from cnnspec.backends import torch as backend
from cnnspec.diagnostics import SpecError
from cnnspec.ir import Node
from cnnspec.kinds import (
    ACTIVATIONS,
    CHANNELS_LAST,
    DECLARED_MAPS,
    ELEMENTWISE,
    FAMILY_LEGEND,
    FIELD_KEY,
    HYPER,
    KINDS,
    LAYER_TYPES,
    MAPS,
    MERGES,
    MODEL_FOR_TYPE,
    OPERATIONS,
    SPATIAL,
)
from cnnspec.kinds.activation import Activation
from cnnspec.spec.models import row_keys

ROOT = Path(__file__).resolve().parents[2]
#: the networks of specs/ (specs/blocks/ holds shared blocks, not networks)
SPECS = sorted(p for p in (ROOT / "specs").rglob("*.yaml") if p.parent.name != "blocks")


def _errors(text: str) -> list[str]:
    with pytest.raises(SpecError) as info:
        cnnspec.loads(text, source="t.yaml")
    return [f"{d.code}: {d.message}" for d in info.value.diagnostics]


# --------------------------------------------------------------------------- the records


@pytest.mark.parametrize("name", LAYER_TYPES)
def test_a_record_is_named_like_the_tag_its_row_model_takes(name):
    kind = KINDS[name]
    assert kind.name == name
    assert typing.get_args(kind.model.model_fields["type"].annotation) == (name,)
    assert MODEL_FOR_TYPE[name] is kind.model


@pytest.mark.parametrize("name", LAYER_TYPES)
def test_the_row_keys_a_record_names_are_keys_of_its_row_model(name):
    kind = KINDS[name]
    keys = set(row_keys(kind.model))
    assert set(kind.keys.values()) <= keys
    if kind.maps == "declared":
        assert kind.maps_key in keys
    assert set(kind.hyper) <= {f.name for f in dataclasses.fields(Node)}


def test_every_module_kind_has_its_macro_and_no_operation_has_one():
    macros = backend.environment().get_template("_layers.jinja").module
    for kind in KINDS.values():
        if kind.macro is not None:
            # a module, or an operation that is a module inside an nn.Sequential (flatten)
            assert kind.is_module or kind.op == "torch.flatten" or kind.parameter, kind.name
            assert callable(getattr(macros, kind.macro)), kind.name
        elif kind.shape is not None:
            assert not kind.is_module, kind.name
    # the functional form of a module writes its own macro
    assert callable(getattr(macros, KINDS["upsample"].op))


def test_a_rule_is_the_shape_rule_then_the_mac_rule():
    assert KINDS["flatten"].rule is None and KINDS["sequential"].rule is None
    net = cnnspec.loads(
        "name: Net\ninput: {maps: 3, size: 8x8}\nlayers:\n"
        "  - {type: conv, maps: 4, kernel: 3}\n"
        "  - {type: deconv, maps: 2, kernel: 2, stride: 2}\n"
        "  - {type: batchnorm}\n"
    )
    conv, deconv, bn = net.layers
    assert conv.macs == conv.params * 6 * 6 == (4 * 3 * 9 + 4) * 36
    # each of the 4×6×6 input elements meets 2·2·2 weights; the bias once per output
    assert deconv.macs == 4 * 2 * 4 * 6 * 6 + 2 * 12 * 12
    assert bn.macs == bn.params == 2 * 2


# --------------------------------------------------------------------------- derived sets


def test_the_derived_sets():
    assert SPATIAL == {
        "conv",
        "deconv",
        "maxpool",
        "avgpool",
        "adaptive_avgpool",
        "adaptive_maxpool",
        "spp",
        "lrn",
        "upsample",
        "scale",
    }
    assert MERGES == {"add", "concat", "mul"}
    assert ACTIVATIONS == (
        "relu",
        "relu6",
        "leaky_relu",
        "sigmoid",
        "tanh",
        "hardswish",
        "hardsigmoid",
        "silu",
        "gelu",
        "softmax",
    )
    assert ELEMENTWISE == {
        "batchnorm",
        "layernorm",
        "groupnorm",
        "scale",
        "dropout",
        "stochastic_depth",
        "lrn",
        "channel_shuffle",
        *ACTIVATIONS,
    }
    assert CHANNELS_LAST == {
        "fc",
        "dropout",
        "layernorm",
        "permute",
        "flatten",
        "add",
        *ACTIVATIONS,
    }
    assert OPERATIONS == {"split", "channel_shuffle"}
    assert MAPS["split"] == "part"
    assert FAMILY_LEGEND["channels"] == "split / shuffle"
    assert DECLARED_MAPS == {
        "conv": "maps",
        "deconv": "maps",
        "spp": "size",
        "fc": "size",
        "reshape": "shape",
    }
    assert FAMILY_LEGEND["merge"] == "add / concat / mul"
    assert "container" not in FAMILY_LEGEND  # a container is never drawn as a node
    assert FIELD_KEY["target"] == "size"


def test_the_activation_type_is_built_from_the_records():
    (literal,) = (a for a in typing.get_args(Activation) if typing.get_origin(a) is typing.Literal)
    assert typing.get_args(literal) == (*ACTIVATIONS, "none")


def test_hyper_fields_are_in_the_ir_node_order():
    order = [f.name for f in dataclasses.fields(Node)]
    assert list(HYPER) == sorted(HYPER, key=order.index)
    assert list(FIELD_KEY) == sorted(FIELD_KEY, key=order.index)


@pytest.mark.parametrize("path", SPECS, ids=lambda p: str(p.relative_to(ROOT)))
def test_a_node_sets_only_its_kinds_hyper_fields(path):
    """What a shape rule resolves is what its record says the kind prints."""
    defaults = {f.name: f.default for f in dataclasses.fields(Node)}
    for node in cnnspec.load(path).nodes:
        kind = KINDS[node.kind]
        set_here = {f for f in HYPER if f != "torch_class" and getattr(node, f) != defaults[f]}
        assert set_here <= set(kind.hyper), (node.id, set_here - set(kind.hyper))


# --------------------------------------------------------------------------- spatial kinds


@pytest.mark.parametrize("kind", sorted(SPATIAL - {"upsample"}))
def test_every_spatial_kind_is_rejected_after_the_flatten(kind):
    row = {
        "conv": "{type: conv, maps: 4, kernel: 1}",
        "deconv": "{type: deconv, maps: 4, kernel: 1}",
        "maxpool": "{type: maxpool, kernel: 1}",
        "avgpool": "{type: avgpool, kernel: 1}",
        "adaptive_avgpool": "{type: adaptive_avgpool, size: 1}",
        "adaptive_maxpool": "{type: adaptive_maxpool, size: 1}",
        "spp": "{type: spp, levels: [1]}",
        "lrn": "{type: lrn}",
        "scale": "{type: scale}",
    }[kind]
    text = (
        "name: Net\ninput: {maps: 3, size: 8x8}\nlayers:\n"
        "  - {type: conv, maps: 8, kernel: 3}\n"
        "  - {type: flatten}\n"
        f"  - {row}\n"
        "  - {type: fc, size: 10}\n"
    )
    (error,) = _errors(text)
    assert error.startswith(f"spatial-after-flatten: a {kind} row after the flatten")


def test_lrn_after_a_block_fc_is_rejected():
    text = (
        "name: Net\ninput: {maps: 3, size: 8x8}\n"
        "blocks:\n  Head:\n    layers:\n"
        "      - {type: fc, size: 16}\n"
        "      - {type: lrn}\n"
        "layers:\n"
        "  - {type: conv, maps: 8, kernel: 3}\n"
        "  - {type: Head}\n"
    )
    (error,) = _errors(text)
    assert error.startswith("spatial-after-flatten: a lrn row after the flatten")
