"""How cnnspec's modules depend on each other: the IR at the bottom, no import cycle,
and ``check`` without the PyTorch backend's template machinery."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "cnnspec"


def _module(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """The cnnspec modules ``path`` imports when it is loaded (imports inside functions
    and under ``if TYPE_CHECKING:`` aside)."""
    module = _module(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for stmt in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(stmt, ast.ImportFrom):
            base = package.split(".")
            if stmt.level:
                base = base[: len(base) - stmt.level + 1]
                target = ".".join(base + ([stmt.module] if stmt.module else []))
            else:
                target = stmt.module or ""
            found.update(f"{target}.{a.name}" for a in stmt.names)
            found.add(target)
        elif isinstance(stmt, ast.Import):
            found.update(a.name for a in stmt.names)
    return {m for m in found if m.startswith("cnnspec")}


def _graph() -> dict[str, set[str]]:
    paths = {_module(p): p for p in PACKAGE.rglob("*.py")}
    graph = {}
    for name, path in paths.items():
        deps = set()
        for target in _imports(path):
            parts = target.split(".")
            for i in range(2, len(parts) + 1):  # a submodule loads its packages first
                prefix = ".".join(parts[:i])
                if prefix in paths and prefix != name and not name.startswith(prefix + "."):
                    deps.add(prefix)
        graph[name] = deps
    return graph


def test_the_ir_imports_nothing_above_it():
    assert _graph()["cnnspec.ir"] <= {"cnnspec.diagnostics", "cnnspec.expr"}
    assert _graph()["cnnspec.expr"] == set()


def test_no_import_cycle_when_modules_load():
    graph = _graph()
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(name: str, trail: list[str]) -> None:
        state[name] = 1
        for dep in sorted(graph.get(name, ())):
            assert state.get(dep) != 1, " → ".join([*trail, name, dep])
            if dep not in state:
                visit(dep, [*trail, name])
        state[name] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [])
    assert "cnnspec.elaborate.walker" in state and "cnnspec.backends.torch.lower" in state


def test_check_loads_no_template_machinery():
    """``check`` lowers a graph's classes (for ``[block-varies]``) without jinja2."""
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from cnnspec.cli import main; "
            "code = main(['check', 'specs/resnet50.yaml', 'specs/zoo/resnet18.yaml']); "
            "print(code, sorted(m for m in sys.modules if m == 'jinja2' or m.endswith('.render')))",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.split("\n")[-2] == "0 []"
