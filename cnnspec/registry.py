"""Compatibility re-exports; callers move to cnnspec.kinds / cnnspec.spec.

The layer kinds' records and every set derived from them live in :mod:`cnnspec.kinds`.
"""

from __future__ import annotations

from .kinds import ACTIVATIONS, KINDS, LayerKind

__all__ = ["ACTIVATIONS", "KINDS", "LayerKind"]
