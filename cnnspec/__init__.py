"""cnnspec: a CNN written as a textbook table, checked statically, compiled to PyTorch.

::

    import cnnspec
    net = cnnspec.load("specs/vgg16.yaml")     # raises cnnspec.SpecError(.diagnostics)
    net.params, net.macs, net.output_shape, net.layers
    source = cnnspec.torch_source(net)         # the module file, as text
    model = cnnspec.build(net)                 # torch.nn.Module (imports torch here only)
    graph = cnnspec.diagram(net)               # graphviz.Digraph

Nothing imported here pulls in torch.
"""

from __future__ import annotations

# no import runs here (not even typing's): a Ctrl-C as the command starts falls in its
# own handler as early as can be, and ``import cnnspec`` costs nothing
TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any

    import graphviz
    import torch

    from .diagnostics import Diagnostic, Pos, SpecError, SpecFileError
    from .ir import Network, Node, Row
    from .pipeline import load, loads

#: Imported on first use (:func:`__getattr__`): ``import cnnspec`` alone imports nothing,
#: and a command answered from its cache reads no YAML or schema machinery.
_LAZY = {
    "Diagnostic": "diagnostics",
    "Pos": "diagnostics",
    "SpecError": "diagnostics",
    "SpecFileError": "diagnostics",
    "Network": "ir",
    "Node": "ir",
    "Row": "ir",
    "load": "pipeline",
    "loads": "pipeline",
}

__all__ = [
    "Diagnostic",
    "Network",
    "Node",
    "Pos",
    "Row",
    "SpecError",
    "SpecFileError",
    "build",
    "diagram",
    "load",
    "loads",
    "torch_source",
]
__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'cnnspec' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def torch_source(net: Network) -> str:
    """The generated PyTorch module file for ``net``, as text."""
    from .backends.torch import render_torch

    return render_torch(net)


def build(net: Network) -> torch.nn.Module:
    """Instantiate the generated module (this imports torch): for a graph network, its
    block classes are defined first and the network class (the last one) is built."""
    from .backends.torch import build_module

    return build_module(net)


def diagram(net: Network, **kwargs: Any) -> graphviz.Digraph:
    """The architecture diagram as a ``graphviz.Digraph`` (renders itself in Jupyter)."""
    from .backends.diagram import render_diagram

    return render_diagram(net, **kwargs)
