"""Compatibility re-exports; callers move to cnnspec.kinds / cnnspec.spec.

Stage 3 (:class:`Spec` → :class:`Network`, the checked IR) is the walk in ``graph.py``;
the shape rule of each kind lives with its kind in :mod:`cnnspec.kinds`, the
output-size arithmetic in :mod:`cnnspec.kinds.window`. :func:`check` is the stage's
entry point until the pipeline runs the walk itself.
"""

from __future__ import annotations

from .ir import Network
from .kinds import SPATIAL, Resolved, RowContext, opt
from .kinds.activation import activation_rule
from .kinds.base import declared as _declared
from .kinds.conv import conv_rule, deconv_rule
from .kinds.linear import dropout_rule, fc_rule
from .kinds.merge import add_rule, concat_rule
from .kinds.norm import batchnorm_rule, lrn_rule
from .kinds.pool import adaptive_pool_rule, pool_rule
from .kinds.resize import upsample_rule
from .kinds.window import Axis
from .load import Document
from .spec.models import Spec
from .spec.values import MAX_ROWS

__all__ = [
    "MAX_ROWS",
    "SPATIAL",
    "Axis",
    "Resolved",
    "RowContext",
    "_declared",
    "activation_rule",
    "adaptive_pool_rule",
    "add_rule",
    "batchnorm_rule",
    "check",
    "concat_rule",
    "conv_rule",
    "deconv_rule",
    "dropout_rule",
    "fc_rule",
    "lrn_rule",
    "opt",
    "pool_rule",
    "upsample_rule",
]


def check(spec: Spec, doc: Document, *, source: str = "<spec>", strict: bool = False) -> Network:
    """Resolve and check every row; raise :class:`SpecError` listing every problem."""
    from .graph import check_spec

    return check_spec(spec, doc, source=source, strict=strict)
