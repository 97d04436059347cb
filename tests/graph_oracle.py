"""A graph oracle: random graph specs, each with a twin built in plain torch.

Three parts, none of which uses cnnspec's code or rules:

- **the spec model and its YAML** (:class:`Spec`, :class:`Block`, :func:`render`): rows
  are dicts, values literals or :class:`X` expressions, which carry both the text the
  spec writes (``$t * in_maps``) and what it means (a Python function of the instance's
  params and input maps);
- **the twin** (:class:`Twin`): a separate interpreter of the spec language as
  docs/graphs.md and docs/spec-format.md describe it. It builds ``nn.Module`` subclasses
  written here (:class:`Scope`) holding plain ``torch.nn`` layers, and runs a real tensor
  through every layer as it builds it: torch decides every shape and refuses what it
  refuses. The format's own rules that torch does not know (an ``add`` needs one shape, a
  name is an identifier and not a keyword, ``from:`` inside a container, …) are written
  out here from the docs. Where the docs leave a choice open (a row named ``input``, a
  flatten inside a container), the twin says *either*: the spec may be refused with a
  located diagnostic, or accepted — and then it must be exactly the twin;
- **the generator** (:class:`Gen`): blocks with typed params and defaults (in any
  order), ``$param`` and ``in_maps`` expressions, ``if:`` rows, ``from:``, add / concat
  / ``crop: center``, ``repeat`` (a number or ``$n``) with ``first:`` and ``names:``,
  containers with indexed and named children, blocks using blocks, depthwise and grouped
  convolutions, deconvolutions, upsampling, batch norm, activations, pools, a broadcast
  mul (squeeze-and-excitation) — and now and
  then what the format refuses or leaves open.

:func:`judge` compares a spec's twin with what cnnspec makes of its YAML; see
tests/corpus/test_graph_oracle.py. ``python tests/graph_oracle.py --n 3000 --shrink DIR``
runs it at scale and writes one minimised spec per kind of disagreement.
"""

from __future__ import annotations

import ast
import copy
import inspect
import keyword
import math
import operator
import random
import re
import sys
import traceback
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import torch
import yaml

nn = torch.nn
F = torch.nn.functional

INPUT = "input"

# --------------------------------------------------------------------------- expressions


class Refused(Exception):
    """The twin refuses the spec: torch raised, or a documented rule of the format."""

    def __init__(self, why: str, by: str = "torch") -> None:
        super().__init__(why)
        self.why, self.by = why, by

    @property
    def key(self) -> str:
        """The reason without names and numbers: what kinds of refusal are counted by."""
        return re.sub(r"'[^']*'|\d+(\.\d+)?(e-?\d+)?|\(.*?\)|\[.*?\]| at \S+", "…", self.why)[:90]


class Unsure(Exception):
    """The docs say nothing the twin could follow: no verdict (the spec is not counted)."""


class X:
    """An expression: the text a spec writes, and a function of the env it means.

    The env maps ``$name`` to each param's value and ``in_maps`` to the instance's input
    maps. ``prec`` is Python's precedence of the outermost operator (9: an atom)."""

    __slots__ = ("text", "fn", "prec")

    def __init__(self, text: str, fn: Callable[[Mapping[str, Any]], Any], prec: int = 9) -> None:
        self.text, self.fn, self.prec = text, fn, prec

    def wrap(self, prec: int) -> str:
        return f"({self.text})" if self.prec < prec else self.text

    def __repr__(self) -> str:
        return f"X({self.text!r})"

    def __deepcopy__(self, memo: dict) -> X:
        return self


def param(name: str) -> X:
    return X(f"${name}", lambda env: env[f"${name}"])


IN_MAPS = X("in_maps", lambda env: env["in_maps"])


def _make_divisible(v: float, d: int, least: int | None = None) -> int:
    """The nearest multiple of ``d`` (a half up), at least ``least`` (default ``d``), and
    not below 90% of ``v`` (docs/graphs.md)."""
    near = max(d if least is None else least, math.floor(v / d + 0.5) * d)
    return near + d if near < 0.9 * v else near


def _whole(v: Any) -> int:
    if isinstance(v, float):
        raise Refused(f"{v} is not a whole number of maps", "rule")
    return v


def _exact(a: Any, b: Any) -> Any:
    if isinstance(a, float) or isinstance(b, float):
        if b == 0:
            raise Refused(f"{a} / {b} divides by zero", "rule")
        return a / b  # a float makes `/` a true division
    if b == 0 or a % b:
        raise Refused(f"{a} / {b} does not divide exactly", "rule")
    return a // b


_BINARY: dict[str, tuple[int, Callable[[Any, Any], Any]]] = {
    "or": (2, lambda a, b: a or b),
    "and": (3, lambda a, b: a and b),
    "!=": (5, operator.ne),
    "==": (5, operator.eq),
    ">": (5, operator.gt),
    "+": (6, operator.add),
    "-": (6, operator.sub),
    "*": (7, operator.mul),
    "//": (7, operator.floordiv),
    "/": (7, _exact),
    "%": (7, operator.mod),
}


def _as_x(v: Any) -> X:
    return v if isinstance(v, X) else X(str(v), lambda env: v)


def op(a: Any, sym: str, b: Any) -> Any:
    """``a sym b``: a literal when both are literals (the network's rows), else an X."""
    prec, f = _BINARY[sym]
    if not isinstance(a, X) and not isinstance(b, X):
        return f(a, b)
    xa, xb = _as_x(a), _as_x(b)
    return X(f"{xa.wrap(prec)} {sym} {xb.wrap(prec + 1)}", lambda e: f(xa.fn(e), xb.fn(e)), prec)


def not_(a: Any) -> Any:
    if not isinstance(a, X):
        return not a
    return X(f"not {a.wrap(4)}", lambda e: not a.fn(e), 4)


def if_else(a: Any, cond: Any, b: Any) -> Any:
    if not isinstance(cond, X):
        return a if cond else b
    xa, xb = _as_x(a), _as_x(b)
    return X(
        f"{xa.wrap(2)} if {cond.wrap(2)} else {xb.wrap(1)}",
        lambda e: xa.fn(e) if cond.fn(e) else xb.fn(e),
        1,
    )


def value(v: Any, env: Mapping[str, Any]) -> Any:
    """What a written value means in an instance (lists and dicts element by element)."""
    if isinstance(v, X):
        return v.fn(env)
    if isinstance(v, list):
        return [value(a, env) for a in v]
    return v


# --------------------------------------------------------------------------- the spec


@dataclass
class Param:
    name: str
    type: str  # int | bool | float
    default: Any = None  # None: required (an empty value is never a spec's default)
    form: str = "long"  # short (`m: int`), long ({type: int, default: 1}), described
    values: tuple = ()  # what an instance may pass: the generator's choices
    logical: str = ""  # the generator's name for it (the written name may differ)


@dataclass
class Block:
    name: str
    params: list[Param]
    layers: list[dict]
    children: str | None = None  # None: not written (named)
    title: str | None = None


@dataclass
class Spec:
    name: str
    c: int
    h: int
    w: int
    blocks: list[Block]
    layers: list[dict]
    blocks_first: bool = True
    #: `outputs:`: row names (a tuple) or key → row name (a dict); None: the last row
    outputs: list[str] | dict[str, str] | None = None


def _plain(v: Any) -> Any:
    if isinstance(v, X):
        return v.text
    if isinstance(v, dict):
        return {k: _plain(a) for k, a in v.items()}
    if isinstance(v, list):
        return [_plain(a) for a in v]
    return v


def _param_doc(p: Param) -> Any:
    if p.form == "short" and p.default is None:
        return p.type
    doc: dict[str, Any] = {"type": p.type}
    if p.default is not None:
        doc["default"] = p.default
    if p.form == "described":
        doc["description"] = f"The {p.name} of the block."
    return doc


def render(spec: Spec) -> str:
    """The spec as YAML text, rows in flow style where they hold only scalars."""
    doc: dict[str, Any] = {"name": spec.name}
    blocks: dict[str, Any] = {}
    for b in spec.blocks:
        bd: dict[str, Any] = {}
        if b.title:
            bd["title"] = b.title
        if b.children:
            bd["children"] = b.children
        if b.params:
            bd["params"] = {p.name: _param_doc(p) for p in b.params}
        bd["layers"] = _plain(b.layers)
        blocks[b.name] = bd
    if blocks and spec.blocks_first:
        doc["blocks"] = blocks
    doc["input"] = {"maps": spec.c, "size": f"{spec.h}x{spec.w}"}
    if spec.outputs is not None:
        doc["outputs"] = spec.outputs
    doc["layers"] = _plain(spec.layers)
    if blocks and not spec.blocks_first:
        doc["blocks"] = blocks
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    return yaml.dump(
        doc, Dumper=dumper, sort_keys=False, default_flow_style=None, width=100, allow_unicode=True
    )


# --------------------------------------------------------------------------- reading a spec back

#: keys whose text is never an expression
_WORDS = frozenset("name type from activation mode crop names children".split())
_EXPR_NODES = (ast.Expression, ast.Call, ast.BinOp, ast.BoolOp, ast.Compare, ast.UnaryOp, ast.IfExp,
               ast.Name, ast.Constant, ast.Load, ast.Add, ast.Sub, ast.Mult, ast.FloorDiv,
               ast.Div, ast.Mod, ast.And, ast.Or, ast.Not, ast.USub, ast.Eq, ast.NotEq, ast.Lt,
               ast.LtE, ast.Gt, ast.GtE)  # fmt: skip


def _walk(node: ast.AST, env: Mapping[str, Any]) -> Any:
    """An expression's value: integer arithmetic, comparisons, and/or/not, a if c else b."""
    if isinstance(node, ast.Expression):
        return _walk(node.body, env)
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Call):
        assert isinstance(node.func, ast.Name)
        args = [_walk(a, env) for a in node.args]
        return _FUNCTIONS[node.func.id](*args)
    if isinstance(node, ast.Name):
        return env["in_maps"] if node.id == "in_maps" else env["$" + node.id[2:]]
    if isinstance(node, ast.UnaryOp):
        v = _walk(node.operand, env)
        return (not v) if isinstance(node.op, ast.Not) else -v
    if isinstance(node, ast.BoolOp):
        values = [_walk(v, env) for v in node.values]
        return all(values) if isinstance(node.op, ast.And) else any(values)
    if isinstance(node, ast.IfExp):
        return _walk(node.body if _walk(node.test, env) else node.orelse, env)
    if isinstance(node, ast.Compare):
        left, ok = _walk(node.left, env), True
        for cmp, right_node in zip(node.ops, node.comparators):
            right = _walk(right_node, env)
            sym = {ast.Eq: "==", ast.NotEq: "!=", ast.Gt: ">"}.get(type(cmp))
            ok = ok and (_BINARY[sym][1](left, right) if sym else _LESS[type(cmp)](left, right))
            left = right
        return ok
    assert isinstance(node, ast.BinOp)
    sym = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.FloorDiv: "//", ast.Div: "/",
           ast.Mod: "%"}[type(node.op)]  # fmt: skip
    return _BINARY[sym][1](_walk(node.left, env), _walk(node.right, env))


_LESS = {ast.Lt: operator.lt, ast.LtE: operator.le, ast.GtE: operator.ge}
#: the expression functions, as docs/graphs.md defines them
_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "make_divisible": lambda v, d, least=None: _make_divisible(v, d, least),
    "ceil": math.ceil,
    "floor": math.floor,
    "round": round,
    "min": min,
    "max": max,
}


def parse_expr(text: str) -> X:
    """A spec's expression text as an X (an allow-list over ast, never eval)."""
    tree = ast.parse(re.sub(r"\$(\w+)", r"P_\1", text), mode="eval")
    for node in ast.walk(tree):
        if not isinstance(node, _EXPR_NODES):
            raise ValueError(f"{type(node).__name__} in the expression {text!r}")
    return X(text, lambda env: _walk(tree, env), 0)


def _read_value(key: str, v: Any, block: bool) -> Any:
    if isinstance(v, dict):
        return {k: _read_value(k, a, block) for k, a in v.items()}
    if isinstance(v, list) and key == "layers":
        return [_read_row(r, block) for r in v]
    if isinstance(v, list):
        return [_read_value(key, a, block) for a in v]
    expression = isinstance(v, str) and ("$" in v or re.search(r"\bin_maps\b", v))
    if block and key not in _WORDS and expression:
        return parse_expr(v)
    return v


def _read_row(row: dict, block: bool) -> dict:
    return {k: _read_value(k, v, block) for k, v in row.items()}


def parse_spec(text: str) -> Spec:
    """The oracle's model of a spec's YAML text (as :func:`render` writes it, or by hand):
    so a repro file can be judged again (``python tests/graph_oracle.py --judge FILE``)."""
    doc = yaml.safe_load(text)
    values = {"int": (1, 2, 3), "bool": (True, False), "float": (0.0, 0.5)}
    blocks = []
    for name, bd in (doc.get("blocks") or {}).items():
        params = []
        for pname, decl in (bd.get("params") or {}).items():
            if isinstance(decl, str):
                params.append(Param(pname, decl, None, "short", values[decl]))
                continue
            form = "described" if "description" in decl else "long"
            params.append(
                Param(pname, decl["type"], decl.get("default"), form, values[decl["type"]])
            )
        layers = [_read_row(r, True) for r in bd["layers"]]
        blocks.append(Block(name, params, layers, bd.get("children"), bd.get("title")))
    h, w = _pair(doc["input"]["size"])
    keys = list(doc)
    first = "blocks" not in keys or keys.index("blocks") < keys.index("layers")
    layers = [_read_row(r, False) for r in doc["layers"]]
    return Spec(doc["name"], doc["input"]["maps"], h, w, blocks, layers, first, doc.get("outputs"))


# --------------------------------------------------------------------------- the twin's modules


def _center(t: torch.Tensor, th: int, tw: int) -> torch.Tensor:
    h, w = t.shape[2], t.shape[3]
    if h < th or w < tw:
        raise ValueError(f"crop: center would grow {h}×{w} to {th}×{tw}")
    top, left = (h - th) // 2, (w - tw) // 2
    return t[:, :, top : top + th, left : left + tw]


def _add(scope: Scope, xs: list[torch.Tensor], _: Any) -> torch.Tensor:
    shapes = sorted({tuple(t.shape[1:]) for t in xs})
    if len(shapes) != 1:  # torch would broadcast; the format's add takes one shape
        raise Refused(f"add of the shapes {shapes}", "rule")
    out = xs[0]
    for t in xs[1:]:
        out = out + t
    return out


def _mul(scope: Scope, xs: list[torch.Tensor], _: Any) -> torch.Tensor:
    shapes = [tuple(t.shape[1:]) for t in xs]
    # torch broadcasts tensors of two ranks too (from the right); the format's mul takes
    # one rank, each dimension equal or 1 (docs: "Element-wise multiply")
    ranks = {len(sh) for sh in shapes}
    wide = [{d for d in dims if d != 1} for dims in zip(*shapes)]
    if len(ranks) != 1 or any(len(w) > 1 for w in wide):
        raise Refused(f"mul of the shapes {shapes}", "rule")
    out = xs[0]
    for t in xs[1:]:
        out = out * t
    return out


def _concat(scope: Scope, xs: list[torch.Tensor], crop: Any) -> torch.Tensor:
    if crop:
        if any(t.dim() != 4 for t in xs):
            raise ValueError("crop: center of a flat tensor")
        th, tw = xs[-1].shape[2], xs[-1].shape[3]
        xs = [_center(t, th, tw) for t in xs]
    return torch.cat(xs, 1)


def _split(scope: Scope, xs: list[torch.Tensor], arg: Any) -> torch.Tensor:
    """Part `part` (from 0) of `parts` equal parts of the maps (docs: "Channel rows")."""
    parts, part = arg
    c = xs[0].shape[1]
    if c % parts:
        raise Refused(f"a split of {c} maps into {parts} parts", "rule")
    size = c // parts
    return xs[0][:, part * size : (part + 1) * size]


def _shuffle(scope: Scope, xs: list[torch.Tensor], groups: Any) -> torch.Tensor:
    """Map j of group g moves to position j·groups + g: an index list, not a reshape."""
    c = xs[0].shape[1]
    if c % groups:
        raise Refused(f"a shuffle of {c} maps in {groups} groups", "rule")
    per = c // groups
    return xs[0][:, [g * per + j for j in range(per) for g in range(groups)]]


_OPS: dict[str, Callable[[Scope, list[torch.Tensor], Any], torch.Tensor]] = {
    "split": _split,
    "shuffle": _shuffle,
    "call": lambda scope, xs, key: scope._modules[key](xs[0]),
    "scale": lambda scope, xs, key: scope._parameters[key] * xs[0],
    "add": _add,
    "concat": _concat,
    "mul": _mul,
    "flatten": lambda scope, xs, _: torch.flatten(xs[0], 1),
    "resize": lambda scope, xs, a: F.interpolate(xs[0], size=a[0], mode=a[1], align_corners=a[2]),
}


class Scope(nn.Module):
    """A twin scope — the network, a block instance, a container or a repeated row's
    copies: its modules (attributes named as the spec names them, or 0, 1, …) and the
    steps of its forward, each (operation, output, inputs, argument)."""

    def __init__(self) -> None:
        super().__init__()
        self.steps: list[tuple[str, str, list[str], Any]] = []
        self.result = INPUT
        #: the network's `outputs:` as (dict key or None, value id); None: ``result``
        self.returned: list[tuple[str | None, str]] | None = None

    def run(self, step: tuple[str, str, list[str], Any], vals: dict[str, torch.Tensor]):
        opname, out, srcs, arg = step
        vals[out] = _OPS[opname](self, [vals[s] for s in srcs], arg)
        return vals[out]

    def forward(self, x: torch.Tensor) -> Any:
        vals = {INPUT: x}
        for step in self.steps:
            self.run(step, vals)
        if self.returned is None:
            return vals[self.result]
        if self.returned[0][0] is None:
            return tuple(vals[v] for _, v in self.returned)
        return {k: vals[v] for k, v in self.returned}


# --------------------------------------------------------------------------- layers in torch


def _pair(v: Any) -> tuple[int, int]:
    if isinstance(v, str):
        a, b = re.split(r"\s*[x×X*]\s*", v.strip())
        return int(a), int(b)
    if isinstance(v, (list, tuple)):
        return int(v[0]), int(v[1])
    return int(v), int(v)


ACTIVATION_CLASSES: dict[str, Callable[[], nn.Module]] = {
    "relu": nn.ReLU,
    "relu6": nn.ReLU6,
    "leaky_relu": nn.LeakyReLU,
    "sigmoid": nn.Sigmoid,
    "tanh": nn.Tanh,
    "hardswish": nn.Hardswish,
    "hardsigmoid": nn.Hardsigmoid,
    "silu": nn.SiLU,
    "gelu": nn.GELU,
    "softmax": lambda: nn.Softmax(dim=1),
}


class Permute(nn.Module):
    """The twin's permute: the dimensions reordered."""

    def __init__(self, dims: list[int]) -> None:
        super().__init__()
        self.dims = dims

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.permute(*self.dims)


class LayerNorm2d(nn.Module):
    """The twin's layer norm over the maps of N×C×H×W, at each position (by hand)."""

    def __init__(self, c: int, eps: float) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(c))
        self.bias = nn.Parameter(torch.zeros(c))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mean = x.mean(1, keepdim=True)
        var = x.var(1, unbiased=False, keepdim=True)
        w, b = self.weight.view(1, -1, 1, 1), self.bias.view(1, -1, 1, 1)
        return (x - mean) / torch.sqrt(var + self.eps) * w + b


#: the kinds that read channels-last data (docs: Modern rows); the rest refuse it
READS_CHANNELS_LAST = frozenset(
    "fc dropout layernorm permute flatten add sequential relu relu6 leaky_relu sigmoid tanh "
    "gelu softmax".split()
)
TO_LAST, TO_FIRST = [0, 2, 3, 1], [0, 3, 1, 2]


def channels_last(x: torch.Tensor) -> bool:
    """Whether the twin marked ``x`` channels-last (a permute's output, and what follows)."""
    return bool(getattr(x, "oracle_channels_last", False))


def mark(y: torch.Tensor, last: bool) -> torch.Tensor:
    y.oracle_channels_last = last  # type: ignore[attr-defined]
    return y


def _conv(r: dict, c: int, transposed: bool) -> nn.Module:
    pad = r.get("padding", 0)
    kw: dict[str, Any] = dict(
        stride=_pair(r.get("stride", 1)),
        dilation=_pair(r.get("dilation", 1)),
        groups=r.get("groups", 1),
        bias=r.get("bias", True),
    )
    if transposed:
        return nn.ConvTranspose2d(
            c,
            r["maps"],
            _pair(r["kernel"]),
            padding=_pair(pad),
            output_padding=_pair(r.get("output_padding", 0)),
            **kw,
        )
    padding = "same" if str(pad).lower() == "same" else _pair(pad)
    return nn.Conv2d(c, r["maps"], _pair(r["kernel"]), padding=padding, **kw)


def _pool(kind: str, r: dict) -> nn.Module:
    kernel = _pair(r["kernel"])
    stride = _pair(r["stride"]) if "stride" in r else kernel
    cls = nn.MaxPool2d if kind == "maxpool" else nn.AvgPool2d
    return cls(kernel, stride, _pair(r.get("padding", 0)), ceil_mode=r.get("ceil_mode", False))


def _upsample(r: dict) -> nn.Module:
    mode = r.get("mode", "nearest")
    align = r.get("align_corners") if mode == "bilinear" else None
    if "scale" in r:
        return nn.Upsample(scale_factor=float(r["scale"]), mode=mode, align_corners=align)
    return nn.Upsample(size=_pair(r["size"]), mode=mode, align_corners=align)


class StochasticDepth(nn.Module):
    """Stochastic depth as docs/spec-format.md says: the identity in eval (the oracle runs
    in eval); in training a sample (row) or the batch is zeroed with probability p, the
    rest divided by 1 - p. No parameters, no buffers."""

    def __init__(self, p: float, mode: str) -> None:
        super().__init__()
        if not 0.0 <= p <= 1.0 or mode not in ("row", "batch"):
            raise Refused(f"stochastic depth p={p} mode={mode}", "rule")
        self.p, self.mode = p, mode

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training:
            return x
        n = x.shape[0] if self.mode == "row" else 1
        keep = (torch.rand(n) >= self.p).to(x.dtype).view(n, *[1] * (x.dim() - 1))
        return x * keep / (1.0 - self.p) if self.p < 1.0 else x * 0.0


class PyramidPool2d(nn.Module):
    """Spatial pyramid pooling as docs/spec-format.md says: per level n, n×n bins, bin i
    over a side of a pixels spanning [⌊i·a/n⌋, ⌈(i+1)·a/n⌉), each pooled by max or mean;
    each level flattened maps first, the levels concatenated in order. Named like the
    generated module's class (the IR's torch_class), written from the docs, not from it."""

    def __init__(self, levels: list[int], pool: str) -> None:
        super().__init__()
        if pool not in ("max", "avg") or not levels:
            raise Refused(f"spp levels {levels} pool {pool}", "rule")
        self.levels, self.pool = levels, pool

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[2], x.shape[3]
        if min(h, w) < max(self.levels):
            raise ValueError(f"a {h}×{w} input to a {max(self.levels)}×{max(self.levels)} level")
        parts = []
        for n in self.levels:
            rows = [(i * h // n, -(-(i + 1) * h // n)) for i in range(n)]
            cols = [(j * w // n, -(-(j + 1) * w // n)) for j in range(n)]
            cells = [x[:, :, a:b, c:d] for a, b in rows for c, d in cols]
            pooled = [t.amax(dim=(2, 3)) if self.pool == "max" else t.mean((2, 3)) for t in cells]
            parts.append(torch.stack(pooled, dim=2).flatten(1))  # N×C×n² → maps first
        return torch.cat(parts, dim=1)


def _reshape(r: dict, x: torch.Tensor) -> nn.Module:
    """A vector read as maps×H×W (docs: Pyramid and reshape rows): nn.Unflatten."""
    shape = r["shape"]
    if x.dim() != 2 or len(shape) != 3 or math.prod(shape) != x.shape[1]:
        raise Refused(f"a reshape {shape} of {tuple(x.shape[1:])}", "rule")
    return nn.Unflatten(1, tuple(shape))


def make_layer(kind: str, r: dict, x: torch.Tensor) -> nn.Module:
    """The torch module a layer row stands for, given its input (torch may refuse)."""
    last = channels_last(x)
    c = x.shape[-1] if last else x.shape[1]
    if kind == "layernorm":
        eps = r.get("eps", 1e-5)
        return LayerNorm2d(c, eps) if x.dim() == 4 and not last else nn.LayerNorm(c, eps=eps)
    if kind == "groupnorm":
        return nn.GroupNorm(r["groups"], c, eps=r.get("eps", 1e-5))
    if kind == "permute":
        dims = r["dims"]
        if dims not in (TO_LAST, TO_FIRST) or x.dim() != 4 or (dims == TO_LAST) == last:
            raise ValueError(f"a permute {dims} of {'channels-last' if last else 'maps-first'}")
        return Permute(dims)
    if kind in ("conv", "deconv"):
        return _conv(r, c, kind == "deconv")
    if kind in ("maxpool", "avgpool"):
        return _pool(kind, r)
    if kind == "adaptive_avgpool":
        return nn.AdaptiveAvgPool2d(_pair(r["size"]))
    if kind == "adaptive_maxpool":
        return nn.AdaptiveMaxPool2d(_pair(r["size"]))
    if kind == "spp":
        return PyramidPool2d(list(r["levels"]), r.get("pool", "max"))
    if kind == "reshape":
        return _reshape(r, x)
    if kind == "fc":
        return nn.Linear(c, r["size"], bias=r.get("bias", True))
    if kind == "dropout":
        return nn.Dropout(r.get("p", 0.5))
    if kind == "stochastic_depth":
        return StochasticDepth(r["p"], r.get("mode", "row"))
    if kind == "batchnorm":
        norm = nn.BatchNorm1d if x.dim() == 2 else nn.BatchNorm2d
        return norm(c, eps=r.get("eps", 1e-5), momentum=r.get("momentum", 0.1))
    if kind == "lrn":
        return nn.LocalResponseNorm(
            r.get("n", 5), r.get("alpha", 1e-4), r.get("beta", 0.75), r.get("k", 1.0)
        )
    if kind == "upsample":
        return _upsample(r)
    if kind == "gelu":
        return nn.GELU(approximate=r.get("approximate", "none"))
    if kind in ACTIVATION_CLASSES:
        return ACTIVATION_CLASSES[kind]()
    raise Unsure(f"no torch layer for type {kind!r}")


def macs_of(m: nn.Module, x: torch.Tensor, y: torch.Tensor) -> int:
    """Multiply-accumulates for one image, from torch's real tensors (docs: "Counting")."""
    out = y[0].numel()
    if isinstance(m, nn.Conv2d):
        taps = m.in_channels // m.groups * m.kernel_size[0] * m.kernel_size[1]
        return out * taps + (out if m.bias is not None else 0)
    if isinstance(m, nn.ConvTranspose2d):  # counted on the input
        taps = m.out_channels // m.groups * m.kernel_size[0] * m.kernel_size[1]
        return x[0].numel() * taps + (out if m.bias is not None else 0)
    if isinstance(m, nn.Linear):  # at every position of channels-last data
        positions = y[0].numel() // m.out_features
        return positions * (m.in_features + (1 if m.bias is not None else 0)) * m.out_features
    if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
        return 2 * m.num_features
    if isinstance(m, (nn.LayerNorm, LayerNorm2d, nn.GroupNorm)):
        return sum(p.numel() for p in m.parameters())
    return 0


#: the largest tensor (a batch of two) the twin builds
MAX_ELEMENTS = 2_000_000


def run_torch(fn: Callable[[], torch.Tensor], what: str) -> torch.Tensor:
    try:
        with torch.no_grad():
            y = fn()
    except (RuntimeError, ValueError, TypeError, IndexError, ZeroDivisionError) as exc:
        raise Refused(f"{what}: {str(exc).splitlines()[0][:160]}") from None
    if y.numel() == 0:
        raise Refused(f"{what}: an empty output {tuple(y.shape)}")
    if y.numel() > MAX_ELEMENTS:  # upsampling in nested repeats grows without bound
        raise Unsure(f"{what}: {y.numel():,} elements, more than the oracle builds")
    return y


# --------------------------------------------------------------------------- the twin

#: what torch's add_module refuses (and the format refuses for every row's name)
NN_ATTRIBUTES = frozenset(dir(nn.Module()))
#: names the docs allow, which the generated code also uses: a spec may be refused with
#: a diagnostic for them, or accepted — then it must do what the twin does
TRICKY_NAMES = frozenset(
    "torch nn self x out F super range list OrderedDict identity int len center_crop Tensor".split()
)
TRICKY_PARAMS = TRICKY_NAMES | {"in_maps", "bool", "float"}
TRICKY_CLASSES = frozenset(
    "OrderedDict F Tensor Module Sequential range list int center_crop".split()
)
#: keys of a row that are not a layer's hyper-parameters
META = frozenset("name type from if repeat first names params macs layers children".split())
BLOCK_ROW_KEYS = frozenset("type name repeat from if maps size params macs first names".split())
MERGES = ("add", "concat", "mul")
SIZE_CLAIMS = frozenset("conv deconv maxpool avgpool add concat mul sequential".split())


def name_problem(name: Any, attribute: bool = True) -> str | None:
    """What the docs say is wrong with a name (None: nothing)."""
    if not isinstance(name, str) or not name.isascii() or not name.isidentifier():
        return "not an ASCII identifier"
    if keyword.iskeyword(name) or keyword.issoftkeyword(name):
        return "a Python keyword"
    if name.startswith("_"):
        return "starts with '_'"
    if len(name) > 40:
        return "longer than 40 characters"
    if attribute and name in NN_ATTRIBUTES:
        return "an attribute of every nn.Module"
    return None


def _fits(v: Any, kind: str) -> bool:
    if kind == "bool":
        return isinstance(v, bool)
    if kind == "int":
        return isinstance(v, int) and not isinstance(v, bool)
    return isinstance(v, (int, float)) and not isinstance(v, bool)  # an int is a float


@dataclass
class Rec:
    """What the twin knows of one module path: class, output shape, params, MACs."""

    cls: str
    shape: tuple[int, ...]
    params: int
    macs: int


@dataclass
class Ctx:
    """Where a row lies: its scope's module path, the instance's env, and the scope's form."""

    path: str
    env: dict[str, Any]
    indexed: bool  # children are 0, 1, …
    chain: bool  # an nn.Sequential (a container, an indexed block): rows run as a chain
    container: bool  # a `type: sequential` row: `from:` is refused there
    index: int = 0
    counters: Counter = field(default_factory=Counter)

    def key(self, name: str | None, kind: str) -> str:
        """The attribute a row's module gets: its index, its name, or type + counter
        (`conv1`; `relu6_1`, where the type ends in a digit)."""
        if self.indexed:
            self.index += 1
            return str(self.index - 1)
        if name is not None:
            return name
        self.counters[kind] += 1
        joint = "_" if kind[-1].isdigit() else ""
        return f"{kind}{joint}{self.counters[kind]}"

    def sub(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key


@dataclass
class _Walk:
    """One scope's walk: values, what names resolve to, what has been read."""

    vals: dict[str, torch.Tensor]
    alias: dict[str, str] = field(default_factory=dict)
    absent_merges: set[str] = field(default_factory=set)
    names: set[str] = field(default_factory=set)
    reads: set[str] = field(default_factory=set)
    order: list[str] = field(default_factory=list)
    repeated: set[str] = field(default_factory=set)  # plain rows with `repeat`


class Twin:
    """The spec built in plain torch, row by row, as the docs describe the language."""

    def __init__(self, spec: Spec) -> None:
        self.spec = spec
        self.blocks = {b.name: b for b in spec.blocks}
        self.leaves: dict[str, Rec] = {}  # module path → leaf layer
        self.groups: dict[str, Rec] = {}  # module path → block instance or container
        self.ops: list[tuple[str, str | None, tuple[int, ...]]] = []  # module-less ops
        self.scales: dict[str, int] = {}  # a layer scale's key → its params (and MACs)
        self.either: list[str] = []  # why the spec may be refused
        self.unread: list[str] = []  # rows whose output nothing reads
        self.instances: dict[str, list[tuple[tuple[int, ...], dict[str, Any]]]] = {}
        self.row_shapes: dict[int, tuple[int, ...]] = {}
        self.tags: Counter = Counter()
        self.depth = 0
        self.module = Scope()
        self.output: tuple[int, ...] = ()
        self.outputs: list[tuple[int, ...]] = []  # every output's shape, in order

    def run(self) -> Twin:
        if _is_chain(self.spec):
            raise Unsure("a chain spec (features and classifier): the chain oracle's")
        self._check_globals()
        x = torch.randn(2, self.spec.c, self.spec.h, self.spec.w)
        ctx = Ctx("", {}, False, False, False)
        _, y = self.rows(self.spec.layers, self.module, x, ctx, top=True)
        self.output = tuple(y.shape[1:])
        for path, rec in self.groups.items():
            rec.macs = sum(r.macs for p, r in self.leaves.items() if p.startswith(path + "."))
            rec.macs += sum(n for p, n in self.scales.items() if p.startswith(path + "."))
        for name in sorted(set(self.blocks) - set(self.instances)):
            self.unread.append(f"block {name} (never instantiated)")
            block = self.blocks[name]
            # the twin never walks it; cnnspec may still refuse what needs no arguments
            # to see, as it may in an instance (`from:` or a merge with indexed children)
            if block.children == "indexed" and any(
                "from" in r or r["type"] in MERGES for r in block.layers
            ):
                self.either.append(f"from: or a merge in the unused indexed block {name}")
        return self

    def _check_globals(self) -> None:
        for b in self.spec.blocks:
            problem = name_problem(b.name, attribute=False)
            if problem:
                raise Refused(f"block name {b.name!r}: {problem}", "rule")
            if b.name in TRICKY_CLASSES or b.name == self.spec.name:
                self.either.append(f"a block named {b.name!r}")
            defaulted = False
            for p in b.params:
                problem = name_problem(p.name, attribute=False)
                if problem:
                    raise Refused(f"param name {p.name!r}: {problem}", "rule")
                if p.name in TRICKY_PARAMS:
                    self.either.append(f"a param named {p.name!r}")
                if p.default is None and defaulted:
                    self.tags["required param after a default"] += 1
                defaulted = defaulted or p.default is not None

    # ----------------------------------------------------------------- rows

    def rows(self, rows: list[dict], scope: Scope, x: torch.Tensor, ctx: Ctx, top: bool = False):
        walk = _Walk({INPUT: x})
        prev = INPUT
        for i, row in enumerate(rows):
            prev = self.row(row, i, prev, scope, walk, ctx)
        scope.result = prev
        if top and self.spec.outputs is not None:
            scope.returned = self._returned(walk)
            walk.reads.update(v for _, v in scope.returned)
            self.outputs = [tuple(walk.vals[v].shape[1:]) for _, v in scope.returned]
            prev = scope.returned[0][1]
        else:
            walk.reads.add(prev)
        unread = [r for r in walk.order if r not in walk.reads]
        if unread:
            self.unread.append(f"{ctx.path or 'the network'}: {', '.join(unread)}")
        return prev, walk.vals[prev]

    def _check_name(self, name: str | None, walk: _Walk) -> None:
        if name is None:
            return
        problem = name_problem(name)
        if problem:
            raise Refused(f"row name {name!r}: {problem}", "rule")
        if name in walk.names:
            raise Refused(f"two rows named {name!r} in one scope", "rule")
        walk.names.add(name)
        if name == INPUT or name in TRICKY_NAMES:
            self.either.append(f"a row named {name!r}")

    def _returned(self, walk: _Walk) -> list[tuple[str | None, str]]:
        """`outputs:` as the docs say: present top-level rows, each named once."""
        outputs = self.spec.outputs
        pairs = (
            list(outputs.items())
            if isinstance(outputs, dict)
            else [(None, n) for n in outputs or []]
        )
        self.tags[f"outputs: {'dict' if isinstance(outputs, dict) else 'tuple'}"] += 1
        names = [n for _, n in pairs]
        if len(set(names)) != len(names):
            raise Refused("an output listed twice", "rule")
        for _, n in pairs:
            if walk.alias.get(n) != n:  # no row of that name, or one whose if: is false
                raise Refused(f"output {n!r} names no present top-level row", "rule")
            if n in walk.repeated:  # as for from: (the docs do not say), either
                self.either.append(f"outputs: names the repeated row {n!r}")
        return [(k, n) for k, n in pairs]

    def _resolve(self, name: Any, walk: _Walk) -> str:
        if name == INPUT:  # the scope's input, whatever a row is named
            self.tags["from: input"] += 1
            return INPUT
        if name in walk.absent_merges:
            raise Refused(f"'{name}' is a merge whose if: is false, read by name", "rule")
        if not isinstance(name, str) or name not in walk.alias:
            raise Refused(f"from: {name!r} names no earlier row", "rule")
        if name in walk.repeated:  # the docs do not say: its last copy, or an error
            self.either.append(f"from: names the repeated row {name!r}")
        return walk.alias[name]

    def row(self, row: dict, i: int, prev: str, scope: Scope, walk: _Walk, ctx: Ctx) -> str:
        kind, name, written = row["type"], row.get("name"), row.get("from")
        self._check_name(name, walk)
        merge = kind in MERGES
        if written is not None:
            self.tags["from"] += 1
            if ctx.container:
                raise Refused("from: inside a sequential container", "rule")
        if ctx.chain and not ctx.container and (written is not None or merge):
            self.either.append(f"'{kind}' with from: or a merge in an indexed block")
        srcs = [written] if isinstance(written, str) else written
        if "if" in row:
            cond = value(row["if"], ctx.env)
            if not isinstance(cond, bool):
                raise Unsure(f"if: {cond!r}")
            self.tags[f"if: {str(cond).lower()}"] += 1
            if not cond:  # the row does not exist: who reads it reads its first input
                first = self._resolve(srcs[0], walk) if srcs else prev
                if not ctx.indexed:  # the names it would take stay taken (a class has it)
                    if name is None:
                        ctx.key(None, kind)
                    if row.get("activation", "none") != "none":
                        ctx.key(None, row["activation"])
                if name is not None:
                    walk.alias[name] = first
                    if merge:
                        walk.absent_merges.add(name)
                return first
        ids = [self._resolve(s, walk) for s in srcs] if srcs else [prev]
        if len(ids) != 1 and not merge:
            raise Refused(f"a {kind} row reads {len(ids)} inputs", "rule")
        walk.reads.update(ids)
        rid = name if name is not None else f"#{i}"
        xs = [walk.vals[s] for s in ids]
        if channels_last(xs[0]) and (kind in self.blocks or kind not in READS_CHANNELS_LAST):
            raise Refused(f"a {kind} row reads channels-last data", "rule")
        if merge and len({channels_last(x) for x in xs}) > 1:
            raise Refused(f"a {kind} of inputs in two layouts", "rule")
        if merge:
            y = self.merge(row, kind, xs, ids, rid, scope, ctx)
        elif kind in self.blocks:
            y = self.block_row(row, xs[0], ids[0], rid, scope, ctx)
        elif kind == "sequential":
            y = self.container(row, xs[0], ids[0], rid, scope, ctx)
        else:
            y = self.layer_row(row, kind, xs[0], ids[0], rid, scope, ctx)
        self._claims(row, kind, y, ctx.env)
        self.row_shapes[id(row)] = tuple(y.shape[1:])
        walk.vals[rid] = y
        walk.order.append(rid)
        if name is not None:
            walk.alias[name] = rid
            if "repeat" in row and kind not in self.blocks:
                walk.repeated.add(name)
        return rid

    def _claims(self, row: dict, kind: str, y: torch.Tensor, env: dict) -> None:
        """Declared maps and sizes are claims: one that torch does not compute is refused."""
        if "maps" in row and kind not in ("conv", "deconv"):
            want = value(row["maps"], env)
            if y.dim() < 2 or y.shape[1] != want:
                raise Refused(f"declared maps {want}, torch {tuple(y.shape[1:])}", "rule")
        claims_size = kind in SIZE_CLAIMS or kind in self.blocks
        if "size" in row and (claims_size or (kind == "upsample" and "scale" in row)):
            want = _pair(value(row["size"], env))
            if y.dim() != 4 or tuple(y.shape[2:]) != want:
                raise Refused(f"declared size {want}, torch {tuple(y.shape[1:])}", "rule")

    # ----------------------------------------------------------------- steps

    def _op(
        self,
        opname: str,
        kind: str,
        xs: list,
        srcs: list,
        out: str,
        arg: Any,
        scope: Scope,
        op_id: str | None,
    ) -> torch.Tensor:
        """A module-less step (add, concat, flatten, upsample to a size): run and recorded."""
        step = (opname, out, srcs, arg)
        vals = dict(zip(srcs, xs))
        y = run_torch(lambda: scope.run(step, vals), f"{kind} {out}")
        scope.steps.append(step)
        self.ops.append((kind, op_id, tuple(y.shape[1:])))
        return y

    def _call(
        self,
        module: nn.Module,
        key: str,
        x: torch.Tensor,
        src: str,
        out: str,
        scope: Scope,
        ctx: Ctx,
    ) -> torch.Tensor:
        """A module under `key`: registered, run on x, recorded at its path."""
        self._attach(module, key, src, out, scope)
        y = run_torch(lambda: module.eval()(x), f"{type(module).__name__} at {ctx.sub(key)}")
        params = sum(p.numel() for p in module.parameters())
        self.leaves[ctx.sub(key)] = Rec(
            type(module).__name__, tuple(y.shape[1:]), params, macs_of(module, x, y)
        )
        return y

    @staticmethod
    def _attach(module: nn.Module, key: str, src: str, out: str, scope: Scope) -> None:
        try:
            scope.add_module(key, module)
        except (KeyError, TypeError) as exc:
            raise Refused(f"torch refuses the module name {key!r}: {exc}") from None
        scope.steps.append(("call", out, [src], key))

    def _op_id(self, ctx: Ctx, name: str | None) -> str | None:
        return None if name is None or ctx.indexed else ctx.sub(name)

    def merge(
        self, row: dict, kind: str, xs: list, ids: list, rid: str, scope: Scope, ctx: Ctx
    ) -> torch.Tensor:
        if len(ids) < 2:
            raise Refused(f"a {kind} of {len(ids)} input", "rule")
        self.tags[kind] += 1
        crop = row.get("crop")
        if crop:
            self.tags["crop: center"] += 1
        y = self._op(kind, kind, xs, ids, rid, crop, scope, self._op_id(ctx, row.get("name")))
        return mark(y, channels_last(xs[0]))

    def layer_row(
        self, row: dict, kind: str, x: torch.Tensor, src: str, rid: str, scope: Scope, ctx: Ctx
    ) -> torch.Tensor:
        r = {k: value(v, ctx.env) for k, v in row.items() if k not in META}
        n = row.get("repeat")
        name = row.get("name")
        if n is None:
            copies = [(name, rid)]
        else:  # a plain row's repeat: copies name_1 … name_N, a chain
            if isinstance(n, bool) or not isinstance(n, int) or n < 1:
                raise Refused(f"repeat: {n!r}", "rule")
            self.tags["repeat of a layer"] += 1
            copies = [
                (None if name is None else f"{name}_{j}", rid if j == n else f"{rid}~{j}")
                for j in range(1, n + 1)
            ]
        for cname, out in copies:
            last = channels_last(x)
            x = self.one_layer(kind, r, x, src, out, cname, scope, ctx)
            mark(x, (not last) if kind == "permute" else last and kind != "flatten")
            src = out
        return x

    def one_layer(
        self,
        kind: str,
        r: dict,
        x: torch.Tensor,
        src: str,
        out: str,
        name: str | None,
        scope: Scope,
        ctx: Ctx,
    ) -> torch.Tensor:
        if kind == "flatten":
            if x.dim() == 2:
                raise Refused("a flatten of a flat tensor", "rule")
            self.tags["flatten"] += 1
            if ctx.chain:  # an nn.Sequential's flatten is a module: nn.Flatten
                self.either.append("a flatten inside an nn.Sequential")
                return self._call(nn.Flatten(), ctx.key(name, kind), x, src, out, scope, ctx)
            return self._op("flatten", kind, [x], [src], out, None, scope, self._op_id(ctx, name))
        if kind == "scale":
            return self.scale(r, x, src, out, name, scope, ctx)
        if kind == "fc" and x.dim() > 2 and not channels_last(x):  # the first fc flattens C×H×W
            if ctx.chain:
                raise Unsure("an fc reading maps inside an nn.Sequential")
            self.tags["fc flattens"] += 1
            x = self._op("flatten", "flatten", [x], [src], f"{out}~flat", None, scope, None)
            src = f"{out}~flat"
        if kind in ("split", "channel_shuffle"):  # no module: an expression in forward
            if ctx.chain:
                raise Refused(f"a {kind} inside an nn.Sequential", "rule")
            self.tags[kind] += 1
            if "maps" in r and not isinstance(r["maps"], int):
                raise Unsure(f"maps: {r['maps']!r}")
            if kind == "split":
                parts, part = r["parts"], r["part"]
                if not 0 <= part < parts:
                    raise Refused(f"part {part} of {parts}", "rule")
                opname, arg = "split", (parts, part)
            else:
                opname, arg = "shuffle", r["groups"]
            return self._op(opname, kind, [x], [src], out, arg, scope, self._op_id(ctx, name))
        if kind == "upsample" and r.get("size") == "input":
            if ctx.chain:
                # not judged yet: cnnspec checks it ok and its compile raises RenderError, a
                # known bug being fixed apart. Once fixed, build it here as below (an
                # nn.Upsample to the network input's size, torch decides the rest) or
                # expect a located refusal, and let m_seq draw it (its motifs)
                raise Unsure("an upsample to the input size inside an nn.Sequential")
            self.tags["upsample to the input size"] += 1
            mode = r.get("mode", "nearest")
            arg = (
                (self.spec.h, self.spec.w),
                mode,
                r.get("align_corners") if mode != "nearest" else None,
            )
            return self._op("resize", kind, [x], [src], out, arg, scope, self._op_id(ctx, name))
        self.tags[kind] += 1
        try:
            module = make_layer(kind, r, x)
        except (ValueError, TypeError, RuntimeError, ZeroDivisionError) as exc:
            raise Refused(f"torch refuses a {kind}: {str(exc).splitlines()[0][:160]}") from None
        self._tag_layer(kind, r, x)
        y = self._call(module, ctx.key(name, kind), x, src, out, scope, ctx)
        act = str(r.get("activation", "none")).lower()
        if act != "none":
            self.tags["activation:"] += 1
            y = self._call(ACTIVATION_CLASSES[act](), ctx.key(None, act), y, out, out, scope, ctx)
        return y

    def scale(
        self, r: dict, x: torch.Tensor, src: str, out: str, name: str | None, scope: Scope, ctx: Ctx
    ) -> torch.Tensor:
        """A layer scale: a C×1×1 parameter of the scope, named as the row; the input times it."""
        if ctx.chain:
            raise Refused("a scale in an nn.Sequential", "rule")
        if x.dim() != 4:
            raise Refused("a scale after the flatten", "rule")
        key = ctx.key(name, "scale")
        try:
            scope.register_parameter(
                key, nn.Parameter(torch.full((x.shape[1], 1, 1), r.get("init", 1.0)))
            )
        except (KeyError, TypeError) as exc:
            raise Refused(f"torch refuses the parameter name {key!r}: {exc}") from None
        self.tags["scale"] += 1
        self.scales[ctx.sub(key)] = x.shape[1]
        y = self._op("scale", "scale", [x], [src], out, key, scope, self._op_id(ctx, name))
        return y

    def _tag_layer(self, kind: str, r: dict, x: torch.Tensor) -> None:
        groups = r.get("groups", 1)
        if kind == "conv" and groups != 1:
            depthwise = groups == x.shape[1]
            self.tags["depthwise conv" if depthwise else "grouped conv"] += 1

    # ----------------------------------------------------------------- blocks, containers

    def block_row(
        self, row: dict, x: torch.Tensor, src: str, rid: str, scope: Scope, ctx: Ctx
    ) -> torch.Tensor:
        block = self.blocks[row["type"]]
        args = {k: v for k, v in row.items() if k not in BLOCK_ROW_KEYS}
        if row.get("name") is None and not ctx.indexed:
            raise Unsure("an unnamed block row in a named scope")
        key = ctx.key(row.get("name"), row["type"])
        path = ctx.sub(key)
        if row.get("repeat") is None:
            if "first" in row or "names" in row:
                raise Refused("first: or names: on a row without repeat", "rule")
            module, y = self.instance(
                block, {k: value(v, ctx.env) for k, v in args.items()}, x, path
            )
        else:
            module, y = self.copies(block, row, args, x, path, ctx)
        self._attach(module, key, src, rid, scope)
        return y

    def copies(self, block: Block, row: dict, args: dict, x: torch.Tensor, path: str, ctx: Ctx):
        """A repeated block row: its copies in one scope, a chain, indexed or named."""
        n = value(row["repeat"], ctx.env)
        self.tags["repeat: $expr" if isinstance(row["repeat"], X) else "repeat of a block"] += 1
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise Refused(f"repeat: {n!r}", "rule")
        first, names = row.get("first") or {}, row.get("names")
        if first:
            self.tags["first:"] += 1
        # the row's own arguments are those of the copies after the first: checked as
        # written, even where `repeat` is 1 (docs/graphs.md, `first:`)
        self.bind(block, {k: value(v, ctx.env) for k, v in args.items()})
        seq, prev, y = Scope(), INPUT, x
        for i in range(n):
            written = {**args, **(first if i == 0 else {})}
            ckey = str(i) if names is None else self._copy_name(names, i)
            evaluated = {k: value(v, ctx.env) for k, v in written.items()}
            inst, y = self.instance(block, evaluated, y, f"{path}.{ckey}")
            self._attach(inst, ckey, prev, ckey, seq)
            prev = ckey
        seq.result = prev
        self.groups[path] = Rec("Sequential", tuple(y.shape[1:]), _numel(seq), 0)
        return seq, y

    def _copy_name(self, names: Any, i: int) -> str:
        self.tags["names:"] += 1
        if not isinstance(names, str) or ("{i}" not in names and "{i0}" not in names):
            raise Refused(f"names: {names!r} has no {{i}} or {{i0}}", "rule")
        name = names.replace("{i}", str(i + 1)).replace("{i0}", str(i))
        # a copy is a key of the nn.Sequential, never an attribute: `-` is allowed
        # where it stands between letters, digits or `_` (`block1-0`)
        dashless = name.replace("-", "_") if name[:1].isalpha() else name
        problem = name_problem(dashless)
        if problem:
            raise Refused(f"copy name {name!r}: {problem}", "rule")
        return name

    def bind(self, block: Block, args: dict) -> dict[str, Any]:
        """A block row's arguments, each of its block's params given (or defaulted) with
        a value of its type."""
        params = {p.name: p for p in block.params}
        for k in args:
            if k not in params:
                raise Refused(f"block {block.name} has no param {k!r}", "rule")
        bound = {}
        for p in block.params:
            v = args.get(p.name, p.default)
            if v is None:
                raise Refused(f"block {block.name}: param {p.name!r} is missing", "rule")
            if not _fits(v, p.type):
                raise Refused(f"block {block.name}: {p.name}={v!r} is not a {p.type}", "rule")
            bound[p.name] = v
        return bound

    def instance(self, block: Block, args: dict, x: torch.Tensor, path: str):
        """One instance of a block: its env (params, defaults, in_maps) and its rows."""
        bound = self.bind(block, args)
        env: dict[str, Any] = {"in_maps": int(x.shape[1])}
        for p in block.params:
            v = bound[p.name]
            # an int given for a float param is that float (docs/graphs.md)
            env[f"${p.name}"] = float(v) if p.type == "float" else v
        shown = {p.name: env[f"${p.name}"] for p in block.params}
        self.instances.setdefault(block.name, []).append((tuple(x.shape[1:]), shown))
        self.tags["block instance"] += 1
        if self.depth:
            self.tags["block in a block"] += 1
        if self.depth > 40:
            raise Unsure("blocks nested deeper than the twin follows")
        indexed = block.children == "indexed"
        if indexed:
            self.tags["indexed block"] += 1
        scope = Scope()
        self.depth += 1
        try:
            _, y = self.rows(block.layers, scope, x, Ctx(path, env, indexed, indexed, False))
        finally:
            self.depth -= 1
        self.groups[path] = Rec(block.name, tuple(y.shape[1:]), _numel(scope), 0)
        return scope, y

    def container(
        self, row: dict, x: torch.Tensor, src: str, rid: str, scope: Scope, ctx: Ctx
    ) -> torch.Tensor:
        if row.get("name") is None and not ctx.indexed:
            raise Unsure("an unnamed container in a named scope")
        key = ctx.key(row.get("name"), "sequential")
        path = ctx.sub(key)
        indexed = row.get("children", "indexed") == "indexed"
        self.tags[f"sequential, {'indexed' if indexed else 'named'}"] += 1
        inner = Scope()
        _, y = self.rows(row["layers"], inner, x, Ctx(path, ctx.env, indexed, True, True))
        self.groups[path] = Rec("Sequential", tuple(y.shape[1:]), _numel(inner), 0)
        self._attach(inner, key, src, rid, scope)
        return y


def _is_chain(spec: Spec) -> bool:
    """No blocks, and no row of the network that reads, merges, contains or may not exist."""
    graphy = ("from", "if")
    return not spec.blocks and not any(
        any(k in row for k in graphy)
        or row["type"] in (*MERGES, "sequential", "split", "channel_shuffle")
        for row in spec.layers
    )


def _numel(m: nn.Module) -> int:
    return sum(p.numel() for p in m.parameters())


# --------------------------------------------------------------------------- the generator

ACTS = (
    "relu",
    "relu6",
    "leaky_relu",
    "sigmoid",
    "tanh",
    "hardswish",
    "hardsigmoid",
    "silu",
    "gelu",
)
#: the params a block may have: type, defaults to choose from (None: required), and the
#: values an instance may pass
PARAMS: dict[str, tuple[str, tuple, tuple]] = {
    "m": ("int", (None, None, 4), (1, 2, 3, 4, 6)),
    "c": ("int", (None, 3), (1, 2, 3, 5)),
    "s": ("int", (1, 1, None), (1, 2)),
    "k": ("int", (3, 1, None), (1, 3, 5)),
    "t": ("int", (1, None), (1, 2, 3)),
    "n": ("int", (1, 2, None), (1, 2, 3)),
    "g": ("int", (1, None), (1, 2)),
    "bn": ("bool", (True, False, None), (True, False)),
    "p": ("float", (0.5, 0.0, None), (0.0, 0.1, 0.5)),
    "eps": ("float", (1e-5, None), (0.001, 1e-5)),
    "w": ("float", (1.0, 1, None), (0.5, 1.0, 1.1, 1.5, 2)),
    "parts": ("int", (2, None), (1, 2, 3)),
}
#: names the format refuses (torch refuses the first four as module names)
BAD_NAMES = ("forward", "training", "cuda", "eval", "class", "_hidden", "2a", "lambda")
BLOCK_NAMES = ("Unit", "Res", "Mix", "Cell", "Stage", "Branch", "Tower", "Stem")
NAME_PATTERNS = ("unit{i}", "layer{i}", "b{i}_x", "copy{i}", "unit-{i0}", "layer{i0}")
ODD_PATTERNS = ("forward", "unit", "forward{i}", "{i}x", "train{i}", "eval", "-{i0}", "u-{i}.x")


class Draft:
    """A scope being drawn — a block's rows, a container's, or the network's: its rows,
    its names, and (in a block) the params its expressions use."""

    def __init__(
        self,
        gen: Gen,
        block: Block | None,
        usable: list[Block],
        indexed: bool,
        params: dict[str, Param] | None = None,
        depth: int = 0,
    ) -> None:
        self.g, self.r = gen, gen.r
        self.block, self.usable, self.indexed, self.depth = block, usable, indexed, depth
        self.params: dict[str, Param] = {} if params is None else params
        self.names: set[str] = set()
        self.rows: list[dict] = []
        self.container = False

    def child(self, indexed: bool) -> Draft:
        """A container's rows: the same params, a scope of their own."""
        inner = Draft(self.g, self.block, self.usable, indexed, self.params, self.depth + 1)
        inner.container = True
        return inner

    def anchor(self, prev: Any) -> str:
        """A name `from:` can read for the previous row's output (naming it if need be)."""
        if prev is not None and not (self.rows and "repeat" in self.rows[-1]):
            return str(prev)
        if not self.rows:
            return INPUT
        if "repeat" in self.rows[-1]:
            return str(m_act(self, prev, need=True))
        self.rows[-1]["name"] = self.name(self.rows[-1]["type"], need=True)
        return str(self.rows[-1]["name"])

    def p(self, logical: str) -> Any:
        """A param's value: a literal in the network, `$name` in a block."""
        kind, defaults, values = PARAMS[logical]
        if self.block is None:
            return self.r.choice(values)
        if logical not in self.params:
            written = logical
            taken = {q.name for q in self.params.values()}
            if self.r.random() < 0.006:
                written = self.r.choice(sorted(TRICKY_PARAMS - taken))
            form = self.r.choice(["long", "long", "short", "described"])
            default = self.r.choice(defaults)
            self.params[logical] = Param(written, kind, default, form, values, logical)
        return param(self.params[logical].name)

    def name(self, base: str, need: bool = False) -> str | None:
        """A fresh row name (None now and then in an indexed scope, unless needed)."""
        if self.indexed and not need and self.r.random() < 0.4:
            return None
        roll = self.r.random()
        if roll < 0.004:
            choice = self.r.choice(sorted(TRICKY_NAMES - self.names))
        elif roll < 0.007:
            choice = self.r.choice(BAD_NAMES)
        else:
            self.g.counter += 1
            choice = f"{base}_{self.g.counter}"
        self.names.add(choice)
        return choice

    def add(self, row: dict) -> str | None:
        self.rows.append({k: v for k, v in row.items() if v is not None or k == "name"})
        if row.get("name") is None:
            self.rows[-1].pop("name", None)
        return row.get("name")

    def maps(self) -> Any:
        r = self.r
        if self.block is None:
            return r.randint(1, 8)
        options: list[tuple[Callable[[], Any], float]] = [
            (lambda: self.p("m"), 3),
            (lambda: op(self.p("m"), "*", 2), 1),
            (lambda: self.p("c"), 1),
            (lambda: IN_MAPS, 0.25),  # a bare `in_maps`, or one without a `$`
            (lambda: op(self.p("t"), "*", IN_MAPS), 1),
            (lambda: op(IN_MAPS, "//", 2), 0.15),
            (lambda: op(op(self.p("m"), "*", 2), "/", 2), 0.3),
            (lambda: r.randint(1, 6), 1),
            (lambda: self.scaled(), 0.4),
        ]
        return r.choices([f for f, _ in options], [w for _, w in options])[0]()

    def scaled(self) -> X:
        """Maps scaled by a float width: rounded back to a whole number by one of the
        expression functions (as the docs define them), or now and then not (refused)."""
        m, w = self.p("m"), self.p("w")
        prod = X(f"{m.text} * {w.text}", lambda e: m.fn(e) * w.fn(e), 7)
        forms: list[tuple[str, Callable[[Any], Any]]] = [
            ("make_divisible({}, 2)", lambda v: _make_divisible(v, 2)),
            ("ceil({})", math.ceil),
            ("floor({})", math.floor),
            ("round({})", round),
            ("max(1, floor({}))", lambda v: max(1, math.floor(v))),
            ("{}", _whole),
        ]
        text, f = self.r.choice(forms)
        return X(text.format(prod.text), lambda e: f(prod.fn(e)), 9 if text != "{}" else 7)

    def kernel(self) -> tuple[Any, Any]:
        """A kernel and a padding that keeps the size (mostly)."""
        options: list[Callable[[], tuple[Any, Any]]] = [
            lambda: (3, 1),
            lambda: (1, 0),
            lambda: (3, 1),
            lambda: (5, 2),
            lambda: ("3x3", [1, 1]),
            lambda: ([3, 1], [1, 0]),
            lambda: (2, 0),
            lambda: (3, 0),
        ]
        if self.block is not None:
            options += [
                lambda: (self.p("k"), op(self.p("k"), "//", 2)),
                lambda: (self.p("k"), op(op(self.p("k"), "-", 1), "//", 2)),
            ]
        return self.r.choice(options)()


# ----------------------------------------------------------------- motifs: one or a few rows


def m_conv(
    d: Draft,
    prev: Any,
    maps: Any = None,
    stride: Any = None,
    kp: Any = None,
    need: bool = False,
    cond: Any = None,
    kind: str = "conv",
) -> str | None:
    r = d.r
    row: dict[str, Any] = {"name": d.name(kind, need), "type": kind}
    groups = None
    first = prev == INPUT or r.random() < 0.15  # where in_maps is what the conv reads
    if maps is None and d.block is not None and first and r.random() < 0.1:  # depthwise
        maps = groups = IN_MAPS
    elif maps is None and r.random() < 0.03:  # grouped
        groups = d.p("g")
        maps = op(groups, "*", d.p("m"))
    row["maps"] = d.maps() if maps is None else maps
    kernel, padding = d.kernel() if kp is None else kp
    row["kernel"] = kernel
    if stride is None and r.random() < 0.25:
        stride = d.p("s")
    if stride is not None and stride != 1:
        row["stride"] = stride
    if r.random() < 0.07 and not isinstance(padding, list):
        row["dilation"] = 2
        padding = op(padding, "*", 2)
    if not (isinstance(padding, int) and padding == 0) or r.random() < 0.3:
        row["padding"] = padding
    if r.random() < 0.03 and "stride" not in row:
        row["padding"] = r.choice(["same", "SAME"])
    row["groups"] = groups
    if d.block is not None and r.random() < 0.15:
        row["bias"] = not_(d.p("bn"))
    elif r.random() < 0.15:
        row["bias"] = False
    if r.random() < 0.3:
        row["activation"] = r.choice([*ACTS, "none", "ReLU"])
    if cond is None and d.block is not None and r.random() < 0.08:
        cond = op(d.p("t"), "!=", 1) if r.random() < 0.5 else d.p("bn")
    row["if"] = cond
    return d.add(row)


def m_norm(d: Draft, prev: Any) -> str | None:
    r = d.r
    row: dict[str, Any] = {"name": d.name("norm"), "type": "batchnorm"}
    if d.block is not None and r.random() < 0.4:
        row["if"] = d.p("bn")
    if r.random() < 0.15:
        row["eps"] = d.p("eps")
    if r.random() < 0.1:
        row["momentum"] = 0.2
    return d.add(row)


def m_act(d: Draft, prev: Any, need: bool = False) -> str | None:
    row = {"name": d.name("act", need), "type": d.r.choice(ACTS)}
    if row["type"] == "gelu" and d.r.random() < 0.5:
        row["approximate"] = d.r.choice(["none", "tanh"])
    return d.add(row)


def m_drop(d: Draft, prev: Any) -> str | None:
    return d.add({"name": d.name("drop"), "type": "dropout", "p": d.p("p")})


def m_sd(d: Draft, prev: Any) -> str | None:
    mode = d.r.choice([None, "row", "batch"])
    return d.add({"name": d.name("sd"), "type": "stochastic_depth", "p": d.p("p"), "mode": mode})


def m_lrn(d: Draft, prev: Any) -> str | None:
    return d.add({"name": d.name("lrn"), "type": "lrn", "n": d.r.choice([None, 2, 3])})


def m_pool(d: Draft, prev: Any) -> str | None:
    options = [
        {"type": "maxpool", "kernel": 3, "stride": 1, "padding": 1},
        {"type": "avgpool", "kernel": 2, "stride": 2},
        {"type": "maxpool", "kernel": 2},
        {"type": "maxpool", "kernel": 3, "stride": 2, "padding": 1, "ceil_mode": True},
        {"type": "avgpool", "kernel": "3x3", "stride": 1, "padding": 1},
        {"type": "adaptive_avgpool", "size": [2, 3]},
        {"type": "adaptive_maxpool", "size": 2},
        {"type": "maxpool", "kernel": 3, "stride": 1, "padding": 2},  # torch refuses
    ]
    weights = [4, 3, 2, 2, 2, 1, 1, 0.3]
    row = copy.deepcopy(d.r.choices(options, weights)[0])
    return d.add({"name": d.name("pool"), **row})


def m_updown(d: Draft, prev: Any) -> str | None:
    """Up and back down: an upsample (or deconv) and a strided conv (or a pool)."""
    r = d.r
    if r.random() < 0.5:
        mode = r.choice(["nearest", "bilinear"])
        up: dict[str, Any] = {
            "name": d.name("up"),
            "type": "upsample",
            "scale": r.choice([2, 2, 3, 1.5]),
        }
        if mode == "bilinear":
            up["mode"] = mode
            up["align_corners"] = r.choice([None, True, False])
        d.add(up)
    else:
        m_deconv(d, prev)
    if r.random() < 0.5:
        return m_conv(d, None, stride=2, kp=(3, 1))
    return d.add({"name": d.name("pool"), "type": "maxpool", "kernel": 2})


def m_deconv(d: Draft, prev: Any) -> str | None:
    r = d.r
    row: dict[str, Any] = {"name": d.name("up"), "type": "deconv", "maps": d.maps()}
    shape = r.choices(
        [
            {"kernel": 2, "stride": 2},
            {"kernel": 3, "padding": 1},
            {"kernel": 3, "stride": 2, "padding": 1, "output_padding": 1},
            {"kernel": 4, "stride": 2, "padding": 1, "bias": False},
            {"kernel": 3, "stride": 2, "output_padding": 2},  # torch refuses
        ],
        [1, 1, 1, 1, 0.1],
    )[0]
    row.update(shape)
    if r.random() < 0.2:
        row["activation"] = r.choice(ACTS)
    return d.add(row)


def m_residual(d: Draft, prev: Any) -> str | None:
    """ResNet's: a main path, a shortcut (a projection `if:` needed, or the input), an add."""
    r = d.r
    m, s = d.p("m"), d.p("s")
    src = d.anchor(prev)
    top = src == INPUT and d.block is not None  # the shortcut may reason about in_maps
    m_conv(d, prev, maps=m, stride=s, kp=(3, 1))
    if r.random() < 0.4:
        m_norm(d, None)
    main = m_conv(d, None, maps=m, kp=r.choice([(3, 1), (1, 0)]), need=True)
    if top and r.random() < 0.35:  # an identity shortcut: the add exists only where it fits
        pair = [main, INPUT] if r.random() < 0.8 else [INPUT, main]
        cond = op(op(s, "==", 1), "and", op(IN_MAPS, "==", m))
        return d.add({"name": d.name("add", True), "type": "add", "from": pair, "if": cond})
    inner = d.child(indexed=r.random() < 0.7)
    m_conv(inner, None, maps=m, stride=s, kp=(1, 0))
    inner.rows[-1].pop("if", None)
    inner.rows[-1].pop("activation", None)
    m_norm(inner, None)
    short: dict[str, Any] = {"name": d.name("down", True), "type": "sequential", "from": src}
    if r.random() < 0.5:
        short["children"] = "indexed" if inner.indexed else "named"
    if not inner.indexed:
        short["children"] = "named"
        for i, row in enumerate(inner.rows):
            row["name"] = ("proj", "bn")[i] if i < 2 else f"x{i}"
    if top and r.random() < 0.9:
        short["if"] = op(op(s, "!=", 1), "or", op(IN_MAPS, "!=", m))
    short["layers"] = inner.rows
    d.add(short)
    pair = [main, short["name"]] if r.random() < 0.8 else [short["name"], main]
    return d.add({"name": d.name("add", True), "type": "add", "from": pair})


def m_inverted(d: Draft, prev: Any) -> str | None:
    """MobileNetV2's: an expansion `if: $t != 1`, a depthwise conv, a projection, and a
    residual add where the shapes allow it."""
    if prev != INPUT or d.block is None:
        return m_conv(d, prev)
    r = d.r
    t, s, c = d.p("t"), d.p("s"), d.p("c")
    wide = op(t, "*", IN_MAPS)
    expand = m_conv(d, prev, maps=wide, stride=1, kp=(1, 0), cond=op(t, "!=", 1))
    d.rows[-1]["activation"] = "relu6"
    del expand
    m_conv(d, None, maps=wide, stride=s, kp=(3, 1))
    d.rows[-1].update({"groups": wide, "activation": "relu6"})
    d.rows[-1].pop("if", None)
    d.rows[-1].pop("dilation", None)
    d.rows[-1]["padding"] = 1
    project = m_conv(d, None, maps=c, stride=1, kp=(1, 0), need=True)
    d.rows[-1].pop("if", None)
    d.rows[-1].pop("activation", None)
    cond = op(op(s, "==", 1), "and", op(IN_MAPS, "==", c))
    pair = [project, INPUT] if r.random() < 0.9 else [INPUT, project]
    return d.add({"name": d.name("res", True), "type": "add", "from": pair, "if": cond})


def m_se(d: Draft, prev: Any) -> str | None:
    """Squeeze-and-excitation: a pooled, squeezed and re-expanded gate times the map it
    read (its maps the map's in a block, or 1, or a guess torch may refuse); or a spatial
    gate (one map, the input's H×W)."""
    r = d.r
    src = d.anchor(prev)
    gate_act = r.choice(["sigmoid", "hardsigmoid"])
    if r.random() < 0.25:  # a spatial gate: 1×H×W over every map
        d.add({"name": d.name("gate"), "type": "conv", "maps": 1, "kernel": 1, "from": src})
        gate = d.add({"name": d.name("gate_act", True), "type": gate_act})
    else:
        d.add({"name": d.name("squeeze"), "type": "adaptive_avgpool", "size": 1, "from": src})
        d.add({"name": d.name("fc"), "type": "conv", "maps": d.maps(), "kernel": 1})
        d.add({"name": d.name("act"), "type": r.choice(["relu", "hardswish"])})
        known = d.block is not None and src == INPUT
        options = [(IN_MAPS if known else d.maps(), 4), (1, 1), (d.maps(), 0.5)]
        maps = r.choices([m for m, _ in options], [w for _, w in options])[0]
        d.add({"name": d.name("fc"), "type": "conv", "maps": maps, "kernel": 1})
        gate = d.add({"name": d.name("gate_act", True), "type": gate_act})
    pair = [gate, src] if r.random() < 0.8 else [src, gate]
    return d.add({"name": d.name("scale", True), "type": "mul", "from": pair})


def m_mix(d: Draft, prev: Any) -> str | None:
    """An inception module: branches from one row, concatenated (with it, maybe)."""
    r = d.r
    src = d.anchor(prev)
    branches: list[str] = []
    for _ in range(r.randint(2, 3)):
        kind = r.choices(["conv", "pair", "pool", "block"], [3, 1.5, 1, 0.6])[0]
        if kind == "block" and d.usable and d.depth < 2:
            name = m_nested(d, src, need=True)
        elif kind == "pool":
            name = d.add(
                {
                    "name": d.name("pool", True),
                    "type": "maxpool",
                    "kernel": 3,
                    "stride": 1,
                    "padding": 1,
                    "if": d.p("bn") if d.block is not None and r.random() < 0.2 else None,
                }
            )
        elif kind == "pair":
            inner = d.child(indexed=r.random() < 0.6)
            m_conv(inner, None, kp=(1, 0), stride=1)
            m_conv(inner, None, kp=r.choice([(3, 1), (5, 2)]), stride=2 if r.random() < 0.04 else 1)
            name = d.add(
                {
                    "name": d.name("branch", True),
                    "type": "sequential",
                    "children": None if inner.indexed else "named",
                    "layers": inner.rows,
                }
            )
            if not inner.indexed:
                for i, row in enumerate(inner.rows):
                    row["name"] = f"part{i}"
        else:
            name = m_conv(d, None, kp=(1, 0), need=True, stride=2 if r.random() < 0.03 else 1)
        d.rows[-1]["from"] = src
        branches.append(str(name))
    if r.random() < 0.3:
        branches.insert(r.randint(0, len(branches)), src)
    row: dict[str, Any] = {"name": d.name("cat", True), "type": "concat", "from": branches}
    if r.random() < 0.1:
        row["crop"] = "center"
    return d.add(row)


def m_shuffle(d: Draft, prev: Any) -> str | None:
    """ShuffleNetV2's unit: a channel split, one half through a branch (the other passed
    on, or through a branch of its own), the halves concatenated and shuffled; now and
    then parts that do not divide the maps, a part out of range, groups that do not."""
    r = d.r
    src = d.anchor(prev)
    parts = r.choice([2, 2, 2, 3, 4]) if r.random() < 0.9 else r.randint(1, 5)
    halves = []
    for part in r.sample(range(parts), min(parts, 2)):
        if r.random() < 0.02:
            part = parts  # out of range: refused
        halves.append(
            d.add(
                {
                    "name": d.name("part", True),
                    "type": "split",
                    "from": src,
                    "parts": d.p("parts") if d.block is not None and r.random() < 0.3 else parts,
                    "part": part,
                }
            )
        )
    if r.random() < 0.7:
        halves[-1] = m_conv(d, halves[-1], stride=1, kp=(1, 0), need=True)
    if len(halves) > 1:
        cat = d.add({"name": d.name("cat", True), "type": "concat", "from": halves})
    else:
        cat = halves[0]
    groups = r.choice([1, 2, 2, 3, 4]) if r.random() < 0.95 else r.randint(1, 7)
    row: dict[str, Any] = {"name": d.name("shuffle", True), "type": "channel_shuffle"}
    row["groups"] = d.p("g") if d.block is not None and r.random() < 0.3 else groups
    if r.random() < 0.15:
        row["from"] = cat
    return d.add(row)


def m_dense(d: Draft, prev: Any) -> str | None:
    """DenseNet's layer: new maps concatenated to what it read."""
    src = d.anchor(prev)
    m_norm(d, prev)
    conv = m_conv(d, None, maps=d.p("c"), stride=1, kp=(3, 1), need=True)
    pair = [src, conv] if d.r.random() < 0.8 else [conv, src]
    return d.add({"name": d.name("cat", True), "type": "concat", "from": pair})


def m_unet(d: Draft, prev: Any) -> str | None:
    """U-Net's level: down, unpadded convs, up, and a copy-and-crop concat."""
    src = d.anchor(prev)
    d.add({"name": d.name("pool"), "type": "maxpool", "kernel": 2})
    m_conv(d, None, maps=d.p("m"), kp=(3, 0))
    d.add(
        {"name": d.name("up", True), "type": "deconv", "maps": d.p("m"), "kernel": 2, "stride": 2}
    )
    up = d.rows[-1]["name"]
    return d.add(
        {"name": d.name("cat", True), "type": "concat", "from": [src, up], "crop": "center"}
    )


def m_input_named(d: Draft, prev: Any) -> str | None:
    """A row named `input` — and a merge that reads `input`, the scope's input."""
    maps = IN_MAPS if d.block is not None else d.g.c
    if d.block is None and prev != INPUT:
        return m_act(d, prev)
    d.rows.append({"name": "input", "type": "conv", "maps": maps, "kernel": 1})
    d.names.add(INPUT)
    main = m_conv(d, None, maps=maps, kp=(3, 1), need=True)
    return d.add({"name": d.name("add", True), "type": "add", "from": [main, INPUT]})


def block_args(d: Draft, b: Block) -> dict[str, Any]:
    """The params a row passes to block b: literals, or the drawing block's own params."""
    r = d.r
    args: dict[str, Any] = {}
    for p in b.params:
        if p.default is not None and r.random() < 0.5:
            continue
        if d.block is not None and p.logical and r.random() < 0.4:
            v = d.p(p.logical)
            if p.logical in ("m", "c") and r.random() < 0.3:
                v = op(v, "*", 2) if r.random() < 0.5 else IN_MAPS
        else:
            v = r.choice(p.values or (1,))
        args[p.name] = v
    roll = r.random()
    if roll < 0.01 and args:  # a required param left out, maybe
        args.pop(r.choice(sorted(args)))
    elif roll < 0.02:
        args["mm"] = 1
    elif roll < 0.03 and args:  # a value of another type
        k = r.choice(sorted(args))
        kind = next(p.type for p in b.params if p.name == k)
        args[k] = {"int": True, "bool": 1, "float": True}[kind]
    return args


def m_nested(d: Draft, prev: Any, need: bool = False) -> str | None:
    """A row instantiating a block — repeated, with `first:` and `names:`, maybe."""
    r = d.r
    if not d.usable:
        return m_conv(d, prev, need=need)
    b = r.choice(d.usable)
    row: dict[str, Any] = {"name": d.name(b.name.lower(), need), "type": b.name}
    row.update(block_args(d, b))
    ints = [p for p in b.params if p.type == "int"]
    if r.random() < 0.45:
        counts: list[Any] = [1, 2, 2, 3]
        row["repeat"] = r.choice(counts + ([d.p("n")] * 5 if d.block is not None else []))
        if ints and r.random() < 0.5:
            p = r.choice(ints)
            local = d.block is not None and r.random() < 0.5
            row["first"] = {p.name: d.p(p.logical) if local else r.choice(p.values)}
            if p.default is not None:
                row.pop(p.name, None)
        if r.random() < 0.3:
            row["names"] = r.choice(NAME_PATTERNS if r.random() < 0.85 else ODD_PATTERNS)
    elif r.random() < 0.02:
        row["names" if r.random() < 0.5 else "first"] = "unit{i}" if r.random() < 0.5 else {}
    if not d.container and r.random() < 0.15 and not d.indexed:
        row["from"] = d.anchor(prev)
    return d.add(row)


def m_seq(d: Draft, prev: Any) -> str | None:
    """A container: a chain of rows in one nn.Sequential, indexed or named."""
    r = d.r
    indexed = r.random() < 0.6
    inner = d.child(indexed)
    motifs = [m_conv, m_conv, m_norm, m_act, m_drop, m_pool, m_nested, m_updown, m_repeat]
    if inner.depth < 2:
        motifs.append(m_seq)
    for _ in range(r.randint(1, 3)):
        r.choice(motifs)(inner, None)
    if r.random() < 0.03:
        inner.rows[-1]["from"] = INPUT  # refused: a container's rows are a chain
    row: dict[str, Any] = {"name": d.name("seq"), "type": "sequential"}
    if not indexed or r.random() < 0.5:
        row["children"] = "indexed" if indexed else "named"
    if d.block is not None and r.random() < 0.1:
        row["if"] = d.p("bn")
    row["layers"] = inner.rows
    return d.add(row)


def m_convnext(d: Draft, prev: Any) -> str | None:
    """ConvNeXt's block: a depthwise conv; a container of a permute to channels-last, a
    layer norm, fc, GELU, fc, a permute back; a layer scale; the residual add. Now and
    then a row that reads channels-last data it may not (refused)."""
    r = d.r
    src = d.anchor(prev)
    m_conv(d, prev, maps=IN_MAPS if d.block is not None and src == INPUT else None, kp=(3, 1))
    inner = d.child(indexed=r.random() < 0.8)
    inner.add({"name": inner.name("to_last"), "type": "permute", "dims": TO_LAST})
    norm: dict[str, Any] = {"name": inner.name("norm"), "type": "layernorm"}
    if r.random() < 0.5:
        norm["eps"] = 1e-6
    inner.add(norm)
    wide = op(IN_MAPS, "*", d.p("t")) if d.block is not None else d.maps()
    inner.add({"name": inner.name("fc"), "type": "fc", "size": wide, "activation": "gelu"})
    if r.random() < 0.05:  # reads channels-last data: refused
        bad = r.choice([{"type": "batchnorm"}, {"type": "maxpool", "kernel": 1}])
        inner.add({"name": inner.name("bad"), **bad})
    inner.add({"name": inner.name("fc"), "type": "fc", "size": d.maps()})
    if r.random() < 0.97:
        inner.add({"name": inner.name("to_first"), "type": "permute", "dims": TO_FIRST})
    children = "indexed" if inner.indexed else "named"
    body = d.add({"name": d.name("block", True), "type": "sequential", "children": children,
                  "layers": inner.rows})  # fmt: skip
    if d.indexed or r.random() < 0.2:
        return body
    init = r.choice([1e-6, 0.5, 1.0])
    return d.add({"name": d.name("layer_scale", True), "type": "scale", "init": init})


def m_groupnorm(d: Draft, prev: Any) -> str | None:
    """A group norm: its groups divide the maps, or (now and then) do not."""
    return d.add({"name": d.name("gn"), "type": "groupnorm", "groups": d.r.choice([1, 1, 2, 3])})


def m_repeat(d: Draft, prev: Any) -> str | None:
    """A plain row repeated: copies name_1 … name_N in a chain."""
    r = d.r
    if r.random() < 0.6:
        row: dict[str, Any] = {
            "name": d.name("rep"),
            "type": "conv",
            "maps": d.maps(),
            "kernel": 3,
            "padding": 1,
        }
        if r.random() < 0.4:
            row["activation"] = r.choice(ACTS)
    else:
        row = {"name": d.name("rep"), "type": r.choice([*ACTS, "batchnorm", "dropout"])}
    row["repeat"] = r.randint(1, 3)
    return d.add(row)


def m_pyramid_head(d: Draft, kind: str) -> None:
    """SPP-net's head (a spatial pyramid, an fc) or YOLOv1's (an fc read as a grid)."""
    r = d.r
    if kind == "spp":
        levels = r.choice([[2, 1], [3, 2, 1], [4, 2, 1], [1], [9]])  # 9: often too large
        row: dict[str, Any] = {"name": d.name("spp"), "type": "spp", "levels": levels}
        if r.random() < 0.5:
            row["pool"] = r.choice(["max", "avg"])
        d.add(row)
        if r.random() < 0.7:
            d.add({"name": d.name("fc"), "type": "fc", "size": r.randint(1, 6)})
        return
    cells, side = r.randint(1, 4), r.randint(1, 3)
    d.add({"name": d.name("flat"), "type": "flatten"})
    d.add({"name": d.name("fc"), "type": "fc", "size": cells * side * side})
    wrong = r.random() < 0.1  # a shape that does not hold the fc's outputs: refused
    shape = [cells + (1 if wrong else 0), side, side]
    d.add({"name": d.name("grid"), "type": "reshape", "shape": shape})
    if r.random() < 0.3:
        d.add({"name": d.name("act"), "type": "sigmoid"})


def m_head(d: Draft, prev: Any) -> None:
    """How a network ends: pooled features and an fc, maps, per-pixel maps at the input's
    size, an indexed or named classifier container (with its flatten), …"""
    r = d.r
    kind = r.choices(
        ["gap", "fc", "none", "conv", "upsample", "classifier", "lrn", "spp", "grid"],
        [3, 1, 2, 1, 0.6, 0.5, 0.12, 0.4, 0.3],
    )[0]
    if kind == "none":
        return
    if kind in ("spp", "grid"):
        m_pyramid_head(d, kind)
        return
    if kind == "conv":
        m_conv(d, prev, kp=(1, 0))
    elif kind == "upsample":
        mode = r.choice(["nearest", "bilinear"])
        up: dict[str, Any] = {
            "name": d.name("up"),
            "type": "upsample",
            "size": "input",
            "mode": mode,
        }
        if mode == "bilinear" and r.random() < 0.5:
            up["align_corners"] = r.random() < 0.5
        d.add(up)
        if r.random() < 0.5:
            m_conv(d, None, kp=(1, 0))
    else:
        pool = r.choice(["adaptive_avgpool", "adaptive_avgpool", "adaptive_maxpool"])
        d.add({"name": d.name("gap"), "type": pool, "size": r.choice([1, 1, [2, 1]])})
    if kind == "classifier":
        inner = d.child(indexed=r.random() < 0.6)
        inner.add({"name": inner.name("flat"), "type": "flatten"})
        if r.random() < 0.5:
            m_drop(inner, None)
        inner.add({"name": inner.name("fc"), "type": "fc", "size": r.randint(1, 6)})
        children = "indexed" if inner.indexed else "named"
        d.add(
            {"name": "classifier", "type": "sequential", "children": children, "layers": inner.rows}
        )
        return
    if kind in ("gap", "fc", "lrn"):
        if kind == "lrn" or r.random() < 0.5:
            d.add({"name": d.name("flat"), "type": "flatten"})
        if kind == "lrn":
            m_lrn(d, None)
        if r.random() < 0.2:
            m_drop(d, None)
        fc: dict[str, Any] = {"name": d.name("fc"), "type": "fc", "size": r.randint(1, 6)}
        if r.random() < 0.2:
            fc["bias"] = False
        if r.random() < 0.2:
            fc["activation"] = r.choice(ACTS)
        d.add(fc)
    if r.random() < 0.12:
        d.add({"name": d.name("prob"), "type": "softmax"})


Motif = Callable[[Draft, Any], Any]
NET_MOTIFS: list[tuple[Motif, float]] = [
    (m_nested, 5), (m_residual, 1), (m_mix, 1), (m_dense, 0.7), (m_unet, 0.4), (m_seq, 1.5),
    (m_conv, 1.2), (m_norm, 0.5), (m_act, 0.5), (m_pool, 0.7), (m_updown, 0.4),
    (m_deconv, 0.3), (m_repeat, 0.5), (m_lrn, 0.15), (m_input_named, 0.1), (m_drop, 0.2),
    (m_se, 0.4), (m_sd, 0.1), (m_shuffle, 0.5),
    (m_convnext, 0.4), (m_groupnorm, 0.2),
]  # fmt: skip
BLOCK_MOTIFS: list[tuple[Motif, float]] = [
    (m_conv, 3), (m_norm, 1.2), (m_act, 1), (m_drop, 0.3), (m_pool, 0.6), (m_residual, 1.2),
    (m_mix, 1), (m_dense, 0.8), (m_unet, 0.3), (m_nested, 3), (m_seq, 1), (m_updown, 0.4),
    (m_inverted, 0.8), (m_se, 0.6), (m_shuffle, 0.6),
    (m_deconv, 0.3), (m_repeat, 0.3), (m_lrn, 0.15), (m_input_named, 0.08), (m_sd, 0.2),
    (m_convnext, 0.6), (m_groupnorm, 0.3),
]  # fmt: skip
#: an indexed block is an nn.Sequential: its rows are a chain (mostly)
CHAIN_MOTIFS: list[tuple[Motif, float]] = [
    (m_conv, 3), (m_norm, 1.2), (m_act, 1), (m_drop, 0.3), (m_pool, 0.6), (m_nested, 3),
    (m_seq, 0.7), (m_updown, 0.3), (m_deconv, 0.3), (m_repeat, 0.3), (m_lrn, 0.1),
]  # fmt: skip


def _pick(r: random.Random, motifs: list[tuple[Motif, float]]) -> Motif:
    return r.choices([m for m, _ in motifs], [w for _, w in motifs])[0]


class Gen:
    """Draws one random graph spec (see the module's docstring for what it holds)."""

    def __init__(self, rng: random.Random) -> None:
        self.r = rng
        self.counter = 0
        self.c = rng.randint(1, 4)

    def block(self, name: str, usable: list[Block]) -> Block:
        r = self.r
        indexed = r.random() < 0.25
        children = "indexed" if indexed else r.choice([None, None, "named"])
        title = "A block drawn by the graph oracle." if r.random() < 0.2 else None
        block = Block(name, [], [], children, title)
        d = Draft(self, block, usable, indexed)
        motifs = CHAIN_MOTIFS if indexed and r.random() < 0.9 else BLOCK_MOTIFS
        prev: Any = INPUT
        for _ in range(r.randint(1, 3)):
            prev = _pick(r, motifs)(d, prev)
        block.layers = d.rows
        params = list(d.params.values())
        if r.random() < 0.5:
            r.shuffle(params)  # a required param after one with a default, now and then
        else:
            params.sort(key=lambda p: p.default is not None)
        block.params = params
        return block

    def network(self, blocks: list[Block]) -> list[dict]:
        r = self.r
        d = Draft(self, None, blocks, False)
        prev: Any = INPUT
        if r.random() < 0.5:
            stem = r.choice([(3, 1, 1), (5, 2, 2), (3, 1, 0)])
            prev = m_conv(d, prev, maps=r.randint(2, 6), stride=stem[1], kp=(stem[0], stem[2]))
        for _ in range(r.randint(1, 4)):
            prev = _pick(r, NET_MOTIFS)(d, prev)
        m_head(d, prev)
        if not d.rows:
            m_act(d, prev)
        if (
            not blocks
            and len(d.rows) > 1
            and "from" not in d.rows[-1]
            and "repeat" not in d.rows[-2]
        ):
            d.rows[-1]["from"] = d.rows[-2]["name"]  # a graph, not a chain (whose own oracle it is)
        return d.rows

    def spec(self) -> Spec:
        r = self.r
        names = r.sample(BLOCK_NAMES, r.choice([0, 1, 1, 2, 2, 3, 3, 4]))
        net_name = r.choice(["Net", "G", "Model_1", "OracleNet"])
        if names and r.random() < 0.03:
            names[0] = r.choice(sorted(TRICKY_CLASSES)) if r.random() < 0.7 else net_name
        blocks: list[Block] = []
        for name in names:
            blocks.append(self.block(name, list(blocks)))
        layers = self.network(blocks)
        if r.random() < 0.4:
            blocks.reverse()  # a block used before it is defined
        h = r.randint(5, 16)
        w = h if r.random() < 0.6 else r.randint(5, 16)
        outputs = self.outputs(layers) if r.random() < 0.2 else None
        return Spec(net_name, self.c, h, w, blocks, layers, r.random() < 0.8, outputs)

    def outputs(self, layers: list[dict]) -> list[str] | dict[str, str] | None:
        """Two or three named top-level rows returned (the last one usually among them),
        as a tuple or as a dict with keys as torchvision's backbones and heads write them."""
        r = self.r
        named = [row["name"] for row in layers if isinstance(row.get("name"), str)]
        if len(named) < 2:
            return None
        picked = r.sample(named, min(len(named), r.choice([2, 3])))
        if r.random() < 0.7 and named[-1] not in picked and layers[-1].get("name") == named[-1]:
            picked[-1] = named[-1]
        picked.sort(key=named.index)
        if r.random() < 0.5:
            return picked
        keys = r.choice([["0", "1", "2"], ["out", "aux", "pool"], ["pool", "3", "feat"]])
        return dict(zip(keys, picked))


def add_claims(spec: Spec, twin: Twin, r: random.Random) -> None:
    """Declare the maps and sizes torch computed on some of the network's rows — and now
    and then one that torch does not compute: then the spec must be refused."""
    blocks = {b.name for b in spec.blocks}
    maps_kinds = {"maxpool", "avgpool", "adaptive_avgpool", "adaptive_maxpool", "batchnorm",
                  "upsample", "add", "concat", "mul", "sequential"}  # fmt: skip
    inferring = ("conv", "deconv", "maxpool", "avgpool")  # a size infers a missing padding
    wrong = r.random() < 0.08
    for row in spec.layers:
        shape = twin.row_shapes.get(id(row))
        kind = row["type"]
        if shape is None or len(shape) != 3 or r.random() > 0.15:
            continue
        if "repeat" in row and kind not in blocks:
            continue
        if (kind in maps_kinds or kind in blocks) and r.random() < 0.5:
            row["maps"] = shape[0] + (1 if wrong else 0)
            wrong = False
        elif kind in SIZE_CLAIMS or kind in blocks:
            written = "padding" in row and (kind != "deconv" or "output_padding" in row)
            bad = wrong and (written or kind not in inferring)
            h, w = shape[1] + (1 if bad else 0), shape[2]
            row["size"] = r.choice([[h, w], f"{h}x{w}"]) if h != w else r.choice([h, f"{h}x{w}"])
            wrong = wrong and not bad


def draw(seed: str) -> Spec:
    """The spec of one seed: drawn, and (some of) its rows' figures declared."""
    rng = random.Random(seed)
    spec = Gen(rng).spec()
    if rng.random() < 0.5:
        torch.manual_seed(0)
        try:
            twin = Twin(spec).run()
        except (Refused, Unsure):
            return spec
        add_claims(spec, twin, rng)
    return spec


# --------------------------------------------------------------------------- the judge


@dataclass
class Verdict:
    """What the twin and cnnspec made of one spec, and every disagreement, by category."""

    text: str
    twin: str = ""  # accepted | either | refused | unsure | broken
    why: str = ""  # the twin's reason to refuse (or to allow a refusal)
    cnnspec: str = ""  # accepted | rejected | crashed
    findings: list[tuple[str, str]] = field(default_factory=list)
    tags: Counter = field(default_factory=Counter)
    torchinfo: bool = False  # whether torchinfo counted it too

    @property
    def category(self) -> str | None:
        return self.findings[0][0] if self.findings else None

    def add(self, found: list[tuple[str, str]]) -> None:
        seen = {c for c, _ in self.findings}
        for category, detail in found:
            if category not in seen:
                seen.add(category)
                self.findings.append((category, detail))


def _short(exc: BaseException) -> str:
    lines = traceback.format_exception_only(type(exc), exc)
    return " ".join(line.strip() for line in lines)[:300]


def judge(spec: Spec, torchinfo_check: bool = False) -> Verdict:
    """The twin and cnnspec on one spec: accept/reject, the IR, the built module, the
    exec'd source and its block classes, all compared."""
    import cnnspec
    from cnnspec.diagnostics import SpecError

    v = Verdict(render(spec))
    torch.manual_seed(0)
    twin = Twin(spec)
    refused: Refused | None = None
    try:
        twin.run()
    except Refused as exc:
        refused = exc
    except Unsure as exc:
        v.twin, v.why = "unsure", str(exc)
        return v
    except KeyError as exc:  # an expression naming a param the block lacks (a shrunk spec)
        v.twin, v.why = "broken", _short(exc)
        return v
    v.tags = twin.tags
    v.twin = "refused" if refused else "either" if twin.either else "accepted"
    v.why = refused.why if refused else "; ".join(twin.either)
    try:
        net = cnnspec.loads(v.text, source="oracle.yaml")
    except SpecError as exc:
        v.cnnspec = "rejected"
        v.add(_rejected(v, exc))
        return v
    except Exception as exc:  # noqa: BLE001 — a checker that raises is what is looked for
        v.cnnspec = "crashed"
        v.add([(f"check raises {type(exc).__name__}", _short(exc))])
        return v
    v.cnnspec = "accepted"
    if refused is not None:
        what = "torch" if refused.by == "torch" else "the format"
        v.add([(f"accepts what {what} refuses: {refused.key}", refused.why)])
        return v
    v.add(compare_ir(net, twin))
    namespace = compare_modules(net, twin, v)
    if namespace is not None:
        v.add(compare_classes(spec, twin, namespace))
    if torchinfo_check:
        v.torchinfo = True
        v.add(compare_torchinfo(net, twin))
    return v


def _rejected(v: Verdict, exc: Any) -> list[tuple[str, str]]:
    errors = [d for d in exc.diagnostics if d.severity == "error"]
    found = []
    if not errors:
        found.append(("rejected without an error", exc.report()))
    unlocated = [d for d in errors if d.pos is None]
    if unlocated:
        found.append(("an error without a position", unlocated[0].format("oracle.yaml")))
    if v.twin == "accepted":
        codes = ", ".join(sorted({d.code for d in errors}))
        found.append((f"refuses what torch runs [{codes}]", errors[0].format("oracle.yaml")))
    return found


def compare_ir(net: Any, twin: Twin) -> list[tuple[str, str]]:
    """Every module path, group and module-less operation of the IR against the twin."""
    out: list[tuple[str, str]] = []
    paths = [n.path for n in net.layers]
    if sorted(paths) != sorted(twin.leaves):
        lacks = [p for p in twin.leaves if p not in paths][:4]
        extra = [p for p in paths if p not in twin.leaves][:4]
        out.append(("IR: module paths", f"cnnspec lacks {lacks}, has {extra} more"))
    for n in net.layers if not out else ():  # paths that differ may name other layers
        rec = twin.leaves.get(n.path)
        if rec is not None:
            out += _rec_differs(
                "IR: layer", n.path, (n.torch_class, n.output_shape, n.params, n.macs), rec
            )
    groups = {g.path: g for g in net.groups}
    if sorted(groups) != sorted(twin.groups):
        lacks = [p for p in twin.groups if p not in groups][:4]
        extra = [p for p in groups if p not in twin.groups][:4]
        out.append(("IR: groups", f"cnnspec lacks {lacks}, has {extra} more"))
    for path, g in groups.items():
        rec = twin.groups.get(path)
        if rec is not None:
            mine = (g.block or "Sequential", g.output_shape, g.params, g.macs)
            out += _rec_differs("IR: group", path, mine, rec)
    ops = Counter((n.kind, tuple(n.output_shape)) for n in net.nodes if n.path is None)
    theirs = Counter((kind, shape) for kind, _, shape in twin.ops)
    if ops != theirs:
        out.append(("IR: module-less operations", f"cnnspec {sorted(ops - theirs)}, "
                    f"the twin {sorted(theirs - ops)}"))  # fmt: skip
    leaves = list(twin.leaves.values())
    totals = (net.params, net.macs, tuple(net.output_shape))
    scaled = sum(twin.scales.values())  # a layer scale: C params, C MACs (docs)
    want = (
        sum(r.params for r in leaves) + scaled,
        sum(r.macs for r in leaves) + scaled,
        twin.output,
    )
    if totals != want:
        out.append(("IR: totals", f"cnnspec (params, MACs, output) {totals}, the twin {want}"))
    shapes = [tuple(o.shape) for o in net.outputs]
    if shapes != twin.outputs:
        out.append(("IR: outputs", f"cnnspec {shapes}, the twin {twin.outputs}"))
    out += _warnings(net, twin)
    return out


def _rec_differs(what: str, path: str, mine: tuple, rec: Rec) -> list[tuple[str, str]]:
    out = []
    for label, a, b in zip(
        ("class", "shape", "params", "MACs"), mine, (rec.cls, rec.shape, rec.params, rec.macs)
    ):
        if (tuple(a) if isinstance(a, (list, tuple)) else a) != b:
            out.append((f"{what} {label}", f"{path}: cnnspec {a!r}, the twin {b!r}"))
    return out


def _warnings(net: Any, twin: Twin) -> list[tuple[str, str]]:
    out = []
    unused = [w.format("oracle.yaml") for w in net.warnings if w.code == "unused"]
    if bool(unused) != bool(twin.unread):
        shown = unused[0] if unused else "no [unused] warning"
        out.append(
            ("warning: [unused]", f"cnnspec: {shown}; the twin: unread {twin.unread or 'none'}")
        )
    other = sorted({w.code for w in net.warnings} - {"unused", "inexact"})
    if other:
        out.append(("warning: unexpected", ", ".join(other)))
    return out


def _randomize(model: nn.Module, seed: int = 1) -> None:
    """Batch norms with statistics and affine weights of their own (eval mode uses them)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
                m.running_mean.uniform_(-1, 1, generator=g)
                m.running_var.uniform_(0.5, 2, generator=g)
                m.weight.uniform_(0.5, 1.5, generator=g)
                m.bias.uniform_(-0.5, 0.5, generator=g)


def _same_state(label: str, model: nn.Module, twin: nn.Module) -> list[tuple[str, str]]:
    mine, theirs = model.state_dict(), twin.state_dict()
    if list(mine) != list(theirs):
        at = next(
            (i for i, (a, b) in enumerate(zip(mine, theirs)) if a != b), min(len(mine), len(theirs))
        )
        a, b = list(mine)[at : at + 2], list(theirs)[at : at + 2]
        return [
            (
                f"{label}: state_dict keys",
                f"at {at}: cnnspec {a}, the twin {b} ({len(mine)} vs {len(theirs)} keys)",
            )
        ]
    shapes = [
        (k, tuple(t.shape), tuple(theirs[k].shape))
        for k, t in mine.items()
        if t.shape != theirs[k].shape
    ]
    if shapes:
        return [
            (
                f"{label}: state_dict shapes",
                f"{shapes[0][0]}: cnnspec {shapes[0][1]}, the twin {shapes[0][2]}",
            )
        ]
    return []


def _same_output(
    label: str, model: nn.Module, twin: nn.Module, x: torch.Tensor, want: torch.Tensor
) -> list[tuple[str, str]]:
    try:
        model.load_state_dict(twin.state_dict(), strict=True)
        with torch.no_grad():
            got = model.eval()(x)
    except Exception as exc:  # noqa: BLE001
        return [(f"{label}: forward raises {type(exc).__name__}", _short(exc))]
    if isinstance(want, (tuple, dict)):  # `outputs:`: the same keys, each tensor the same
        if type(got) is not type(want) or len(got) != len(want):
            return [(f"{label}: outputs differ", f"{type(got).__name__} vs {type(want).__name__}")]
        if isinstance(want, dict) and list(got) != list(want):
            return [(f"{label}: output keys differ", f"{list(got)} vs the twin's {list(want)}")]
        pairs = zip(got.values(), want.values()) if isinstance(want, dict) else zip(got, want)
        for a, b in pairs:
            found = _same_tensor(label, a, b)
            if found:
                return found
        return []
    return _same_tensor(label, got, want)


def _same_tensor(label: str, got: torch.Tensor, want: torch.Tensor) -> list[tuple[str, str]]:
    if got.shape != want.shape or not torch.allclose(got, want, rtol=1e-4, atol=1e-5):
        diff = (got - want).abs().max().item() if got.shape == want.shape else "-"
        return [
            (
                f"{label}: output differs",
                f"{tuple(got.shape)} vs the twin's {tuple(want.shape)}, max |Δ| {diff}",
            )
        ]
    return []


def compare_modules(net: Any, twin: Twin, v: Verdict) -> dict | None:
    """cnnspec.build(net) and the exec'd torch_source(net) against the twin: state_dict
    keys and shapes in order, and outputs on the twin's weights. Returns the source's
    namespace (its block classes), or None when the source does not run."""
    import cnnspec

    model_twin = twin.module.eval()
    _randomize(model_twin)
    x = torch.randn(
        2, twin.spec.c, twin.spec.h, twin.spec.w, generator=torch.Generator().manual_seed(2)
    )
    with torch.no_grad():
        want = model_twin(x)
    try:
        built = cnnspec.build(net).eval()
    except Exception as exc:  # noqa: BLE001
        v.add([(f"build raises {type(exc).__name__}", _short(exc))])
        built = None
    if built is not None:
        found = _same_state("build", built, model_twin)
        v.add(found or _same_output("build", built, model_twin, x, want))
    try:
        source = cnnspec.torch_source(net)
        namespace: dict[str, Any] = {"__name__": "graph_oracle_generated"}
        exec(compile(source, "<graph-oracle>", "exec"), namespace)
        made = namespace[net.name]().eval()
    except Exception as exc:  # noqa: BLE001
        v.add([(f"generated source raises {type(exc).__name__}", _short(exc))])
        return None
    if built is not None and (
        repr(made) != repr(built) or list(made.state_dict()) != list(built.state_dict())
    ):
        v.add([("source: not the module build() makes", "repr or state_dict keys differ")])
    found = _same_state("source", made, model_twin)
    v.add(found or _same_output("source", made, model_twin, x, want))
    return namespace


def compare_classes(spec: Spec, twin: Twin, namespace: dict) -> list[tuple[str, str]]:
    """Each generated block class does what its signature says: its defaults are the
    spec's, and called with the defaults (or other values the spec allows) it builds what
    the twin builds for those arguments."""
    out: list[tuple[str, str]] = []
    rng = random.Random(spec.name + str(len(spec.layers)))
    for block in spec.blocks:
        instances = twin.instances.get(block.name)
        cls = namespace.get(block.name)
        if not instances:
            continue
        if not isinstance(cls, type):
            out.append(("class: missing", f"no class {block.name} in the generated source"))
            continue
        sig = inspect.signature(cls)
        for p in block.params:
            sp = sig.parameters.get(p.name)
            want = inspect.Parameter.empty if p.default is None else p.default
            if p.type == "float" and want is not inspect.Parameter.empty:
                want = float(want)  # an int default of a float param is that float
            if sp is not None and (sp.default != want or type(sp.default) is not type(want)):
                out.append(
                    (
                        "class: a default differs",
                        f"{block.name}({p.name}={sp.default!r}); the spec: {want!r}",
                    )
                )
        shape, args = instances[0]
        variants = [("defaults", {p.name: args[p.name] for p in block.params if p.default is None})]
        for p in block.params:  # one param changed at a time: what no instance had, maybe
            other = [v for v in p.values if v != args[p.name] or type(v) is not type(args[p.name])]
            if other:
                variants.append(("other values", {**args, p.name: rng.choice(other)}))
        variants.append(
            ("other values", {p.name: rng.choice(p.values) for p in block.params if p.values})
        )
        for label, chosen in variants[:8]:
            found = _class_variant(spec, block, cls, sig, shape, args, chosen, label)
            out += found
            if found:
                break
    return out


def _class_variant(
    spec: Spec,
    block: Block,
    cls: type,
    sig: inspect.Signature,
    shape: tuple,
    args: dict,
    chosen: dict,
    label: str,
) -> list[tuple[str, str]]:
    kw: dict[str, Any] = {"in_maps": shape[0]} if "in_maps" in sig.parameters else {}
    twin_args: dict[str, Any] = {}
    for p in block.params:
        if p.name not in sig.parameters:  # a param the class fixed: the instance's value
            twin_args[p.name] = args[p.name]
        elif p.name in chosen:
            kw[p.name] = twin_args[p.name] = chosen[p.name]
    torch.manual_seed(0)
    x = torch.randn(2, *shape, generator=torch.Generator().manual_seed(3))
    try:
        module, _ = Twin(spec).instance(block, twin_args, x, "")
    except (Refused, Unsure):
        return []  # arguments the spec itself refuses: the class may do anything
    call = f"{block.name}({', '.join(f'{k}={v!r}' for k, v in kw.items())})"
    try:
        made = cls(**kw).eval()
    except ValueError as exc:
        if _refuses_a_row_no_instance_has(block, exc):
            return []  # refused clearly: the class was written without the row
        return [(f"class: raises on {label}", f"{call}: {_short(exc)}")]
    except Exception as exc:  # noqa: BLE001
        return [(f"class: raises on {label}", f"{call}: {_short(exc)}")]
    module.eval()
    _randomize(module)
    with torch.no_grad():
        want = module(x)
    found = _same_state(f"class ({label})", made, module)
    found = found or _same_output(f"class ({label})", made, module, x, want)
    return [(c, f"{call}: {d}") for c, d in found]


def _refuses_a_row_no_instance_has(block: Block, exc: ValueError) -> bool:
    """A class may refuse arguments under which a row exists that no instance of the
    spec has (it cannot be written without one): its message names a row of the block
    written with an `if:` (by its name, or by the name cnnspec gives an unnamed row, where
    the block has such a row)."""
    found = re.fullmatch(rf"{block.name}: row '([^']+)' is in no instance of the spec", str(exc))
    if found is None:
        return False
    rows: list[dict] = []

    def walk(layers: list[dict]) -> None:
        for r in layers:
            rows.append(r)
            walk(r.get("layers", []))

    walk(block.layers)
    name = found.group(1).split(".")[-1]
    named = [r for r in rows if r.get("name") == name]
    return any("if" in r for r in (named or rows))


def compare_torchinfo(net: Any, twin: Twin) -> list[tuple[str, str]]:
    """torchinfo on the twin: its params, and its MACs where it counts as cnnspec does
    (not for transposed convolutions, which torchinfo counts on the output)."""
    import torchinfo

    spec = twin.spec
    stats = torchinfo.summary(
        twin.module, input_size=(1, spec.c, spec.h, spec.w), verbose=0, device="cpu"
    )
    out = []
    if stats.total_params != net.params:
        out.append(
            ("torchinfo: params", f"torchinfo {stats.total_params:,}, cnnspec {net.params:,}")
        )
    # torchinfo counts transposed convolutions on the output, an nn.Linear on channels-last
    # data at one position, a layer scale not at all (docs): no comparison there
    odd = any(isinstance(m, (nn.ConvTranspose2d, Permute)) for m in twin.module.modules())
    if not odd and not twin.scales and stats.total_mult_adds != net.macs:
        out.append(
            ("torchinfo: MACs", f"torchinfo {stats.total_mult_adds:,}, cnnspec {net.macs:,}")
        )
    return out


# --------------------------------------------------------------------------- runs and repros


def signature(category: str, detail: str) -> str:
    """A finding without its names and numbers: `category | detail`, names kept in shape
    only ('rep_4_1' → 'a_N_N'), so that one kind of disagreement is one signature."""

    def shape(m: re.Match) -> str:
        return "'" + re.sub(r"\d+", "N", re.sub(r"[A-Za-z]+", "a", m.group(1))) + "'"

    text = re.sub(r"\b[A-Z]\w*\([^)]*\)", "Block(…)", detail)
    text = re.sub(r"\[('[^']*')(, '[^']*')+\]", r"[\1, …]", text)
    text = re.sub(r"'([^']*)'", shape, text)
    text = re.sub(r"\d+(\.\d+)?(e-?\d+)?", "N", text)
    text = re.sub(r"\s+", " ", text)
    return f"{category} | {text[:100]}"


@dataclass
class Stats:
    """Counts of one run, and the shortest spec of each kind of disagreement."""

    drawn: int = 0
    both_accept: int = 0
    both_reject: int = 0
    may_reject: int = 0  # the twin allows a refusal (an open choice) and cnnspec refused
    unsure: int = 0  # the docs do not decide: not counted
    broken: int = 0  # the twin itself failed: a bug of the oracle
    torchinfo: int = 0
    disagreeing: int = 0  # specs with a disagreement (one may show several)
    categories: Counter = field(default_factory=Counter)  # specs showing each category
    signatures: Counter = field(default_factory=Counter)
    #: the shortest spec of each signature: its seed, spec and verdict
    examples: dict[str, tuple[str, Spec, Verdict]] = field(default_factory=dict)
    tags: Counter = field(default_factory=Counter)

    @property
    def disagreements(self) -> int:
        return self.disagreeing

    def report(self, signatures: bool = False) -> str:
        lines = [
            f"[graph oracle] {self.drawn:,} random graph specs against their twins in plain "
            f"torch: {self.both_accept:,} accepted by both (IR, build(), exec'd source and "
            f"block classes compared; {self.torchinfo:,} also by torchinfo), "
            f"{self.both_reject:,} rejected by both, {self.may_reject:,} rejected where the "
            f"docs leave the choice open, {self.unsure:,} not judged; "
            f"{self.disagreeing:,} disagreeing specs"
        ]
        for category, n in self.categories.most_common():
            lines.append(f"  {n:5,}  {category}")
            if signatures:
                for sig, k in self.signatures.most_common():
                    if sig.split(" | ")[0] == category:
                        seed = self.examples[sig][0]
                        lines.append(f"         {k:5,}  {sig.split(' | ', 1)[1]}  (seed {seed})")
        return "\n".join(lines)


def run_oracle(
    n: int,
    seed: int | str = 0,
    torchinfo_every: int = 50,
    start: int = 0,
    progress: Callable[[int, Stats], None] | None = None,
) -> Stats:
    """Draw n specs (seeds "{seed}-{start}" …) and judge each: the counts."""
    stats = Stats()
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # thousands of tiny layers: threads only cost here
    try:
        for i in range(start, start + n):
            key = f"{seed}-{i}"
            spec = draw(key)
            v = judge(spec, torchinfo_check=stats.both_accept % torchinfo_every == 0)
            _count(stats, key, spec, v)
            if progress is not None:
                progress(i, stats)
    finally:
        torch.set_num_threads(threads)
    return stats


def _count(stats: Stats, key: str, spec: Spec, v: Verdict) -> None:
    stats.drawn += 1
    stats.tags.update(v.tags.keys())
    if v.twin == "unsure":
        stats.unsure += 1
        return
    if v.twin == "broken":
        stats.broken += 1
        v.findings = [("the twin fails", v.why)]
    if v.findings:
        stats.disagreeing += 1
        for category, detail in v.findings:
            stats.categories[category] += 1
            sig = signature(category, detail)
            stats.signatures[sig] += 1
            old = stats.examples.get(sig)
            if old is None or len(v.text) < len(old[2].text):
                stats.examples[sig] = (key, spec, v)
        return
    if v.cnnspec == "accepted":
        stats.both_accept += 1
        stats.torchinfo += v.torchinfo
    elif v.twin == "refused":
        stats.both_reject += 1
    else:
        stats.may_reject += 1


def _row_lists(spec: Spec) -> list[list[dict]]:
    """Every list of rows of a spec, in a fixed order (network, blocks, containers)."""
    out: list[list[dict]] = []
    todo = [spec.layers, *(b.layers for b in spec.blocks)]
    while todo:
        rows = todo.pop(0)
        out.append(rows)
        todo += [r["layers"] for r in rows if isinstance(r.get("layers"), list)]
    return out


def _candidates(spec: Spec) -> Iterator[Spec]:
    """Specs one step smaller: a block, a row, a key, a param, a copy or a pixel fewer."""
    for bi in range(len(spec.blocks)):
        c = copy.deepcopy(spec)
        del c.blocks[bi]
        yield c
    for li, rows in enumerate(_row_lists(spec)):
        for j in range(len(rows) if len(rows) > 1 else 0):
            c = copy.deepcopy(spec)
            del _row_lists(c)[li][j]
            yield c
    for li, rows in enumerate(_row_lists(spec)):
        for j, row in enumerate(rows):
            for k in [k for k in row if k not in ("name", "type", "layers")]:
                c = copy.deepcopy(spec)
                target = _row_lists(c)[li][j]
                if k == "repeat" and isinstance(row[k], int) and row[k] > 1:
                    target[k] -= 1
                elif k == "from" and isinstance(row[k], list) and len(row[k]) > 2:
                    target[k] = row[k][1:]
                else:
                    del target[k]
                yield c
    for bi, b in enumerate(spec.blocks):
        for pi, p in enumerate(b.params):
            c = copy.deepcopy(spec)
            del c.blocks[bi].params[pi]
            for rows in _row_lists(c):  # and what the block's rows pass it
                for row in rows:
                    if row["type"] == b.name:
                        row.pop(p.name, None)
                        if isinstance(row.get("first"), dict):
                            row["first"].pop(p.name, None)
            yield c
        if b.title or b.children == "named":
            c = copy.deepcopy(spec)
            c.blocks[bi].title = None
            c.blocks[bi].children = None if b.children == "named" else b.children
            yield c
    for attr, least in (("h", 1), ("w", 1), ("c", 1)):
        if getattr(spec, attr) > least:
            c = copy.deepcopy(spec)
            setattr(c, attr, max(least, getattr(spec, attr) // 2))
            yield c
            c = copy.deepcopy(spec)
            setattr(c, attr, getattr(spec, attr) - 1)
            yield c


def shrink(spec: Spec, sig: str, budget: int = 1500) -> Spec:
    """A smaller spec that still shows the signature `sig` (greedy, a step at a time)."""
    best, tries, better = spec, 0, True
    while better and tries < budget:
        better = False
        size = len(render(best))
        for candidate in _candidates(best):
            tries += 1
            v = judge(candidate)
            if sig in {signature(c, d) for c, d in v.findings} and len(v.text) <= size:
                best, better = candidate, True
                break
            if tries >= budget:
                break
    return best


def write_repro(path: str, key: str, spec: Spec) -> Verdict:
    """The spec as a YAML file whose comment says what torch and cnnspec make of it."""
    v = judge(spec)
    head = [
        f"graph oracle, seed {key}: {v.category}",
        f"the twin (plain torch): {v.twin}" + (f" ({v.why})" if v.why else ""),
        f"cnnspec: {v.cnnspec}",
        *(f"  {c}: {d}" for c, d in v.findings),
    ]
    comment = "".join(f"# {line}\n" for text in head for line in text.splitlines())
    with open(path, "w", encoding="utf-8") as f:
        f.write(comment + v.text)
    return v


def main(argv: list[str]) -> int:
    import argparse
    import os

    ap = argparse.ArgumentParser(description="Run the graph oracle; shrink its findings.")
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--seed", default="0")
    ap.add_argument("--start", type=int, default=0)
    ap.add_argument("--shrink", metavar="DIR", help="write one minimised spec per category")
    ap.add_argument("--judge", nargs="+", metavar="FILE", help="judge these spec files only")
    args = ap.parse_args(argv)
    if args.judge:
        torch.set_num_threads(1)
        found = 0
        for path in args.judge:
            with open(path, encoding="utf-8") as f:
                v = judge(parse_spec(f.read()), torchinfo_check=True)
            found += bool(v.findings)
            print(
                f"{path}: the twin {v.twin}, cnnspec {v.cnnspec}" + (f" ({v.why})" if v.why else "")
            )
            for c, d in v.findings:
                print(f"  {c}: {d}")
        return 1 if found else 0

    def progress(i: int, stats: Stats) -> None:
        if (i + 1) % 500 == 0:
            print(f"... {stats.drawn:,} drawn, {stats.disagreements:,} disagreements", flush=True)

    stats = run_oracle(args.n, args.seed, start=args.start, progress=progress)
    print(stats.report(signatures=True), flush=True)
    if args.shrink:
        os.makedirs(args.shrink, exist_ok=True)
        for i, (sig, (key, spec, _)) in enumerate(sorted(stats.examples.items())):
            small = shrink(spec, sig)
            slug = re.sub(r"[^a-z0-9]+", "-", sig.split(" | ")[0].lower()).strip("-")[:50]
            path = os.path.join(args.shrink, f"{i:02d}-{slug}.yaml")
            write_repro(path, key, small)
            print(f"wrote {path}", flush=True)
    return 1 if stats.disagreements else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
