"""Fast construction and copying of the frozen records the compiler makes by the thousand.

A frozen dataclass's ``__init__`` sets its fields one ``object.__setattr__`` at a time
(5 µs for a 40-field :class:`~cnnspec.ir.Node`); :class:`Maker` fills ``__dict__`` at
once (0.8 µs), and :func:`evolve` is ``dataclasses.replace`` at a tenth of the cost.
Both fall back to the dataclass machinery whenever it would say something (an unknown
or missing field), so they never make a record its own ``__init__`` would refuse.
"""

from __future__ import annotations

import dataclasses
from typing import Any

_object_new = object.__new__


class Maker:
    """Builds a frozen dataclass without running its ``__init__``. Its callers never give
    a field twice (``extra`` and the keywords are disjoint); a field unknown or missing
    goes to ``__init__``, which says which."""

    def __init__(self, cls: type) -> None:
        fs = dataclasses.fields(cls)
        assert not hasattr(cls, "__slots__") and not hasattr(cls, "__post_init__")
        assert all(f.default_factory is dataclasses.MISSING and f.init for f in fs)
        self.cls = cls
        self.defaults = {f.name: f.default for f in fs if f.default is not dataclasses.MISSING}
        self.count = len(fs)

    def __call__(self, extra: dict, **kw: Any) -> Any:
        obj: Any = _object_new(self.cls)
        fields = obj.__dict__
        fields.update(self.defaults)
        fields.update(extra)
        fields.update(kw)
        if len(fields) != self.count:  # an unknown field, or a missing one: __init__ says which
            return self.cls(**extra, **kw)
        return obj


def evolve(obj: Any, **changes: Any) -> Any:
    """``dataclasses.replace`` for frozen records (Node, Member, Group, Diagnostic, …): the
    copy's ``__dict__`` is the original's with ``changes``, as ``replace`` would make it
    through ``__init__`` (10 µs for a Member), at a tenth of the cost."""
    cls = type(obj)
    names = _FIELD_NAMES.get(cls)
    if names is None:
        names = _FIELD_NAMES[cls] = (
            frozenset(f.name for f in dataclasses.fields(cls))
            if not hasattr(cls, "__post_init__")
            and not hasattr(cls, "__slots__")
            and all(f.init for f in dataclasses.fields(cls))
            else frozenset()
        )
    if not changes.keys() <= names:
        return dataclasses.replace(obj, **changes)
    new = _object_new(cls)
    fields = new.__dict__
    fields.update(obj.__dict__)
    fields.update(changes)
    return new


_FIELD_NAMES: dict[type, frozenset[str]] = {}


def types_of(values: tuple) -> tuple:
    """The types in ``values``, tuples looked into: with ``values`` a key that tells 2 from
    2.0 and True from 1, which compare equal but are written differently."""
    return tuple(types_of(x) if type(x) is tuple else type(x) for x in values)
