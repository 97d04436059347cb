"""Stage 1: YAML text → plain data plus the source position of every node.

The loader never builds arbitrary objects and never recurses: it walks
libyaml's event stream with an explicit stack, so that deep nesting, alias
bombs, unknown tags and duplicate keys all end as located diagnostics.

Only five kinds of scalar reach later stages: ``str``, ``int``, ``float``,
``bool`` and ``None``. YAML 1.1 readings that surprise people — ``010`` is 8,
``1:20`` is 80, ``2024-01-01`` is a date — are diagnostics, not values.
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from ..diagnostics import Diagnostic, Pos
from .files import MAX_FILE_BYTES

try:  # libyaml is an order of magnitude faster; the pure-Python parser behaves the same
    from yaml import CSafeLoader as _Parser
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _Parser

#: Deepest nesting of mappings and sequences (a spec needs 4).
MAX_DEPTH = 64
#: Most nodes after alias expansion (a 50,000-row spec has about 250,000).
MAX_NODES = 1_000_000

Path = tuple  # of str keys and int indices

_RESOLVER = yaml.resolver.Resolver()
_TAG = "tag:yaml.org,2002:"
_DECIMAL = re.compile(r"[-+]?(0|[1-9][0-9]*)\Z")
#: Most digits in an integer (no field takes more than 7; Python refuses over 4300).
MAX_DIGITS = 100
_MAP_TAGS = frozenset({None, "!", _TAG + "map"})
_SEQ_TAGS = frozenset({None, "!", _TAG + "seq"})
_MERGE_TAG = _TAG + "merge"


@functools.lru_cache(maxsize=8192)
def _resolve_plain(value: str) -> str:
    """The tag YAML 1.1 gives a plain scalar (``3`` → int, ``conv`` → str), memoized: a spec
    repeats its few words and numbers on every row."""
    return _RESOLVER.resolve(yaml.ScalarNode, value, (True, False))


@dataclass
class Document:
    """Loaded data and where each part of it came from."""

    data: object
    #: the source text, for locating cells inside a table block
    text: str = ""
    #: path → position of the value at that path
    value_pos: dict[Path, Pos] = field(default_factory=dict)
    #: path → position of the key that introduces the value at that path
    key_pos: dict[Path, Pos] = field(default_factory=dict)
    #: path → source text of a plain scalar that YAML read as something other than text
    raw: dict[Path, str] = field(default_factory=dict)

    def pos(self, path: Path, *, key: bool = False) -> Pos:
        """Position of ``path`` or of its nearest located ancestor."""
        table = self.key_pos if key else self.value_pos
        path = tuple(path)
        while path:
            if path in table:
                return table[path]
            if key and path in self.value_pos:
                return self.value_pos[path]
            path = path[:-1]
        return self.value_pos.get((), Pos(1, 1))


class _Abort(Exception):
    def __init__(self, diagnostic: Diagnostic):
        self.diagnostic = diagnostic


def _new_pos(line: int, col: int) -> Pos:
    """``Pos(line, col)``, built without the frozen dataclass's ``__init__`` (a third of the
    loader's own time went there)."""
    pos = _object_new(Pos)
    fields = pos.__dict__
    fields["line"] = line
    fields["col"] = col
    fields["file"] = None
    return pos


_object_new = object.__new__
if hasattr(Pos, "__slots__") or hasattr(Pos, "__post_init__"):  # pragma: no cover
    _new_pos = Pos  # noqa: F811


def _pos(mark) -> Pos:
    return _new_pos(mark.line + 1, mark.column + 1)


def _error(message: str, code: str, mark=None, pos: Pos | None = None) -> Diagnostic:
    return Diagnostic("error", message, code, pos or (_pos(mark) if mark else Pos(1, 1)))


def too_large(size: int) -> Diagnostic:
    return _error(
        f"the file is {size:,} bytes; specs are limited to {MAX_FILE_BYTES:,} bytes",
        "file-too-large",
    )


#: Byte-order marks of the encodings a spec is not in, longest first (UTF-32's starts
#: like UTF-16's).
_BOMS = (
    (b"\xff\xfe\x00\x00", "UTF-32 (little-endian)"),
    (b"\x00\x00\xfe\xff", "UTF-32 (big-endian)"),
    (b"\xff\xfe", "UTF-16 (little-endian)"),
    (b"\xfe\xff", "UTF-16 (big-endian)"),
)


def decode(data: bytes) -> tuple[str | None, list[Diagnostic]]:
    """Bytes → text, or a diagnostic locating the first bad byte or an oversized file."""
    if len(data) > MAX_FILE_BYTES:
        return None, [too_large(len(data))]
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return None, [
                _error(
                    f"the file is {encoding} text, with its byte-order mark; specs are "
                    "UTF-8: save it as UTF-8",
                    "encoding",
                )
            ]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = data[: exc.start]
        line = before.count(b"\n") + 1
        col = len(before[before.rfind(b"\n") + 1 :].decode("utf-8", "replace")) + 1
        return None, [
            _error(
                f"the file is not valid UTF-8 (byte 0x{data[exc.start]:02x})",
                "encoding",
                pos=Pos(line, col),
            )
        ]
    return text, []


def load_text(text: str) -> tuple[Document | None, list[Diagnostic]]:
    """Parse YAML text into a :class:`Document`; on any problem return diagnostics instead."""
    try:
        doc = _Builder(text).run()
        doc.text = text
        return doc, []
    except _Abort as abort:
        return None, [abort.diagnostic]
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or "invalid YAML"
        if exc.context and exc.context not in problem:
            problem = f"{exc.context}: {problem}"
        if mark is not None and text[mark.index : mark.index + 1] == "\t":
            problem = "a tab character; YAML indents with spaces only"
        if "nesting depth" in problem:  # libyaml's own limit (1000) on flow collections
            return None, [
                _error(f"the document nests deeper than {MAX_DEPTH} levels", "too-deep", mark)
            ]
        return None, [_error(f"YAML syntax: {problem}", "yaml-syntax", mark)]
    except yaml.reader.ReaderError as exc:
        before = text[: exc.position]
        pos = Pos(before.count("\n") + 1, exc.position - (before.rfind("\n") + 1) + 1)
        char = exc.character if isinstance(exc.character, str) else chr(exc.character)
        return None, [
            _error(
                f"the file contains the control character U+{ord(char):04X}", "encoding", pos=pos
            )
        ]
    except UnicodeEncodeError as exc:  # a lone surrogate: text no file can hold
        before = text[: exc.start]
        pos = Pos(before.count("\n") + 1, exc.start - (before.rfind("\n") + 1) + 1)
        char = f"U+{ord(text[exc.start]):04X}"
        message = f"the text holds a lone surrogate ({char}), which is not Unicode text"
        return None, [_error(message, "encoding", pos=pos)]
    except yaml.YAMLError as exc:  # pragma: no cover - every libyaml error carries a mark
        return None, [_error(f"YAML: {exc}", "yaml-syntax")]


class _Builder:
    """Builds Python data from parser events, iteratively, with every limit enforced.

    Each open mapping or sequence has a frame on ``stack``:
    ``[container, path, pending_key, height, nodes_before, anchor, seen_keys]``."""

    def __init__(self, text: str):
        self.parser = _Parser(text)
        self.doc = Document(data=None)
        self.anchors: dict[str, tuple[object, int, int]] = {}  # name → (value, nodes, depth)
        self.nodes = 0
        self.stack: list[list] = []
        self.documents = 0
        self.root_set = False

    def run(self) -> Document:
        try:
            return self._run()
        finally:
            self.parser.dispose()

    def _run(self) -> Document:
        # The hot loop of the loader: one pass over libyaml's events. Names are bound
        # locally and the common case, a plain scalar value, is handled inline; keys,
        # collections, aliases and ends go to the methods below. The checks, their order
        # and every position are those of a plain event-by-event builder.
        get_event = self.parser.get_event
        doc = self.doc
        value_pos = doc.value_pos
        anchors = self.anchors
        scalar_event, document_start = yaml.ScalarEvent, yaml.DocumentStartEvent
        ends = (yaml.MappingEndEvent, yaml.SequenceEndEvent)
        skipped = (yaml.StreamStartEvent, yaml.StreamEndEvent, yaml.DocumentEndEvent)
        resolve, str_tag = _resolve_plain, _TAG + "str"
        int_tag, null_tag = _TAG + "int", _TAG + "null"
        ints: dict[str, int] = {}
        new_pos, scalar, take_key = _new_pos, self._scalar, self._key
        # the innermost open container: its frame, whether it is a mapping, its path
        top: Any = None  # list | None; Any: its use is guarded by top_is_map and top is None
        top_is_map = False
        top_path: Path = ()
        while True:
            event = get_event()
            if event is None:
                break
            kind = type(event)
            if kind is scalar_event:
                if top_is_map and top[2] is None:
                    take_key(top, top_path, event)
                    continue
                if top is None:
                    path = ()
                elif top_is_map:
                    path = top_path + (top[2],)
                else:
                    path = top_path + (len(top[0]),)
                mark = event.start_mark
                pos = new_pos(mark.line + 1, mark.column + 1)
                self.nodes += 1
                if self.nodes > MAX_NODES:
                    self._count(0, mark)
                tag = event.tag
                style = event.style
                if tag is None and (style == "" or style is None):
                    value = event.value
                    resolved = resolve(value)
                    if resolved == str_tag:
                        pass
                    elif resolved == int_tag:  # the same text is the same number
                        number = ints.get(value)
                        if number is None:
                            number = ints[value] = scalar(event, path)
                        value = number
                    elif resolved == null_tag:
                        value = None
                    else:  # a bool (its text is remembered), a float, …
                        value = scalar(event, path)
                elif tag is None:
                    value = event.value  # quoted or block: text
                else:
                    value = scalar(event, path)
                if event.anchor is not None:
                    anchors[event.anchor] = (value, 1, 0)
                value_pos[path] = pos
                if top is None:
                    self._set_root(value)
                elif top_is_map:
                    top[0][top[2]] = value
                    top[2] = None
                else:
                    top[0].append(value)
            elif kind in ends:
                top, top_is_map, top_path = self._close()
            elif kind is document_start:
                self._document_start(event)
            elif kind not in skipped:
                top, top_is_map, top_path = self._open(event, top, top_is_map, top_path)
        if not self.root_set:
            raise _Abort(_error("the spec file is empty", "empty"))
        return doc

    def _set_root(self, value: object) -> None:
        self.doc.data = value
        self.root_set = True

    def _key(self, top: list, top_path: Path, event) -> None:
        """A scalar key of the innermost mapping: checked, located, and held for its value."""
        key = event.value
        style = event.style
        if (style == "" or style is None) and event.tag is None:
            if _resolve_plain(key) == _MERGE_TAG:
                raise _Abort(
                    _error("merge keys (<<) are not supported", "yaml-key", event.start_mark)
                )
        path = top_path + (key,)
        seen = top[6]
        key_pos = self.doc.key_pos
        if key in seen:
            first = key_pos[path]
            raise _Abort(
                _error(
                    f"duplicate key '{clip(key)}' (first given at line {first.line})",
                    "duplicate-key",
                    event.start_mark,
                )
            )
        seen.add(key)
        top[2] = key
        mark = event.start_mark
        key_pos[path] = _new_pos(mark.line + 1, mark.column + 1)

    def _close(self) -> tuple[Any, bool, Path]:
        """A mapping or sequence ends: its size and height are known, and the frame around
        it is the innermost again (returned as ``top, top_is_map, top_path``)."""
        stack = self.stack
        container, _p, _, height, before, anchor, _ = stack.pop()
        if anchor is not None:
            self.anchors[anchor] = (container, self.nodes - before, height + 1)
        if not stack:
            return None, False, ()
        top = stack[-1]
        top[3] = max(top[3], height + 1)
        return top, type(top[0]) is dict, top[1]

    def _document_start(self, event) -> None:
        self.documents += 1
        if self.documents > 1:
            raise _Abort(
                _error(
                    "the file holds more than one YAML document; a spec is one document",
                    "yaml-documents",
                    event.start_mark,
                )
            )

    def _open(self, event, top: Any, top_is_map: bool, top_path: Path) -> tuple[Any, bool, Path]:
        """A mapping, a sequence or an alias starts: it is placed in the innermost container
        with the limits on size and depth checked; a mapping or sequence becomes the
        innermost frame (returned as ``top, top_is_map, top_path``)."""
        if top_is_map and top[2] is None:
            self._take_key(top, event)  # not a scalar: always a diagnostic
        if top is None:
            path: Path = ()
        elif top_is_map:
            path = top_path + (top[2],)
        else:
            path = top_path + (len(top[0]),)
        kind = type(event)
        pos = _pos(event.start_mark)
        value: Any
        if kind is yaml.AliasEvent:
            value = self._alias(event, top)
        else:  # MappingStartEvent / SequenceStartEvent
            self._count(1, event.start_mark)
            self._check_collection_tag(event, kind)
            if len(self.stack) + 1 > MAX_DEPTH:
                self._too_deep(event.start_mark)
            value = {} if kind is yaml.MappingStartEvent else []
        self.doc.value_pos[path] = pos
        if top is None:
            self._set_root(value)
        elif top_is_map:
            top[0][top[2]] = value
            top[2] = None
        else:
            top[0].append(value)
        if kind is yaml.AliasEvent:
            return top, top_is_map, top_path
        frame = [value, path, None, 0, self.nodes - 1, event.anchor, set()]
        self.stack.append(frame)
        return frame, kind is yaml.MappingStartEvent, path

    def _alias(self, event, top: Any) -> object:
        """The value an alias repeats, counted as the nodes it stands for."""
        if event.anchor not in self.anchors:
            raise _Abort(
                _error(f"unknown alias *{clip(event.anchor)}", "yaml-syntax", event.start_mark)
            )
        value, size, height = self.anchors[event.anchor]
        self._count(size, event.start_mark)
        if len(self.stack) + height > MAX_DEPTH:
            self._too_deep(event.start_mark)
        if top is not None:
            top[3] = max(top[3], height)
        return value

    def _take_key(self, frame: list, event) -> None:
        if type(event) is not yaml.ScalarEvent:
            what = "an alias" if type(event) is yaml.AliasEvent else "a collection"
            raise _Abort(
                _error(
                    f"a mapping key must be plain text, not {what}", "yaml-key", event.start_mark
                )
            )
        raise AssertionError("scalar keys are taken in _key")  # pragma: no cover

    def _count(self, n: int, mark) -> None:
        self.nodes += n
        if self.nodes > MAX_NODES:
            raise _Abort(
                _error(
                    f"the document expands to more than {MAX_NODES:,} nodes"
                    " (aliases included); is it an alias bomb?",
                    "too-large",
                    mark,
                )
            )

    def _too_deep(self, mark) -> None:
        raise _Abort(_error(f"the document nests deeper than {MAX_DEPTH} levels", "too-deep", mark))

    def _check_collection_tag(self, event, kind) -> None:
        tag = event.tag
        allowed = _MAP_TAGS if kind is yaml.MappingStartEvent else _SEQ_TAGS
        if tag not in allowed:
            raise _Abort(
                _error(f"unsupported YAML tag {_short(tag)}", "yaml-tag", event.start_mark)
            )

    def _scalar(self, event, path: Path):
        value: str = event.value
        tag = event.tag
        if tag is None or tag == "!":
            if event.style not in ("", None) or tag == "!":  # None: the pure-Python parser's plain
                return value
            tag = _resolve_plain(value)
            if tag == _TAG + "bool":
                self.doc.raw[path] = value
        yaml_type = tag[len(_TAG) :] if tag.startswith(_TAG) else None
        if yaml_type == "str":
            return value
        if yaml_type == "null":
            return None
        if yaml_type == "bool":
            lowered = value.lower()
            if lowered in ("true", "yes", "on", "y"):
                return True
            if lowered in ("false", "no", "off", "n"):
                return False
        if yaml_type == "int":
            text = value.replace("_", "") if "_" in value and value[-1] != "_" else value
            if _DECIMAL.match(text):
                digits = len(text.lstrip("+-"))
                if digits > MAX_DIGITS:
                    raise _Abort(
                        _error(
                            f"a number with {digits:,} digits; no field takes more than "
                            f"{MAX_DIGITS}",
                            "yaml-number",
                            event.start_mark,
                        )
                    )
                return int(text)
            raise _Abort(_error(_odd_int(value), "yaml-number", event.start_mark))
        if yaml_type == "float":
            text = value.replace("_", "").lower()
            if ":" in text:
                raise _Abort(
                    _error(
                        f"'{clip(value)}' is a base-60 number in YAML 1.1; "
                        "quote it or write a decimal",
                        "yaml-number",
                        event.start_mark,
                    )
                )
            if text.lstrip("+-") == ".inf":
                return -math.inf if text.startswith("-") else math.inf
            if text == ".nan":
                return math.nan
            try:
                return float(text)
            except ValueError:
                raise _Abort(
                    _error(
                        f"'{clip(value)}' is tagged !!float but is not a number",
                        "yaml-number",
                        event.start_mark,
                    )
                ) from None
        if yaml_type == "bool":
            raise _Abort(
                _error(
                    f"'{clip(value)}' is tagged !!bool but is not true or false",
                    "yaml-type",
                    event.start_mark,
                )
            )
        if yaml_type == "timestamp":
            raise _Abort(
                _error(
                    f"YAML reads '{clip(value)}' as a date; quote it if you mean text",
                    "yaml-type",
                    event.start_mark,
                )
            )
        if yaml_type == "value":
            return value
        raise _Abort(_error(f"unsupported YAML tag {_short(tag)}", "yaml-tag", event.start_mark))


def _odd_int(value: str) -> str:
    body = value.lstrip("+-")
    if len(body) > MAX_DIGITS:
        return f"'{clip(value)}' is not a decimal number"
    if ":" in body:
        reading = _sexagesimal(body)
        return (
            f"'{value}' is a base-60 number in YAML 1.1 (= {reading}); quote it or write a decimal"
        )
    if body.startswith(("0x", "0X")):
        hint = "; quote it if you mean a size" if body[:2] == "0x" and body[2:].isdigit() else ""
        return f"'{value}' is a hexadecimal number in YAML 1.1; write a decimal number{hint}"
    if body.startswith(("0b", "0B")):
        return f"'{value}' is binary; write a decimal number"
    if body.startswith("0") and len(body) > 1:
        try:
            reading = int(body.replace("_", ""), 8)
        except ValueError:
            return f"'{clip(value)}' is not a decimal number"
        return (
            f"'{value}' is an octal number in YAML 1.1 (= {reading}); "
            "drop the leading zero or write the value in decimal"
        )
    return f"'{clip(value)}' is not a decimal number"


def clip(text: str, limit: int = 40) -> str:
    """``text`` made fit for a one-line diagnostic: control characters escaped
    (``\n``), and a 5000-character value shortened to 40."""
    text = str(text)
    if not text.isprintable():
        text = "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _sexagesimal(body: str) -> int:
    total = 0
    for part in body.replace("_", "").split(":"):
        total = total * 60 + int(part)
    return total


def _short(tag: str | None) -> str:
    if tag and tag.startswith(_TAG):
        return clip("!!" + tag[len(_TAG) :])
    return clip(str(tag))
