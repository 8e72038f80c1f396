"""The closed vocabularies of gemfinder, defined once (DESIGN.md "Vocabulary").

Benchmarks are the catalog's score keys (points on a 0–100 scale); tasks are what a request asks for and map onto
benchmarks; licences are grouped so that "commercial use" can be answered. CLI choices, JSON keys, query files and
the UI all read from here.
"""

from __future__ import annotations

from typing import Literal, get_args

Benchmark_T = Literal[
    # Open LLM Leaderboard v1
    "arc", "hellaswag", "mmlu", "truthfulqa", "winogrande", "gsm8k",
    # Open LLM Leaderboard v2 (raw accuracies × 100, never the leaderboard's normalised values)
    "ifeval", "bbh", "math_lvl5", "gpqa", "musr", "mmlu_pro",
    # code (EvalPlus, ObsScaling)
    "humaneval", "mbpp",
    # medical
    "mmlu_medical", "medqa",
]
BENCHMARKS: tuple[str, ...] = get_args(Benchmark_T)

Task_T = Literal[
    "math", "reasoning", "knowledge", "instruction_following", "truthfulness",
    "science", "commonsense", "code", "medical",
]
TASKS: tuple[str, ...] = get_args(Task_T)

#: task → the benchmarks that measure it, first one primary.
TASK_BENCHMARKS: dict[str, tuple[str, ...]] = {
    "math": ("gsm8k", "math_lvl5"),
    "reasoning": ("bbh", "musr", "arc"),
    "knowledge": ("mmlu", "mmlu_pro"),
    "instruction_following": ("ifeval",),
    "truthfulness": ("truthfulqa",),
    "science": ("gpqa", "arc"),
    "commonsense": ("hellaswag", "winogrande"),
    "code": ("humaneval", "mbpp"),
    "medical": ("mmlu_medical", "medqa"),
}

#: words that name a task in model ids and cards ("coder", "meditron"), added to the lexical side of retrieval so
#: a request for "code" also finds "…-Coder-…" repos; never embedded (dense retrieval already generalises).
TASK_KEYWORDS: dict[str, tuple[str, ...]] = {
    "math": ("math", "maths", "mathematics", "mathematical", "gsm8k", "arithmetic", "metamath", "wizardmath"),
    "reasoning": ("reasoning", "reasoner", "logic", "logical", "bbh", "cot"),
    "knowledge": ("knowledge", "mmlu", "trivia", "encyclopedic"),
    "instruction_following": ("instruct", "instruction", "instructions", "ifeval", "assistant"),
    "truthfulness": ("truthful", "truthfulqa", "factual", "honest", "hallucination"),
    "science": ("science", "scientific", "physics", "chemistry", "biology", "gpqa", "stem"),
    "commonsense": ("commonsense", "hellaswag", "winogrande"),
    "code": ("code", "coder", "coding", "programming", "python", "starcoder", "codellama", "humaneval", "mbpp"),
    "medical": ("medical", "medicine", "clinical", "biomedical", "health", "meditron", "pubmed", "medqa", "doctor",
                "bio", "med"),
}

#: common spellings of a task → its machine name (lower-case keys, spaces as "_").
TASK_ALIASES: dict[str, str] = {
    **{t: t for t in TASKS},
    "math_reasoning": "math", "mathematics": "math", "maths": "math", "arithmetic": "math",
    "grade_school_math": "math", "gsm8k": "math", "competition_math": "math",
    "logic": "reasoning", "logical_reasoning": "reasoning", "general_reasoning": "reasoning",
    "world_knowledge": "knowledge", "general_knowledge": "knowledge", "qa": "knowledge", "trivia": "knowledge",
    "instruction": "instruction_following", "instructions": "instruction_following", "chat": "instruction_following",
    "following_instructions": "instruction_following", "ifeval": "instruction_following",
    "truthful": "truthfulness", "factuality": "truthfulness", "honesty": "truthfulness",
    "stem": "science", "physics": "science", "chemistry": "science", "biology": "science",
    "common_sense": "commonsense",
    "coding": "code", "programming": "code", "python": "code", "code_generation": "code",
    "medicine": "medical", "clinical": "medical", "medical_qa": "medical", "healthcare": "medical",
    "biomedical": "medical",
    # phrasings seen in requests, and benchmark names used as task names
    "math_word_problems": "math", "word_problems": "math", "math_problems": "math", "mathematical": "math",
    "math_lvl5": "math", "competition_mathematics": "math",
    "bbh": "reasoning", "musr": "reasoning", "mmlu": "knowledge", "mmlu_pro": "knowledge",
    "truthfulqa": "truthfulness", "hallucination": "truthfulness", "hallucinations": "truthfulness",
    "hallucinate": "truthfulness", "hallucinates": "truthfulness", "hallucinating": "truthfulness",
    "honest": "truthfulness", "factual": "truthfulness", "truthfully": "truthfulness",
    "scientific": "science", "science_questions": "science", "gpqa": "science",
    "hellaswag": "commonsense", "winogrande": "commonsense",
    "python_code": "code", "code_completion": "code", "software_engineering": "code", "humaneval": "code",
    "mbpp": "code", "medqa": "medical", "medical_questions": "medical", "health": "medical",
}


def normalize_task(name: str) -> str:
    """Map a task name or alias onto its machine name.

    Args:
        name: a task (``"math"``) or a common alias (``"math_reasoning"``, ``"Medical QA"``).

    Returns:
        The machine name, one of `TASKS`.

    Raises:
        UnknownTaskError: the name is neither a task nor a known alias.

    Example:
        >>> normalize_task("Math reasoning")
        'math'
    """
    from index.errors import UnknownTaskError

    key = name.strip().lower().replace("-", "_").replace(" ", "_")
    if key not in TASK_ALIASES:
        raise UnknownTaskError(name)
    return TASK_ALIASES[key]


# Licences -----------------------------------------------------------------------------------------------------

#: licences that allow commercial use without conditions beyond attribution ("commercial use" in a request).
PERMISSIVE_LICENSES: tuple[str, ...] = (
    "apache-2.0", "mit", "bsd", "bsd-2-clause", "bsd-3-clause", "bsd-3-clause-clear", "isc", "unlicense",
    "cc0-1.0", "cc-by-4.0", "cc-by-3.0", "cc-by-2.0", "cc-by-sa-4.0", "cc-by-sa-3.0", "openrail", "openrail++",
    "bigscience-openrail-m", "creativeml-openrail-m", "bigcode-openrail-m", "ecl-2.0", "zlib", "bsl-1.0",
    "postgresql", "artistic-2.0", "wtfpl", "mpl-2.0", "afl-3.0", "osl-3.0", "pddl", "odc-by", "lgpl-3.0",
    "lgpl-2.1", "gpl-3.0", "gpl-2.0", "agpl-3.0",
)

#: every licence identifier the catalog knows (Hub licence ids); a request naming another one is an error.
KNOWN_LICENSES: tuple[str, ...] = PERMISSIVE_LICENSES + (
    "llama2", "llama3", "llama3.1", "llama3.2", "llama3.3", "llama4", "gemma", "other", "cc-by-nc-4.0",
    "cc-by-nc-sa-4.0", "cc-by-nc-nd-4.0", "cc-by-nc-3.0", "cc-by-nc-sa-3.0", "cc-by-nc-2.0", "cc-by-nd-4.0",
    "deepseek", "apple-ascl", "c-uda", "cc", "bigscience-bloom-rail-1.0", "openrail-m", "fair-noncommercial-research-license",
    "intel-research", "qwen", "tongyi-qianwen", "yi-license", "falcon", "mistral", "mnpl", "afl-3.0", "ms-pl",
    "gfdl", "lgpl-lr", "h-research", "apple-amlr", "health-ai-developer-foundations", "unknown",
    # spelled this way by the shipped catalog's sources (LocalAI gallery, leaderboards)
    "falcon-llm-license", "falcon-llm", "lfm1.0", "nvidia-open-model-license", "inf", "eva-llama3.3",
    "krutrim-community-license-agreement-version-1.0", "kwaipilot-license", "gpl", "tencent-hunyuan-community",
    "openmdw-1.1", "modified-mit", "deepseek-license", "iquestcoder", "webai-non-commercial-license-ver.-1.0",
)

Source_T = Literal[
    "open_llm_leaderboard_v1", "open_llm_leaderboard_v2", "helm_lite", "helm_mmlu", "evalplus", "obsscaling",
    "sloth_mmlu_subjects", "localai_gallery", "hugginggpt", "docker_model_cards", "hf_model_info_2023",
    "model_atlas", "litellm", "metabench_v1_scrape", "hub",
]

#: how a card text came to be (catalog column ``card_source``).
CardSource_T = Literal["localai_gallery", "hugginggpt", "docker_model_cards", "hub", "composed"]


#: common spellings of licences (lower-case, as typed) → the Hub licence ids they stand for; a spelling that names a
#: licence family ("gpl", "llama") stands for all its versions. Spellings that differ from a `KNOWN_LICENSES` id only
#: in spaces, dots, hyphens or filler words ("apache 2.0 license", "Llama 3.1 Community License") need no entry.
LICENSE_ALIASES: dict[str, tuple[str, ...]] = {
    "apache": ("apache-2.0",), "apache2": ("apache-2.0",), "apache 2": ("apache-2.0",), "apache v2": ("apache-2.0",),
    "bsd": ("bsd", "bsd-2-clause", "bsd-3-clause", "bsd-3-clause-clear"),
    "gpl": ("gpl-2.0", "gpl-3.0"), "gplv2": ("gpl-2.0",), "gplv3": ("gpl-3.0",),
    "lgpl": ("lgpl-2.1", "lgpl-3.0"), "agpl": ("agpl-3.0",), "agplv3": ("agpl-3.0",),
    "mpl": ("mpl-2.0",), "mozilla": ("mpl-2.0",), "boost": ("bsl-1.0",),
    "cc0": ("cc0-1.0",), "public domain": ("cc0-1.0", "unlicense", "pddl"),
    "cc by": ("cc-by-2.0", "cc-by-3.0", "cc-by-4.0"), "cc by sa": ("cc-by-sa-3.0", "cc-by-sa-4.0"),
    "cc by nc": ("cc-by-nc-2.0", "cc-by-nc-3.0", "cc-by-nc-4.0"),
    "cc by nc sa": ("cc-by-nc-sa-3.0", "cc-by-nc-sa-4.0"),
    "cc by nc nd": ("cc-by-nc-nd-4.0",), "cc by nd": ("cc-by-nd-4.0",),
    "llama": ("llama2", "llama3", "llama3.1", "llama3.2", "llama3.3", "llama4"),
    "qwen": ("qwen", "tongyi-qianwen"), "qianwen": ("tongyi-qianwen",), "yi": ("yi-license",),
    "mistral non-production": ("mnpl",), "bloom rail": ("bigscience-bloom-rail-1.0",),
}
