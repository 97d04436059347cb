"""The PyTorch backend's own error: source it produced is not what it meant to write."""

from __future__ import annotations


class RenderError(RuntimeError):
    """An internal error: the backend produced source that is not what it meant to write."""
