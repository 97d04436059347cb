"""Regression tests for issue 15 ("Hardening II"): where the checker was wrong about a
valid spec, generated a module that could not run, or told the user something untrue.
One section per item of the issue; each test fails on the code before the fix."""

from __future__ import annotations

import ast
import builtins
import keyword
import math
import os
import re
import subprocess
import symtable
import sys
from pathlib import Path

import pytest
import torch

import cnnspec
from cnnspec import cli
from cnnspec.diagnostics import SpecError
from cnnspec.spec.values import GENERATED_GLOBALS, MAX_EXTENT, RESERVED_NAMES

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same'")


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """Hundreds of tiny models: torch's threads only cost here."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def spec(*rows: str, input: str = "{maps: 3, size: 5x5}", head: str = "name: Net\n") -> str:
    return f"{head}input: {input}\nlayers:\n" + "".join(f"  - {r}\n" for r in rows)


def report(text: str, **kw) -> list[str]:
    """The diagnostics of an invalid spec, one line each."""
    with pytest.raises(SpecError) as info:
        cnnspec.loads(text, source="t.yaml", **kw)
    return info.value.report().splitlines()


# --------------------------------------------------------------------------- 1. class names


#: Every name that might collide with something the generated file uses: Python's
#: builtins and keywords, nn.Module's members, and the names the file itself imports.
LOOKALIKES = sorted(
    {n for n in dir(builtins) if n.isidentifier()}
    | set(keyword.kwlist)
    | set(keyword.softkwlist)
    | {n for n in dir(torch.nn.Module) if not n.startswith("__")}
    | {"torch", "nn", "F", "Tensor", "self", "x", "features", "classifier", "Module"}
)


def _generated_globals(source: str) -> set[str]:
    """The globals the generated module's methods look up when they run."""
    table = symtable.symtable(source, "<generated>", "exec")
    names = set()
    for cls in table.get_children():
        for method in cls.get_children():
            names |= {
                s.get_name() for s in method.get_symbols() if s.is_global() and s.is_referenced()
            }
    return names


def test_generated_globals_are_the_ones_the_generated_code_uses():
    """GENERATED_GLOBALS, the class names the schema refuses, is derived from the source
    of modules using every layer kind in both layouts: a new global in a template fails
    here until the schema knows it."""
    every_kind = spec(
        "{type: conv, maps: 4, kernel: 2, padding: same, activation: relu}",
        "{type: batchnorm}",
        "{type: maxpool, kernel: 2, stride: 1}",
        "{type: avgpool, kernel: 2, stride: 1, ceil_mode: true}",
        "{type: adaptive_avgpool, size: 2}",
        "{type: adaptive_maxpool, size: 2}",
        "{type: leaky_relu}",
        "{type: flatten}",
        "{type: dropout}",
        "{type: fc, size: 3, activation: tanh}",
        "{type: batchnorm}",
        "{type: sigmoid}",
        "{type: fc, size: 2, activation: softmax}",
    )
    sources = [
        cnnspec.torch_source(cnnspec.loads(every_kind.replace("name: Net\n", f"name: Net\n{lay}")))
        for lay in ("", "layout: flat\n")
    ]
    specs = sorted(ROOT.glob("specs/*.yaml")) + sorted(ROOT.glob("specs/zoo/*.yaml"))
    sources += [cnnspec.torch_source(cnnspec.load(p)) for p in specs]
    used = set().union(*map(_generated_globals, sources))
    # a graph network's own block classes are globals too; the schema refuses a block
    # that would take one of the others' names
    defined = {
        node.name
        for source in sources
        for node in ast.parse(source).body
        if isinstance(node, ast.ClassDef)
    }
    assert used - defined == set(GENERATED_GLOBALS)


@pytest.mark.parametrize("layout", ["sequential", "flat"])
def test_every_class_name_that_checks_builds_and_runs(layout):
    """`name: super` checked, then recursed forever in super().__init__()."""
    refused = []
    for name in LOOKALIKES:
        text = spec(
            "{type: conv, maps: 2, kernel: 3}",
            "{type: fc, size: 2}",
            head=f"name: '{name}'\nlayout: {layout}\n",
        )
        try:
            net = cnnspec.loads(text)
        except SpecError as exc:
            [d] = exc.diagnostics
            refused.append(name)
            assert _true_reason(name, d.message), (name, d.message)
            continue
        model = cnnspec.build(net)
        assert type(model).__name__ == name
        assert model(torch.zeros(1, 3, 5, 5)).shape == (1, 2)
    assert {"super", "torch", "nn"} <= set(refused)
    assert not {"F", "Tensor", "self", "x", "Module"} & set(refused)


def _true_reason(name: str, message: str) -> bool:
    if "would replace" in message:
        return name in GENERATED_GLOBALS
    if "is a Python keyword" in message:
        return keyword.iskeyword(name) or keyword.issoftkeyword(name)
    if "starts with '_'" in message:
        return name.startswith("_")
    if "is longer" in message or "characters long" in message:
        return len(name) > 40
    return False


# --------------------------------------------------------------------------- 2. [inexact]


def _unseen_input(h: int, module: torch.nn.Module) -> int:
    """Input rows (at the end) that do not reach the output, by autograd."""
    x = torch.ones(1, 3, h, h, requires_grad=True)
    module(x).sum().backward()
    rows = x.grad[0].abs().sum(dim=(0, 2)).tolist()
    return len(rows) - 1 - max(i for i, v in enumerate(rows) if v)


@pytest.mark.parametrize(
    "row, module",
    [
        (
            "{type: conv, maps: 2, kernel: 3, stride: 3, padding: 1}",
            lambda: torch.nn.Conv2d(3, 2, 3, stride=3, padding=1),
        ),
        (
            "{type: avgpool, kernel: 2, stride: 2, padding: 1}",
            lambda: torch.nn.AvgPool2d(2, stride=2, padding=1),
        ),
    ],
    ids=["conv-k3-s3-p1", "avgpool-k2-s2-p1"],
)
def test_a_layer_that_drops_only_padding_draws_no_warning_and_passes_strict(row, module):
    torch.manual_seed(0)
    assert _unseen_input(5, module()) == 0  # every input pixel reaches the output
    net = cnnspec.loads(spec(row), strict=True)
    assert net.warnings == ()


def test_a_layer_that_drops_input_says_how_many_rows_it_drops():
    # (5 − 2 + 2·0)/2 + 1 = 2.5: one input row and column never reach the output
    torch.manual_seed(0)
    assert _unseen_input(5, torch.nn.Conv2d(3, 2, 2, stride=2)) == 1
    [w] = cnnspec.loads(spec("{type: conv, maps: 2, kernel: 2, stride: 2}")).warnings
    assert w.message == (
        "(5 − 2 + 2·0)/2 + 1 = 2.5 is not whole: PyTorch floors it to 2×2, so the last row "
        "and column of the input never reach the output"
    )
    # the remainder is 3, the right padding 1: two input rows are lost, not three
    assert _unseen_input(8, torch.nn.Conv2d(3, 2, 3, stride=4, padding=1)) == 2
    [w] = cnnspec.loads(
        spec(
            "{type: conv, maps: 2, kernel: 3, stride: 4, padding: 1}", input="{maps: 3, size: 8x8}"
        )
    ).warnings
    assert "so the last 2 rows and columns of the input never reach the output" in w.message


# --------------------------------------------------------------------------- 3. same, even kernel


@pytest.mark.parametrize(
    "kernel, dilation", [("2", "1"), ("4", "1"), ("2x3", "1"), ("2", "[1, 2]"), ("[4, 1]", "3")]
)
def test_padding_same_with_an_even_kernel_is_pytorchs_same(kernel, dilation):
    text = spec(
        f"{{type: conv, maps: 4, kernel: {kernel}, dilation: {dilation}, padding: same, "
        "activation: relu}",
        "{type: conv, maps: 2, kernel: 3, size: 7x6}",
        input="{maps: 3, size: 7x6}",
    )
    net = cnnspec.loads(text)
    conv = net.nodes[0]
    assert conv.output_shape == (4, 7, 6) and conv.padding_same
    assert net.warnings == ()
    source = cnnspec.torch_source(net)
    assert 'padding="same"' in source.split("\n        )")[0]
    model = cnnspec.build(net)
    generated = model.features[0]
    assert generated.padding == "same"
    x = torch.randn(2, 3, 7, 6)
    assert model(x).shape == (2, 2, 7, 6)
    # PyTorch's own 'same' (asymmetric: the odd pixel goes right and bottom)
    same = torch.nn.Conv2d(3, 4, generated.kernel_size, dilation=generated.dilation, padding="same")
    same.load_state_dict(generated.state_dict())
    assert torch.equal(generated(x), same(x))
    from cnnspec.backends.summary import render_text, summary_json

    assert summary_json(net)["layers"][0]["padding_same"] is True
    assert " same " in render_text(net).splitlines()[5]


def test_padding_same_still_needs_stride_1_and_pools_have_none():
    [line] = report(spec("{type: conv, maps: 4, kernel: 2, stride: 2, padding: same}"))
    assert line.endswith("padding 'same' needs stride 1 [padding-same]")
    [line] = report(spec("{type: maxpool, kernel: 3, stride: 1, padding: same}"))
    assert "a pool takes no 'same' (PyTorch's pools have no padding='same')" in line


# --------------------------------------------------------------------------- 4. one diagnostic


@pytest.mark.parametrize(
    "first",
    [
        "{type: conv, maps: 4, kernel: 3, padding: 0, size: 30}",  # [size-mismatch]: 28 is right
        "{type: conv, maps: 4, kernel: 3, size: 40}",  # [no-padding]
        "{type: conv, maps: 4, kernel: 40, size: 28}",  # [kernel-too-large]
    ],
    ids=["size-mismatch", "no-padding", "kernel-too-large"],
)
def test_one_wrong_row_is_one_diagnostic(first):
    """The rows after it are right for 28×28 (what the first row should give): before,
    the declared 30 or 40 was carried on, and each row after drew an error too."""
    lines = report(
        spec(
            first,
            "{type: maxpool, kernel: 2, size: 14}",
            "{type: conv, maps: 8, kernel: 5, padding: 0, size: 10}",
            "{type: fc, size: 10}",
            input="{maps: 3, size: 30x30}",
        )
    )
    assert len(lines) == 1, lines
    assert lines[0].startswith("t.yaml:4:")


def test_after_a_size_mismatch_the_walk_carries_what_pytorch_computes():
    lines = report(
        spec(
            "{type: conv, maps: 4, kernel: 3, padding: 0, size: 4}",
            "{type: conv, maps: 4, kernel: 3, padding: 0, size: 2}",  # wrong for 3: 1
            input="{maps: 3, size: 5x5}",
        )
    )
    assert [line.split(": ", 3)[3] for line in lines] == [
        "(5 − 3 + 2·0)/1 + 1 = 3, but the row declares 4×4 [size-mismatch]",
        "(3 − 3 + 2·0)/1 + 1 = 1, but the row declares 2×2 [size-mismatch]",
    ]


# --------------------------------------------------------------------------- 5. true messages


@pytest.mark.parametrize("layout", ["sequential", "flat"])
def test_every_layer_name_that_checks_builds_and_runs(layout):
    """`nn`, `torch`, `self`, `features`, `classifier` were refused as "already an
    attribute of every nn.Module" — untrue. Every refusal must now be true, and every
    name let through must build and run."""
    accepted = []
    module = torch.nn.Module()
    for name in LOOKALIKES:
        text = spec(
            f"{{type: conv, maps: 2, kernel: 3, name: '{name}'}}",
            "{type: fc, size: 2}",
            head=f"name: Net\nlayout: {layout}\n",
        )
        try:
            net = cnnspec.loads(text)
        except SpecError as exc:
            [d] = exc.diagnostics
            if "already an attribute of every nn.Module" in d.message:
                assert hasattr(module, name), name
                assert name in RESERVED_NAMES
            else:
                assert _true_reason(name, d.message), (name, d.message)
            continue
        accepted.append(name)
        model = cnnspec.build(net)
        assert model(torch.zeros(1, 3, 5, 5)).shape == (1, 2)
        if layout == "flat":
            assert isinstance(getattr(model, name), torch.nn.Conv2d)
    assert {"nn", "torch", "self", "features", "classifier", "super", "x"} <= set(accepted)


def test_a_late_image_row_is_one_diagnostic():
    lines = report("name: N\ntable: |\n  type maps size kernel\n  conv 2 - 3\n  image 1 8x8 -\n")
    assert lines == [
        "t.yaml:5:3: error: an image row stands for 'input:', so it must be the table's "
        "first row [table]"
    ]


def test_formula_values_are_exact():
    """1999/1000 was shown as 2 ("= 2 is not whole"); 7/3 as 2.33."""
    [w] = cnnspec.loads(
        spec("{type: conv, maps: 1, kernel: 2, stride: 1000}", input="{maps: 1, size: 1001x1001}")
    ).warnings
    assert w.message.startswith("(1001 − 2 + 2·0)/1000 + 1 = 1.999 is not whole")
    [w] = cnnspec.loads(
        spec("{type: conv, maps: 1, kernel: 3, stride: 3}", input="{maps: 1, size: 7x7}")
    ).warnings
    assert w.message.startswith("(7 − 3 + 2·0)/3 + 1 = 7/3 is not whole")


def test_a_kernel_narrower_than_its_stride_skips_rows_by_design():
    """A 1×1 stride-2 projection (ResNet's downsample) reads every other row: the row its
    rounding leaves at the end is no different from the ones between its windows."""
    net = cnnspec.loads(
        spec("{type: conv, maps: 2, kernel: 1, stride: 2}", input="{maps: 3, size: 56x56}")
    )
    assert net.warnings == ()
    # a wider tail than the gap is still reported: 1×1 stride 3 on 8 reads 0, 3, 6 …
    # and 2×2 stride 3 on 9 reads 0–1, 3–4, 6–7, leaving 8: a gap of 1, a tail of 1
    net = cnnspec.loads(
        spec("{type: conv, maps: 2, kernel: 2, stride: 3}", input="{maps: 3, size: 9x9}")
    )
    assert net.warnings == ()


def test_nothing_quoted_is_not_told_to_remove_quotes():
    [line] = report(spec("{type: conv, maps: ４, kernel: 3}"))
    assert "remove the quotes" not in line
    assert line.endswith(
        "'maps': expected an integer, got the string '４' (FULLWIDTH DIGIT FOUR is not one of "
        "the digits 0–9; write '4') [type]"
    )


# --------------------------------------------------------------------------- 6. one typing rule


FOREIGN = ["３", "٣", "३"]  # full-width, Arabic-Indic, Devanagari


@pytest.mark.parametrize("digit", FOREIGN)
@pytest.mark.parametrize(
    "where",
    [
        "input size",
        "input maps",
        "conv maps",
        "conv kernel",
        "conv size",
        "conv stride",
        "pool padding",
        "repeat",
        "table cell",
    ],
)
def test_numbers_are_written_with_ascii_digits_everywhere(where, digit):
    """`size: ８x٨` and a table cell `３` were read as numbers; `maps: ４` was not."""
    d = digit
    texts = {
        "input size": spec("{type: relu}", input=f"{{maps: 3, size: {d}x{d}}}"),
        "input maps": spec("{type: relu}", input=f"{{maps: {d}, size: 5x5}}"),
        "conv maps": spec(f"{{type: conv, maps: {d}, kernel: 3}}"),
        "conv kernel": spec(f"{{type: conv, maps: 2, kernel: {d}x{d}}}"),
        "conv size": spec(f"{{type: conv, maps: 2, kernel: 3, size: {d}}}"),
        "conv stride": spec(f"{{type: conv, maps: 2, kernel: 3, stride: {d}}}"),
        "pool padding": spec(f"{{type: maxpool, kernel: 3, padding: [{d}, 1]}}"),
        "repeat": spec(f"{{type: relu, repeat: {d}}}"),
        "table cell": (
            f"name: N\ntable: |\n  type maps size kernel\n  image 3 5x5 -\n  conv {d} - 3\n"
        ),
    }
    lines = report(texts[where])
    assert len(lines) == 1, lines
    assert "is not one of the digits 0–9; write '" in lines[0], lines


@pytest.mark.parametrize(
    "row",
    [
        "{type: conv, maps: 2, kernel: 3, padding: null}",
        "{type: conv, maps: 2, kernel: 3, size: ~}",
        "{type: conv, maps: 2, kernel: 3, activation: ~}",
        "{type: conv, maps: 2, kernel: 3, name: ~}",
        "{type: maxpool, kernel: 3, maps: ~}",
        "{type: maxpool, kernel: 3, stride: null}",
        "{type: batchnorm, maps: ~}",
        "{type: fc, size: 2, activation: null}",
    ],
)
def test_null_is_an_error_for_every_key(row):
    """`padding: null` was accepted (as absent) while `maps: ~` on a conv was an error."""
    [line] = report(spec(row))
    assert "got nothing (null); to leave it unset, leave the key out" in line


def test_null_at_the_top_level_too():
    lines = report("name: N\ntitle: ~\ninput: {maps: 1, size: 4x4}\nlayers:\n  - {type: relu}\n")
    assert lines == [
        "t.yaml:2:8: error: 'title': expected a value, got nothing (null); to leave it unset, "
        "leave the key out [value]"
    ]


@pytest.mark.parametrize("p", ["-0.0", "0", "-0"])
def test_dropout_zero_is_zero(p):
    net = cnnspec.loads(spec(f"{{type: dropout, p: {p}}}"))
    value = net.nodes[0].p
    assert value == 0.0 and isinstance(value, float) and math.copysign(1.0, value) == 1.0
    assert "nn.Dropout(p=0.0)" in cnnspec.torch_source(net)


@pytest.mark.parametrize("kernel", ["3x3", "3×3", "3X3", "3*3", "' 3 x 3 '", "[3, 3]", "3"])
@pytest.mark.parametrize("padding", ["same", "SAME", "Same"])
def test_documented_spellings(kernel, padding):
    net = cnnspec.loads(spec(f"{{type: conv, maps: 2, kernel: {kernel}, padding: {padding}}}"))
    assert net.nodes[0].kernel == (3, 3) and net.nodes[0].padding_same
    docs = (ROOT / "docs" / "spec-format.md").read_text(encoding="utf-8")
    assert "`5X5`" in docs and "`5*5`" in docs and "case-insensitive" in docs


# --------------------------------------------------------------------------- 7. limits


@pytest.mark.parametrize(
    "row",
    [
        "{type: conv, maps: 2, kernel: 100000, dilation: 100000, padding: same}",
        "{type: conv, maps: 2, kernel: 100000, dilation: 100000, size: 4}",
    ],
)
def test_an_inferred_padding_obeys_the_padding_limit(row):
    """Both compiled to padding=4999950000."""
    [line] = report(spec(row, input="{maps: 1, size: 4x4}"))
    assert line.endswith(f"beyond the limit of {MAX_EXTENT:,} [too-large]")


def test_the_largest_inferred_padding_within_the_limit_compiles():
    net = cnnspec.loads(
        spec(
            "{type: conv, maps: 1, kernel: 3, dilation: 100000, padding: same}",
            input="{maps: 1, size: 1x1}",
        )
    )
    assert net.nodes[0].padding == (100_000, 100_000) and net.output_shape == (1, 1, 1)


def test_dilation_and_groups_limits_are_applied_and_documented():
    [line] = report(spec("{type: conv, maps: 2, kernel: 3, dilation: 100001}"))
    assert "beyond the limit of 100,000" in line
    [line] = report(spec("{type: conv, maps: 2, kernel: 3, groups: 1000001}"))
    assert "beyond the limit of 1,000,000" in line
    docs = (ROOT / "docs" / "spec-format.md").read_text(encoding="utf-8")
    limits = docs[docs.index("Limits (each is a diagnostic") :].split("\n\n")[0]
    assert "dilations" in limits and "`groups`" in limits and "inferred" in limits


# --------------------------------------------------------------------------- 8. the file system


def test_a_fifo_is_refused_at_once(tmp_path):
    """`cnnspec check` on a FIFO with no writer blocked forever (so does cnnspec.load):
    both run in a child process with a deadline, the cnnspec under test on its path."""
    fifo = tmp_path / "net.yaml"
    os.mkfifo(fifo)
    env = {**os.environ, "PYTHONPATH": str(Path(cnnspec.__file__).resolve().parent.parent)}

    def child(*args: str) -> subprocess.CompletedProcess:
        try:
            return subprocess.run(
                [sys.executable, *args],
                capture_output=True,
                text=True,
                timeout=30,
                env=env,
                cwd=tmp_path,
            )
        except subprocess.TimeoutExpired:
            pytest.fail(f"{args} still waits for a writer after 30 s")

    proc = child("-m", "cnnspec", "check", str(fifo))
    assert proc.returncode == 2
    assert proc.stderr == (
        f"cnnspec: error: cannot read {fifo}: it is a FIFO (named pipe), not a regular file\n"
    )
    proc = child("-c", f"import cnnspec; cnnspec.load({str(fifo)!r})")
    assert proc.returncode == 1
    assert (
        "NotARegularFile: [Errno 22] it is a FIFO (named pipe), not a regular file" in proc.stderr
    )


def test_the_same_file_twice_is_compiled_once(tmp_path, monkeypatch, capsys):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "net.yaml").write_text((ROOT / "specs" / "lenet5.yaml").read_text())
    monkeypatch.chdir(tmp_path)
    assert cli.main(["compile", "-o", "out", "a/net.yaml", "./a/net.yaml"]) == 0
    out = capsys.readouterr().out
    assert out.count("wrote") == 1
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["net.dot", "net.py", "net.svg"]
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "net.yaml").write_text("x")
    assert cli.main(["compile", "-o", "out", "a/net.yaml", "b/net.yaml"]) == 2
    assert "would both write net.*" in capsys.readouterr().err


def test_a_directory_at_an_output_path_writes_nothing(tmp_path, capsys):
    out = tmp_path / "out"
    (out / "lenet5.svg").mkdir(parents=True)
    assert cli.main(["compile", "-o", str(out), str(ROOT / "specs" / "lenet5.yaml")]) == 2
    assert f"cannot write {out / 'lenet5.svg'}: it is a directory" in capsys.readouterr().err
    assert [p.name for p in out.iterdir()] == ["lenet5.svg"]


@pytest.mark.parametrize("hard_links", [True, False], ids=["hard-links", "no-hard-links"])
def test_a_failed_write_restores_the_outputs_written_before_it(tmp_path, monkeypatch, hard_links):
    """Any I/O failure in the middle (here the third replace) leaves the old set, on a
    file system with hard links or without (the old files are then copied aside)."""
    out = tmp_path / "out"
    out.mkdir()
    (out / "lenet5.py").write_text("# old py\n")
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    (out / "lenet5.dot").symlink_to(victim)
    if not hard_links:

        def no_link(*args, **kwargs):
            raise OSError(1, "Operation not permitted")

        monkeypatch.setattr(os, "link", no_link)
    replaced = []
    real_replace = os.replace

    def failing_replace(src, dst):
        if str(src).endswith(".tmp"):
            replaced.append(dst)
            if len(replaced) == 3:
                raise OSError(28, "No space left on device")
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", failing_replace)
    assert cli.main(["compile", "-o", str(out), str(ROOT / "specs" / "lenet5.yaml")]) == 2
    assert len(replaced) == 3
    assert sorted(p.name for p in out.iterdir()) == ["lenet5.dot", "lenet5.py"]
    assert (out / "lenet5.py").read_text() == "# old py\n"
    assert (out / "lenet5.dot").readlink() == victim
    assert victim.read_text() == "precious\n"


def test_no_temporary_files_are_left_behind(tmp_path):
    out = tmp_path / "out"
    assert cli.main(["compile", "-o", str(out), str(ROOT / "specs" / "lenet5.yaml")]) == 0
    assert cli.main(["compile", "-o", str(out), str(ROOT / "specs" / "lenet5.yaml")]) == 0
    (out / "lenet5.py").write_text("# stale\n")
    assert cli.main(["compile", "-o", str(out), str(ROOT / "specs" / "lenet5.yaml")]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["lenet5.dot", "lenet5.py", "lenet5.svg"]
    assert not re.search(r"stale", (out / "lenet5.py").read_text())
