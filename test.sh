#!/usr/bin/env bash
# Run the test suite (sets up .venv with the dev extra on first use). Extra arguments go to pytest.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
"$root/scripts/setup_venv.sh" dev
"$root/scripts/setup_vllm.sh"  # .venv-vllm for tests/test_vllm_engine.py (GEMFINDER_NO_VLLM=1 skips it)
export GRADIO_ANALYTICS_ENABLED=False
cd "$root"
exec "${GEMFINDER_VENV:-$root/.venv}/bin/python" -m pytest -q "$@"
