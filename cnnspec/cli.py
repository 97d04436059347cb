"""The command line. The only module that touches the file system.

Exit codes: 0 success, 1 a spec has errors (or ``--check`` found drift),
2 usage or I/O errors. No command here imports torch.
"""

from __future__ import annotations

import argparse
import gc
import os
import re
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from .diagnostics import Diagnostic, SpecError, SpecFileError, printable

if TYPE_CHECKING:  # pragma: no cover
    from .cache import Cache

EXIT_OK, EXIT_SPEC, EXIT_USAGE, EXIT_DIAGRAM = 0, 1, 2, 3
_STEM = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}\Z")


class UsageError(Exception):
    """A problem with the command line or the file system (exit 2)."""


class _Streams:
    """Where the command writes. Every line is escaped (:func:`printable`): text from a
    spec or a path never reaches a terminal as control characters. A stream that is
    closed (``>&-``) or whose reader went away (``| head``) is written no more, and the
    command carries on: its exit status is the one it would have had."""

    lost: set[str] = set()  # "stdout", "stderr": streams written no more
    log: list[tuple[str, str, bool]] | None = None  # what a cached command wrote

    @classmethod
    def write(cls, name: str, text: str, *, json: bool = False) -> None:
        if cls.log is not None:
            cls.log.append((name, text, json))
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
    from .pipeline import load, load_any

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


# --------------------------------------------------------------------------- compile


class _DiagramFailed(Exception):
    """A diagram image could not be rendered (exit 3): ``dot`` missing, failing,
    crashing, too slow or printing nothing."""


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
    timeout: float | None = None,
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
        files[f"{stem}.{fmt}"] = render_image(dot, fmt, timeout=timeout)
    return files


def _render(dot_text: str, fmt: str, timeout: float) -> bytes:
    from .backends.diagram import GraphvizError, render_image

    try:
        data = render_image(dot_text, fmt, timeout=timeout)
    except GraphvizError as exc:
        raise _DiagramFailed(str(exc)) from None
    if data is None:
        raise _DiagramFailed(
            "Graphviz's `dot` was not found; install Graphviz (apt-get install graphviz, "
            "brew install graphviz, or see https://graphviz.org/download/)"
        )
    return data


class _Set:
    """One spec's outputs: the texts, and the images drawn from its DOT text (an SVG
    only when the one in place is not a whole SVG of this DOT text)."""

    def __init__(self, net, stem: str, out_dir: Path, args, timeout: float) -> None:
        from .backends.diagram import render_dot
        from .backends.torch import render_torch

        self.stem, self.out_dir, self.timeout = stem, out_dir, timeout
        self.dot_text = render_dot(
            net, collapse=args.collapse, expand=args.expand, depth=args.diagram_depth
        )
        self.files: dict[str, bytes | None] = {
            f"{stem}.py": render_torch(net).encode(),
            f"{stem}.dot": self.dot_text.encode(),
        }
        formats = [] if args.no_svg else ["svg"]
        if args.format != "svg":
            formats.append(args.format)
        for fmt in formats:
            name = f"{stem}.{fmt}"
            self.files[name] = None
            if fmt != "svg" or not (args.check or self.svg_current(name)):
                self.files[name] = _render(self.dot_text, fmt, timeout)

    def svg_current(self, name: str) -> bool:
        from .backends.diagram import svg_is_current

        return svg_is_current(_current(self.out_dir / name), self.dot_text)

    def changes(self, *, check: bool) -> dict[str, bytes]:
        """The files that differ from what is in place (read under the lock). An SVG
        that went stale since it was looked at is drawn now."""
        changed: dict[str, bytes] = {}
        for name, data in self.files.items():
            if name.endswith(".svg"):
                if self.svg_current(name):
                    continue
                if data is None and not check:
                    data = self.files[name] = _render(self.dot_text, "svg", self.timeout)
            elif _current(self.out_dir / name) == data:
                continue
            changed[name] = data or b""
        return changed


def _compile_one(net, spec: str, stem: str, out_dir: Path, args, timeout: float) -> int:
    """Compile (or ``--check``) one spec; its exit status."""
    from . import outputs

    try:
        outs = _Set(net, stem, out_dir, args, timeout)
        if args.check:
            if not out_dir.is_dir():
                changed, half = outs.changes(check=True), False
            else:
                with outputs.locked(out_dir, shared=True):
                    changed = outs.changes(check=True)
                    half = (out_dir / f".{stem}.cnnspec-journal").exists()
            if half:
                _say(f"would repair: {out_dir}/{stem}.* (a compile was killed while writing)")
            for name in changed:
                _say(f"would change: {out_dir / name}")
            return EXIT_SPEC if changed or half else EXIT_OK
        out_dir.mkdir(parents=True, exist_ok=True)
        with outputs.locked(out_dir):
            outputs.recover(out_dir)
            changed = outs.changes(check=False)
            outputs.write_set(out_dir, stem, changed)
    except _DiagramFailed as exc:
        nothing = "" if args.check else f"; nothing of {out_dir}/{stem}.* was written"
        _err(f"error: {spec}: cannot render the diagram: {exc}{nothing}{_without(args, stem)}")
        return EXIT_DIAGRAM
    except OSError as exc:
        _err(f"error: {spec}: {_io_message(exc)}; {out_dir}/{stem}.* were left as they were")
        return EXIT_USAGE
    if changed:
        _say(f"{spec}: wrote {', '.join(str(out_dir / n) for n in changed)}")
    else:
        _say(f"{spec}: {out_dir}/{stem}.* up to date")
    return EXIT_OK


def _without(args, stem: str) -> str:
    """The hint: which flags write the spec's other files without the image."""
    drop = [] if args.no_svg else ["pass --no-svg"]
    if args.format != "svg":
        drop.append(f"leave out --format {args.format}")
    return f" ({' and '.join(drop)} to write {stem}.py and {stem}.dot without it)"


def _io_message(exc: OSError) -> str:
    where = f"cannot write {exc.filename}" if exc.filename else "cannot write the outputs"
    return f"{where}: {exc.strerror or exc}"


def _dot_timeout(args) -> float:
    """``--dot-timeout``, else ``CNNSPEC_DOT_TIMEOUT``, else the default."""
    from .backends.diagram.image import DEFAULT_TIMEOUT

    if args.dot_timeout is not None:
        return args.dot_timeout
    env = os.environ.get("CNNSPEC_DOT_TIMEOUT", "")
    if not env.strip():
        return DEFAULT_TIMEOUT
    try:
        return _seconds(env)
    except argparse.ArgumentTypeError as exc:
        raise UsageError(f"CNNSPEC_DOT_TIMEOUT={env!r}: {exc}") from None


def _seconds(text: str) -> float:
    """A time limit: seconds, 0 for none."""
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not (0 <= value < float("inf")):
        raise argparse.ArgumentTypeError(f"expected seconds (0 for no limit): {text!r}")
    return value


def cmd_compile(args) -> int:
    if args.collapse and args.expand:
        raise UsageError(
            "--collapse folds repeated rows and --expand draws every one: give one of them"
        )
    out_dir = Path(args.output)
    if out_dir.exists() and not out_dir.is_dir():
        raise UsageError(f"output {out_dir} exists and is not a directory")
    timeout = _dot_timeout(args)
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

    status = EXIT_OK  # the largest exit status of any spec
    for stem, spec in stems.items():
        net = _load(spec, args)
        code = EXIT_SPEC if net is None else _compile_one(net, spec, stem, out_dir, args, timeout)
        status = max(status, code)
    return status


def _same_file(a: str, b: str) -> bool:
    """Whether two paths name one file (``a/net.yaml``, ``./a/net.yaml``, a link to it)."""
    try:
        return os.path.samefile(a, b)
    except OSError:  # one is missing: the same file only if the paths say so
        return os.path.realpath(a) == os.path.realpath(b)


def cmd_check(args) -> int:
    cache = _cache(args)
    failed = False
    for spec in args.specs:
        command = ["check", args.strict, args.sizes]
        failed |= _cached(cache, command, spec, args, _check_one) != EXIT_OK
    return EXIT_SPEC if failed else EXIT_OK


def _check_one(spec: str, args) -> int:
    from .backends import format as fmt
    from .spec.library import CheckedLibrary

    net = _load(spec, args, library=True)
    if net is None:
        return EXIT_SPEC
    if isinstance(net, CheckedLibrary):
        n = len(net.blocks)
        _say(f"{net.source}: ok: {n} block{'s' if n != 1 else ''} ({', '.join(net.blocks)})")
        return EXIT_OK
    _say(
        f"{net.source}: ok: {net.name}, {fmt.count(net.params)} params, "
        f"{fmt.count(net.macs)} MACs, {fmt.shape(net.input_shape)} → " + _outputs_text(net)
    )
    if args.sizes:
        from .sizes import report

        for line in report(net):
            _say(f"{net.source}: {line}")
    return EXIT_OK


def _outputs_text(net) -> str:
    """The output's shape; with `outputs:` each output, its shape and stride."""
    from .backends import format as fmt

    if not net.outputs:
        return fmt.shape(net.output_shape)
    labels = [fmt.output_label(o.key or o.row, o.shape, net.input_shape) for o in net.outputs]
    return ", ".join(labels)


def cmd_summary(args) -> int:
    if args.depth is not None and args.format != "text":
        raise UsageError(
            "--depth folds the text summary; it does not apply to --format " + args.format
        )
    command = ["summary", args.format, args.depth, args.strict]
    return _cached(_cache(args), command, args.spec, args, _summary_one)


def _summary_one(spec: str, args) -> int:
    from .backends.summary import RENDERERS, render_text

    net = _load(spec, args)
    if net is None:
        return EXIT_SPEC
    if args.depth is not None:
        _say(render_text(net, depth=args.depth), end="")
    else:
        _say(RENDERERS[args.format](net), end="", json=args.format == "json")
    return EXIT_OK


def _cache(args) -> Cache | None:
    """The result cache, unless ``--no-cache`` (or there is no private folder for it)."""
    if args.no_cache:
        return None
    from .cache import Cache

    return Cache.open()


def _cached(cache: Cache | None, command: list, spec: str, args, run_one) -> int:
    """``run_one(spec, args)``, or what it printed and returned last time for these bytes
    (:mod:`cnnspec.cache`). Only a run that read every file it named is stored; a spec
    edited while it was checked is not."""
    from .frontend.files import recording

    data = _spec_bytes(spec) if cache is not None else None
    if cache is None or data is None:
        return run_one(spec, args)
    root = os.path.realpath(args.include_root) if args.include_root else _default_root(spec)
    # what the output names depends on: the path as given, where it leads, the folder
    # it is shown relative to
    where = [spec, os.path.realpath(spec), os.path.realpath(os.getcwd()), root]
    key = cache.key(command, where, data)
    hit = cache.get(key)
    if hit is not None:
        for name, text, json in hit["writes"]:
            _Streams.write(name, text, json=json)
        return hit["status"]
    writes: list[tuple[str, str, bool]] = []
    _Streams.log = writes
    try:
        with recording() as reads:
            status = run_one(spec, args)
    finally:
        _Streams.log = None
    if _spec_bytes(spec) == data:
        cache.put(key, reads, writes, status)
    return status


def _spec_bytes(spec: str) -> bytes | None:
    """The spec's bytes as the front end reads them; None where it would not (the
    command's own read then says why)."""
    from .frontend.files import read_spec_bytes

    try:
        return read_spec_bytes(spec)[0]
    except (OSError, ValueError):
        return None


def _default_root(spec: str) -> str:
    from .frontend.files import default_root

    return str(default_root(os.path.dirname(os.path.abspath(spec))))


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


def _loading_flags(p: argparse.ArgumentParser, *, cached: bool = False) -> None:
    """The flags of every command that loads specs: ``--strict``, ``--include-root``
    (and ``--no-cache`` for the commands that answer from the cache)."""
    p.add_argument("--strict", action="store_true", help="treat warnings as errors")
    if cached:
        p.add_argument(
            "--no-cache",
            action="store_true",
            help="check every spec afresh, and store nothing (default: an unchanged spec's "
            "result is read from $CNNSPEC_CACHE_DIR, else ~/.cache/cnnspec)",
        )
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


def _diagram_flags(p: argparse.ArgumentParser) -> None:
    """compile's flags for the diagram: its formats, dot's time-out, folding."""
    p.add_argument(
        "--format",
        choices=("svg", "png", "pdf"),
        default="svg",
        help="also render the diagram in this format (SVG too, unless --no-svg)",
    )
    p.add_argument(
        "--no-svg",
        action="store_true",
        help="write no SVG (and never run dot for one): .py and .dot only",
    )
    p.add_argument(
        "--dot-timeout",
        type=_seconds,
        metavar="SECONDS",
        help="how long Graphviz's dot may take per image, 0 for no limit (default: "
        "$CNNSPEC_DOT_TIMEOUT, else 60)",
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
    _diagram_flags(p)
    _loading_flags(p)
    p.set_defaults(func=cmd_compile)

    p = sub.add_parser(
        "check",
        help="check specs; print one line per spec",
        description="Check each spec; print its diagnostics, then one line with its params, "
        "MACs and output shape.",
    )
    p.add_argument("specs", nargs="+", metavar="SPEC")
    p.add_argument(
        "--sizes",
        action="store_true",
        help="also print which input sizes (H, W from 1 to 2048) the network accepts",
    )
    _loading_flags(p, cached=True)
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
    _loading_flags(p, cached=True)
    p.set_defaults(func=cmd_summary)

    p = sub.add_parser("schema", help="print the JSON Schema of the spec format")
    p.set_defaults(func=cmd_schema)
    return parser


def _version() -> str:
    from . import __version__

    return __version__


def main(argv: Sequence[str] | None = None) -> int:
    from .outputs import Interrupted

    _Streams.lost.clear()  # this command's streams, whatever an earlier call found
    try:
        args = build_parser().parse_args(argv)
        return args.func(args)
    except UsageError as exc:
        _err(f"error: {exc}")
        return EXIT_USAGE
    except OSError as exc:
        _err(f"error: {exc}")
        return EXIT_USAGE
    except KeyboardInterrupt:
        return _interrupted(signal.SIGINT)
    except Interrupted as exc:
        return _interrupted(exc.signum)


def _interrupted(signum: int) -> int:
    """A signal ended the command: a set being written was rolled back (or was
    complete); the exit status a shell gives a command the signal killed."""
    _err(f"interrupted by {signal.Signals(signum).name}")
    return 128 + signum


def _ends_command(signum: int, frame) -> None:
    """The handler :func:`run` gives SIGTERM and SIGHUP: end the command as Ctrl-C
    does (unwinding, so that a set being written is rolled back)."""
    from .outputs import Interrupted

    raise Interrupted(signum)


_ends_command.ends_cnnspec = True  # type: ignore[attr-defined]


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
    from .outputs import Interrupted

    for name in ("SIGTERM", "SIGHUP"):
        signum = getattr(signal, name, None)
        if signum is not None and signal.getsignal(signum) == signal.SIG_DFL:
            signal.signal(signum, _ends_command)
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    gc.disable()
    try:
        code = main()
        for stream in (sys.stdout, sys.stderr):
            try:
                if stream is not None:
                    stream.flush()
            except (OSError, ValueError):  # its reader went away (`| head`): the output is
                pass  # lost, not the result
    except KeyboardInterrupt:  # a signal after the command's work, while flushing
        code = 128 + signal.SIGINT
    except Interrupted as exc:
        code = 128 + exc.signum
    os._exit(code)


if __name__ == "__main__":  # pragma: no cover
    run()
