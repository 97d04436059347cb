"""``include:``: the blocks of other files, merged into the spec's own ``blocks``."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from ..diagnostics import Diagnostic, Pos
from .files import display_path
from .load import MAX_FILE_BYTES, Document, decode, load_text, too_large

#: Most files a spec may include.
MAX_INCLUDES = 16


def include(doc: Document, source: str) -> list[Diagnostic]:
    """Merge the blocks of the files a spec's ``include:`` names into its ``blocks``.

    Paths are relative to the spec's own file. An included file holds ``blocks:``
    only; diagnostics inside it name that file. A block defined twice is an error."""
    data = doc.data
    if not isinstance(data, dict) or "include" not in data:
        return []
    names, problems = _names(doc)
    if problems:
        return problems
    base = Path(source).parent if not source.startswith("<") else Path.cwd()
    blocks = data.setdefault("blocks", {})
    if not isinstance(blocks, dict):
        return []  # the schema reports it
    for i, name in enumerate(names):
        at = doc.pos(("include", i)) if isinstance(data["include"], list) else doc.pos(("include",))
        path = base / name
        shown = display_path(path)
        inc, found = _read(path, shown, at)
        problems += found
        if inc is not None:
            problems += _merge(doc, inc, blocks, shown, at)
    return problems


def _names(doc: Document) -> tuple[list[str], list[Diagnostic]]:
    """The file names ``include:`` gives, or the diagnostic saying why it gives none."""
    names = doc.data["include"]  # type: ignore[index]
    where = doc.pos(("include",))
    if isinstance(names, str):
        names = [names]
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        return [], [Diagnostic("error", "'include': expected a file name or a list", "type", where)]
    if len(names) > MAX_INCLUDES:
        return [], [
            Diagnostic("error", f"'include': more than {MAX_INCLUDES} files", "too-large", where)
        ]
    return names, []


def _read(path: Path, shown: str, at: Pos) -> tuple[Document | None, list[Diagnostic]]:
    """The included file loaded, or the diagnostics that say why it is not."""
    try:
        if not path.is_file():
            raise OSError("no such file")
        raw = path.read_bytes()[: MAX_FILE_BYTES + 1]
    except OSError as exc:
        return None, [
            Diagnostic("error", f"cannot include {shown}: {exc.strerror or exc}", "include", at)
        ]
    if len(raw) > MAX_FILE_BYTES:
        return None, [too_large(len(raw))]
    text, found = decode(raw)
    inc = None
    if text is not None:
        inc, found = load_text(text)
    if inc is None:
        return None, [_moved(d, shown) for d in found]
    if not isinstance(inc.data, dict) or set(inc.data) != {"blocks"}:
        message = f"an included file holds `blocks:` and nothing else ({shown})"
        return None, [Diagnostic("error", message, "include", at)]
    if not isinstance(inc.data["blocks"], dict):
        where = _pos(inc, ("blocks",), shown)
        return None, [Diagnostic("error", "'blocks': expected a mapping", "type", where)]
    return inc, []


def _merge(doc: Document, inc: Document, blocks: dict, shown: str, at: Pos) -> list[Diagnostic]:
    """Add the included file's blocks, and their positions, to the spec's."""
    problems: list[Diagnostic] = []
    for bname, block in inc.data["blocks"].items():  # type: ignore[index]
        if bname in blocks:
            where = doc.pos(("blocks", bname), key=True) if ("blocks", bname) in doc.key_pos else at
            message = f"block '{bname}' is defined twice (here and in {shown})"
            problems.append(Diagnostic("error", message, "duplicate-block", where))
            continue
        blocks[bname] = block
    for table, target in ((inc.value_pos, doc.value_pos), (inc.key_pos, doc.key_pos)):
        for p, pos in table.items():
            if p[:1] == ("blocks",) and len(p) > 1 and p not in target:
                target[p] = Pos(pos.line, pos.col, shown)
    for p, r in inc.raw.items():
        if p[:1] == ("blocks",) and p not in doc.raw:
            doc.raw[p] = r
    return problems


def _pos(doc: Document, path: tuple, shown: str) -> Pos:
    pos = doc.pos(path)
    return Pos(pos.line, pos.col, shown)


def _moved(d: Diagnostic, shown: str) -> Diagnostic:
    pos = d.pos or Pos(1, 1)
    return replace(d, pos=Pos(pos.line, pos.col, shown))
