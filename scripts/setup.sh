#!/usr/bin/env bash
# Make a working set-up in ./.venv, on a fresh machine too.
#   scripts/setup.sh        the light install: cnnspec and its four runtime packages (no torch)
#   scripts/setup.sh dev    everything the tests need: torch (CPU, pinned), torchinfo, pytest, …
# Also installs Graphviz's `dot` through apt-get where it is missing and that is possible.
set -euo pipefail
cd "$(dirname "$0")/.."
mode="${1:-light}"

if ! command -v dot >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    echo "setup: installing Graphviz (apt-get)" >&2
    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq graphviz >/dev/null
  elif command -v apt-get >/dev/null 2>&1 && command -v sudo >/dev/null 2>&1; then
    echo "setup: installing Graphviz (sudo apt-get)" >&2
    sudo apt-get update -qq >/dev/null && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq graphviz >/dev/null
  else
    echo "setup: warning: Graphviz's dot is not installed; diagrams will be written as .dot only" >&2
    echo "setup: install it with your package manager (apt-get install graphviz, brew install graphviz)" >&2
  fi
fi

if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
export PIP_DISABLE_PIP_VERSION_CHECK=1
if [ "$mode" = dev ]; then
  .venv/bin/pip install -q -c constraints.txt -e ".[dev]"
else
  .venv/bin/pip install -q -e .
fi
.venv/bin/python -c "import cnnspec" # fails loudly if the install did not happen
