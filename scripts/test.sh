#!/usr/bin/env bash
# The test suite, with everything it needs installed first (torch CPU, Graphviz, …).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh dev
.venv/bin/ruff check cnnspec tests bench tools
.venv/bin/ruff format --check cnnspec tests bench tools
.venv/bin/mypy
.venv/bin/python -m pytest "$@"
