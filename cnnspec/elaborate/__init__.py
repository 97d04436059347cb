"""Stage 3, elaboration: a checked :class:`~cnnspec.spec.models.Spec` → the network's nodes.

- :mod:`.stage` — the entry: :func:`elaborate`, and the :class:`Elaboration` that
  becomes the :class:`~cnnspec.ir.Network`;
- :mod:`.walker` — scopes, ``from:`` and ``if:``, dispatch by kind;
- :mod:`.emit` — the IR's nodes and groups, module paths;
- :mod:`.blocks` — block arguments, instances, block recursion;
- :mod:`.substitute` — a block's rows with an instance's params substituted;
- :mod:`.memo` — replay of an instance that walks like an earlier one;
- :mod:`.printed` — the paper's printed figures against the counts;
- :mod:`.scope` — what the walk carries from row to row.
"""

from __future__ import annotations

from .stage import Elaboration, elaborate, is_graph

__all__ = ["Elaboration", "elaborate", "is_graph"]
