"""Query understanding: a free-text request → task, hard constraints, discovery budget and retrieval text.

The conventions are DESIGN.md's "Query conventions": "NB" means N ± 15%, "under NB" means ≤ N, "fits G GB" means
≤ G/2 B at 16-bit (≤ G B at 8-bit, ≤ 2G B at 4-bit when the request names the precision), "commercial use" means a
permissive licence. Families are DESIGN's lowercase names, spelled as `index.families` infers them for the catalog
(``phi-3.5`` models are ``phi-3`` there, Code Llama is ``llama-2``), so a parsed family always has catalog rows.

Parsing is a fixed sequence of small readers over one `_Scan`. Each reader blanks out what it consumed, so a later
reader cannot read the same words twice ("llama3 license" is a licence, not a family; the "3-8" of "llama-3-8b" is
not a size range; the "at most 2,000" of a budget is not a size bound). Phrases that are pure constraints ("under
3B", "apache-2.0", "fits a 24 GB GPU") are also dropped from the retrieval text; topical words (task, family, model
ids) stay, because model cards contain them. The scanner lives in `search._scan`, the licence and size readers in
`search._licenses` and `search._sizes`; the rest, and the records, are here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from decimal import Decimal
from typing import Any

from index.errors import (
    ContradictoryConstraintsError,
)
from index.vocabulary import (
    TASK_ALIASES,
    TASKS,
)
from search._licenses import _LICENSE_KEYS, _compress, _take_licenses
from search._scan import (
    _QUANTITY,
    _SIZE_UNIT,
    MAX_QUERY_CHARS,
    _clean,
    _Scan,
    _size_text,
    _words,
)
from search._sizes import _combine_sizes, _size_clauses, _take_memory
from search.filters import family_matches

__all__ = ["MAX_QUERY_CHARS", "Constraints", "ParsedQuery", "parse_query"]



# Records ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Constraints:
    """Hard filters of a request; `None` in a field means "no constraint of that kind".

    Attributes:
        params_min_b (`float`, *optional*): smallest allowed parameter count, in billions (inclusive).
        params_max_b (`float`, *optional*): largest allowed parameter count, in billions (inclusive).
        license (`tuple[str, ...]`, *optional*): allowed Hub licence ids (lower-case); a model whose licence is
            unknown never passes.
        family (`str`, *optional*): lowercase base family; matches by prefix (``"llama"`` matches ``"llama-3.1"``).
        instruct (`bool`, *optional*): `True` for instruction/chat-tuned models only, `False` for base models only.

    Raises:
        ContradictoryConstraintsError: ``params_min_b`` is above ``params_max_b``.
        ValueError: a negative size, an empty or non-lower-case licence tuple, or an empty / upper-case family.

    Example:
        >>> Constraints(params_min_b=6.8, params_max_b=9.2, license=("apache-2.0",), family="llama-3").describe()
        '6.8–9.2B, licence in (apache-2.0), family llama-3'
    """

    params_min_b: float | None = None
    params_max_b: float | None = None
    license: tuple[str, ...] | None = None
    family: str | None = None
    instruct: bool | None = None

    def __post_init__(self) -> None:
        for name in ("params_min_b", "params_max_b"):
            value = getattr(self, name)
            if value is not None and not value >= 0:
                raise ValueError(f"Constraints {name}={value!r} must be a non-negative number of billions or None.")
        lo, hi = self.params_min_b, self.params_max_b
        if lo is not None and hi is not None and lo > hi:
            raise ContradictoryConstraintsError(f"params_min_b={lo:g}", f"params_max_b={hi:g}")
        if self.license is not None:
            if not isinstance(self.license, tuple) or not self.license:
                raise ValueError(
                    f"Constraints license={self.license!r} must be a non-empty tuple of licence ids, or None for "
                    "no licence filter."
                )
            if any(not isinstance(x, str) or x != x.lower() for x in self.license):
                raise ValueError(f"Constraints license={self.license!r} must hold lower-case Hub licence ids.")
        if self.family is not None and (not self.family or self.family != self.family.lower()):
            raise ValueError(f"Constraints family={self.family!r} must be a non-empty lower-case family name.")

    @property
    def is_empty(self) -> bool:
        """`True` when no field constrains anything."""
        return all(getattr(self, f.name) is None for f in fields(self))

    def to_dict(self) -> dict[str, Any]:
        """JSON form: ``{"params_min_b", "params_max_b", "license": [str] | None, "family", "instruct"}``."""
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        return {**out, "license": None if self.license is None else list(self.license)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Constraints:
        """Inverse of `to_dict` (query files, ``--json`` round trips); missing keys mean no constraint."""
        unknown = set(data) - {f.name for f in fields(cls)}
        if unknown:
            raise ValueError(f"Unknown constraint keys {sorted(unknown)}; expected {[f.name for f in fields(cls)]}.")
        license = data.get("license")
        return cls(**{**data, "license": None if license is None else tuple(license)})

    def describe(self) -> str:
        """Human text for answers and error messages, e.g. ``"≤3B, licence in (apache-2.0, mit)"``.

        Returns:
            The constraints joined by commas, or ``"no constraints"``.
        """
        parts = []
        if self.params_min_b is not None or self.params_max_b is not None:
            parts.append(_size_text(self.params_min_b, self.params_max_b))
        if self.license is not None:
            shown = ", ".join(self.license[:6])
            if len(self.license) > 6:
                shown += f", … {len(self.license) - 6} more"
            parts.append(f"licence in ({shown})")
        if self.family is not None:
            parts.append(f"family {self.family}")
        if self.instruct is not None:
            parts.append("instruct models" if self.instruct else "base models")
        return ", ".join(parts) or "no constraints"


@dataclass(frozen=True)
class ParsedQuery:
    """What `parse_query` understood of one request.

    Attributes:
        text (`str`): the cleaned request (NFKC-normalised, whitespace collapsed).
        task (`str`, *optional*): a `TASKS` name; `None` when the request names no task.
        constraints (`Constraints`): the hard filters.
        retrieval_text (`str`): what dense / lexical retrieval should match: the request without its pure constraint
            phrases (sizes, memory, licences, instruct/base, budgets); the whole request when nothing else is left.
        include_flagged (`bool`): keep models flagged by leaderboard maintainers ("include flagged models").
        include_unavailable (`bool`): keep models no longer available on the Hub.
        budget_queries (`int`, *optional*): discovery budget in evaluation queries (one question to one model).
        finetune (`bool`): the user will fine-tune the pick ("which base should I fine-tune").
        mentioned_models (`tuple[str, ...]`): Hugging Face ids (``org/name``) named in the request, as typed.
    """

    text: str
    task: str | None
    constraints: Constraints
    retrieval_text: str
    include_flagged: bool = False
    include_unavailable: bool = False
    budget_queries: int | None = None
    finetune: bool = False
    mentioned_models: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.task is not None and self.task not in TASKS:
            raise ValueError(f"ParsedQuery task={self.task!r} is not one of {TASKS}.")
        if self.budget_queries is not None and self.budget_queries < 0:
            raise ValueError(f"ParsedQuery budget_queries={self.budget_queries!r} must be >= 0 or None.")

    def to_dict(self) -> dict[str, Any]:
        """JSON form, constraints nested as `Constraints.to_dict`."""
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        out["constraints"] = self.constraints.to_dict()
        out["mentioned_models"] = list(self.mentioned_models)
        return out


# Mentioned model ids ------------------------------------------------------------------------------------------

_MODEL_ID = re.compile(
    r"(?<![\w./-])(?:(?:https?://)?(?:www\.)?(?:huggingface\.co|hf\.co)/)?"
    r"(?P<id>[A-Za-z0-9][\w.-]{0,95}/[A-Za-z0-9][\w.-]{0,95})(?![\w/])"
)


def _is_vocabulary_word(part: str) -> bool:
    return _compress(part) in _LICENSE_KEYS or part.lower() in TASK_ALIASES


def _looks_like_model_id(org: str, name: str) -> bool:
    if any(_QUANTITY.fullmatch(part) for part in (org, name)):
        return False
    if _is_vocabulary_word(org) and _is_vocabulary_word(name):
        return False  # "mit/apache-2.0", "math/code"; "Qwen/Qwen2.5-7B" has an org that is also a licence id
    if re.search(r"\.(?:jpe?g|png|gif|txt|pdf|csv|json|wav|mp[34])$", name, re.IGNORECASE):
        return False  # a file path: "images/example.jpg"
    if org.isupper() and name.isupper() and not re.search(r"\d", org + name):
        return False  # an acronym pair: "TCP/IP", "I/O"
    family = _FAMILY.fullmatch(org.lower())
    if family and family.group("ver"):
        return False  # "llama-3/qwen2.5" names two families; "Qwen/Qwen2.5-7B" (no version in org) is an id
    # A bare "word/word" ("and/or", "w/o", "math/physics") is prose; Hub names nearly always carry a digit, a
    # separator or capitals ("gpt2", "Mistral-7B-v0.1", "EleutherAI/pythia").
    return bool(re.search(r"[0-9A-Z._-]", org + name))


def _take_model_ids(scan: _Scan) -> tuple[str, ...]:
    """HF ids named in the request. They are references ("better than X"), so their sizes and families are not
    constraints: the ids are blanked for later readers but kept in the retrieval text."""
    found: list[str] = []
    for m in _MODEL_ID.finditer(scan.text):
        model_id = m.group("id").rstrip(".-")
        org, name = model_id.split("/", 1)
        if name and _looks_like_model_id(org, name):
            scan.take(m.span(), drop=False)
            if model_id not in found:
                found.append(model_id)
    return tuple(found)


# Discovery budget ---------------------------------------------------------------------------------------------

_COUNT = r"(?P<num>\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?)\s?(?P<k>k|thousand)?"
_EVAL_NOUN = (
    r"(?:(?:evaluation|eval|test|benchmark)\s+)?(?:questions?|quer(?:y|ies)|evaluations?|evals?|pulls?|prompts?)"
)
_BUDGET_PATTERNS = tuple(
    re.compile(r"(?<!\w)" + p + r"(?!\w)")
    for p in (
        # "budget 500 queries", "discovery budget: 2k", "budget of 1,000 evaluation questions"
        (
            r"(?:(?:discovery|evaluation|eval)\s+)?budget\s*(?:of|is|:|=)?\s*"
            rf"(?:(?:at\s+most|up\s+to|about|around|~)\s*)?{_COUNT}(?:\s+{_EVAL_NOUN})?"
        ),
        # "spend at most 2,000 evaluation questions", "use up to 500 queries"
        (
            r"(?:(?:spend(?:ing)?|use|using|run(?:ning)?|with|allow(?:ing)?|afford|limit(?:ed)?\s+to|cap(?:ped)?\s+at|"
            rf"at\s+most|up\s+to|no\s+more\s+than|max(?:imum)?(?:\s+of)?|within|only)\s+)+{_COUNT}\s+{_EVAL_NOUN}"
        ),
        # "2000 evaluation queries", "500 queries budget"
        rf"{_COUNT}\s+(?:evaluation|eval|test)\s+(?:questions?|quer(?:y|ies))",
        rf"{_COUNT}\s+{_EVAL_NOUN}\s+(?:budget|max(?:imum)?|at\s+most|in\s+total|total)",
    )
)


def _take_budget(scan: _Scan) -> int | None:
    """The discovery budget in queries (the first one stated); "2k" and "2,000" both read as 2000."""
    hits = [m for pattern in _BUDGET_PATTERNS for m in scan.find(pattern)]
    if not hits:
        return None
    first = min(hits, key=lambda m: m.start())
    value = Decimal(first.group("num").replace(",", ""))
    if first.group("k"):
        value *= 1000
    for m in hits:
        scan.take(m.span())
    return int(value)


# Flagged and unavailable models -------------------------------------------------------------------------------

_INCLUDE = (
    r"(?:includ(?:e|ing)|show(?:ing)?|allow(?:ing)?|keep(?:ing)?|even(?:\s+if)?|also|with|plus|"
    r"(?:do\s+not|don't)\s+(?:exclude|hide|drop|skip|filter(?:\s+out)?))\s+(?:the\s+|any\s+)?"
)


def _inclusion(words: str) -> re.Pattern[str]:
    return re.compile(
        rf"(?<!\w)(?:{_INCLUDE}(?:{words})(?:\s+(?:ones|models?|entries|checkpoints|repos))?(?:\s+(?:too|as\s+well))?"
        rf"|(?:{words})\s+(?:ones|models?)\s+(?:too|included|as\s+well|allowed|are\s+(?:ok|okay|fine)))(?!\w)"
    )


_INCLUDE_FLAGGED = _inclusion(r"flagged|contaminated")
_INCLUDE_UNAVAILABLE = _inclusion(r"unavailable|deleted|removed|delisted")


def _take_switch(scan: _Scan, pattern: re.Pattern[str]) -> bool:
    hits = scan.find(pattern)
    for m in hits:
        scan.take(m.span())
    return bool(hits)


# Families -----------------------------------------------------------------------------------------------------


_FAMILY = re.compile(
    r"(?<![\w.])(?P<name>code[\s_-]?llama|tiny[\s_-]?llama|llama|mixtral|mistral|ministral|magistral|devstral|qwq|"
    r"qwen|codegemma|gemma|phi|yi|solar|falcon|deepseek|internlm|starcoder|olmo|smollm|granite|pythia|stablelm|"
    r"baichuan|chatglm)(?!\s*\d*\s+rockets?\b)"
    # A number right after the name is a version unless it continues as a size: "llama 3" vs "llama 70b",
    # "mixtral 8x7b"; the lookahead also refuses a shorter version ("7" of "70b").
    rf"(?:[\s_-]?v?(?P<ver>\d+(?:\.\d+)?)(?![\d.]*\s?(?:{_SIZE_UNIT}|x\d)(?![a-z])))?"
    r"(?![a-z])"
)
# Family names that are also everyday words count only next to model words: "solar 10.7b", "a solar model", but
# not "solar energy" or "luz solar para".
_EVERYDAY_FAMILIES = frozenset({"solar", "granite", "falcon"})
_MODEL_CONTEXT = re.compile(
    r"\s*(?:$|[.;:!?)]|[\s_-]*\d|[\s_-]+(?:models?|family|instruct|chat|base|llms?|based|checkpoints?|weights)\b)"
)
# A family named as a point of comparison is not a constraint: "better than llama-2-7b", "instead of Mistral".
_REFERENCE_CUE = re.compile(
    r"(?:better\s+than|beats?|beating|outperform(?:s|ing)?|compared?\s+(?:to|with)|vs\.?|versus|than|similar\s+to|"
    r"instead\s+of|alternatives?\s+(?:to|for)|replacement\s+for|replac(?:e|ing)|rather\s+than|other\s+than|except|"
    r"besides|not|as)\s+(?:the\s+|an?\s+)?$"
)
# "gemma 2 vs phi-3": both sides of a comparison are candidates, so neither is the family constraint.
_COMPARED_AFTER = re.compile(r"[\w.\x00-]*\s+(?:vs\.?|versus)\s")
_REST_OF_NAME = re.compile(r"[\w.\x00-]*")
# Families whose catalog name does not follow the version number (see `index.families`).
_FAMILY_RENAMES = {
    "codellama": "llama-2", "ministral": "mistral", "magistral": "mistral", "devstral": "mistral",
    "qwq": "qwen2.5", "codegemma": "gemma",
}


def _canonical_family(name: str, ver: str | None) -> str:
    name = re.sub(r"[\s_-]", "", name)
    if name in _FAMILY_RENAMES:
        return _FAMILY_RENAMES[name]
    if ver is None:
        return name
    ver = ver.removesuffix(".0")
    major = ver.split(".")[0]
    # First generations carry no version in the catalog ("llama", "gemma", "qwen"), Qwen1.5 aside.
    if name in ("llama", "gemma"):
        return name if major == "1" else f"{name}-{ver}"
    if name == "qwen":
        return "qwen" if ver == "1" else f"qwen{ver}"
    if name == "phi":
        return "phi" if major == "1" else f"phi-{major}"  # the catalog files Phi-3.5 under phi-3
    return name  # mistral v0.3, yi-1.5, falcon2: the catalog keeps one family per lineage


def _take_family(scan: _Scan) -> str | None:
    """The family constraint, or `None` when none or several unrelated families are named.

    Family words stay in the retrieval text. Named models used as references are blanked whole (family, size,
    "-Instruct"), so "better than Mistral-7B-Instruct" sets no size and no instruct flag.
    """
    families: list[str] = []
    for m in scan.find(_FAMILY):
        before = scan.low[max(0, m.start() - 30) : m.start()]
        if _REFERENCE_CUE.search(before) or _COMPARED_AFTER.match(scan.low, m.end()):
            scan.take((m.start(), _REST_OF_NAME.match(scan.low, m.end()).end()), drop=False)
            continue
        if m.group("name") in _EVERYDAY_FAMILIES and not _MODEL_CONTEXT.match(scan.low, m.end()):
            continue
        families.append(_canonical_family(m.group("name"), m.group("ver")))
        scan.take(m.span(), drop=False)
    if not families:
        return None
    # "llama … llama-3.1" agree on the most specific; "llama-3 or qwen2.5" is one of two, which one filter cannot
    # express, so retrieval alone ranks them (the words stay in the retrieval text).
    most_specific = max(families, key=len)
    return most_specific if all(family_matches(f, most_specific) for f in families) else None


# Instruct or base ---------------------------------------------------------------------------------------------

_FINETUNE = re.compile(
    r"(?<!\w)(?:fine[\s-]?tun(?:e|es|ing|able)|finetun(?:e|es|ing|able)|q?lora|peft|train\s+(?:it\s+)?further|"
    r"further\s+train(?:ing)?|continued?\s+pre[\s-]?training)(?!\w)"
)
# "a Llama 3.1 8B fine-tune", "the best mistral fine-tune": the noun names a model; it is no intent to fine-tune.
_FINETUNE_NOUN = re.compile(
    r"(?:(?<!\w)(?:a|an|the|this|that|its|popular|community|best|good)|\d(?:\.\d+)?\s?[bm]|\x00)\s+$"
)
# The noun after a flag ("model", "checkpoint") is matched by lookahead, not consumed: it stays in the retrieval text.
_MODEL_NOUN = r"(?=[\s-]*(?:models?|versions?|variants?|checkpoints?|weights|llms?|lms?)(?!\w))"
_NOT_INSTRUCT = re.compile(
    r"(?<!\w)(?:not|non|no|without)[\s-]+(?:an?\s+|any\s+)?"
    r"(?:instruct(?:ion)?[\s-]*(?:tuned|tuning|fine[\s-]?tuned)|instruct|chat(?:[\s-]*(?:tuned|tuning))?|"
    r"rlhf|sft)(?!\w)"
)
# "base model" but not "knowledge base model"; "pretrained" but not "pretrained on medical text" (a topic).
_BASE = re.compile(
    rf"(?<![\w-])(?<!knowledge\s)(?<!code\s)(?:base{_MODEL_NOUN}|base[\s-]+only|"
    r"pre[\s-]?trained(?:[\s-]+only)?(?![\w-])(?!\s+(?:on|with|using|for|in|from|to)\b))(?!\w)|"
    r"(?<=\w)-base(?!\w)"
)
_INSTRUCT = re.compile(
    r"(?<!\w)(?:instruct(?:ion)?[\s-]*(?:tuned|fine[\s-]?tuned)|instruct|"
    rf"chat[\s-]*tuned|chat{_MODEL_NOUN}|assistant{_MODEL_NOUN})(?!\w)|(?<=\w)-(?:it|chat)(?!\w)"
)


def _has_finetune_intent(scan: _Scan) -> bool:
    for m in scan.find(_FINETUNE):
        noun_form = m.group().replace(" ", "-").endswith(("tune", "tunes"))
        if not (noun_form and _FINETUNE_NOUN.search(scan.low[max(0, m.start() - 30) : m.start()])):
            return True
    return False


def _take_instruct(scan: _Scan, *, finetune: bool) -> bool | None:
    """`True` (instruct/chat), `False` (base) or `None`.

    With fine-tune intent, "base model" means the checkpoint to start from, which may well be an instruct model,
    so only explicit negations ("not instruction-tuned") then ask for a base model.

    Raises:
        ContradictoryConstraintsError: both an instruct and a base model are asked for ("instruct base model").
    """
    no = scan.find(_NOT_INSTRUCT)
    for m in no:
        scan.take(m.span())
    base = scan.find(_BASE)
    for m in base:
        scan.take(m.span(), drop=not finetune)
    if finetune:
        base = []
    yes = scan.find(_INSTRUCT)
    for m in yes:
        scan.take(m.span())
    against = no + base
    if yes and against:
        first, second = sorted((yes[0], against[0]), key=lambda m: m.start())
        raise ContradictoryConstraintsError(
            _instruct_phrase(scan, first, first is yes[0]), _instruct_phrase(scan, second, second is yes[0])
        )
    return True if yes else False if against else None


def _instruct_phrase(scan: _Scan, m: re.Match[str], instruct: bool) -> str:
    return f"{scan.quote(m.span())} ({'instruct models' if instruct else 'base models'})"


# Tasks --------------------------------------------------------------------------------------------------------

_TASK = re.compile(
    r"(?<!\w)(?P<alias>"
    + "|".join(r"[\s_-]+".join(map(re.escape, key.split("_"))) for key in sorted(TASK_ALIASES, key=len, reverse=True))
    + r")(?!\w)"
)
_NOT_A_TASK = re.compile(r"(?<!\w)knowledge[\s-]+(?:bases?|graphs?|cut-?offs?)(?!\w)")
# Words that usually qualify another task ("math reasoning", "medical knowledge", "a chat model for code", "an
# honest model for medical QA"): a request that also names a specific task means that one.
_GENERIC_TASK_WORDS = frozenset({"chat", "qa", "instruction", "instructions", "honest", "factual", "truthfully",
                                 "hallucinate", "hallucinates", "hallucinating"})
_GENERIC_TASKS = frozenset({"reasoning", "knowledge"})


def _find_task(scan: _Scan) -> str | None:
    """The first specific task named, else the first generic one, else `None`."""
    for m in scan.find(_NOT_A_TASK):
        scan.take(m.span(), drop=False)
    specific, generic = [], []
    for m in scan.find(_TASK):
        key = re.sub(r"[\s-]+", "_", m.group("alias"))
        task = TASK_ALIASES[key]
        (generic if task in _GENERIC_TASKS or key in _GENERIC_TASK_WORDS else specific).append(task)
    return (specific or generic or [None])[0]


# Retrieval text -----------------------------------------------------------------------------------------------

_FILLER_WORDS = _words(
    "a an the and or only with under for of to in on at is that which but any some model models llm llms one me "
    "i need want please find give show best good"
)
_DANGLING = re.compile(
    r"(?:^|\s)(?:under|with|and|or|at|in|on|for|of|to|that|which|a|an|the|is|than|but|using|from|between)$"
)


def _retrieval_text(scan: _Scan) -> str:
    chars = list(scan.text)
    for start, end in scan.dropped:
        chars[start:end] = " " * (end - start)
    out = "".join(chars)
    out = re.sub(r"\s+([,.;:!?)])", r"\1", out)
    out = re.sub(r"([,;:])(?:\s*[,;:])+", r"\1", out)
    out = re.sub(r"\(\s*\)", " ", out)
    # a hyphen left alone once a constraint is cut out of a name ("Qwen2.5-7B-Instruct" → "Qwen2.5")
    out = re.sub(r"(?<=\S)-+(?=\s|$)|(?:^|(?<=\s))-+(?=\s|$)", "", out)
    out = " ".join(out.split()).strip(" ,;:-–.!?")
    while (trimmed := _DANGLING.sub("", out).strip(" ,;:-–.!?")) != out:
        out = trimmed
    # Nothing topical left ("under 3B, apache-2.0 only"): retrieval gets the request as typed rather than nothing.
    if all(w in _FILLER_WORDS for w in re.findall(r"\w+", out.lower())):
        return scan.text
    return out


# Entry point --------------------------------------------------------------------------------------------------


def parse_query(text: str | bytes) -> ParsedQuery:
    """Understand one free-text request.

    Args:
        text: the request as typed; `bytes` must be UTF-8.

    Returns:
        The task, the hard constraints, the retrieval text, the switches (flagged / unavailable models, fine-tune
        intent), the discovery budget and the model ids it names.

    Raises:
        EmptyQueryError: the request is empty or only whitespace.
        QueryTooLongError: the request is longer than `MAX_QUERY_CHARS`.
        QueryEncodingError: `bytes` that are not valid UTF-8, or a string with unpaired surrogates.
        UnknownLicenseError: a licence is named that the catalog does not know (with close suggestions).
        ContradictoryConstraintsError: two constraints exclude each other ("under 1B, at least 70B";
            "instruct base model").

    Example:
        >>> q = parse_query("best 8B model for grade-school math, apache-2.0, spend at most 2,000 evaluation questions")
        >>> q.task, q.constraints.describe(), q.budget_queries
        ('math', '6.8–9.2B, licence in (apache-2.0)', 2000)
    """
    scan = _Scan(_clean(text))
    # Order matters: each reader blanks what it consumed (see module docstring).
    mentioned = _take_model_ids(scan)
    budget = _take_budget(scan)
    include_flagged = _take_switch(scan, _INCLUDE_FLAGGED)
    include_unavailable = _take_switch(scan, _INCLUDE_UNAVAILABLE)
    license = _take_licenses(scan)
    memory = _take_memory(scan)
    family = _take_family(scan)
    finetune = _has_finetune_intent(scan)
    instruct = _take_instruct(scan, finetune=finetune)
    params_min, params_max = _combine_sizes(([memory] if memory else []) + _size_clauses(scan))
    task = _find_task(scan)
    constraints = Constraints(
        params_min_b=params_min, params_max_b=params_max, license=license, family=family, instruct=instruct
    )
    return ParsedQuery(
        text=scan.text,
        task=task,
        constraints=constraints,
        retrieval_text=_retrieval_text(scan),
        include_flagged=include_flagged,
        include_unavailable=include_unavailable,
        budget_queries=budget,
        finetune=finetune,
        mentioned_models=mentioned,
    )
