"""Stage 3 end to end, until the pipeline runs its parts itself: elaborate, lower, finish.

The walk lives in :mod:`cnnspec.elaborate`; the classes a graph network's PyTorch
source is written from are lowered by the backend (:mod:`cnnspec.backends.torch.lower`,
pure and torch-free), here because their merge reports ``[block-varies]``, which
``cnnspec check`` must show.
"""

from __future__ import annotations

from .backends.torch.lower import lower
from .deep import deep_stack
from .elaborate import elaborate
from .ir import Network
from .load import Document
from .schema import Spec


@deep_stack
def check_spec(
    spec: Spec, doc: Document, *, source: str = "<spec>", strict: bool = False
) -> Network:
    """Resolve and check every row; raise :class:`SpecError` listing every problem."""
    done = elaborate(spec, doc)
    classes, problems = lower(done.trace) if done.trace is not None else ((), [])
    return done.network(classes, problems, source=source, strict=strict)
