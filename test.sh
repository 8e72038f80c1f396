#!/usr/bin/env bash
# Run the test suite (sets up .venv with the dev extra on first use). Extra arguments go to pytest.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
"$root/scripts/setup_venv.sh" dev
export GRADIO_ANALYTICS_ENABLED=False
cd "$root"
exec "${GEMFINDER_VENV:-$root/.venv}/bin/python" -m pytest -q "$@"
