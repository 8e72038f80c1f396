#!/usr/bin/env bash
# Create or update the project's virtual environment (.venv) idempotently.
# Usage: scripts/setup_venv.sh [EXTRAS]   e.g. scripts/setup_venv.sh dev
# torch is installed first and pinned (constraints.txt) so that no dependency pulls a CUDA build: on a machine
# whose pip sees the CPU wheel this takes it; elsewhere set GEMFINDER_TORCH_INDEX=https://download.pytorch.org/whl/cpu.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
extras="${1:-}"
venv="${GEMFINDER_VENV:-$root/.venv}"
py="${PYTHON:-python3}"
[ -x "$venv/bin/python" ] || "$py" -m venv "$venv"
stamp="$venv/.gemfinder-installed${extras:+-$extras}"
want="$(cat "$root/pyproject.toml" "$root/constraints.txt" | sha256sum | cut -d' ' -f1)"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi
echo "gemfinder: installing into $venv (first run only; ~2 min) ..." >&2
pip_() { "$venv/bin/python" -m pip install --disable-pip-version-check -q "$@"; }
if [ -n "${GEMFINDER_TORCH_INDEX:-}" ]; then
  pip_ --index-url "$GEMFINDER_TORCH_INDEX" torch==2.13.0
else
  pip_ torch==2.13.0
fi
pip_ -c "$root/constraints.txt" -e "$root${extras:+[$extras]}"
echo "$want" > "$stamp"
