"""The PyTorch backend: a checked network → the source of one module file, and the model.

- :mod:`.lower` — a graph network's trace → the classes to write (pure: ``check``
  runs it for its ``[block-varies]`` diagnostics, without jinja2 or torch);
- :mod:`.render` — templates (:func:`add_macros`: the macros of a kind registered at run
  time), the self-check, :func:`render_torch`, :func:`build_module`;
- :mod:`.writer` — one generated class's ``__init__`` and ``forward``;
- :mod:`.docstring` — header, docstrings and layer tables; :mod:`.checks` — names
  and expressions before they become code; :mod:`.linewrap` — statements laid out
  as ``ruff format`` lays them out.

The rendering names are loaded on first use, so that importing :mod:`.lower` (as
``cnnspec check`` does) loads no template machinery.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .errors import RenderError

if TYPE_CHECKING:  # pragma: no cover
    from .render import (
        GRAPH_TEMPLATE,
        LAYERS,
        TEMPLATE,
        add_macros,
        build_module,
        environment,
        remove_macros,
        render_torch,
    )

_RENDER = frozenset(
    {
        "GRAPH_TEMPLATE",
        "LAYERS",
        "TEMPLATE",
        "add_macros",
        "build_module",
        "environment",
        "remove_macros",
        "render_torch",
    }
)

__all__ = [
    "GRAPH_TEMPLATE",
    "LAYERS",
    "TEMPLATE",
    "RenderError",
    "add_macros",
    "build_module",
    "environment",
    "remove_macros",
    "render_torch",
]


def __getattr__(name: str) -> Any:
    if name in _RENDER:
        from . import render

        return getattr(render, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
