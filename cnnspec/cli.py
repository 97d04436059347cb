"""The command line. The only module that touches the file system.

Exit codes: 0 success, 1 a spec has errors (or ``--check`` found drift),
2 usage or I/O errors. No command here imports torch.
"""

from __future__ import annotations

import argparse
import gc
import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path

from .diagnostics import Diagnostic, SpecError, SpecFileError, printable
from .pipeline import load, load_any
from .spec.library import CheckedLibrary

EXIT_OK, EXIT_SPEC, EXIT_USAGE = 0, 1, 2
_STEM = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}\Z")


class UsageError(Exception):
    """A problem with the command line or the file system (exit 2)."""


class _Streams:
    """Where the command writes. Every line is escaped (:func:`printable`): text from a
    spec or a path never reaches a terminal as control characters. A stream that is
    closed (``>&-``) or whose reader went away (``| head``) is written no more, and the
    command carries on: its exit status is the one it would have had."""

    lost: set[str] = set()  # "stdout", "stderr": streams written no more

    @classmethod
    def write(cls, name: str, text: str, *, json: bool = False) -> None:
        stream = getattr(sys, name)
        if stream is None or name in cls.lost:
            return
        lines = text.split("\n")
        try:
            stream.write("\n".join(printable(line, json=json) for line in lines))
        except (OSError, ValueError):  # a broken pipe, a closed descriptor; a closed file
            cls.lost.add(name)


def _say(text: str = "", *, end: str = "\n", json: bool = False) -> None:
    """Standard output: one line (``text`` and ``end``)."""
    _Streams.write("stdout", text + end, json=json)


def _err(message: str) -> None:
    _Streams.write("stderr", f"cnnspec: {message}\n")


def _report(diagnostics: Sequence[Diagnostic], source: str) -> None:
    for d in diagnostics:
        for line in d.lines(source):
            _Streams.write("stderr", line + "\n")


def _load(path: str, args, *, library: bool = False):
    """Load one spec: the network, or None after printing its diagnostics; with
    ``library``, a block library's check too.

    Only a regular file is read (``load`` refuses a FIFO without waiting for a writer);
    ``args`` gives ``--strict`` and ``--include-root``."""
    if not os.path.exists(path):
        raise UsageError(f"cannot read {path}: no such file")
    if os.path.isdir(path):
        raise UsageError(f"cannot read {path}: it is a directory")
    try:
        reader = load_any if library else load
        net = reader(path, strict=args.strict, include_root=args.include_root)
    except SpecFileError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}") from None
    except SpecError as exc:
        _report(exc.diagnostics, exc.filename)
        return None
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from None
    _report(net.warnings, net.source)
    return net


# --------------------------------------------------------------------------- writing


def _stage(path: Path, data: bytes) -> str:
    """Write ``data`` to a new temporary file beside ``path``; return its name."""
    import tempfile  # only compile writes; check and summary need not import it

    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o644)
    except BaseException:
        _unlink(tmp)
        raise
    return tmp


def _unlink(path: str | Path) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def write_all(files: dict[Path, bytes]) -> None:
    """Write a spec's outputs all or none.

    Each file goes through a temporary file and ``os.replace``, so a reader never sees
    half a file and a symlink at an output path is replaced, not followed. Every target
    is checked, and every temporary file written, before the first one replaces its
    target; should a replacement still fail, the targets replaced so far get their
    old contents back (or are removed, where there was none). So an I/O error (a
    directory where a file should go, a full disk) leaves no partial set of outputs."""
    for path in files:
        if path.is_dir() and not path.is_symlink():
            raise UsageError(f"cannot write {path}: it is a directory")
    for path in {p.parent for p in files}:
        path.mkdir(parents=True, exist_ok=True)
    staged: dict[Path, str] = {}
    backups: dict[Path, str | None] = {}  # target → its old contents, set aside (None: none)
    try:
        for path, data in files.items():
            staged[path] = _stage(path, data)
        for path, tmp in staged.items():
            backups[path] = _set_aside(path)
            os.replace(tmp, path)
    except BaseException:
        for path, old in backups.items():
            try:
                if old is None:
                    _unlink(path)
                else:
                    os.replace(old, path)
            except OSError:  # pragma: no cover - the rollback itself failed
                pass
        for tmp in staged.values():
            _unlink(tmp)
        raise
    for old in backups.values():
        if old is not None:
            _unlink(old)


def _set_aside(path: Path) -> str | None:
    """A copy of what is at ``path`` beside it, to restore it from; None if there is
    nothing there. The target itself stays in place until it is replaced.

    The copy is a hard link where the file system has them, else a copy of the bytes
    (or of the link, for a symlink)."""
    if not os.path.lexists(path):
        return None
    import tempfile

    fd, backup = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".old", dir=path.parent)
    os.close(fd)
    try:
        os.unlink(backup)
        try:
            os.link(path, backup, follow_symlinks=False)
        except OSError:
            if os.path.islink(path):
                os.symlink(os.readlink(path), backup)
            else:
                os.replace(_stage(path, path.read_bytes()), backup)
    except BaseException:
        _unlink(backup)
        raise
    return backup


def _current(path: Path) -> bytes | None:
    if path.is_symlink() or not path.is_file():
        return None
    return path.read_bytes()


def outputs_for(
    net,
    stem: str,
    *,
    image_format: str = "svg",
    collapse: bool = False,
    expand: bool = False,
    depth: int | None = None,
):
    """The files one spec compiles to: name → bytes (None where a tool is missing)."""
    from .backends.diagram import render_dot, render_image
    from .backends.torch import render_torch

    dot = render_dot(net, collapse=collapse, expand=expand, depth=depth)
    files: dict[str, bytes | None] = {
        f"{stem}.py": render_torch(net).encode(),
        f"{stem}.dot": dot.encode(),
    }
    formats = ["svg"] + ([image_format] if image_format != "svg" else [])
    for fmt in formats:
        files[f"{stem}.{fmt}"] = render_image(dot, fmt)
    return files


def _svg_current(svg: bytes | None, dot: bytes | None) -> bool:
    from .backends.diagram import svg_is_current

    return dot is not None and svg_is_current(svg, dot.decode())


def cmd_compile(args) -> int:
    if args.collapse and args.expand:
        raise UsageError(
            "--collapse folds repeated rows and --expand draws every one: give one of them"
        )
    out_dir = Path(args.output)
    if out_dir.exists() and not out_dir.is_dir():
        raise UsageError(f"output {out_dir} exists and is not a directory")
    stems: dict[str, str] = {}
    for spec in args.specs:
        stem = Path(spec).stem
        if not _STEM.match(stem):
            raise UsageError(
                f"cannot name outputs after {spec!r}: a spec's file name must be letters, digits, "
                "'_', '-' or '.'"
            )
        if stem in stems:
            if _same_file(spec, stems[stem]):  # a/net.yaml and ./a/net.yaml: compile it once
                continue
            raise UsageError(f"{spec} and {stems[stem]} would both write {stem}.*")
        stems[stem] = spec

    failed = drift = False
    missing_dot = False
    for stem, spec in stems.items():
        net = _load(spec, args)
        if net is None:
            failed = True
            continue
        files = outputs_for(
            net,
            stem,
            image_format=args.format,
            collapse=args.collapse,
            expand=args.expand,
            depth=args.diagram_depth,
        )
        changed: dict[Path, bytes] = {}
        same: list[str] = []
        for name, data in files.items():
            target = out_dir / name
            current = _current(target)
            if name.endswith(".svg") and _svg_current(current, files[f"{stem}.dot"]):
                same.append(name)  # drawn from this DOT text, by whichever Graphviz
                continue
            if data is None:
                missing_dot = True
                continue
            if current == data:
                same.append(name)
                continue
            if args.check:
                _say(f"would change: {target}")
                drift = True
                continue
            changed[target] = data
        write_all(changed)
        written = [path.name for path in changed]
        if not args.check:
            if written:
                _say(f"{spec}: wrote {', '.join(str(out_dir / n) for n in written)}")
            else:
                _say(f"{spec}: {out_dir}/{stem}.* up to date")
    if missing_dot:
        _err(
            "warning: Graphviz's `dot` was not found, so no diagram images were rendered "
            "(the .dot files were written); install Graphviz: apt-get install graphviz, "
            "brew install graphviz, or see https://graphviz.org/download/"
        )
    return EXIT_SPEC if failed or drift else EXIT_OK


def _same_file(a: str, b: str) -> bool:
    """Whether two paths name one file (``a/net.yaml``, ``./a/net.yaml``, a link to it)."""
    try:
        return os.path.samefile(a, b)
    except OSError:  # one is missing: the same file only if the paths say so
        return os.path.realpath(a) == os.path.realpath(b)


def cmd_check(args) -> int:
    from .backends import format as fmt

    failed = False
    for spec in args.specs:
        net = _load(spec, args, library=True)
        if net is None:
            failed = True
            continue
        if isinstance(net, CheckedLibrary):
            n = len(net.blocks)
            _say(f"{net.source}: ok: {n} block{'s' if n != 1 else ''} ({', '.join(net.blocks)})")
            continue
        _say(
            f"{net.source}: ok: {net.name}, {fmt.count(net.params)} params, "
            f"{fmt.count(net.macs)} MACs, {fmt.shape(net.input_shape)} → "
            f"{fmt.shape(net.output_shape)}"
        )
    return EXIT_SPEC if failed else EXIT_OK


def cmd_summary(args) -> int:
    from .backends.summary import RENDERERS, render_text

    if args.depth is not None and args.format != "text":
        raise UsageError(
            "--depth folds the text summary; it does not apply to --format " + args.format
        )
    net = _load(args.spec, args)
    if net is None:
        return EXIT_SPEC
    if args.depth is not None:
        _say(render_text(net, depth=args.depth), end="")
    else:
        _say(RENDERERS[args.format](net), end="", json=args.format == "json")
    return EXIT_OK


def _depth(text: str) -> int:
    """``--depth N``: a whole number of levels, at least 1."""
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of levels, 1 or more: {text!r}")
    return int(text)


def _directory(text: str) -> str:
    """``--include-root DIR``: a folder that exists."""
    if not os.path.isdir(text):
        raise argparse.ArgumentTypeError(f"not a directory: {text!r}")
    return text


def _loading_flags(p: argparse.ArgumentParser) -> None:
    """The flags of every command that loads specs: ``--strict``, ``--include-root``."""
    p.add_argument("--strict", action="store_true", help="treat warnings as errors")
    p.add_argument(
        "--include-root",
        type=_directory,
        metavar="DIR",
        help="read include: files from inside DIR (default: the nearest folder above the "
        "spec holding .git or pyproject.toml, else the spec's folder)",
    )


def cmd_schema(args) -> int:
    from .spec.jsonschema import json_schema_text

    _say(json_schema_text(), end="", json=True)
    return EXIT_OK


# --------------------------------------------------------------------------- parser


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cnnspec",
        description="Check a CNN written as a YAML table, and compile it to PyTorch source, "
        "a Graphviz diagram and a parameter/MAC summary.",
    )
    parser.add_argument("--version", action="version", version=f"cnnspec {_version()}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser(
        "compile",
        help="check specs and write DIR/<stem>.py, .dot and .svg",
        description="Check each spec, then write DIR/<stem>.py (the nn.Module), DIR/<stem>.dot "
        "and DIR/<stem>.svg (the diagram). A spec with errors writes nothing.",
    )
    p.add_argument("specs", nargs="+", metavar="SPEC", help="spec files (.yaml)")
    p.add_argument("-o", "--output", default="generated", metavar="DIR", help="default: generated/")
    p.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 if any file would change"
    )
    p.add_argument(
        "--format",
        choices=("svg", "png", "pdf"),
        default="svg",
        help="also render the diagram in this format (SVG is always written)",
    )
    p.add_argument(
        "--collapse",
        action="store_true",
        help="fold runs of identical rows (a graph: identical block instances) into one",
    )
    p.add_argument(
        "--expand",
        action="store_true",
        help="a graph's diagram: draw every block instance, never folding repeats (by "
        "default repeats fold when the diagram would pass a page); with --depth N, every "
        "instance down to depth N; not with --collapse",
    )
    p.add_argument(
        "--depth",
        dest="diagram_depth",
        type=_depth,
        metavar="N",
        help="a graph's diagram: draw each block or container at depth N (1: the "
        "network's rows) as one node",
    )
    _loading_flags(p)
    p.set_defaults(func=cmd_compile)

    p = sub.add_parser(
        "check",
        help="check specs; print one line per spec",
        description="Check each spec; print its diagnostics, then one line with its params, "
        "MACs and output shape.",
    )
    p.add_argument("specs", nargs="+", metavar="SPEC")
    _loading_flags(p)
    p.set_defaults(func=cmd_check)

    p = sub.add_parser(
        "summary",
        help="print the per-layer table",
        description="Print the per-layer table: text (like torchsummary), markdown (the "
        "book's table form) or json (for tools).",
    )
    p.add_argument("spec", metavar="SPEC")
    p.add_argument("--format", choices=("text", "markdown", "json"), default="text")
    p.add_argument(
        "--depth",
        type=_depth,
        metavar="N",
        help="text: show N levels of a graph's module tree; a block or container at "
        "level N stands for everything inside it (default: all)",
    )
    _loading_flags(p)
    p.set_defaults(func=cmd_summary)

    p = sub.add_parser("schema", help="print the JSON Schema of the spec format")
    p.set_defaults(func=cmd_schema)
    return parser


def _version() -> str:
    from . import __version__

    return __version__


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    _Streams.lost.clear()  # this command's streams, whatever an earlier call found
    try:
        return args.func(args)
    except UsageError as exc:
        _err(f"error: {exc}")
        return EXIT_USAGE
    except OSError as exc:
        _err(f"error: {exc}")
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130


def run() -> None:
    """The ``cnnspec`` command: the console script and ``python -m cnnspec``.

    :func:`main` is for callers inside a host process and changes nothing about it.
    This wrapper owns its process, which lives for one command, so it skips three
    things only a long-lived process needs (``python -m bench`` measures them):

    - pydantic's plugin discovery, a scan of every installed distribution's entry
      points (unless ``PYDANTIC_DISABLE_PLUGINS`` is already set);
    - cyclic garbage collection: a check makes almost no cyclic garbage, and the
      collector's passes over pydantic's objects cost more than the check itself
      (half the time of a 50,000-row spec);
    - interpreter teardown, which frees every object of every module one by one:
      once stdout and stderr are flushed, ``os._exit`` ends the process.
    """
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    gc.disable()
    code = main()
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:
                stream.flush()
        except (OSError, ValueError):  # its reader went away (`| head`): the output is lost,
            pass  # not the result
    os._exit(code)


if __name__ == "__main__":  # pragma: no cover
    run()
