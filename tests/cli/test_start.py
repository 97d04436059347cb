"""The command's start: ``import cnnspec`` imports nothing of the compiler, and a Ctrl-C
while the command's modules are being imported ends it with exit 130 and one line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


def _python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], env=ENV, capture_output=True, text=True)


def test_import_cnnspec_imports_only_the_package():
    done = _python(
        "import sys; import cnnspec; "
        "print(sorted(m for m in sys.modules if m.startswith('cnnspec')), "
        "'typing' in sys.modules and sys.modules['typing'].__name__)"
    )
    assert done.stdout.split(" ")[0] == "['cnnspec']", done
    import cnnspec

    assert cnnspec.SpecError.__module__ == "cnnspec.diagnostics"  # imported on first use
    assert callable(cnnspec.loads) and cnnspec.Network.__name__ == "Network"


def test_a_ctrl_c_while_importing_the_command_is_one_line():
    """A finder that raises KeyboardInterrupt when cnnspec.cli is imported stands for
    the signal arriving then."""
    done = _python(
        "import sys\n"
        "class Interrupt:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'cnnspec.cli':\n"
        "            raise KeyboardInterrupt\n"
        "sys.meta_path.insert(0, Interrupt())\n"
        "from cnnspec.__main__ import main\n"
        "main()\n"
    )
    assert (done.returncode, done.stderr, done.stdout) == (
        130,
        "cnnspec: interrupted by SIGINT\n",
        "",
    )
