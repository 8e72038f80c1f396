"""Question sets for live evaluation (DESIGN "Datasets"): prompts, answer readers and graders.

``load_dataset(name)`` builds a `Dataset` by its ``--dataset`` name: ``gsm8k``, ``math500`` (final number /
``\\boxed{}``, sympy equivalence under a timeout), ``medqa``, ``medmcqa``, ``pubmedqa``, ``mmlu_medical`` (option
letters), and the generated ``arith`` (multi-step arithmetic with exactly checkable steps). The shipped files live in
``index/data/questions/`` with their NOTICE; ``load_jsonl_dataset`` reads a user's own ``{"question", "answer"}``
JSONL.

Example:
    >>> from recommender.confirm.datasets import load_dataset
    >>> ds = load_dataset("gsm8k", limit=10)
    >>> prompt = ds.prompt(ds.questions[0])            # the user message; wrap with engine.format_chat
    >>> ds.is_correct(ds.questions[0], ds.extract("... The answer is 18."))
    True
"""

from __future__ import annotations

from recommender.confirm.datasets import arith
from recommender.confirm.datasets._answers import extract_letter, extract_number, last_boxed
from recommender.confirm.datasets._equiv import math_equal, normalize_math
from recommender.confirm.datasets._loaders import DATASETS, QUESTIONS_DIR, load_dataset, load_jsonl_dataset
from recommender.confirm.datasets._types import Dataset, Question

__all__ = [
    "DATASETS",
    "QUESTIONS_DIR",
    "Dataset",
    "Question",
    "arith",
    "extract_letter",
    "extract_number",
    "last_boxed",
    "load_dataset",
    "load_jsonl_dataset",
    "math_equal",
    "normalize_math",
]
