"""The ``table:`` shorthand: rows typed as the book prints them.

::

    table: |
      type     maps  size   kernel  stride  activation
      image    1     32x32  -       -       -
      conv     6     28x28  5x5     1       relu

The block becomes ordinary ``layers`` rows (and ``input``, from an ``image``
row) before schema validation, and every cell keeps its own line and column,
so diagnostics point inside the block.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from functools import partial

from ..diagnostics import Diagnostic, Pos
from .load import MAX_DIGITS, Document, clip

_EMPTY = {"-", "—", "–"}
_CELL = re.compile(r"\S+")
# numbers are written with the ASCII digits 0–9, as everywhere in a spec: a cell of
# full-width or Arabic-Indic digits stays text, and the schema says why it is no number
_INT = re.compile(r"[-+]?[0-9]+\Z")
_FLOAT = re.compile(r"[-+]?([0-9]+\.[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?\Z")


def _typed(text: str):
    """A cell's text read the way a person means it (no YAML 1.1 surprises)."""
    if _INT.match(text) and len(text) <= MAX_DIGITS:
        return int(text)
    if _FLOAT.match(text):
        return float(text)
    if text in ("true", "false"):
        return text == "true"
    return text


def expand_table(
    doc: Document, text: str, known: frozenset[str], base: tuple = ()
) -> list[Diagnostic]:
    """Replace ``table`` by ``layers`` (and ``input``) rows, in place, in the mapping at
    ``base`` (the spec itself, or a block: ``("blocks", "Inception")``).

    ``known`` holds the keys some row type takes (and the blocks' params): the columns a
    header may name. When the header itself is wrong, ``table`` stays in place and
    nothing is expanded."""
    data = doc.data
    for part in base:
        data = data[part]  # type: ignore[index]
    assert isinstance(data, dict)
    block_pos = doc.pos(base + ("table",))
    if "layers" in data:
        return [
            Diagnostic(
                "error",
                "give either 'layers' or 'table', not both",
                "table",
                doc.pos(base + ("table",), key=True),
            )
        ]
    lines = text.split("\n")
    locate = _locator(doc.text.splitlines(), lines, block_pos)
    rows = [
        (i, line)
        for i, line in enumerate(lines)
        if line.strip() and not line.lstrip().startswith("#")
    ]
    if not rows:
        return [Diagnostic("error", "the table is empty", "table", block_pos)]
    header_i, header = rows[0]
    columns = [(m.group(), m.start()) for m in _CELL.finditer(header)]
    problems = _check_header(columns, known, partial(locate, header_i))
    if problems:
        return problems

    layers: list[dict] = []
    data["layers"] = layers
    table_path = base + ("layers",)
    doc.value_pos[table_path] = block_pos
    doc.key_pos[table_path] = doc.pos(base + ("table",), key=True)
    image_rows = 0
    for line_i, line in rows[1:]:
        cells = [(m.group(), m.start()) for m in _CELL.finditer(line)]
        row_pos = locate(line_i, cells[0][1])
        if len(cells) != len(columns):
            problems.append(
                Diagnostic(
                    "error",
                    f"this table row has {_count(len(cells), 'cell')} but the header names "
                    f"{_count(len(columns), 'column')} (write '-' for an empty cell)",
                    "table",
                    row_pos,
                )
            )
            continue
        row, cell_pos = _read_row(columns, cells, partial(locate, line_i), problems)
        if row.get("type") == "image":
            found, image_rows = _image_row(doc, data, base, row, cell_pos, row_pos, image_rows)
            problems += found
            continue
        _place_row(doc, table_path + (len(layers),), row_pos, cell_pos)
        layers.append(row)
    del data["table"]
    if not layers and not problems:
        problems.append(
            Diagnostic("error", "the table has a header but no layer rows", "table", block_pos)
        )
    return problems


def _locator(source: list[str], lines: list[str], block_pos: Pos) -> Callable[[int, int], Pos]:
    """Where column ``start`` of the table's content line ``i`` sits in the source file.

    For a block scalar the content starts on the line after the indicator, with the
    indent removed; a line that cannot be found there is located at the block."""
    first_line = block_pos.line + 1  # 1-based line of the first content line

    def locate(i: int, start: int) -> Pos:
        line_no = first_line + i
        if 1 <= line_no <= len(source):
            src = source[line_no - 1]
            content = lines[i]
            offset = src.find(content.strip()) if content.strip() else -1
            if offset >= 0 and src.rstrip().endswith(content.strip()):
                lead = len(content) - len(content.lstrip())
                return Pos(line_no, offset - lead + start + 1)
        return block_pos

    return locate


def _check_header(
    columns: list[tuple[str, int]], known: frozenset[str], at: Callable[[int], Pos]
) -> list[Diagnostic]:
    """The header's problems: no ``type`` column, a column named twice, an unknown one."""
    names = [c for c, _ in columns]
    if "type" not in names:
        return [Diagnostic("error", "the table's header row needs a 'type' column", "table", at(0))]
    problems: list[Diagnostic] = []
    seen: set[str] = set()
    for name, start in columns:
        if name in seen:
            problems.append(
                Diagnostic("error", f"the header names '{clip(name)}' twice", "table", at(start))
            )
        elif name not in known:
            close = difflib.get_close_matches(name, sorted(known), n=1)
            hint = (
                f" (did you mean '{close[0]}'?)"
                if close
                else f"; columns: {', '.join(sorted(known))}"
            )
            problems.append(
                Diagnostic(
                    "error", f"unknown column '{clip(name)}'{hint}", "unknown-key", at(start)
                )
            )
        seen.add(name)
    return problems


def _read_row(
    columns: list[tuple[str, int]],
    cells: list[tuple[str, int]],
    at: Callable[[int], Pos],
    problems: list[Diagnostic],
) -> tuple[dict, dict[str, Pos]]:
    """A table line's cells as a row (``first.stride`` nests) and each cell's position;
    a number too long to read is added to ``problems`` and left out."""
    row: dict = {}
    cell_pos: dict[str, Pos] = {}
    for (name, _), (cell, start) in zip(columns, cells):
        if cell in _EMPTY:
            continue
        if _INT.match(cell) and len(cell) > MAX_DIGITS:
            problems.append(
                Diagnostic(
                    "error",
                    f"a number with {len(cell):,} digits; no column takes more than {MAX_DIGITS}",
                    "yaml-number",
                    at(start),
                )
            )
            continue
        value = _typed(cell)
        if "." in name:  # first.stride: a param of a repeated block's first copy
            outer, inner = name.split(".", 1)
            row.setdefault(outer, {})[inner] = value
        else:
            row[name] = value
        cell_pos[name] = at(start)
    return row, cell_pos


def _image_row(
    doc: Document,
    data: dict,
    base: tuple,
    row: dict,
    cell_pos: dict[str, Pos],
    row_pos: Pos,
    image_rows: int,
) -> tuple[list[Diagnostic], int]:
    """An ``image`` row: the network's ``input:``. Its problems, and how many image rows
    have been taken as the input so far."""
    at = cell_pos["type"]
    if base:
        message = "an image row stands for the network's 'input:'; a block's table has none"
        return [Diagnostic("error", message, "table", at)], image_rows
    if "input" in data:
        message = (
            "the table has an image row already"
            if image_rows
            else "the input is given already; drop this image row or the 'input:' key"
        )
        return [Diagnostic("error", message, "table", at)], image_rows
    problems: list[Diagnostic] = []
    if data["layers"]:  # misplaced, but still the input: no second "the spec has no input"
        message = "an image row stands for 'input:', so it must be the table's first row"
        problems.append(Diagnostic("error", message, "table", at))
    data["input"] = {k: row[k] for k in ("maps", "size") if k in row}
    for key in sorted(set(row) - {"type", "maps", "size"}):
        message = f"an image row takes only maps and size, not '{key}'"
        problems.append(Diagnostic("error", message, "table", cell_pos[key]))
    doc.value_pos[("input",)] = row_pos
    doc.key_pos[("input",)] = row_pos
    for key in ("maps", "size"):
        if key in cell_pos:
            doc.value_pos[("input", key)] = cell_pos[key]
            doc.key_pos[("input", key)] = cell_pos[key]
    return problems, image_rows + 1


def _place_row(doc: Document, path: tuple, row_pos: Pos, cell_pos: dict[str, Pos]) -> None:
    """Record where a layer row and each of its cells sit."""
    doc.value_pos[path] = row_pos
    doc.key_pos[path] = row_pos
    for key, pos in cell_pos.items():
        where = path + tuple(key.split(".", 1))
        doc.value_pos[where] = pos
        doc.key_pos[where] = pos
        if "." in key:
            doc.value_pos.setdefault(path + (key.split(".")[0],), pos)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"
