"""One generated class of a graph network: its constructor signature, ``__init__`` and
``forward``, laid out as ``ruff format`` would (:mod:`.linewrap`)."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

from ... import expr as ex
from ...expr import Sym
from ...ir import INPUT, ClassDef, Member
from ...kinds import CONTAINERS, ELEMENTWISE, JOINS, KINDS, MACROS
from . import linewrap
from .errors import RenderError
from .helpers import HELPERS
from .linewrap import Call, Code
from .maps import RUNNING, paren, subst
from .merge import follow

#: names a generated method must not rebind: what its code refers to
RESERVED = frozenset(
    {"self", "torch", "nn", "OrderedDict", "center_crop", "channel_shuffle", "in_maps", *HELPERS}
)

#: a block param's annotation in its class's signature, where it is not the type's name
ANNOTATIONS = {"pair": "tuple[int, int]"}

CENTER_CROP = '''\
def center_crop(x: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """``x`` cut to the height and width of ``like``, centred (U-Net's copy and crop)."""
    top = (x.shape[2] - like.shape[2]) // 2
    left = (x.shape[3] - like.shape[3]) // 2
    return x[:, :, top : top + like.shape[2], left : left + like.shape[3]]
'''

STOCHASTIC_DEPTH = '''\
class StochasticDepth(nn.Module):
    """Stochastic depth: in training, each sample's input (mode "row") or the whole
    batch's (mode "batch") is dropped with probability p, and what is kept is scaled by
    1 / (1 - p); in eval, the identity. It has no parameters."""

    def __init__(self, p: float, mode: str = "row") -> None:
        super().__init__()
        self.p = p
        self.mode = mode

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0.0:
            return x
        keep = 1.0 - self.p
        if self.mode == "row":
            shape = [x.shape[0]] + [1] * (x.dim() - 1)
        else:
            shape = [1] * x.dim()
        mask = torch.empty(shape, dtype=x.dtype, device=x.device).bernoulli_(keep)
        if keep > 0.0:
            mask = mask / keep
        return x * mask

    def extra_repr(self) -> str:
        return f"p={self.p}, mode={self.mode}"
'''

CHANNEL_SHUFFLE = '''\
def channel_shuffle(x: torch.Tensor, groups: int) -> torch.Tensor:
    """The maps of ``x`` read as ``groups`` groups and interleaved: map j of group g moves to
    position j * groups + g (ShuffleNet's channel shuffle)."""
    return x.unflatten(1, (groups, -1)).transpose(1, 2).flatten(1, 2)
'''


def _comment(member: Member) -> str:
    return f"-> {member.shape}" if member.shape else ""


def _is_parameter(member: Member) -> bool:
    """A parameter without a module (a layer scale): an attribute all the same."""
    kind = KINDS.get(member.kind)
    return kind is not None and kind.parameter


def _is_function(member: Member) -> bool:
    """An operation written as a function call in ``forward``: no module, no attribute."""
    if _is_parameter(member):
        return False
    return not member.module or (member.node is not None and member.node.functional)


def _elementwise(member: Member) -> bool:
    """An activation, a normalization or a dropout: its output may keep its input's name."""
    node = member.node
    return node is not None and node.kind in ELEMENTWISE


def _operation(op: str, merge: bool, m: Member, ins: list[str]) -> Code:
    """A module-less operation's forward expression, from its kind's ``op``: an operator
    between the inputs (``a + b``); a merge's function of the list of its inputs, along
    the maps (``torch.cat([a, b], 1)``), each cut to the last one's H×W first under
    ``crop: center``; a one-input function, the batch dimension kept (``torch.flatten(x, 1)``)."""
    if not any(ch.isalpha() for ch in op):
        return f" {op} ".join(ins)
    if not merge:
        return Call(op, (ins[0], "1"))
    if m.node is not None and m.node.crop == "center":
        like = ins[-1]
        ins = [linewrap.flat(Call("center_crop", (v, like))) for v in ins[:-1]] + [like]
    return Call(op, (Call("", tuple(ins), "[]"), "1"))


def _stored(member: Member) -> tuple[str, ...]:
    """The fields of a module-less operation that its block writes as expressions over the
    constructor's arguments: ``__init__`` keeps their values, which ``forward`` reads."""
    kind = KINDS.get(member.kind)
    if kind is None or not kind.forward or member.module or member.node is None:
        return ()
    return tuple(f for f in kind.hyper if isinstance(getattr(member.node, f), Sym))


def _writable(member: Member) -> bool:
    if member.kind == "block":
        return member.block is not None
    if member.kind in CONTAINERS:
        return any(_exists(c) for c in member.children)
    return _is_function(member) or member.node is not None


def _exists(member: Member) -> bool:
    """Whether the class writes ``member``. A conditional row that no instance has
    carries no resolved layer, so it cannot be written: it is left out, and its
    readers read its input (what it stands for wherever its condition is false)."""
    return member.cond is None or _writable(member)


def _part(m: Member, kids: list[Member], begin: int, end: int) -> str:
    """The part of container ``m`` holding its children ``begin`` … ``end - 1``: one
    child by its attribute (or index), several as a slice (an nn.Sequential itself)."""
    if end - begin == 1:
        return f"self.{m.name}.{kids[begin].name}" if m.named else f"self.{m.name}[{begin}]"
    if end == len(kids):
        return f"self.{m.name}[{begin}:]"
    return f"self.{m.name}[{begin or ''}:{end}]"


@dataclass
class Names:
    """Local names of one method: fresh ones never shadow what the code refers to."""

    taken: set[str]

    def fresh(self, base: str) -> str:
        name = base if base not in RESERVED else base + "_"
        k = 2
        while name in self.taken:
            name, k = f"{base}_{k}", k + 1
        self.taken.add(name)
        return name


class ClassWriter:
    """The source of one generated class: its constructor and its ``forward``."""

    def __init__(self, cls: ClassDef, network: bool, macros: object, classes: set[str]):
        self.cls = cls
        self.network = network
        self.macros = macros
        gone = {m.name: (m.inputs[0] if m.inputs else INPUT) for m in cls.members if not _exists(m)}
        self.members = [
            replace(m, inputs=tuple(follow(v, gone) for v in m.inputs))
            for m in cls.members
            if _exists(m)
        ]
        self.output = follow(cls.output, gone)
        self.init_names = Names({p.name for p in cls.params} | classes | {"self", "in_maps"})
        attrs = {m.name for m in self.members}
        self.flags: dict[str, str] = {}
        for m in self.members:
            if m.cond is not None and _is_function(m):
                flag = f"use_{m.name}"
                while flag in attrs:
                    flag += "_"
                attrs.add(flag)
                self.flags[m.name] = flag
        #: a module-less operation's fields kept by __init__: member → field → attribute
        self.stored: dict[str, dict[str, str]] = {}
        for m in self.members:
            for f in _stored(m):
                attr = f"{m.name}_{f}"
                while attr in attrs:
                    attr += "_"
                attrs.add(attr)
                self.stored.setdefault(m.name, {})[f] = attr
        #: forward's statements: a list's members one by one, a container read into in
        #: parts (up to each row read), each a call of ``calls[name]`` where it has one
        self.calls: dict[str, str] = {}
        self.steps = self.forward_members()

    def forward_members(self) -> list[Member]:
        """The members as ``forward`` computes them: a list member by member
        (``self.convs[0](x)``); a container whose rows are read from outside it in
        parts, each up to a row read (``self.body[:5](x)``), then the rest."""
        out: list[Member] = []
        alias: dict[str, str] = {}
        for m in self.members:
            if m.kind == "list":
                for j, (src, kid) in enumerate(zip(m.inputs, m.children)):
                    self.calls[f"{m.name}.{j}"] = f"self.{m.name}[{j}]"
                    out.append(Member(f"{m.name}.{j}", "part", (src,), kid.shape))
                continue
            if not m.taps:
                out.append(m)
                continue
            kids = [c for c in m.children if _exists(c)]
            names = [c.name for c in kids]
            begin, src = 0, m.inputs[0] if m.inputs else INPUT
            for path, held in m.taps:
                end = names.index(held) + 1
                self.calls[path] = _part(m, kids, begin, end)
                out.append(Member(path, "part", (src,), kids[end - 1].shape))
                begin, src = end, path
            if begin < len(kids):
                self.calls[m.name] = _part(m, kids, begin, len(kids))
                out.append(replace(m, inputs=(src,)))
            else:  # its last row is read: the container's output is that part's
                alias[m.name] = src
        if alias:
            out = [replace(m, inputs=tuple(follow(v, alias) for v in m.inputs)) for m in out]
            self.output = follow(self.output, alias)
        return out

    # ------------------------------------------------------------------ __init__

    def layer(self, member: Member) -> Code:
        node = member.node
        if node is None:
            raise RenderError(f"internal error: member {member.name!r} has no layer to write")
        return linewrap.parse_call(str(getattr(self.macros, MACROS[node.kind])(node)))

    def build(self, member: Member, indent: int) -> tuple[list[str], Code, str]:
        """How ``member``'s module is made: statements first, the expression, its comment."""
        if member.kind == "list":
            return self.module_list(member, indent)
        if member.kind in CONTAINERS:
            return self.container(member, member.children, member.named, indent)
        if member.kind == "block" and member.repeat is not None:
            return _loop(self.init_names, member, indent)
        if member.kind == "block" and member.copies:
            blocks = [(child, Call(member.block or "", args)) for child, args in member.copies]
            if member.named:
                pairs = tuple(Call("", (f'"{child}"', call)) for child, call in blocks)
                items = Call("", pairs, "[]", explode=len(pairs) > 1)
                expr: Code = Call("nn.Sequential", (Call("OrderedDict", (items,)),))
            else:
                calls = tuple(call for _, call in blocks)
                expr = Call("nn.Sequential", calls, explode=len(calls) > 1)
            return [], expr, _comment(member)
        if member.kind == "block":
            return [], Call(member.block or "", member.args), _comment(member)
        return [], self.layer(member), _comment(member)

    def child(self, member: Member, indent: int) -> tuple[list[str], Code, str]:
        """A container's child; a nested container or repeated block is built first, in
        a variable of its name, so that the container lists one line per child."""
        pre, expr, comment = self.build(member, indent)
        if isinstance(expr, Call) and (member.kind in CONTAINERS or member.copies):
            name = self.init_names.fresh(member.name)
            pre += linewrap.lines(expr, indent, f"{name} = ", "", comment)
            expr = name
        return pre, expr, comment

    def container(
        self, member: Member | None, children: tuple[Member, ...], named: bool, indent: int
    ) -> tuple[list[str], Code, str]:
        """An ``nn.Sequential`` of ``children`` (``member`` None: the class itself)."""
        children = tuple(c for c in children if _exists(c))
        for child in children:
            if _is_function(child):
                where = member.name if member else self.cls.name
                raise RenderError(
                    f"internal error: {child.kind} {child.name!r} in the nn.Sequential {where!r}"
                )
        head = "nn.Sequential" if member else "super().__init__"
        if not any(c.cond for c in children):
            built = [self.child(c, indent) for c in children]
            pre = [line for lines, _, _ in built for line in lines]
            exprs = tuple(e for _, e, _ in built)
            comments = tuple(c for _, _, c in built)
            if not named:
                return pre, Call(head, exprs, comments=comments, explode=True), ""
            pairs = tuple(Call("", (f'"{c.name}"', e)) for c, e in zip(children, exprs))
            items = Call("", pairs, "[]", comments=comments, explode=True)
            return pre, Call(head, (Call("OrderedDict", (items,)),)), ""
        # some children exist only under a condition: a list (or dict) built a child at a time
        name = self.init_names.fresh(member.name if member else "layers")
        pad = " " * indent
        if named:
            pre = [f"{pad}{name}: OrderedDict[str, nn.Module] = OrderedDict()"]
        else:
            pre = [f"{pad}{name}: list[nn.Module] = []"]
        for child in children:
            inner = indent
            if child.cond:
                pre += linewrap.condition_lines("if ", child.cond, indent)
                inner += 4
            child_pre, expr, comment = self.child(child, inner)
            pre += child_pre
            if named:
                pre += linewrap.lines(expr, inner, f'{name}["{child.name}"] = ', "", comment)
            else:
                pre += linewrap.lines(Call(f"{name}.append", (expr,)), inner, "", "", comment)
        call = f"{head}({name})" if named else f"{head}(*{name})"
        return pre, call, _comment(member) if member else ""

    def refusals(self) -> list[str]:
        """``if <condition>: raise ValueError(...)`` for each row no instance has that the
        class could not be written with: arguments under which it exists are refused."""
        out: list[str] = []
        for cond, row in self.cls.refused:
            message = f"{self.cls.name}: row '{row}' is in no instance of the spec"
            out += linewrap.condition_lines("if ", cond, 8)
            out += linewrap.lines(Call("raise ValueError", (repr(message),)), 12)
        return out

    def module_list(self, member: Member, indent: int) -> tuple[list[str], Code, str]:
        """An ``nn.ModuleList`` of a list's members, one a line."""
        built = [self.child(c, indent) for c in member.children]
        pre = [line for lines, _, _ in built for line in lines]
        items = Call("", tuple(e for _, e, _ in built), "[]", tuple(c for _, _, c in built), True)
        return pre, Call("nn.ModuleList", (items,)), ""

    def init_lines(self) -> list[str]:
        if self.cls.sequential:
            pre, expr, _ = self.container(None, tuple(self.members), False, 8)
            return self.refusals() + pre + linewrap.lines(expr, 8)
        out = ["        super().__init__()", *self.refusals()]
        for m in self.members:
            if m.name in self.flags:
                flag = f"self.{self.flags[m.name]} = "
                out += linewrap.condition_lines(flag, m.cond or "", 8, "")
            if m.name in self.stored:
                out += self.store(m)
            if _is_function(m):
                continue
            indent = 8
            if m.cond:
                held = "nn.Parameter" if _is_parameter(m) else "nn.Module"
                out.append(f"        self.{m.name}: {held} | None = None")
                out += linewrap.condition_lines("if ", m.cond, 8)
                indent = 12
            pre, expr, comment = self.build(m, indent)
            out += pre + linewrap.lines(expr, indent, f"self.{m.name} = ", "", comment)
        return out

    def store(self, m: Member) -> list[str]:
        """``self.shuffle_groups = groups``: the values ``forward`` reads (only where the
        operation exists, so that an expression is not evaluated where it is absent)."""
        indent, out = 8, []
        if m.name in self.flags:
            out.append(f"        if self.{self.flags[m.name]}:")
            indent = 12
        for f, attr in self.stored[m.name].items():
            out += linewrap.lines(str(getattr(m.node, f)), indent, f"self.{attr} = ")
        return out

    def signature(self) -> list[str]:
        params = ["self"]
        if self.cls.takes_in_maps:
            params.append("in_maps: int")
        for p in self.cls.params:
            hint = ANNOTATIONS.get(p.type, p.type)
            params.append(f"{p.name}: {hint}" + (f" = {p.default}" if p.default else ""))
        return linewrap.lines(Call("def __init__", tuple(params)), 4, "", " -> None:")

    # ------------------------------------------------------------------ forward

    def chain(self) -> set[str]:
        """The members on the way back from the output through first inputs, up to a
        concat of several computed tensors (a concat of one and the input goes on)."""
        by_name = {m.name: m for m in self.steps}
        chain: set[str] = set()
        name = self.output
        while name != INPUT and name not in chain:
            chain.add(name)
            member = by_name[name]
            inputs = member.inputs
            if member.kind in JOINS:
                inputs = tuple(v for v in inputs if v != INPUT)
                if len(inputs) != 1:
                    break
            if not inputs:
                break
            name = inputs[0]
        return chain

    def forward_lines(self) -> list[str]:
        """``forward``: one statement per member, each tensor in a named variable.

        The members on the chain to the output write ``out`` (in the network class
        ``x``) while their value has no other reader; the others write a variable
        named after themselves, but an activation, a normalization or a dropout that is
        its input's only reader keeps the input's name (``branch = self.relu(branch)``).
        A variable is reused only once the value it holds has no reader left."""
        members = self.steps
        end = len(members)  # the return statement's position
        readers: dict[str, list[int]] = {INPUT: [], **{m.name: [] for m in members}}
        for i, m in enumerate(members):
            for v in m.inputs:
                readers[v].append(i)
            if m.node is not None and m.node.functional and m.node.like is None:  # input's size
                readers[INPUT].append(i)
        readers[self.output].append(end)
        for _, name in self.cls.outputs:  # every output is returned
            readers[name].append(end)
        training = [m for m in self.cls.training if m in readers]
        for name in training:  # returned too, in training
            readers[name].append(end)
        last = {v: max(r, default=-1) for v, r in readers.items()}
        chain = self.chain()
        chain_var = "x" if self.network and len(readers[INPUT]) <= 1 else "out"
        var_of = {INPUT: "x"}
        holder: dict[str, str] = {"x": INPUT}

        def free(var: str, i: int, first: str | None) -> bool:
            held = holder.get(var)
            if held is None:
                return True
            if first is not None and held != first:  # `var = first` runs before the reads
                return last[held] < i
            return last[held] <= i

        out: list[str] = []
        for i, m in enumerate(members):
            first = m.inputs[0] if m.inputs else INPUT
            passthrough = first if m.cond is not None else None
            candidates = []
            if m.name in chain and len(readers[m.name]) == 1:
                (reader,) = readers[m.name]
                if reader == end or members[reader].name in chain:
                    candidates.append(chain_var)
            elif _elementwise(m) and len(m.inputs) == 1 and readers[first] == [i]:
                candidates.append(var_of[first])
            base = m.name.replace(".", "_")
            base = base if base not in RESERVED else base + "_"
            candidates.append(base)
            k = 2
            while not any(free(c, i, passthrough) for c in candidates):
                candidates.append(f"{base}_{k}")
                k += 1
            var = next(c for c in candidates if free(c, i, passthrough))
            ins = [var_of[v] for v in m.inputs]
            if m.name in training:
                out += self.training_statement(m, var, ins, var_of[INPUT])
            else:
                out += self.statement(m, var, ins or [var_of[INPUT]], var_of[INPUT])
            holder[var] = m.name
            var_of[m.name] = var
        return out + _return_lines(self.cls, self.output, var_of, training)

    def forward_def(self) -> str:
        """``forward``'s ``def`` line, split as ruff format splits one over 100 columns."""
        returns = _returns(self.cls)
        line = f"    def forward(self, x: torch.Tensor) -> {returns}:"
        if len(line) <= 100:
            return line
        return f"    def forward(\n        self, x: torch.Tensor\n    ) -> {returns}:"

    def training_statement(self, m: Member, var: str, ins: list[str], x: str) -> list[str]:
        """A member computed only in training (an auxiliary classifier): None in eval."""
        expr = self.expression(m, ins or [x], x)
        head = [f"        {var}: torch.Tensor | None = None", "        if self.training:"]
        return head + linewrap.lines(expr, 12, f"{var} = ", "", _comment(m))

    def expression(self, m: Member, ins: list[str], x: str) -> Code:
        """``m``'s forward expression: its module called, or its kind's operation."""
        if m.name in self.calls:
            return Call(self.calls[m.name], (ins[0],))
        kind = KINDS.get(m.kind)
        if kind is not None and kind.parameter:
            return f"self.{m.name} * {ins[0]}"
        if kind is not None and kind.forward and not m.module:  # its macro writes it
            node = m.node
            kept = self.stored.get(m.name, {})
            if node is not None and kept:
                fields: dict[str, Any] = {f: Sym(f"self.{attr}") for f, attr in kept.items()}
                node = replace(node, **fields)
            call = getattr(self.macros, kind.forward)(node, ins[0])
            return linewrap.parse_call(str(call))
        if kind is not None and kind.op and not kind.is_module and not m.module:
            return _operation(kind.op, kind.is_merge, m, ins)
        if m.node is not None and m.node.functional:  # the functional form's own macro
            assert kind is not None
            size = f"{ins[1]}.shape[-2:]" if m.node.like is not None else f"{x}.shape[2:]"
            call = getattr(self.macros, kind.op)(m.node, ins[0], size)
            return linewrap.parse_call(str(call))
        if len(ins) != 1:
            raise RenderError(f"internal error: module {m.name!r} reads {len(ins)} inputs")
        return Call(f"self.{m.name}", (ins[0],))

    def statement(self, m: Member, var: str, ins: list[str], x: str) -> list[str]:
        expr = self.expression(m, ins, x)
        if m.cond is None:
            return linewrap.lines(expr, 8, f"{var} = ", "", _comment(m))
        out = [] if var == ins[0] else [f"        {var} = {ins[0]}"]
        if m.name in self.flags:
            out.append(f"        if self.{self.flags[m.name]}:")
        else:
            out.append(f"        if self.{m.name} is not None:")
        return out + linewrap.lines(expr, 12, f"{var} = ", "", _comment(m))


def _renamed(source: str, name: str, new: str) -> str:
    """A generated argument (``sd=p * copy / n``) with the name ``name`` written ``new``."""
    if name == new:
        return source
    return re.sub(rf"(?<![\w.]){re.escape(name)}(?![\w])", new, source)


def _loop_lines(loop: str) -> list[str]:
    """A ``for`` line; one past the line length split as ruff splits it, the ``range``
    call's arguments on lines of their own."""
    if linewrap.width(loop) <= linewrap.LINE_LENGTH:
        return [loop]
    head, _, count = loop.partition(" in range(1, ")
    if not count:  # the named form: range(2, (n) + 1)
        head, _, count = loop.partition(" in range(2, ")
        start = "2"
    else:
        start = "1"
    count = count.removesuffix("):")
    indent = len(head) - len(head.lstrip())
    return linewrap.lines(Call("range", (start, count)), indent, head.lstrip() + " in ", ":")


def _quote(text: str) -> str:
    """A dict key as a Python string literal, quoted as ruff format quotes it: double
    quotes, unless the text holds more of them than single ones (a key holds no control
    characters: the spec's check refuses them)."""
    q = "'" if text.count('"') > text.count("'") else '"'
    return q + text.replace("\\", "\\\\").replace(q, "\\" + q) + q


def _returned(items: list[str], brackets: str, indent: int) -> list[str]:
    """``return a, b`` (a one-tensor tuple ``(a,)``) or ``return {"k": a}``, laid out as
    ruff formats it."""
    if brackets == "()":
        if len(items) == 1:
            return linewrap.lines(f"({items[0]},)", indent, "return ")
        one = " " * indent + "return " + ", ".join(items)
        if linewrap.width(one) <= linewrap.LINE_LENGTH:
            return [one]
    return linewrap.lines(Call("", tuple(items), brackets), indent, "return ")


def _loop(names: Names, member: Member, indent: int) -> tuple[list[str], Code, str]:
    """A repeat count written as an expression: the first copy, then a loop over the
    others (named by the ``names:`` pattern, else indexed), each reading the maps the
    one before gives where they change copy by copy."""
    (child, first), (pattern, rest) = member.copies
    block = member.block or ""
    name = names.fresh(member.name)
    pad = " " * indent
    if member.indexed:  # the copies' arguments read the loop's variable, the index
        copy = names.fresh(ex.COPY)
        rest = tuple(_renamed(a, ex.COPY, copy) for a in rest)
    if member.named:
        pre = [f"{pad}{name}: OrderedDict[str, nn.Module] = OrderedDict()"]
        pre += linewrap.lines(Call(block, first), indent, f'{name}["{child}"] = ')
        if member.indexed:
            loop = f"{pad}for {copy} in range(1, {member.repeat}):"
            one, zero = f"{copy} + 1", copy
        else:
            index = names.fresh("i")
            loop = f"{pad}for {index} in range(2, {paren(member.repeat or '')} + 1):"
            one, zero = index, f"{index} - 1"
        key = (pattern or "").replace("{i}", "{" + one + "}").replace("{i0}", "{" + zero + "}")
        into = f'{name}[f"{key}"] = '
        made = f"nn.Sequential({name})"
    else:
        pre = linewrap.lines(
            Call("", (Call(block, first),), "[]"), indent, f"{name}: list[nn.Module] = "
        )
        variable = copy if member.indexed else "_"
        loop = f"{pad}for {variable} in range(1, {member.repeat}):"
        into = ""
        made = f"nn.Sequential(*{name})"
    maps = step = ""
    if member.loop is not None:  # each copy reads the maps the one before gives
        maps = names.fresh(f"{member.name}_maps")
        after_first, running = member.loop
        rest = (maps, *rest[1:])
        step = str(subst(running, {RUNNING: maps}))
        pre += linewrap.lines(after_first, indent, f"{maps} = ")
    pre += _loop_lines(loop)
    call = Call(block, rest)
    if into:
        pre += linewrap.lines(call, indent + 4, into)
    else:
        pre += linewrap.lines(Call(f"{name}.append", (call,)), indent + 4)
    if step:
        pre += linewrap.lines(step, indent + 4, f"{maps} = ")
    return pre, made, _comment(member)


def _return_lines(
    cls: ClassDef, output: str, var_of: dict[str, str], training: list[str]
) -> list[str]:
    """``return``: the output, or the outputs' tuple or dict; in training with the
    training outputs after them (a dict's under their row names)."""
    outputs = cls.outputs
    if outputs and outputs[0][0] is not None:
        items = [f"{_quote(k or '')}: {var_of[m]}" for k, m in outputs]
        extra = [f"{_quote(m)}: {var_of[m]}" for m in training]
        brackets = "{}"
    else:
        items = [var_of[m] for _, m in outputs or ((None, output),)]
        extra = [var_of[m] for m in training]
        brackets = "()"
    out = []
    if training:
        out = ["        if self.training:", *_returned(items + extra, brackets, 12)]
    if not outputs:
        return out + [f"        return {items[0]}"]
    return out + _returned(items, brackets, 8)


def _returns(cls: ClassDef) -> str:
    """``forward``'s return annotation: a tensor, or with training outputs the
    tuple training returns (main output first) or the main output alone."""
    if cls.outputs and cls.outputs[0][0] is not None:
        return "dict[str, torch.Tensor | None]" if cls.training else "dict[str, torch.Tensor]"
    if cls.outputs:
        mains = ", ".join(["torch.Tensor"] * len(cls.outputs))
        if not cls.training:
            return f"tuple[{mains}]"
        extra = ", torch.Tensor | None" * len(cls.training)
        return f"tuple[{mains}] | tuple[{mains}{extra}]"
    if not cls.training:
        return "torch.Tensor"
    extra = ", torch.Tensor | None" * len(cls.training)
    return f"torch.Tensor | tuple[torch.Tensor{extra}]"
