#!/usr/bin/env bash
# Run gemfinder on the shipped catalog (sets up .venv on first use).
# Usage: ./run.sh [gemfinder arguments]; with no arguments it answers an example request.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
"$root/scripts/setup_venv.sh"
export GRADIO_ANALYTICS_ENABLED=False
if [ "$#" -eq 0 ]; then
  set -- ask "best 7B model for grade-school math with an apache-2.0 license"
fi
exec "${GEMFINDER_VENV:-$root/.venv}/bin/gemfinder" "$@"
