"""Record everything cnnspec says about a corpus of specs, to prove a change changes nothing.

    python tools/snapshot.py OUT_DIR [--random N]
    diff -r BEFORE_DIR AFTER_DIR

For every spec in ``specs/**``, ``tests/bad/**`` and N random chain and N random graph
specs drawn (deterministically) from the test suite's own generators, one text file
holds what ``cnnspec check`` prints, and for a spec that checks: the summaries
(text, ``--depth 1``, markdown, json), the generated source and the DOT text of the
diagram (folded, expanded and collapsed). A restructure is proven when two snapshots
taken before and after it are identical (``diff -r``).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import random
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
# the generators: tests/corpus/test_oracle.py (chains), test_graph_property.py (graphs)
sys.path.insert(0, str(ROOT / "tests" / "corpus"))

import cnnspec  # noqa: E402
from cnnspec.cli import main  # noqa: E402


def _cli(argv: list[str]) -> str:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as exc:  # argparse
            code = exc.code if isinstance(exc.code, int) else 2
    return f"$ cnnspec {' '.join(argv)}\n[exit {code}]\n{out.getvalue()}{err.getvalue()}"


def record(path: str) -> str:
    parts = [_cli(["check", path])]
    try:
        net = cnnspec.load(path)
    except cnnspec.SpecError:
        return "".join(parts)
    except Exception as exc:  # a crash is part of the record too
        return "".join(parts) + f"[load raised {type(exc).__name__}: {exc}]\n"
    for argv in (
        ["summary", path],
        ["summary", "--depth", "1", path],
        ["summary", "--format", "markdown", path],
        ["summary", "--format", "json", path],
    ):
        parts.append(_cli(argv))
    for what, make in (
        ("source", lambda: cnnspec.torch_source(net)),
        ("dot", lambda: cnnspec.diagram(net).source),
        ("dot --expand", lambda: cnnspec.diagram(net, expand=True).source),
        ("dot --collapse", lambda: cnnspec.diagram(net, collapse=True).source),
    ):
        try:
            text = make()
        except Exception as exc:
            text = f"[raised {type(exc).__name__}: {exc}]\n"
        parts.append(f"--- {what}\n{text}")
    return "".join(parts)


def random_chain_specs(n: int) -> list[str]:
    import test_oracle

    texts = []
    for i in range(n):
        rng = random.Random(f"snapshot-{i}")
        twin = test_oracle.draw(rng)
        texts.append(test_oracle.render(rng, twin))
    return texts


def random_graph_specs(n: int) -> list[str]:
    import test_graph_property
    from hypothesis import HealthCheck, given, settings

    texts: list[str] = []

    @settings(
        max_examples=n,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(test_graph_property.graph_specs())
    def collect(text: str) -> None:
        texts.append(text)

    collect()
    return texts


def main_(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out")
    parser.add_argument("--random", type=int, default=1000, help="random specs of each kind")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    os.chdir(ROOT)
    specs = sorted(str(p) for p in Path("specs").rglob("*.yaml"))
    specs += sorted(str(p) for p in Path("tests/bad").rglob("*.yaml"))
    for path in specs:
        (out / (path.replace("/", "__") + ".txt")).write_text(record(path))
    with tempfile.TemporaryDirectory() as tmp:
        os.chdir(tmp)
        for kind, texts in (
            ("chain", random_chain_specs(args.random)),
            ("graph", random_graph_specs(args.random)),
        ):
            for i, text in enumerate(texts):
                name = f"{kind}{i:05d}.yaml"
                Path(name).write_text(text)
                (out / f"random__{name}.txt").write_text(text + "\n" + record(name))
        os.chdir(ROOT)
    print(f"{len(list(out.iterdir()))} records in {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main_())
