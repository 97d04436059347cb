"""Stage 1, the front end: spec text → a :class:`~cnnspec.frontend.load.Document` with positions.

- :mod:`.load` — YAML text → plain data and the position of every node, with limits;
- :mod:`.table` — a ``table:`` block → ordinary ``layers`` rows, each cell located;
- :mod:`.include` — the blocks of the files an ``include:`` names, merged into the spec;
- :mod:`.files` — reading a spec file: checked before it is read, read with a bound.

:mod:`cnnspec.pipeline` runs these stages, and the ones after them, in order.
"""
