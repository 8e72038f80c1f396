"""Base-family inference from a model's id, architecture, base model and size (DESIGN "Families").

A family is a lowercase base-family name (``llama-3.1``, ``mistral``, ``qwen2.5``, ``gemma-2`` …); a family filter
matches by prefix, so ``llama`` also matches ``llama-2``. Evidence is weighed in this order:

1. a *versioned* name token (``Llama-3.1``, ``qwen2.5``, ``gemma-2-9b``) or a distinctive family word (``Mistral``,
   ``Yi``, ``SOLAR``) — when the architecture fixes a family, only tokens of that family's lineage count;
2. the family of the base model (lineage), which refines an unversioned name or an architecture;
3. an architecture that belongs to one family (``Gemma2ForCausalLM`` → ``gemma-2``), refined by size where one
   class serves several generations (``PhiForCausalLM``);
4. an unversioned name token (``llama``, ``qwen``, ``gemma``).

``LlamaForCausalLM`` alone says nothing: Llama-1, Llama-2, Llama-3, Yi, SOLAR and many others share it, so such a
model without name or lineage evidence gets `None` ("not known", never a guess).
"""

from __future__ import annotations

import re

__all__ = ["infer_family", "family_root"]

# Name tokens ----------------------------------------------------------------------------------------------------

# Start of a token: not preceded by a letter or digit, so "dolphin" does not read as "phi" nor "grayi" as "yi".
_B = r"(?<![a-z0-9])"
# A version digit must not continue as a size ("gemma-2b" is Gemma 1 at 2B, "llama-30b" is Llama 1 at 30B).
_NOT_SIZE = r"(?![._]?\d|b\b|b[-_])"

#: (pattern, family, strong). Strong tokens name a generation or a distinctive family; weak ones (bare "llama",
#: "qwen", "gemma", "phi") name only a lineage and yield to lineage or architecture evidence.
_NAME_PATTERNS: tuple[tuple[str, str, bool], ...] = (
    (_B + r"(?:meta[-_])?llama[-_ ]?4" + _NOT_SIZE, "llama-4", True),
    (_B + r"llama[-_ ]?3[._]3", "llama-3.3", True),
    (_B + r"llama[-_ ]?3[._]2", "llama-3.2", True),
    (_B + r"llama[-_ ]?3[._]1", "llama-3.1", True),
    (_B + r"llama[-_ ]?3" + _NOT_SIZE, "llama-3", True),
    (_B + r"llama[-_ ]?2" + _NOT_SIZE, "llama-2", True),
    # Code Llama was trained from Llama 2.
    (_B + r"code[-_]?llama", "llama-2", True),
    (_B + r"tiny[-_]?llama", "tinyllama", True),
    (_B + r"open[-_]?llama", "open-llama", True),
    (_B + r"llama", "llama", False),
    (_B + r"mixtral", "mixtral", True),
    (_B + r"(?:mistral|ministral|magistral|devstral)", "mistral", True),
    (_B + r"qwen[-_]?3" + _NOT_SIZE, "qwen3", True),
    (_B + r"qwen[-_]?2[._]5", "qwen2.5", True),
    # QwQ-32B was trained from Qwen2.5-32B.
    (_B + r"qwq", "qwen2.5", True),
    (_B + r"qwen[-_]?2" + _NOT_SIZE, "qwen2", True),
    (_B + r"qwen[-_]?1[._]5", "qwen1.5", True),
    (_B + r"qwen", "qwen", False),
    (_B + r"gemma[-_]?3" + r"(?![._]?\d|b\b|b[-_])", "gemma-3", True),
    (_B + r"gemma[-_]?2" + _NOT_SIZE, "gemma-2", True),
    (_B + r"codegemma", "gemma", True),
    (_B + r"gemma", "gemma", False),
    (_B + r"phi[-_]?4", "phi-4", True),
    (_B + r"phi[-_]?3", "phi-3", True),
    (_B + r"phi[-_]?2(?!\d)", "phi-2", True),
    (_B + r"phi[-_]?1", "phi", True),
    (_B + r"phi(?![a-z])", "phi", False),
    (_B + r"yi(?![a-z0-9])", "yi", True),
    (_B + r"solar(?![a-z])", "solar", True),
    (_B + r"falcon", "falcon", True),
    (_B + r"pythia", "pythia", True),
    (_B + r"stablelm", "stablelm", True),
    (_B + r"deepseek", "deepseek", True),
    (_B + r"internlm", "internlm", True),
    (_B + r"baichuan", "baichuan", True),
    (_B + r"chatglm", "chatglm", True),
    (_B + r"starcoder", "starcoder", True),
    (_B + r"olmo(?![a-z])", "olmo", True),
    (_B + r"smollm", "smollm", True),
    (_B + r"granite", "granite", True),
    (_B + r"gpt[-_]?oss", "gpt-oss", True),
    (_B + r"mpt[-_]\d", "mpt", True),
    (_B + r"bloomz?(?![a-z])", "bloom", True),
    (_B + r"opt[-_]\d", "opt", True),
    # "distilgpt2" and "dialogpt2" carry gpt2 inside a word, hence no token start here.
    (r"gpt[-_]?2(?!\d)", "gpt2", True),
    (_B + r"gpt[-_]?j(?![a-z])", "gpt-j", True),
    (_B + r"gpt[-_]?neox", "gpt-neox", True),
    (_B + r"gpt[-_]?neo(?!x)", "gpt-neo", True),
)
_COMPILED = tuple((re.compile(p), fam, strong) for p, fam, strong in _NAME_PATTERNS)

# Architectures --------------------------------------------------------------------------------------------------

#: transformers classes that belong to one family. LlamaForCausalLM is absent on purpose (see module docstring).
_ARCH_FAMILY: dict[str, str] = {
    "MistralForCausalLM": "mistral",
    "MixtralForCausalLM": "mixtral",
    "Qwen2ForCausalLM": "qwen2",
    "Qwen2MoeForCausalLM": "qwen2",
    "Qwen3ForCausalLM": "qwen3",
    "Qwen3MoeForCausalLM": "qwen3",
    "QWenLMHeadModel": "qwen",
    "GemmaForCausalLM": "gemma",
    "Gemma2ForCausalLM": "gemma-2",
    "Gemma3ForCausalLM": "gemma-3",
    "Gemma3ForConditionalGeneration": "gemma-3",
    "Phi3ForCausalLM": "phi-3",
    "FalconForCausalLM": "falcon",
    "RWForCausalLM": "falcon",
    "GPTNeoXForCausalLM": "gpt-neox",
    "GPT2LMHeadModel": "gpt2",
    "GPTJForCausalLM": "gpt-j",
    "GPTNeoForCausalLM": "gpt-neo",
    "OPTForCausalLM": "opt",
    "BloomForCausalLM": "bloom",
    "MPTForCausalLM": "mpt",
    "StableLmForCausalLM": "stablelm",
    "StableLMEpochForCausalLM": "stablelm",
    "InternLMForCausalLM": "internlm",
    "InternLM2ForCausalLM": "internlm",
    "DeepseekV2ForCausalLM": "deepseek",
    "DeepseekV3ForCausalLM": "deepseek",
    "BaichuanForCausalLM": "baichuan",
    "ChatGLMModel": "chatglm",
    "GPTBigCodeForCausalLM": "starcoder",
    "OlmoForCausalLM": "olmo",
    "Llama4ForConditionalGeneration": "llama-4",
}

# GPT-NeoX also carries Pythia and the first StableLM; their names say which.
_NEOX_LINEAGES = ("pythia", "stablelm")


def family_root(family: str) -> str:
    """The lineage part of a family name (``"qwen2.5"`` → ``"qwen"``, ``"llama-3.1"`` → ``"llama"``).

    Args:
        family: a family name.

    Returns:
        Its leading letters.

    Example:
        >>> family_root("gemma-2")
        'gemma'
    """
    match = re.match(r"[a-z]+", family)
    return match.group(0) if match else family


def _name_families(name: str) -> list[tuple[str, bool]]:
    """Families named in `name`, in order of appearance, each with its strength."""
    if "distill" in name:
        # "DeepSeek-R1-Distill-Qwen-7B" is a Qwen model taught by DeepSeek-R1: the teacher is not the family.
        name = name.replace("deepseek", "")
    found: list[tuple[int, str, bool]] = []
    taken: set[int] = set()
    for pattern, family, strong in _COMPILED:
        for match in pattern.finditer(name):
            if match.start() in taken:
                continue  # a more specific pattern already claimed this token ("llama-3.1" before "llama")
            taken.add(match.start())
            found.append((match.start(), family, strong))
    return [(family, strong) for _, family, strong in sorted(found)]


def _arch_family(architecture: str | None, name_families: list[tuple[str, bool]], params_b: float | None) -> str | None:
    """The family fixed by the architecture class, or `None` when the class is shared or unknown."""
    if not architecture:
        return None
    if architecture == "PhiForCausalLM":
        # One class for Phi-1, Phi-1.5 (1.4B) and Phi-2 (2.7B): the size tells them apart.
        if params_b is None:
            return None
        return "phi-2" if 2.0 <= params_b <= 3.5 else "phi" if params_b < 2.0 else None
    family = _ARCH_FAMILY.get(architecture)
    if family == "gpt-neox":
        for named, _ in name_families:
            if named in _NEOX_LINEAGES:
                return named
    return family


def infer_family(
    model_id: str,
    *,
    architecture: str | None = None,
    base_model: str | None = None,
    params_b: float | None = None,
) -> str | None:
    """Infer the lowercase base family of a model.

    Args:
        model_id: Hugging Face id (``"NousResearch/Nous-Hermes-2-Yi-34B"``); only the name part is read.
        architecture: transformers class name (``"Qwen2ForCausalLM"``), when known.
        base_model: the id it was fine-tuned / merged / quantised from, when known; its own name is read too.
        params_b: parameter count in billions, when known (separates Phi-1.5 from Phi-2).

    Returns:
        The family (``"llama-3.1"``, ``"mistral"``, ``"qwen2.5"`` …), or `None` when the evidence does not decide.

    Example:
        >>> infer_family("unsloth/Qwen2.5-7B-Instruct", architecture="Qwen2ForCausalLM")
        'qwen2.5'
        >>> infer_family("some-org/my-merge-7b", architecture="MistralForCausalLM")
        'mistral'
        >>> infer_family("some-org/my-finetune", architecture="LlamaForCausalLM") is None
        True
    """
    name = model_id.rsplit("/", 1)[-1].lower()
    named = _name_families(name)
    base = None
    if base_model and base_model.lower() != model_id.lower():
        base = infer_family(base_model, params_b=params_b)
    arch = _arch_family(architecture, named, params_b)

    if arch is not None:
        # The class fixes the lineage; a name token or the base model may only say which generation of it.
        root = family_root(arch)
        for family, strong in named:
            if strong and family_root(family) == root:
                return family
        if base is not None and family_root(base) == root:
            return base
        return arch
    strong = [family for family, is_strong in named if is_strong]
    if strong:
        return strong[0]
    if base is not None:
        return base
    weak = [family for family, _ in named]
    return weak[0] if weak else None
