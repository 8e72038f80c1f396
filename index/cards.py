"""Card texts for the catalog: real cards cleaned of score values, or a card composed from metadata.

The card text is what gets embedded, so it must never carry benchmark score values (DESIGN "Contracts"): offline
evaluation hides one benchmark's scores, and a card that said "MMLU 61.8" would leak them back into retrieval.
`scrub_scores` removes every table row, line and sentence that puts a benchmark or score word next to a number;
`clean_card` also strips front matter, markup and evaluation sections and trims to the first useful paragraphs;
`compose_card_text` writes a short description from what the catalog knows when no real card exists.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

__all__ = ["MAX_CARD_CHARS", "clean_card", "compose_card_text", "scrub_scores"]

#: card texts are trimmed to about this many characters so that embedding the whole catalog stays fast.
MAX_CARD_CHARS = 2000

# Score detection ------------------------------------------------------------------------------------------------

#: benchmark names as cards spell them, plus the words that introduce a score. Matching is case-insensitive and
#: deliberately broad: dropping a harmless sentence costs little, leaving a score value breaks the contract.
_SCORE_WORDS = (
    r"arc(?:[-_ ]?[ce]|[-_ ]challenge|[-_ ]easy)?", r"ai2", r"hella[-_ ]?swag", r"mmlu(?:[-_ ]?pro)?", r"cmmlu",
    r"truthful[-_ ]?qa", r"wino[-_ ]?grande", r"gsm[-_ ]?8k", r"gsm", r"if[-_ ]?eval", r"bbh", r"big[-_ ]?bench",
    r"math(?:[-_ ]?500)?", r"gpqa", r"musr", r"human[-_ ]?eval\+?", r"mbpp\+?", r"evalplus", r"med[-_ ]?qa",
    r"medmcqa", r"pubmedqa", r"mt[-_ ]?bench", r"alpaca[-_ ]?eval", r"agi[-_ ]?eval", r"c[-_ ]?eval", r"drop",
    r"trivia[-_ ]?qa", r"natural[-_ ]?questions", r"boolq", r"piqa", r"siqa", r"openbook[-_ ]?qa", r"lambada",
    r"squad", r"aime", r"livecodebench", r"swe[-_ ]?bench", r"arena(?:[-_ ]?hard)?", r"lmsys", r"helm",
    r"open[-_ ]?llm[-_ ]?leaderboard", r"leaderboard", r"benchmarks?", r"accuracy", r"acc(?:_norm)?", r"scores?",
    r"scored", r"pass@\d+", r"exact[-_ ]?match", r"f1", r"rouge(?:-\w+)?", r"bleu", r"win[-_ ]?rate", r"elo",
    r"average", r"avg", r"perplexity", r"\d+[-_ ]?shot", r"zero[-_ ]?shot", r"few[-_ ]?shot", r"results?",
    r"evaluations?", r"eval", r"metrics?", r"performance", r"outperforms?", r"sota", r"state[-_ ]of[-_ ]the[-_ ]art",
)
_SCORE_WORD = re.compile(r"(?<![a-z0-9])(?:" + "|".join(_SCORE_WORDS) + r")(?![a-z])", re.IGNORECASE)
# A standalone number: not glued to letters ("7B", "v0.1", "GPT4" are names, not values).
_NUMBER = re.compile(r"(?<![\w.])\d+(?:[.,]\d+)?\s*%?(?![\w])")
# A value that only a measurement writes: a decimal fraction or a percentage.
_MEASURE = re.compile(r"(?<![\w.])\d+[.,]\d+(?![\w.])|\d\s*%")
_TABLE_ROW = re.compile(r"^\s*\|.*\|\s*$|<t[dh][ >]", re.IGNORECASE)
_SENTENCE_END = re.compile(r"(?<=[.!?;])\s+(?=[A-Z(*\[])")


def _is_scored(text: str) -> bool:
    """True when `text` puts a benchmark or score word together with a number."""
    return bool(_SCORE_WORD.search(text)) and bool(_NUMBER.search(text))


def _scrub_tables(lines: list[str]) -> list[str]:
    """Drop the rows of result tables: any table that names a benchmark or metric loses its rows with numbers."""
    out: list[str] = []
    i = 0
    while i < len(lines):
        if not _TABLE_ROW.search(lines[i]):
            out.append(lines[i])
            i += 1
            continue
        j = i
        while j < len(lines) and _TABLE_ROW.search(lines[j]):
            j += 1
        block = lines[i:j]
        scored_table = any(_SCORE_WORD.search(row) for row in block)
        out.extend(
            row for row in block
            if not _MEASURE.search(row) and not (scored_table and _NUMBER.search(row))
        )
        i = j
    return out


def _scrub_line(line: str) -> str:
    """Drop the sentences of `line` that carry a score; a line of bare values disappears."""
    if re.match(r"^\s*-?\s*value\s*:", line, re.IGNORECASE):
        return ""  # model-index YAML: the value's benchmark is named on another line
    if not _NUMBER.search(line):
        return line
    kept = [s for s in _SENTENCE_END.split(line) if not _is_scored(s) and not _is_measure_only(s)]
    return " ".join(kept)


def _is_measure_only(sentence: str) -> bool:
    """A fragment made mostly of measured values (e.g. ``"61.8 / 72.3 / 55.0"``) is a score even without words."""
    measures = _MEASURE.findall(sentence)
    words = re.findall(r"[A-Za-z]{3,}", sentence)
    return len(measures) >= 2 and len(measures) >= len(words)


def scrub_scores(text: str) -> str:
    """Remove benchmark score values from real card text.

    Table rows of result tables, lines and sentences that mention a benchmark or a score word (``accuracy``,
    ``score``, ``pass@1``, ``5-shot`` …) together with a number, model-index ``value:`` lines and runs of bare
    measured values are dropped; everything else is kept as written.

    Args:
        text: card text (markdown or plain).

    Returns:
        The text without score values; blank-line runs collapsed.

    Example:
        >>> scrub_scores("A 7B chat model. It reaches 61.8 on MMLU (5-shot). Apache-2.0.")
        'A 7B chat model. Apache-2.0.'
    """
    lines = _scrub_tables(text.splitlines())
    scrubbed = [_scrub_line(line) for line in lines]
    out = "\n".join(line.rstrip() for line in scrubbed)
    return re.sub(r"\n{3,}", "\n\n", out).strip()


# Cleaning real cards --------------------------------------------------------------------------------------------

# Sections about evaluation hold little besides scores, and sections on running, citing or navigating the model
# say nothing about what it is for: they go whole, heading included, so the length budget goes to the description.
_EVAL_HEADING = re.compile(
    r"^#{1,6}\s*.*(evaluat|benchmark|result|performance|leaderboard|score|metric|comparison|table of contents|"
    r"usage|how to use|use this|quick ?start|getting started|install|running|inference|citation|cite|links|"
    r"environmental|contact|acknowledg|prompt (format|template)|model variants)",
    re.IGNORECASE,
)
_HEADING = re.compile(r"^(#{1,6})\s")


def _drop_eval_sections(lines: list[str]) -> list[str]:
    """Remove each markdown section whose heading is about evaluation, down to the next heading of its level."""
    out: list[str] = []
    skip_level = 0
    for line in lines:
        heading = _HEADING.match(line)
        if heading and skip_level and len(heading.group(1)) <= skip_level:
            skip_level = 0
        if skip_level:
            continue
        if heading and _EVAL_HEADING.match(line):
            skip_level = len(heading.group(1))
            continue
        out.append(line)
    return out


def _strip_markup(text: str) -> str:
    """Remove YAML front matter, code blocks, HTML, images and badge links that carry no description."""
    text = re.sub(r"\A\s*---\n.*?\n---\s*\n", "", text, flags=re.DOTALL)
    text = re.sub(r"```.*?(```|\Z)", "", text, flags=re.DOTALL)
    text = re.sub(r"<!--.*?-->", "", text, flags=re.DOTALL)
    text = re.sub(r"!\[[^\]]*\]\([^)]*\)", "", text)
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    text = re.sub(r"<(?!t[dhr][ >]|/t[dhr]>)[^>]+>", " ", text)
    text = re.sub(r"(?im)^\s*click to expand\s*$", "", text)
    return text


def _trim(text: str, max_chars: int) -> str:
    """Keep whole paragraphs up to `max_chars`; cut the first one at a sentence if it alone is too long."""
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]
    out: list[str] = []
    size = 0
    for paragraph in paragraphs:
        if size + len(paragraph) > max_chars:
            if not out:
                cut = paragraph[:max_chars]
                end = max(cut.rfind(". "), cut.rfind("\n"))
                out.append(cut[: end + 1] if end > max_chars // 3 else cut)
            break
        out.append(paragraph)
        size += len(paragraph) + 2
    return "\n\n".join(out)


def clean_card(text: str, *, max_chars: int = MAX_CARD_CHARS) -> str:
    """Turn a real model card into embeddable text: no markup, no evaluation sections, no score values, short.

    Args:
        text: the card (markdown README body, gallery description …).
        max_chars: upper bound on the result's length.

    Returns:
        The cleaned card (may be empty when nothing useful remains).

    Example:
        >>> clean_card("---\\nlicense: mit\\n---\\n# Foo\\nA small model.\\n## Evaluation\\n| MMLU | 50.1 |")
        '# Foo\\nA small model.'
    """
    lines = _strip_markup(text).splitlines()
    lines = _drop_eval_sections(lines)
    scrubbed = scrub_scores("\n".join(lines))
    # Scrubbing runs before trimming so that the budget is spent on text that stays.
    return _trim(scrubbed, max_chars)


# Composed cards -------------------------------------------------------------------------------------------------


def _size_phrase(params_b: float | None) -> str | None:
    if params_b is None:
        return None
    if params_b < 1:
        return f"{params_b * 1000:.0f}M-parameter"
    return f"{params_b:.3g}B-parameter"


def compose_card_text(
    model_id: str,
    *,
    family: str | None = None,
    architecture: str | None = None,
    params_b: float | None = None,
    instruct: bool | None = None,
    base_model: str | None = None,
    merged: bool | None = None,
    license: str | None = None,
    pipeline_tag: str | None = None,
    tags: Iterable[str] = (),
    context_window: int | None = None,
) -> str:
    """Write a short description of a model from its metadata (used when no real card exists).

    Args:
        model_id: Hugging Face id.
        family: base family (``"mistral"``), when known.
        architecture: transformers class name, when known.
        params_b: parameter count in billions, when known.
        instruct: instruction-tuned (`True`), base (`False`) or unknown (`None`).
        base_model: the id it derives from, when known.
        merged: a merge of other models, when known.
        license: Hub licence id, when known.
        pipeline_tag: Hub pipeline tag, when known.
        tags: Hub or gallery tags (a few are mentioned).
        context_window: maximum context in tokens, when known.

    Returns:
        A few plain sentences; never any score.

    Example:
        >>> compose_card_text("org/m-7b", family="mistral", params_b=7.24, instruct=True, license="apache-2.0")
        'm-7b by org. A 7.24B-parameter instruction-tuned chat model of the mistral family. License: apache-2.0.'
    """
    author, _, name = model_id.rpartition("/")
    parts = [f"{name} by {author}." if author else f"{name}."]
    kind = {True: "instruction-tuned chat model", False: "base (pretrained) model"}.get(instruct, "language model")
    if merged:
        kind = f"merged {kind}"
    size = _size_phrase(params_b)
    desc = f"A {size} {kind}" if size else f"A {kind}"
    if family:
        desc += f" of the {family} family"
    parts.append(desc + ".")
    if architecture:
        parts.append(f"Architecture: {architecture}.")
    if base_model:
        parts.append(f"{'Merged from' if merged else 'Derived from'} {base_model}.")
    if pipeline_tag:
        parts.append(f"Task: {pipeline_tag}.")
    if context_window:
        parts.append(f"Context window: {context_window:,} tokens.")
    tag_list = [t for t in tags if ":" not in t][:8]
    if tag_list:
        parts.append("Tags: " + ", ".join(tag_list) + ".")
    parts.append(f"License: {license}." if license else "License: unknown.")
    return " ".join(parts)
