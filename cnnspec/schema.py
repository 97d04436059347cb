"""Compatibility re-exports; callers move to cnnspec.kinds / cnnspec.spec.

The spec format lives in :mod:`cnnspec.spec` (values, document models, validation,
error translation, JSON Schema) and each kind's row model with its kind in
:mod:`cnnspec.kinds`.
"""

from __future__ import annotations

from .kinds import ACTIVATIONS, LAYER_TYPES
from .kinds import MODEL_FOR_TYPE as _MODEL_FOR_TYPE
from .kinds.activation import (
    Activation,
    LeakyReLU,
    OptActivation,
    ReLU,
    ReLU6,
    Sigmoid,
    Softmax,
    Tanh,
)
from .kinds.container import Sequential
from .kinds.conv import Conv, Deconv
from .kinds.linear import FC, Dropout, Flatten
from .kinds.merge import Add, Concat
from .kinds.norm import LRN, BatchNorm
from .kinds.pool import AdaptiveAvgPool, AdaptiveMaxPool, AvgPool, MaxPool
from .kinds.resize import Upsample
from .kinds.row import RowModel as _Row
from .spec.errors import drop_explained as _drop_explained
from .spec.errors import located as _diagnostic
from .spec.errors import unknown_type_message
from .spec.jsonschema import json_schema, json_schema_text
from .spec.models import (
    BLOCK,
    BlockRow,
    BlockSpec,
    Input,
    Layer,
    ParamSpec,
    PrintedConvention,
    Spec,
    row_keys,
)
from .spec.validate import BLOCK_ROW_KEYS, RESERVED_PARAMS, all_rows, validate
from .spec.values import (
    GENERATED_GLOBALS,
    MAX_EXTENT,
    MAX_MAPS,
    MAX_NAME_LENGTH,
    MAX_REPEAT,
    RESERVED_NAMES,
    ClassName,
    Condition,
    Dilation,
    Kernel,
    Maps,
    Name,
    NotNull,
    OptMaps,
    OptName,
    OptPadding,
    OptPoolPadding,
    OptSize,
    OptStride,
    Padding,
    PoolPadding,
    Printed,
    Probability,
    Size,
    Sources,
    Stride,
    check_identifier,
    printed_value,
)

__all__ = [
    "ACTIVATIONS",
    "BLOCK",
    "BLOCK_ROW_KEYS",
    "FC",
    "GENERATED_GLOBALS",
    "LAYER_TYPES",
    "LRN",
    "MAX_EXTENT",
    "MAX_MAPS",
    "MAX_NAME_LENGTH",
    "MAX_REPEAT",
    "RESERVED_NAMES",
    "RESERVED_PARAMS",
    "Activation",
    "AdaptiveAvgPool",
    "AdaptiveMaxPool",
    "Add",
    "AvgPool",
    "BatchNorm",
    "BlockRow",
    "BlockSpec",
    "ClassName",
    "Concat",
    "Condition",
    "Conv",
    "Deconv",
    "Dilation",
    "Dropout",
    "Flatten",
    "Input",
    "Kernel",
    "Layer",
    "LeakyReLU",
    "Maps",
    "MaxPool",
    "Name",
    "NotNull",
    "OptActivation",
    "OptMaps",
    "OptName",
    "OptPadding",
    "OptPoolPadding",
    "OptSize",
    "OptStride",
    "Padding",
    "ParamSpec",
    "PoolPadding",
    "Printed",
    "PrintedConvention",
    "Probability",
    "ReLU",
    "ReLU6",
    "Sequential",
    "Sigmoid",
    "Size",
    "Softmax",
    "Sources",
    "Spec",
    "Stride",
    "Tanh",
    "Upsample",
    "_MODEL_FOR_TYPE",
    "_Row",
    "_diagnostic",
    "_drop_explained",
    "all_rows",
    "check_identifier",
    "json_schema",
    "json_schema_text",
    "printed_value",
    "row_keys",
    "unknown_type_message",
    "validate",
]
