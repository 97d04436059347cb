"""The PyTorch backend: the checked IR → the source of one module file.

:func:`render_torch` is pure text generation and never imports torch. A chain
(``layout`` sequential or flat) is one ``nn.Module`` written by
``templates/model.py.jinja``; a graph is one class per block definition and the
network class last (``templates/graph.py.jinja``), its ``forward`` written out
with one named variable per tensor (:mod:`.writer`). Every leaf module's
constructor call comes from its kind's macro in ``templates/_layers.jinja`` (the
templates live inside the package, ``cnnspec/templates``). The backend supplies
what a template should not do itself — escaping free text (:mod:`.docstring`),
naming the tensors of a ``forward``, and laying lines out the way ``ruff format``
would (line length 100, :mod:`.linewrap`), so the output needs no formatter. The
result is ``ast.parse``d, and its docstrings compared with the intended text,
before it is returned.

:func:`build_module` compiles that same source and instantiates the (network)
class: the only place where torch is imported (by the generated code itself).
"""

from __future__ import annotations

import ast
import functools
import linecache
from dataclasses import dataclass
from typing import TYPE_CHECKING

import jinja2

from ...deep import deep_stack
from ...expr import MAKE_DIVISIBLE_SOURCE, Sym
from ...ir import Network
from ...kinds import MACROS
from .. import format as fmt
from . import linewrap
from .checks import check_names
from .docstring import class_docstring, docstring_literal, docstring_text, header_lines
from .errors import RenderError
from .helpers import LAYER_NORM_2D, PERMUTE, PYRAMID_POOL_2D
from .writer import CENTER_CROP, CHANNEL_SHUFFLE, STOCHASTIC_DEPTH, ClassWriter

if TYPE_CHECKING:  # pragma: no cover
    import torch

#: the helpers a generated module defines when its code calls them: (what its code
#: calls, the helper's name, its source), in the order they are written
HELPERS = (
    ("center_crop(", "center_crop", CENTER_CROP),
    ("channel_shuffle(", "channel_shuffle", CHANNEL_SHUFFLE),
    ("make_divisible(", "make_divisible", MAKE_DIVISIBLE_SOURCE),
    ("StochasticDepth(", "StochasticDepth", STOCHASTIC_DEPTH),
    ("Permute(", "Permute", PERMUTE),
    ("LayerNorm2d(", "LayerNorm2d", LAYER_NORM_2D),
    ("PyramidPool2d(", "PyramidPool2d", PYRAMID_POOL_2D),
)


def _helpers(body: str) -> list[str]:
    """The sources of the helpers ``body`` (the code of the module's classes) calls."""
    return [source for marker, _, source in HELPERS if marker in body]


TEMPLATE = "model.py.jinja"
GRAPH_TEMPLATE = "graph.py.jinja"
#: the template of the kinds' constructor calls: one macro per kind
LAYERS = "_layers.jinja"

# --------------------------------------------------------------------------- filters


def arg(value: tuple[int, int]) -> str:
    """A pair as a person writes it in a call: ``3`` when square, else ``(3, 5)``; a
    block's pair param as its name (``kernel_size=kernel``)."""
    if isinstance(value, Sym):
        return str(value)
    a, b = value
    return str(a) if a == b else f"({a}, {b})"


def is_sym(value: object) -> bool:
    """A field that is a Python expression over a block's constructor arguments."""
    return isinstance(value, Sym)


def layer_line(
    expr: str, indent: int, prefix: str = "", suffix: str = "", shape: tuple[int, ...] | None = None
) -> str:
    """One statement ``{prefix}{call}{suffix}  # -> C×H×W``, laid out as ruff formats it.

    When it is too long, the call's arguments move to their own line, and when
    that line is still too long, to one line each with a trailing comma."""
    comment = f"-> {fmt.shape(shape)}" if shape is not None else ""
    call = linewrap.parse_call(str(expr))
    return "\n".join(linewrap.lines(call, indent, prefix, suffix, comment))


# --------------------------------------------------------------------------- rendering


#: macros added with :func:`add_macros`, in order: jinja source appended to LAYERS
_ADDED: list[str] = []


class _Templates(jinja2.PackageLoader):
    """The package's templates, :data:`LAYERS` with the macros :func:`add_macros` added."""

    def get_source(self, environment: jinja2.Environment, template: str) -> tuple:
        source, filename, uptodate = super().get_source(environment, template)
        if template == LAYERS and _ADDED:
            source += "".join(f"\n{text}\n" for text in _ADDED)
        return source, filename, uptodate


def add_macros(text: str) -> None:
    """Add jinja macros to :data:`LAYERS` — ``{% macro hardtanh(n) %}nn.Hardtanh(){%
    endmacro %}``: the constructor call of a kind registered at run time (a kind that
    ships with cnnspec writes its macro in ``templates/_layers.jinja`` itself)."""
    _ADDED.append(text)
    environment.cache_clear()


def remove_macros(text: str) -> None:
    """Take back what :func:`add_macros` added."""
    _ADDED.remove(text)
    environment.cache_clear()


@functools.lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=_Templates("cnnspec", "templates"),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
    )
    env.filters.update(arg=arg, literal=repr, shape=fmt.shape, layer_line=layer_line)
    env.tests.update(sym=is_sym)
    return env


def _template(name: str) -> jinja2.Template:
    try:
        return environment().get_template(name)
    except jinja2.TemplateNotFound as exc:
        raise RenderError(
            f"internal error: template {exc.name} not found in cnnspec/templates"
        ) from None


@deep_stack
def render_torch(net: Network) -> str:
    """The generated module file for ``net``: deterministic, ruff-clean, parse-checked."""
    check_names(net)
    doc_lines, doc_text = docstring_text(net)
    header = "\n".join(header_lines(net))
    if net.layout == "graph":
        source, class_docs = _render_graph(net, header, docstring_literal(doc_lines))
    else:
        parts = dict(
            net=net,
            header=header,
            docstring=docstring_literal(doc_lines),
            flatten=net.flatten,
            macros=MACROS,
        )
        source = _template(TEMPLATE).render(**parts, helpers=[])
        helpers = _helpers(source)
        if helpers:
            source = _template(TEMPLATE).render(**parts, helpers=helpers)
        class_docs = {}
    _self_check(net, source, doc_text, class_docs)
    return source


@dataclass(frozen=True)
class ClassSource:
    """One class of a graph's file, its parts ready to print."""

    name: str
    base: str
    doc: str  # the docstring literal, indented; "" for none
    signature: str
    init: str
    forward: str  # "" for an nn.Sequential subclass
    forward_def: str = ""  # forward's def line(s), with its return annotation


def _render_graph(net: Network, header: str, docstring: str) -> tuple[str, dict[str, str]]:
    macros = _template(LAYERS).module
    names = {c.name for c in net.classes}
    classes, docs = [], {}
    for i, cls in enumerate(net.classes):
        network = i == len(net.classes) - 1
        writer = ClassWriter(cls, network, macros, names)
        # the network's title heads the module docstring; a block without one has none
        doc, text = class_docstring("" if network or cls.title == cls.name else cls.title)
        if text is not None:
            docs[cls.name] = text
        classes.append(
            ClassSource(
                cls.name,
                "nn.Sequential" if cls.sequential else "nn.Module",
                doc,
                "\n".join(writer.signature()),
                "\n".join(writer.init_lines()),
                "" if cls.sequential else "\n".join(writer.forward_lines()),
                writer.forward_def(),
            )
        )
    body = "\n".join(c.init + "\n" + c.forward for c in classes)
    source = _template(GRAPH_TEMPLATE).render(
        header=header,
        docstring=docstring,
        ordered_dict="OrderedDict" in body,
        math="math." in body,
        helpers=_helpers(body),
        classes=classes,
    )
    return source, docs


def _self_check(
    net: Network, source: str, doc_text: str, class_docs: dict[str, str] | None = None
) -> None:
    """Parse the source and make sure free text stayed inside its literals."""
    filename = f"<cnnspec:{net.name}>"
    try:
        tree = ast.parse(source, filename=filename)
    except SyntaxError as exc:
        raise RenderError(
            f"internal error: the generated source for {net.name} does not parse: "
            f"line {exc.lineno}: {exc.msg}"
        ) from None
    names = [c.name for c in net.classes] if net.layout == "graph" else [net.name]
    body = tree.body
    n = 1
    while n < len(body) and isinstance(body[n], (ast.Import, ast.ImportFrom)):
        n += 1
    rest = body[n:]
    helpers, classes = rest[: len(rest) - len(names)], rest[len(rest) - len(names) :]
    known = [name for _, name, _ in HELPERS]
    helper_names = [getattr(h, "name", "") for h in helpers]
    if (
        not isinstance(body[0], ast.Expr)
        or not 3 <= n <= 5
        or len(classes) != len(names)
        or not all(isinstance(h, (ast.FunctionDef, ast.ClassDef)) for h in helpers)
        or helper_names != [k for k in known if k in helper_names]
    ):
        kinds = [type(stmt).__name__ for stmt in body]
        raise RenderError(f"internal error: unexpected statements in {filename}: {kinds}")
    if ast.get_docstring(tree, clean=False) != doc_text:
        raise RenderError(f"internal error: the docstring of {filename} is not the intended text")
    defined = [s for s in classes if isinstance(s, ast.ClassDef)]
    if [c.name for c in defined] != names or defined[-1].name != net.name:
        found = ", ".join(c.name for c in defined)
        raise RenderError(f"internal error: {filename} defines {found}, not {', '.join(names)}")
    for cls in defined:
        if ast.get_docstring(cls, clean=False) != (class_docs or {}).get(cls.name):
            raise RenderError(f"internal error: the docstring of {cls.name} is not as intended")


@deep_stack
def build_module(net: Network) -> torch.nn.Module:
    """Compile the generated source and return a fresh instance of its (network) class.

    The source is registered with :mod:`linecache`, so tracebacks from inside the
    model show its lines under the file name ``<cnnspec:NAME>``."""
    source = render_torch(net)
    filename = f"<cnnspec:{net.name}>"
    code = compile(source, filename, "exec")
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    namespace: dict = {"__name__": f"cnnspec.generated.{net.name}", "__file__": filename}
    exec(code, namespace)
    return namespace[net.name]()


__all__ = [
    "LAYERS",
    "RenderError",
    "add_macros",
    "build_module",
    "environment",
    "remove_macros",
    "render_torch",
]
