"""compatibility re-exports; callers move to cnnspec.frontend (:mod:`cnnspec.frontend.load`)."""

from .frontend.load import (
    MAX_DEPTH,
    MAX_DIGITS,
    MAX_FILE_BYTES,
    MAX_NODES,
    Document,
    clip,
    decode,
    load_text,
    too_large,
)

__all__ = [
    "MAX_DEPTH",
    "MAX_DIGITS",
    "MAX_FILE_BYTES",
    "MAX_NODES",
    "Document",
    "clip",
    "decode",
    "load_text",
    "too_large",
]
