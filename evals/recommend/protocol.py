"""Leave target out: what a recommender may see while it answers a request whose ground truth is benchmark *t*.

`hide_benchmark` returns a copy of the catalog in which no record carries a score on *t*: the ``score.t``,
``source.t`` and ``date.t`` columns are emptied, and any number a card text states next to *t*'s name (or that equals
the record's own *t* score) is replaced by ``[hidden]`` — the shipped cards are built without score values, but a
user's catalog may hold README benchmark tables. Everything a system reads is derived from that view: the
known scores it ranks by, the features and training targets of the catalog prior (fitted on the view, with *t* also
in its ``exclude``), and the retrieval texts (the vector store is re-embedded for any card the scrub changed).

The candidate universe is the set of models that have a score on *t* — membership is visible, the values are not —
so that every system ranks models whose quality the ground truth can judge. The true scores stay with the harness
(`HeldOut.truth`), which uses them only for scoring.

The confirm stage of `gemfinder` may measure candidates through the recorded response matrix of *t*, when one
exists: that is an evaluation it pays for in queries, not a catalog score.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from index.catalog import Catalog

__all__ = ["HIDDEN", "BENCHMARK_PATTERNS", "HeldOut", "hide_benchmark", "scrub_card"]

#: what replaces a hidden number in a card text.
HIDDEN = "[hidden]"

#: how each benchmark is written in model cards (case-insensitive regular expressions).
BENCHMARK_PATTERNS: dict[str, str] = {
    "arc": r"\barc(?:[ _-]?(?:c|challenge|easy|e))?\b|ai2 reasoning challenge",
    "hellaswag": r"hella[ _-]?swag",
    "mmlu": r"\bmmlu\b(?![ _-]?pro)",
    "truthfulqa": r"truthful[ _-]?qa",
    "winogrande": r"wino[ _-]?grande",
    "gsm8k": r"gsm[ _-]?8k",
    "ifeval": r"\bif[ _-]?eval\b",
    "bbh": r"\bbbh\b|big[ _-]?bench[ _-]?hard",
    "math_lvl5": r"\bmath[ _-]?(?:lvl|level)[ _-]?5\b|\bmath[ _-]?hard\b",
    "gpqa": r"\bgpqa\b",
    "musr": r"\bmusr\b",
    "mmlu_pro": r"\bmmlu[ _-]?pro\b",
    "humaneval": r"human[ _-]?eval",
    "mbpp": r"\bmbpp\b",
    "mmlu_medical": r"\bmmlu\b[^\n]{0,20}(?:medic|clinic|anatom)",
    "medqa": r"\bmed[ _-]?qa\b|\busmle\b",
}
# A score stated after the benchmark's name: a decimal number or a percentage within the next 40 characters.
# The number must stand alone: "1.71B" (a size) and "1.0general" (a repo name) are not scores.
_NUMBER = r"(?:\d{1,3}[.,]\d+|\d{1,3}\s?%|0?\.\d+)(?![\w-]|\.\w)"


def scrub_card(text: str, benchmark: str, own_score: float | None) -> str:
    """`text` with every number stated next to `benchmark`'s name, and every spelling of `own_score`, hidden.

    Args:
        text: a card text.
        benchmark: the hidden benchmark.
        own_score: the record's own score on it (points), or `None`.

    Returns:
        The text with those numbers replaced by `HIDDEN` (unchanged when there are none).

    Example:
        >>> scrub_card("GSM8K: 54.3 and MMLU 60.1", "gsm8k", None)
        'GSM8K: [hidden] and MMLU 60.1'
    """
    if not text:
        return text
    name = re.compile(rf"(?:{BENCHMARK_PATTERNS[benchmark]})[^\n\d]{{0,40}}?({_NUMBER})", re.IGNORECASE)
    out = name.sub(lambda m: m.group(0)[: m.start(1) - m.start(0)] + HIDDEN, text)
    if own_score is not None and own_score >= 10:
        # The record's own score written anywhere (a table whose header is far away). Only spellings with a
        # decimal part, standing alone: "7.1" in "TinyLlama-1.1B" or "2.0" in "apache-2.0" are not scores.
        spellings = {f"{own_score:.2f}", f"{own_score:.1f}", f"{own_score / 100:.4f}"}
        pattern = "|".join(re.escape(s) for s in sorted(spellings, key=len, reverse=True))
        out = re.sub(rf"(?<![\w.-])(?:{pattern})(?![\w-]|\.\w)", HIDDEN, out)
    return out


def hide_benchmark(catalog: Catalog, benchmark: str) -> tuple[Catalog, np.ndarray]:
    """The catalog as a recommender may see it when `benchmark` is the ground truth.

    Args:
        catalog: the full catalog.
        benchmark: the target *t*.

    Returns:
        ``(view, changed)``: the view (same rows in the same order, *t*'s score / source / date columns empty,
        card texts scrubbed by `scrub_card`) and the rows whose card text the scrub changed.
    """
    frame = catalog.frame.copy()
    truth = catalog.scores(benchmark)
    frame[f"score.{benchmark}"] = np.nan
    frame[f"source.{benchmark}"] = None
    frame[f"date.{benchmark}"] = None
    cards = frame["card_text"].fillna("").tolist()
    scrubbed = [scrub_card(text, benchmark, None if np.isnan(s) else float(s)) for text, s in zip(cards, truth)]
    changed = np.flatnonzero([a != b for a, b in zip(cards, scrubbed)])
    if changed.size:
        frame.loc[changed, "card_text"] = [scrubbed[i] for i in changed]
    return Catalog(frame, path=f"{catalog.path or '<catalog>'} without {benchmark}"), changed


@dataclass(frozen=True)
class HeldOut:
    """One target benchmark held out: the view systems see and the truth the harness keeps.

    Attributes:
        benchmark (`str`): the target *t*.
        view (`Catalog`): the catalog without any *t* score (`hide_benchmark`).
        universe (`np.ndarray`): bool per row, the model has a *t* score (the candidates every system ranks).
        truth (`np.ndarray`): the true *t* score per row (NaN where none) — scoring only, never given to a system.
        changed_cards (`np.ndarray`): rows whose card text was scrubbed.
    """

    benchmark: str
    view: Catalog
    universe: np.ndarray
    truth: np.ndarray
    changed_cards: np.ndarray

    @classmethod
    def build(cls, catalog: Catalog, benchmark: str) -> HeldOut:
        view, changed = hide_benchmark(catalog, benchmark)
        truth = catalog.scores(benchmark)
        return cls(benchmark, view, ~np.isnan(truth), truth, changed)
