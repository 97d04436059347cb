"""Stage 1: YAML text → plain data plus the source position of every node.

The loader never builds arbitrary objects and never recurses: it walks
libyaml's event stream with an explicit stack, so that deep nesting, alias
bombs, unknown tags and duplicate keys all end as located diagnostics.

Only five kinds of scalar reach later stages: ``str``, ``int``, ``float``,
``bool`` and ``None``. YAML 1.1 readings that surprise people — ``010`` is 8,
``1:20`` is 80, ``2024-01-01`` is a date — are diagnostics, not values.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import yaml

from .diagnostics import Diagnostic, Pos

try:  # libyaml is an order of magnitude faster; the pure-Python parser behaves the same
    from yaml import CSafeLoader as _Parser
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _Parser

#: Largest spec file read, in bytes.
MAX_FILE_BYTES = 4 * 1024 * 1024
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


def _pos(mark) -> Pos:
    return Pos(mark.line + 1, mark.column + 1)


def _error(message: str, code: str, mark=None, pos: Pos | None = None) -> Diagnostic:
    return Diagnostic("error", message, code, pos or (_pos(mark) if mark else Pos(1, 1)))


def too_large(size: int) -> Diagnostic:
    return _error(
        f"the file is {size:,} bytes; specs are limited to {MAX_FILE_BYTES:,} bytes",
        "file-too-large",
    )


def decode(data: bytes) -> tuple[str | None, list[Diagnostic]]:
    """Bytes → text, or a diagnostic locating the first bad byte or an oversized file."""
    if len(data) > MAX_FILE_BYTES:
        return None, [too_large(len(data))]
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
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
    except yaml.YAMLError as exc:  # pragma: no cover - every libyaml error carries a mark
        return None, [_error(f"YAML: {exc}", "yaml-syntax")]


class _Builder:
    """Builds Python data from parser events, iteratively, with every limit enforced."""

    def __init__(self, text: str):
        self.parser = _Parser(text)
        self.doc = Document(data=None)
        self.anchors: dict[str, tuple[object, int, int]] = {}  # name → (value, nodes, depth)
        self.nodes = 0

    def run(self) -> Document:
        try:
            return self._run()
        finally:
            self.parser.dispose()

    def _run(self) -> Document:
        parser = self.parser
        documents = 0
        # stack entries: [container, path, pending_key, height, nodes_before, anchor, seen_keys]
        stack: list[list] = []
        root_set = False
        while True:
            event = parser.get_event()
            if event is None:
                break
            kind = type(event)
            if kind is yaml.DocumentStartEvent:
                documents += 1
                if documents > 1:
                    raise _Abort(
                        _error(
                            "the file holds more than one YAML document; a spec is one document",
                            "yaml-documents",
                            event.start_mark,
                        )
                    )
                continue
            if kind in (yaml.StreamStartEvent, yaml.StreamEndEvent, yaml.DocumentEndEvent):
                continue

            if kind is yaml.MappingEndEvent or kind is yaml.SequenceEndEvent:
                container, _p, _, height, before, anchor, _ = stack.pop()
                if stack:
                    stack[-1][3] = max(stack[-1][3], height + 1)
                if anchor is not None:
                    self.anchors[anchor] = (container, self.nodes - before, height + 1)
                continue

            # A node starts: decide where it goes.
            if stack and isinstance(stack[-1][0], dict) and stack[-1][2] is None:
                self._take_key(stack[-1], event)
                continue
            parent = stack[-1] if stack else None
            path: Path
            if parent is None:
                path = ()
            elif isinstance(parent[0], dict):
                path = parent[1] + (parent[2],)
            else:
                path = parent[1] + (len(parent[0]),)

            pos = _pos(event.start_mark)
            if kind is yaml.AliasEvent:
                if event.anchor not in self.anchors:
                    raise _Abort(
                        _error(
                            f"unknown alias *{clip(event.anchor)}", "yaml-syntax", event.start_mark
                        )
                    )
                value, size, height = self.anchors[event.anchor]
                self._count(size, event.start_mark)
                if len(stack) + height > MAX_DEPTH:
                    self._too_deep(event.start_mark)
                if parent is not None:
                    parent[3] = max(parent[3], height)
            elif kind is yaml.ScalarEvent:
                self._count(1, event.start_mark)
                value = self._scalar(event, path)
                if event.anchor is not None:
                    self.anchors[event.anchor] = (value, 1, 0)
            else:  # MappingStartEvent / SequenceStartEvent
                self._count(1, event.start_mark)
                self._check_collection_tag(event, kind)
                if len(stack) + 1 > MAX_DEPTH:
                    self._too_deep(event.start_mark)
                value = {} if kind is yaml.MappingStartEvent else []

            self.doc.value_pos[path] = pos
            if parent is None:
                self.doc.data = value
                root_set = True
            elif isinstance(parent[0], dict):
                parent[0][parent[2]] = value
                parent[2] = None
            else:
                parent[0].append(value)
            if kind is yaml.MappingStartEvent or kind is yaml.SequenceStartEvent:
                stack.append([value, path, None, 0, self.nodes - 1, event.anchor, set()])

        if not root_set:
            raise _Abort(_error("the spec file is empty", "empty"))
        return self.doc

    def _take_key(self, frame: list, event) -> None:
        if type(event) is not yaml.ScalarEvent:
            what = "an alias" if type(event) is yaml.AliasEvent else "a collection"
            raise _Abort(
                _error(
                    f"a mapping key must be plain text, not {what}", "yaml-key", event.start_mark
                )
            )
        key = event.value
        if event.style == "" and event.tag is None:
            if _RESOLVER.resolve(yaml.ScalarNode, key, (True, False)) == _TAG + "merge":
                raise _Abort(
                    _error("merge keys (<<) are not supported", "yaml-key", event.start_mark)
                )
        path = frame[1] + (key,)
        if key in frame[6]:
            first = self.doc.key_pos[path]
            raise _Abort(
                _error(
                    f"duplicate key '{clip(key)}' (first given at line {first.line})",
                    "duplicate-key",
                    event.start_mark,
                )
            )
        frame[6].add(key)
        frame[2] = key
        self.doc.key_pos[path] = _pos(event.start_mark)

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
        allowed = {None, "!", _TAG + ("map" if kind is yaml.MappingStartEvent else "seq")}
        if tag not in allowed:
            raise _Abort(
                _error(f"unsupported YAML tag {_short(tag)}", "yaml-tag", event.start_mark)
            )

    def _scalar(self, event, path: Path):
        value: str = event.value
        tag = event.tag
        if tag is None or tag == "!":
            if event.style != "" or tag == "!":
                return value
            tag = _RESOLVER.resolve(yaml.ScalarNode, value, (True, False))
            if tag == _TAG + "bool":
                self.doc.raw[path] = value
        kind = tag[len(_TAG) :] if tag.startswith(_TAG) else None
        if kind == "str":
            return value
        if kind == "null":
            return None
        if kind == "bool":
            lowered = value.lower()
            if lowered in ("true", "yes", "on", "y"):
                return True
            if lowered in ("false", "no", "off", "n"):
                return False
        if kind == "int":
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
        if kind == "float":
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
        if kind == "bool":
            raise _Abort(
                _error(
                    f"'{clip(value)}' is tagged !!bool but is not true or false",
                    "yaml-type",
                    event.start_mark,
                )
            )
        if kind == "timestamp":
            raise _Abort(
                _error(
                    f"YAML reads '{clip(value)}' as a date; quote it if you mean text",
                    "yaml-type",
                    event.start_mark,
                )
            )
        if kind == "value":
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
