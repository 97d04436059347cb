"""An independent oracle: seeded random chain specs, built in plain torch.

Each spec is drawn together with its twin in plain torch, layer by layer, by code
that knows nothing of cnnspec's rules: torch itself says what each layer's output
is, whether it runs at all, what its parameters are (``numel``), and its MACs are
counted from torch's real output tensors (a conv's output elements times
``in_channels/groups·kh·kw`` weights, plus one per output element for the bias; a
linear layer's weights and bias; batch norm 2·C — torchinfo's convention, which a
sample also checks against torchinfo itself). Then:

- a spec torch runs must check, and every node of cnnspec's IR must match the twin's
  module: class, output shape, params, MACs, hyper-parameters; an inferred padding
  must give torch the declared size; a sample is compiled with ``cnnspec.build`` and
  must compute what the twin computes with the twin's weights;
- a spec whose last row torch refuses (a kernel over the padded input, a pool padding
  over half its kernel, 'same' with a stride, groups that do not divide) must fail,
  with errors at that row only;
- a valid spec with one declared size made wrong must give exactly one error, a
  ``[size-mismatch]`` at that row: the rows after it, right for what torch computes,
  draw none (one mistake, one diagnostic).

Counts: 300 specs locally, 3,000 under ``CI=true``; ``CNNSPEC_ORACLE_N=20000`` (and
``CNNSPEC_ORACLE_SEED``) for a long run on demand. Run with ``-s`` to see the counts.
"""

from __future__ import annotations

import os
import random
from dataclasses import dataclass, field

import pytest
import torch

nn = torch.nn

import cnnspec  # noqa: E402
from cnnspec.diagnostics import SpecError  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same'")

CI = os.environ.get("CI") == "true"
N = int(os.environ.get("CNNSPEC_ORACLE_N", 3000 if CI else 300))
SEED = int(os.environ.get("CNNSPEC_ORACLE_SEED", 0))
#: every BUILD_EVERY-th accepted spec is compiled and run against its twin
BUILD_EVERY = 7
#: every TORCHINFO_EVERY-th accepted spec has its MACs checked by torchinfo too
TORCHINFO_EVERY = 97

ACTIVATIONS = {
    "relu": nn.ReLU,
    "leaky_relu": nn.LeakyReLU,
    "sigmoid": nn.Sigmoid,
    "tanh": nn.Tanh,
    "hardswish": nn.Hardswish,
    "hardsigmoid": nn.Hardsigmoid,
    "silu": nn.SiLU,
}


# --------------------------------------------------------------------------- the twin


@dataclass
class Twin:
    """A spec as YAML rows, and the torch modules it should become, one list per row."""

    c: int
    h: int
    w: int
    layout: str
    rows: list[dict] = field(default_factory=list)
    modules: list[list] = field(default_factory=list)  # per row: [(module, out_shape, macs)]
    flatten_at_row: int | None = None
    flatten_features: int | None = None
    refused_row: int | None = None  # the row torch refuses (the spec's last)
    refused_why: str = ""
    mutated_row: int | None = None  # the row whose declared size was made wrong


def _pair(rng: random.Random, a: int, b: int):
    """A pair written as a person might write it (not 0x1: YAML reads that as hex)."""
    x = "×" if a == 0 else rng.choice(["x", "×", "X", "*"])
    if a == b:
        return rng.choice([a, f"{a}{x}{b}", [a, b]])
    return rng.choice([f"{a}{x}{b}", [a, b]])


def _macs(module, out: torch.Tensor) -> int:
    """MACs for one image, from torch's real output: torchinfo's convention."""
    per_image = out[0].numel()
    if isinstance(module, nn.Conv2d):
        taps = module.in_channels // module.groups * module.kernel_size[0] * module.kernel_size[1]
        return per_image * taps + (per_image if module.bias is not None else 0)
    if isinstance(module, nn.Linear):
        return module.in_features * module.out_features + (
            module.out_features if module.bias is not None else 0
        )
    if isinstance(module, (nn.BatchNorm1d, nn.BatchNorm2d)):
        return 2 * module.num_features
    return 0


def _run(module, x):
    """torch's output for x, or None when torch refuses the layer."""
    try:
        with torch.no_grad():
            y = module.eval()(x)
    except (RuntimeError, ValueError):
        return None
    return None if y.numel() == 0 else y


def _activation(rng, allow_softmax: bool) -> str | None:
    choices = [None, None, "relu", "leaky_relu", "sigmoid", "tanh", "hardswish", "silu", "none"]
    if allow_softmax:
        choices.append("softmax")
    return rng.choice(choices)


def _act_module(name: str):
    return nn.Softmax(dim=1) if name == "softmax" else ACTIVATIONS[name]()


def _window(rng, kind: str, c: int, h: int, w: int):
    """A conv or pool row and its module; the module may be one torch refuses."""
    conv = kind == "conv"
    ks = [rng.randint(1, 5), rng.randint(1, 5)]
    if rng.random() < 0.6:
        ks[1] = ks[0]
    if conv:
        ss = [rng.choice([1, 1, 1, 2, 3]) for _ in range(2)]
        ds = [rng.choice([1, 1, 1, 2, 3]) for _ in range(2)]
    else:
        ss = list(ks) if rng.random() < 0.4 else [rng.randint(1, 3) for _ in range(2)]
        ds = [1, 1]
    if rng.random() < 0.6:
        ss[1], ds[1] = ss[0], ds[0]
    mode = rng.choice(["none", "explicit", "explicit", "declared", "declared"])
    if conv and rng.random() < 0.15:
        mode = "same"
        if rng.random() < 0.8:
            ss = [1, 1]
    ceil = (not conv) and rng.random() < 0.3
    if mode == "none":
        ps = [0, 0]
    elif mode == "declared":  # a padding where cnnspec's inference looks
        ps = [rng.randint(0, (k // 2) if not conv else d * (k - 1)) for k, d in zip(ks, ds)]
    else:
        ps = [rng.randint(0, 3) for _ in range(2)]
        if rng.random() < 0.6:
            ps[1] = ps[0]
    row: dict = {"type": kind, "kernel": _pair(rng, *ks)}
    if conv:
        divisors = [g for g in range(1, c + 1) if c % g == 0]
        groups = rng.choice(divisors) if rng.random() < 0.9 else rng.randint(1, c + 1)
        maps = groups * rng.randint(1, 3)
        bias = rng.random() < 0.8
        row["maps"] = maps
        if groups != 1:
            row["groups"] = groups
        if not bias:
            row["bias"] = False
        if ds != [1, 1]:
            row["dilation"] = _pair(rng, *ds)
        if ss != [1, 1] or rng.random() < 0.3:
            row["stride"] = _pair(rng, *ss)
        try:
            module = nn.Conv2d(
                c,
                maps,
                tuple(ks),
                stride=tuple(ss),
                padding="same" if mode == "same" else tuple(ps),
                dilation=tuple(ds),
                groups=groups,
                bias=bias,
            )
        except ValueError:  # 'same' with a stride, groups that do not divide
            module = None
    else:
        if ss != ks or rng.random() < 0.3:
            row["stride"] = _pair(rng, *ss)
        if ceil:
            row["ceil_mode"] = True
        if rng.random() < 0.3:
            row["maps"] = c
        pool = nn.MaxPool2d if kind == "maxpool" else nn.AvgPool2d
        module = pool(tuple(ks), stride=tuple(ss), padding=tuple(ps), ceil_mode=ceil)
    if mode == "same":
        row["padding"] = rng.choice(["same", "same", "SAME", "Same"])
    elif mode == "explicit":
        row["padding"] = _pair(rng, *ps)
    return row, module, mode


def _with_padding(module, padding):
    if isinstance(module, nn.Conv2d):
        return nn.Conv2d(
            module.in_channels,
            module.out_channels,
            module.kernel_size,
            stride=module.stride,
            padding=padding,
            dilation=module.dilation,
            groups=module.groups,
            bias=module.bias is not None,
        )
    return type(module)(
        module.kernel_size, stride=module.stride, padding=padding, ceil_mode=module.ceil_mode
    )


def _smallest_padding(module, x, y):
    """The module with the smallest padding, per axis, that gives torch y's size — looking
    where the spec format says inference looks: up to D·(k − 1) (conv), k // 2 (pool)."""
    kernel = _two(module.kernel_size)
    dilation = _two(getattr(module, "dilation", 1))
    if isinstance(module, nn.Conv2d):
        tops = [d * (k - 1) for k, d in zip(kernel, dilation)]
    else:
        tops = [k // 2 for k in kernel]
    padding = list(_two(module.padding))
    for axis in (0, 1):
        for q in range(tops[axis] + 1):
            trial = list(padding)
            trial[axis] = q
            out = _run(_with_padding(module, tuple(trial)), x)
            if out is not None and out.shape[2 + axis] == y.shape[2 + axis]:
                padding[axis] = q
                break
    return _with_padding(module, tuple(padding))


def _two(value) -> tuple[int, int]:
    return tuple(value) if isinstance(value, (tuple, list)) else (value, value)


def draw(rng: random.Random) -> Twin:
    """One random chain spec and its torch twin."""
    c = rng.randint(1, 4)
    h = rng.randint(1, 24)
    w = h if rng.random() < 0.6 else rng.randint(1, 24)
    twin = Twin(c, h, w, rng.choice(["sequential", "flat"]))
    x = torch.zeros(2, c, h, w)
    n_rows = rng.randint(1, 8)
    flattened = False
    for i in range(n_rows):
        number = i + 1
        last = i == n_rows - 1
        if not flattened:
            kinds = ["conv"] * 5 + ["maxpool", "avgpool"] * 2 + ["adaptive", "batchnorm"]
            kinds += ["dropout", "act", "flatten", "fc", "fc"]
        else:
            kinds = ["fc"] * 3 + ["dropout", "batchnorm", "act"]
        kind = rng.choice(kinds)
        mods: list = []
        row: dict
        if kind in ("conv", "maxpool", "avgpool"):
            for _attempt in range(6):  # mostly layers torch runs; now and then one it refuses
                row, module, mode = _window(rng, kind, x.shape[1], x.shape[2], x.shape[3])
                y = _run(module, x) if module is not None else None
                if y is not None or rng.random() < 0.15:
                    break
            if y is None:
                twin.rows.append(row)
                twin.modules.append([])
                twin.refused_row = number
                twin.refused_why = f"torch refuses {module!r}"
                return twin
            if mode == "declared":
                # the documented rule, found by torch: the smallest padding giving the size
                module = _smallest_padding(module, x, y)
                y = _run(module, x)
            if mode == "declared" or (mode == "explicit" and rng.random() < 0.5):
                row["size"] = _pair(rng, y.shape[2], y.shape[3])
            act = _activation(rng, last) if kind == "conv" else None
            mods.append((module, y))
        elif kind == "adaptive":
            target = (rng.randint(1, 3), rng.randint(1, 3))
            adaptive = rng.choice(["adaptive_avgpool", "adaptive_maxpool"])
            row = {"type": adaptive, "size": _pair(rng, *target)}
            module = (
                nn.AdaptiveAvgPool2d if adaptive == "adaptive_avgpool" else nn.AdaptiveMaxPool2d
            )(target)
            mods.append((module, _run(module, x)))
            act = None
        elif kind == "batchnorm":
            row = {"type": "batchnorm"}
            if rng.random() < 0.3:
                row["maps"] = x.shape[1]
            module = (nn.BatchNorm1d if flattened else nn.BatchNorm2d)(x.shape[1])
            mods.append((module, _run(module, x)))
            act = None
        elif kind == "dropout":
            p = rng.choice([0.0, 0.1, 0.25, 0.5])
            row = {"type": "dropout", "p": p}
            mods.append((nn.Dropout(p), x))
            act = None
        elif kind == "act":
            name = rng.choice(list(ACTIVATIONS) + (["softmax"] if last else []))
            row = {"type": name}
            mods.append((_act_module(name), _run(_act_module(name), x)))
            act = None
        elif kind == "flatten":
            row = {"type": "flatten"}
            flattened = True
            twin.flatten_at_row = number
            x = torch.flatten(x, 1)
            twin.flatten_features = x.shape[1]
            act = None
        else:  # fc
            if not flattened:
                flattened = True
                twin.flatten_at_row = number
                x = torch.flatten(x, 1)
                twin.flatten_features = x.shape[1]
            units = rng.randint(1, 12)
            bias = rng.random() < 0.85
            row = {"type": "fc", "size": units}
            if not bias:
                row["bias"] = False
            module = nn.Linear(x.shape[1], units, bias=bias)
            mods.append((module, _run(module, x)))
            act = _activation(rng, last)
        if act is not None:
            row["activation"] = act
            if act != "none":
                mods.append((_act_module(act), _run(_act_module(act), mods[-1][1])))
        if mods:
            x = mods[-1][1]
        twin.rows.append(row)
        twin.modules.append([(m, tuple(y.shape[1:]), _macs(m, y)) for m, y in mods])
    if all(r["type"] == "flatten" for r in twin.rows):
        twin.rows.append({"type": "relu"})
        twin.modules.append([(nn.ReLU(), tuple(x.shape[1:]), 0)])
    return twin


def mutate(rng: random.Random, twin: Twin) -> bool:
    """Make one declared size wrong, on a row whose padding is written out (so that
    what torch computes does not depend on the declared size). False if none fits."""
    rows = [
        i
        for i, r in enumerate(twin.rows)
        if r["type"] in ("conv", "maxpool", "avgpool")
        and "padding" in r
        and str(r["padding"]).lower() != "same"
    ]
    if not rows:
        return False
    i = rng.choice(rows)
    out = twin.modules[i][0][1]
    wrong = [max(1, out[1] + rng.choice([-2, -1, 1, 2])), out[2]]
    if wrong[0] == out[1]:
        wrong[0] = out[1] + 1
    if rng.random() < 0.5:
        wrong = [wrong[0], wrong[0]] if wrong[0] != out[2] else wrong
    twin.rows[i] = {**twin.rows[i], "size": _pair(rng, *wrong)}
    twin.mutated_row = i + 1
    return True


def render(rng: random.Random, twin: Twin) -> str:
    """The spec as YAML: a `layers:` list, or (for a fifth) a `table:` block."""
    head = f"name: Oracle\nlayout: {twin.layout}\n"
    if rng.random() < 0.2 and all(not isinstance(v, list) for r in twin.rows for v in r.values()):
        keys = {k for r in twin.rows for k in r} | {"maps", "size"}
        columns = ["type", *sorted(keys - {"type"})]
        image = {"type": "image", "maps": twin.c, "size": f"{twin.h}x{twin.w}"}
        cells = [[_cell(r.get(k)) for k in columns] for r in [image, *twin.rows]]
        widths = [max(len(line[j]) for line in [columns, *cells]) for j in range(len(columns))]
        lines = [
            "  ".join(v.ljust(n) for v, n in zip(line, widths)).rstrip()
            for line in [columns, *cells]
        ]
        return head + "table: |\n" + "".join(f"  {line}\n" for line in lines)
    body = "".join(f"  - {_flow(r)}\n" for r in twin.rows)
    return head + f"input: {{maps: {twin.c}, size: {twin.h}x{twin.w}}}\nlayers:\n" + body


def _cell(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _flow(row: dict) -> str:
    def text(v):
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, list):
            return "[" + ", ".join(str(a) for a in v) + "]"
        return str(v)

    return "{" + ", ".join(f"{k}: {text(v)}" for k, v in row.items()) + "}"


# --------------------------------------------------------------------------- comparing


def compare(twin: Twin, net) -> list[str]:
    """Every difference between cnnspec's IR and the twin, as text (empty: none)."""
    problems = []
    expected = [(number, m) for number, mods in enumerate(twin.modules, 1) for m in mods]
    if len(expected) != len(net.layers):
        return [f"{len(net.layers)} modules, the twin has {len(expected)} modules"]
    for (number, (module, shape, macs)), node in zip(expected, net.layers):
        where = f"row {number} {node.name}"
        if node.row != number:
            problems.append(f"{where}: node of row {node.row}")
        if node.torch_class != type(module).__name__:
            problems.append(f"{where}: {node.torch_class}, torch {type(module).__name__}")
        if node.output_shape != shape:
            problems.append(f"{where}: shape {node.output_shape}, torch {shape}")
        params = sum(p.numel() for p in module.parameters())
        if node.params != params:
            problems.append(f"{where}: {node.params} params, torch {params}")
        if node.macs != macs:
            problems.append(f"{where}: {node.macs} MACs, torch {macs}")
        problems += _hyper(where, node, module)
    if net.params != sum(n.params for n in net.nodes) or net.macs != sum(n.macs for n in net.nodes):
        problems.append("totals are not the sums of the nodes")
    flat = net.flatten
    features = flat.output_shape[0] if flat is not None else None
    if features != twin.flatten_features:
        problems.append(f"flatten {features}, torch {twin.flatten_features}")
    return problems


def _hyper(where: str, node, module) -> list[str]:
    got, want = {}, {}
    if isinstance(module, nn.Conv2d):
        got = dict(
            in_maps=node.in_maps,
            out_maps=node.out_maps,
            kernel=node.kernel,
            stride=node.stride,
            dilation=node.dilation,
            groups=node.groups,
            bias=node.bias,
        )
        want = dict(
            in_maps=module.in_channels,
            out_maps=module.out_channels,
            kernel=module.kernel_size,
            stride=module.stride,
            dilation=module.dilation,
            groups=module.groups,
            bias=module.bias is not None,
        )
        if module.padding == "same":
            got["same"], want["same"] = node.padding_same, True
    elif isinstance(module, (nn.MaxPool2d, nn.AvgPool2d)):
        got = dict(kernel=node.kernel, stride=node.stride, ceil=node.ceil_mode)
        want = dict(
            kernel=tuple(module.kernel_size),
            stride=tuple(module.stride),
            ceil=module.ceil_mode,
        )
    elif isinstance(module, nn.Linear):
        got = dict(i=node.in_maps, o=node.out_maps, bias=node.bias)
        want = dict(i=module.in_features, o=module.out_features, bias=module.bias is not None)
    elif isinstance(module, nn.Dropout):
        got, want = dict(p=node.p), dict(p=module.p)
    problems = [f"{where}: {k} {got[k]!r}, torch {want[k]!r}" for k in want if got[k] != want[k]]
    if node.kind in ("conv", "maxpool", "avgpool") and not node.padding_same:
        problems += _padding_gives_the_shape(where, node, module)
    return problems


def _padding_gives_the_shape(where: str, node, module) -> list[str]:
    """cnnspec's padding, written or inferred, is the twin's (for an inferred one, the
    smallest that gives torch the declared size)."""
    pad = _two(module.padding)
    if pad != node.padding:
        how = "inferred" if node.padding_inferred else "written"
        return [f"{where}: {how} padding {node.padding}, torch {pad}"]
    return []


def built_agrees(twin: Twin, net) -> list[str]:
    """cnnspec's compiled module computes what the twin computes, with the twin's weights."""
    model = cnnspec.build(net).eval()
    ours = [m for mods in twin.modules for m, _, _ in mods]
    theirs = list(model.parameters()) + list(model.buffers())
    mine = [t for m in ours for t in m.parameters()] + [t for m in ours for t in m.buffers()]
    if [t.shape for t in theirs] != [t.shape for t in mine]:
        return ["the compiled module's parameter shapes differ from the twin's"]
    with torch.no_grad():
        for a, b in zip(theirs, mine):
            a.copy_(b)
    torch.manual_seed(0)
    x = torch.randn(2, twin.c, twin.h, twin.w)
    with torch.no_grad():
        want = x
        for i, mods in enumerate(twin.modules, 1):
            if twin.flatten_at_row == i:
                want = torch.flatten(want, 1)
            for m, _, _ in mods:
                want = m.eval()(want)
        if twin.flatten_at_row is not None and twin.flatten_at_row > len(twin.modules):
            want = torch.flatten(want, 1)
        got = model(x)
    if got.shape != want.shape or not torch.allclose(got, want, atol=1e-5, rtol=1e-4):
        return [f"the compiled module computes {tuple(got.shape)}, the twin {tuple(want.shape)}"]
    return []


def torchinfo_agrees(twin: Twin, net) -> list[str]:
    import torchinfo

    class Chain(nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = nn.ModuleList(m for mods in twin.modules for m, _, _ in mods)
            self.flatten_before = sum(
                len(m) for m in twin.modules[: (twin.flatten_at_row or 0) - 1]
            )

        def forward(self, x):
            for i, m in enumerate(self.layers):
                if twin.flatten_at_row is not None and i == self.flatten_before:
                    x = torch.flatten(x, 1)
                x = m(x)
            if twin.flatten_at_row is not None and self.flatten_before >= len(self.layers):
                x = torch.flatten(x, 1)
            return x

    stats = torchinfo.summary(
        Chain().eval(), input_size=(1, twin.c, twin.h, twin.w), verbose=0, device="cpu"
    )
    if stats.total_mult_adds != net.macs:
        return [f"torchinfo counts {stats.total_mult_adds:,} MACs, cnnspec {net.macs:,}"]
    return []


# --------------------------------------------------------------------------- the test


@pytest.fixture(autouse=True)
def _one_thread():
    """Thousands of tiny layers: torch's threads only cost here."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def test_oracle():
    counts = dict(specs=0, accepted=0, refused=0, mutated=0, built=0, torchinfo=0, tables=0)
    disagreements: list[str] = []
    for i in range(N):
        rng = random.Random(f"{SEED}-{i}")
        twin = draw(rng)
        if twin.refused_row is None and rng.random() < 0.15:
            mutate(rng, twin)
        text = render(rng, twin)
        counts["specs"] += 1
        counts["tables"] += text.count("table: |")
        problems = _one(twin, text, counts)
        if problems:
            disagreements.append(f"spec {i} (seed {SEED}):\n{text}" + "\n".join(problems))
    print(
        f"\n[oracle] {counts['specs']:,} random specs against plain torch: "
        f"{counts['accepted']:,} accepted and matched node by node, {counts['refused']:,} "
        f"refused at the row torch refuses, {counts['mutated']:,} with one wrong size (one "
        f"diagnostic each); {counts['built']:,} compiled and run against the twin, "
        f"{counts['torchinfo']:,} checked by torchinfo, {counts['tables']:,} as table "
        f"blocks; {len(disagreements)} disagreements"
    )
    assert not disagreements, f"{len(disagreements)} disagreements; the first:\n" + "\n\n".join(
        disagreements[:3]
    )


def _one(twin: Twin, text: str, counts: dict) -> list[str]:
    try:
        net = cnnspec.loads(text, source="oracle.yaml")
    except SpecError as exc:
        errors = exc.errors
        labels = {d.layer.split(" '")[0] if d.layer else None for d in errors}
        if twin.refused_row is not None:
            counts["refused"] += 1
            if labels != {f"layer {twin.refused_row}"}:
                return [f"torch refuses row {twin.refused_row}; cnnspec says:", exc.report()]
            return []
        if twin.mutated_row is not None:
            counts["mutated"] += 1
            if len(exc.diagnostics) - len([d for d in exc.diagnostics if d.code == "inexact"]) != 1:
                return ["one wrong size, but:", exc.report()]
            [error] = errors
            if (error.code, error.layer.split(" '")[0]) != (
                "size-mismatch",
                f"layer {twin.mutated_row}",
            ):
                return [f"one wrong size at row {twin.mutated_row}, but:", exc.report()]
            return []
        return ["torch runs every row; cnnspec says:", exc.report()]
    if twin.refused_row is not None:
        return [f"torch refuses row {twin.refused_row} ({twin.refused_why}); cnnspec accepts it"]
    if twin.mutated_row is not None:
        return [f"row {twin.mutated_row} declares a wrong size; cnnspec accepts it"]
    counts["accepted"] += 1
    if any(w.code != "inexact" for w in net.warnings):
        return ["an unexpected warning:", *(w.format() for w in net.warnings)]
    problems = compare(twin, net)
    if not problems and counts["accepted"] % BUILD_EVERY == 0:
        counts["built"] += 1
        problems = built_agrees(twin, net)
    if not problems and counts["accepted"] % TORCHINFO_EVERY == 0:
        counts["torchinfo"] += 1
        problems = torchinfo_agrees(twin, net)
    return problems
