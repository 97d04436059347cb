"""compatibility re-exports; callers move to cnnspec.frontend (:mod:`cnnspec.frontend.table`)."""

from .frontend.table import expand_table

__all__ = ["expand_table"]
