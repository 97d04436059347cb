#!/usr/bin/env bash
# The main job: check the seed specs and compile them into generated/
# (<stem>.py, <stem>.dot, <stem>.svg). Sets up ./.venv first if needed.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh light
.venv/bin/cnnspec compile specs/*.yaml "$@"
