"""Query understanding: a free-text request → task, hard constraints, discovery budget and retrieval text.

The conventions are DESIGN.md's "Query conventions": "NB" means N ± 15%, "under NB" means ≤ N, "fits G GB" means
≤ G/2 B at 16-bit (≤ G B at 8-bit, ≤ 2G B at 4-bit when the request names the precision), "commercial use" means a
permissive licence. Families are DESIGN's lowercase names, spelled as `index.families` infers them for the catalog
(``phi-3.5`` models are ``phi-3`` there, Code Llama is ``llama-2``), so a parsed family always has catalog rows.

Parsing is a fixed sequence of small readers over one `_Scan`. Each reader blanks out what it consumed, so a later
reader cannot read the same words twice ("llama3 license" is a licence, not a family; the "3-8" of "llama-3-8b" is
not a size range; the "at most 2,000" of a budget is not a size bound). Phrases that are pure constraints ("under
3B", "apache-2.0", "fits a 24 GB GPU") are also dropped from the retrieval text; topical words (task, family, model
ids) stay, because model cards contain them.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass, fields
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Any, NamedTuple

from index.errors import (
    ContradictoryConstraintsError,
    EmptyQueryError,
    QueryEncodingError,
    QueryTooLongError,
    UnknownLicenseError,
)
from index.vocabulary import (
    KNOWN_LICENSES,
    LICENSE_ALIASES,
    PERMISSIVE_LICENSES,
    TASK_ALIASES,
    TASKS,
)
from search.filters import family_matches

__all__ = ["MAX_QUERY_CHARS", "Constraints", "ParsedQuery", "parse_query"]

#: longest request accepted, in characters; a request is a sentence or a paragraph, not a document.
MAX_QUERY_CHARS: int = 2000


# Records ------------------------------------------------------------------------------------------------------


def _size_text(lo: float | Decimal | None, hi: float | Decimal | None) -> str:
    """"6.8–9.2B", "≤3B", "≥70B" (one spelling for `Constraints.describe` and error messages)."""
    if lo is not None and hi is not None:
        return f"{float(lo):g}–{float(hi):g}B"
    return f"≤{float(hi):g}B" if hi is not None else f"≥{float(lo):g}B"


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


# Reading the request ------------------------------------------------------------------------------------------

# Consumed phrases are overwritten with this character: it is neither a word character nor a space, so patterns
# neither match it nor read across it as if the words around it were adjacent.
_BLANK = "\x00"


class _Scan:
    """The request under parsing: original text, a lower-cased working copy, and the spans to drop for retrieval."""

    def __init__(self, text: str):
        self.text = text
        # Lower-case char by char, keeping one char per char, so spans in `low` index `text` too ("İ" lowers to 2).
        self.low = "".join(c.lower() if len(c.lower()) == 1 else c for c in text)
        self.dropped: list[tuple[int, int]] = []

    def find(self, pattern: re.Pattern[str]) -> list[re.Match[str]]:
        return list(pattern.finditer(self.low))

    def take(self, span: tuple[int, int], *, drop: bool = True) -> None:
        """Blank out `span` for later readers; `drop` also removes it from the retrieval text."""
        start, end = span
        self.low = self.low[:start] + _BLANK * (end - start) + self.low[end:]
        if drop:
            self.dropped.append(span)

    def quote(self, span: tuple[int, int]) -> str:
        return "'" + self.text[span[0] : span[1]].strip() + "'"


# Format characters (zero-width spaces, BOM, bidi marks) and control characters carry no meaning in a request.
_INVISIBLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]")
_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"'})


def _clean(raw: str | bytes) -> str:
    """Decode strictly, check emptiness and length, normalise (NFKC folds full-width digits: "８Ｂ" → "8B")."""
    if isinstance(raw, (bytes, bytearray)):
        try:
            text = bytes(raw).decode("utf-8")
        except UnicodeDecodeError as e:
            raise QueryEncodingError(f"byte 0x{raw[e.start]:02x} at position {e.start}: {e.reason}") from None
    elif isinstance(raw, str):
        text = raw
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as e:
            # Lone surrogates arrive from `surrogateescape`-decoded argv or broken JSON.
            raise QueryEncodingError(f"unpaired surrogate at position {e.start}") from None
    else:
        raise TypeError(f"parse_query expects str or bytes, got {type(raw).__name__}.")
    text = _INVISIBLE.sub(" ", text).strip()
    if not text:
        raise EmptyQueryError()
    if len(text) > MAX_QUERY_CHARS:
        raise QueryTooLongError(len(text), MAX_QUERY_CHARS)
    text = unicodedata.normalize("NFKC", text).translate(_QUOTES)
    return " ".join(text.split())


# Mentioned model ids ------------------------------------------------------------------------------------------

_MODEL_ID = re.compile(
    r"(?<![\w./-])(?:(?:https?://)?(?:www\.)?(?:huggingface\.co|hf\.co)/)?"
    r"(?P<id>[A-Za-z0-9][\w.-]{0,95}/[A-Za-z0-9][\w.-]{0,95})(?![\w/])"
)
# "8B/70B", "24GB/48GB", "8-bit/4-bit", "q4/q8": alternatives, not an org/name pair.
_QUANTITY = re.compile(r"\d+(?:\.\d+)?\s?(?:b|bn|m|k|gb|gib|[-\s]?bits?)?|q\d\w*|int\d|fp\d+", re.IGNORECASE)


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


# Licences -----------------------------------------------------------------------------------------------------


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


def _compress(name: str) -> str:
    """Spelling-insensitive form: "Apache 2.0", "apache-2.0" and "apache_2_0" all become "apache20"."""
    return re.sub(r"[\s._-]+", "", name.lower())


# Words around a licence name that do not change which licence it is ("Llama 3 Community License Agreement",
# "MIT-style license").
_LICENSE_FILLER = _words(
    "license licence licensed licenses licences community agreement terms of use the version meta style like type"
)


def _license_key(name: str) -> str:
    """`_compress` of a licence name without its filler words: "Llama-3.1 Community License" → "llama31"."""
    return _compress(" ".join(t for t in re.split(r"[\s_-]+", name.lower()) if t not in _LICENSE_FILLER))


def _license_keys() -> dict[str, tuple[str, ...]]:
    """Spelling key → licence ids, from the Hub ids (as written and without filler) and from `LICENSE_ALIASES`.

    Keys that several spellings share name all their ids: "deepseek" stands for both "deepseek" and
    "deepseek-license", "gpl" for "gpl" and its versions.
    """
    keys: dict[str, tuple[str, ...]] = {}
    pairs = [(k, (x,)) for x in KNOWN_LICENSES for k in (_compress(x), _license_key(x))]
    for key, ids in pairs + [(_license_key(k), v) for k, v in LICENSE_ALIASES.items()]:
        if key:
            keys[key] = tuple(dict.fromkeys(keys.get(key, ()) + ids))
    return keys


_LICENSE_KEYS = _license_keys()
# Words that can stand before "license" without naming one ("any license", "a compatible license"); then there is
# no licence constraint, and no error.
_NOT_A_LICENSE = _words(
    """a an the any some its their his her my our your this that these those which what whatever same similar
    other different open free proper valid good bad nice clear custom restrictive strict specific particular
    compatible suitable friendly standard usual original model models base non-commercial noncommercial research
    academic no none unknown without under with by of for to and or in on as is has have having uses using use
    own right correct appropriate new code weights data dataset software"""
)
_LIC_WORD = r"licen[cs](?:e[sd]?|ing)"
_NAME_TOKEN = r"[a-z0-9][\w.+-]*"

# Licences recognised without the word "license": the permissive and Creative Commons ids and the aliases, minus
# those that are also family or everyday words ("qwen", "yi", "boost", "cuda", "PDDL"). Every other Hub id (many
# are family names: "llama3", "gemma", "falcon-llm") counts only next to "license" (read below).
_NOT_STANDALONE = _words("llama qwen qianwen yi boost mozilla c-uda postgresql pddl")
_STANDALONE_NAMES = {
    *PERMISSIVE_LICENSES, *(x for x in KNOWN_LICENSES if x.startswith("cc-")), *LICENSE_ALIASES
} - _NOT_STANDALONE
_STANDALONE_LICENSE = re.compile(
    r"(?<![\w.+-])(?:"
    + "|".join(
        r"[\s._-]?".join(re.escape(t) for t in re.split(r"[\s._-]+", name))
        for name in sorted(_STANDALONE_NAMES, key=lambda n: (-len(n), n))
    )
    # "apache-3.0" is not apache-2.0 (it is read below, as an unknown licence); "Apache Spark" is a topic.
    + r")(?![\w+]|[._-]\d)(?!\s+(?:spark|kafka|airflow|hadoop|beam|flink|arrow|tomcat|cassandra)\b)"
    + rf"(?:[\s-]+{_LIC_WORD})?(?!\w)"
)
# "commercial use", "commercially usable", "permissive license", "OSI-approved": any permissive licence.
_PERMISSIVE = re.compile(
    r"(?<!\w)(?:(?:for|allows?|allowing|ok\s+for|okay\s+for|usable\s+for)\s+)?"
    r"(?:commercial(?:ly)?(?:[\s-]+(?:use|usage|usable|friendly|ok|okay|allowed|permitted|viable|deployment|"
    rf"purposes|products?|applications?|{_LIC_WORD}))*"
    rf"|permissive(?:ly)?(?:[\s-]+(?:{_LIC_WORD}|open[\s-]source))*"
    rf"|open[\s-]source[\s-]+{_LIC_WORD}|osi[\s-]approved(?:[\s-]+{_LIC_WORD})?|(?:for\s+)?business\s+use)(?!\w)"
)
# "non-commercial use", "not for commercial use": no permissive constraint (the user accepts any licence).
_NEGATED_BEFORE = re.compile(r"(?:\bnon|\bnot|\bno)[\s-]*(?:for\s+)?$")
_LICENSE_COLON = re.compile(rf"(?<!\w){_LIC_WORD}\s*[:=]\s*(?P<name>{_NAME_TOKEN}(?:\s+{_NAME_TOKEN}){{0,2}})")
_LICENSED_UNDER = re.compile(
    rf"(?<!\w)licen[cs]ed\s+(?:under|with|as)\s+(?:the\s+|an?\s+)?(?P<name>{_NAME_TOKEN}(?:\s+{_NAME_TOKEN}){{0,2}})"
)
_NAME_LICENSE = re.compile(
    rf"(?<![\w'.+-])(?P<name>(?:{_NAME_TOKEN}\s+){{0,3}}{_NAME_TOKEN})[\s-]+{_LIC_WORD}(?!\w)"
)
# Before "<name> license", only these make an unknown name an error ("under the FooBar license", "a FooBar license").
_LICENSE_CUE = re.compile(
    r"(?:^|[,;:(]|(?<!\w)(?:under|with|using|having|has|needs?|requires?|wants?|prefer|only|an?|the))\s*$"
)
# Words before a dropped licence phrase that would dangle in the retrieval text ("under the", "with an").
_LEADING_PREP = re.compile(r"(?<!\w)(?:(?:under|with|using|having|has)\s+)?(?:(?:the|an?)\s+)?$")


def _lookup_license(words: list[str]) -> tuple[str, ...] | None:
    key = _license_key(" ".join(words))
    return _LICENSE_KEYS.get(key) if key else None


def _unknown_license(name: str) -> UnknownLicenseError:
    close = difflib.get_close_matches(name.lower(), sorted(set(KNOWN_LICENSES)), n=3, cutoff=0.6)
    return UnknownLicenseError(name, tuple(close))


def _read_name(scan: _Scan, m: re.Match[str], *, prefixes: bool) -> tuple[int, int, tuple[str, ...]] | None:
    """Resolve the words of a licence phrase: after "license:" the words that follow ("mit or apache" → "mit"),
    before "license" the words that precede ("a strong llama 3 license" → "llama 3").

    Returns:
        (start, end) of the phrase to drop and the licence ids, or `None` when the words name no licence ("any").

    Raises:
        UnknownLicenseError: the words name a licence that is not known.
    """
    words = [(w.group(), w.start() + m.start("name")) for w in re.finditer(r"\S+", m.group("name"))]
    while words and words[0][0] in _NOT_A_LICENSE:
        words = words[1:]
    if not words:
        return None
    spans = [words[:n] for n in range(len(words), 0, -1)] if prefixes else [words[i:] for i in range(len(words))]
    for part in spans:
        ids = _lookup_license([w for w, _ in part])
        if ids is not None:
            if prefixes:
                return m.start(), part[-1][1] + len(part[-1][0]), ids
            return part[0][1], m.end(), ids
    # Nothing known: the word next to "license" is the name the user meant ("FooBar" in "the FooBar license").
    named = words[0] if prefixes else words[-1]
    if named[0] in _NOT_A_LICENSE or _QUANTITY.fullmatch(named[0]):
        return None  # "any license", "a 7B license"
    if not prefixes and not _LICENSE_CUE.search(scan.low[: named[1]]):
        return None  # prose, not a request: "suspending licenses", "driving license"
    raise _unknown_license(scan.text[named[1] : named[1] + len(named[0])])


def _take_licenses(scan: _Scan) -> tuple[str, ...] | None:
    """Licence constraint: the union of every licence named, since a user who lists several accepts any of them.

    A licence class ("commercial use") next to specific licences inside it ("apache or MIT") keeps the specific
    ones: the class says why, the names say which.
    """
    named: list[tuple[int, tuple[str, ...]]] = []
    permissive = False
    for m in scan.find(_PERMISSIVE):
        if not _NEGATED_BEFORE.search(scan.low[max(0, m.start() - 12) : m.start()]):
            permissive = True
            scan.take(m.span())
    for m in scan.find(_STANDALONE_LICENSE):
        name = re.sub(rf"[\s-]+{_LIC_WORD}$", "", m.group())
        named.append((m.start(), _lookup_license(name.split()) or ()))
        scan.take(m.span())
    for pattern, prefixes in ((_LICENSE_COLON, True), (_LICENSED_UNDER, True), (_NAME_LICENSE, False)):
        for m in scan.find(pattern):
            read = _read_name(scan, m, prefixes=prefixes)
            if read is None:
                continue
            start, end, ids = read
            if not prefixes:
                start -= len(_LEADING_PREP.search(scan.low[:start]).group())
            named.append((start, ids))
            scan.take((start, end))
    specific = tuple(dict.fromkeys(x for _, ids in sorted(named) for x in ids))
    if permissive and (not specific or not set(specific) <= set(PERMISSIVE_LICENSES)):
        return tuple(dict.fromkeys(PERMISSIVE_LICENSES + specific))
    return specific or None


# Families -----------------------------------------------------------------------------------------------------

_SIZE_UNIT = r"(?:billion|bn|b|million|mn|m)"
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


# Sizes --------------------------------------------------------------------------------------------------------


class _SizeClause(NamedTuple):
    """One size statement, in billions; `approx` ones ("8B") are combined by union, the others by intersection."""

    lo: Decimal | None
    hi: Decimal | None
    phrase: str
    approx: bool = False


_NUM = r"\d+(?:\.\d+)?"
# Counts that are not parameters: "1M context", "2B tokens", "500k downloads".
_NOT_PARAMS = r"(?!\s*(?:tokens?|context|ctx|words|downloads?|likes|users|rows|examples|samples|documents|docs)\b)"
_PARAMS = r"(?:[\s-]*(?:parameters?|params?))?"
# A spelled-out unit needs a model word after it: "8 billion parameters", but not "6 million visitors".
_SPELLED_UNIT_OK = (
    r"(?:(?<=illion)(?=[\s-]*(?:parameters?|params?|models?|llms?|weights)\b|\s*(?:$|[,.;:!?)]))|(?<!illion))"
)
_SIZE = rf"(?P<n>{_NUM})\s?(?P<u>{_SIZE_UNIT})(?!\w){_SPELLED_UNIT_OK}{_NOT_PARAMS}{_PARAMS}"

_GB = re.compile(
    r"(?<!\w)(?:(?:that\s+|which\s+|to\s+)?(?:fits?|fitting|runs?|running|load(?:s|ing)?)\s+"
    r"(?:(?:on|in|into|within|under)\s+)?|(?:on|in|into|within|under|with)\s+)?"
    r"(?:(?:an?|one|my|our|the|single)\s+)*"
    r"(?P<gb>\d+(?:\.\d+)?)\s?(?:gb|gib)(?!\w)(?!\s*(?:of\s+)?(?:text|data|tokens|disk|storage|downloads?)\b)"
    r"(?:\s+(?:of\s+)?(?:gpu\s+memory|graphics\s+card|v?ram|gpus?|cards?|memory))?"
)
_PRECISION = re.compile(
    r"(?<!\w)(?:(?:at|in|with|using)\s+)?(?:(?P<bits>2|3|4|5|6|8|16|32)[\s-]?bits?|(?:int|q)(?P<qbits>[2-8])"
    r"(?:_k(?:_[sml])?|_[01])?|fp(?P<fbits>8|16|32)|(?P<half>bf16|half[\s-]precision|full[\s-]precision)|"
    r"(?P<four>nf4|awq|gptq))(?:\s+(?:quantization|quantisation|quantized|quantised|precision|weights))?(?!\w)"
)
_MOE = re.compile(rf"(?<![\w.$€£])(?P<e>\d+)\s?x\s?(?P<n>{_NUM})\s?(?P<u>{_SIZE_UNIT})(?!\w){_PARAMS}")
_RANGE = re.compile(
    rf"(?:(?P<between>between)\s+|from\s+)?(?<![\w.$€£-])(?P<a>{_NUM})\s?(?P<ua>{_SIZE_UNIT})?\s*"
    rf"(?P<sep>-|–|—|to|and)\s*(?P<b>{_NUM})\s?(?P<ub>{_SIZE_UNIT})(?!\w){_SPELLED_UNIT_OK}{_NOT_PARAMS}{_PARAMS}"
)
_UPPER = (
    r"under|below|beneath|at\s+most|(?:no|not)\s+more\s+than|(?:no|not)\s+(?:larger|bigger|greater)\s+than|"
    r"(?:smaller|less|lower|fewer|lighter)\s+than|up\s+to|max(?:imum)?(?:\s+(?:of|size))?\s*:?|sub|<=|≤|=<|<"
)
_LOWER = (
    r"at\s+least|over|above|more\s+than|(?:no|not)\s+(?:less|fewer|smaller)\s+than|(?:larger|bigger|greater)\s+than|"
    r"min(?:imum)?(?:\s+(?:of|size))?\s*:?|exceeding|>=|≥|=>|>"
)
_BOUND_BEFORE = re.compile(
    rf"(?<![\w<>=≤≥])(?:(?P<up>{_UPPER})|(?P<low>{_LOWER}))[\s-]*(?:an?\s+)?~?\s*{_SIZE}"
)
_BOUND_AFTER = re.compile(
    rf"(?<![\w.$€£]){_SIZE}(?:\s+models?)?(?:\s*(?P<plus>\+)|[\s,]+(?:or|and)\s+"
    r"(?:(?P<down>smaller|less|lower|fewer|under|below|down)|(?P<upw>larger|more|bigger|greater|above|over|up|higher))"
    r"|\s+(?:(?P<max>max(?:imum)?|at\s+most|tops)|(?P<min>min(?:imum)?|at\s+least)))(?!\w)"
)
_APPROX = re.compile(
    rf"(?:(?:about|around|roughly|approximately|approx\.?|circa|~|≈)\s*)?(?<![\w.$€£]){_SIZE}(?:[\s-]?ish)?"
)

_PCT_LO, _PCT_HI = Decimal("0.85"), Decimal("1.15")


def _billions(n: str, unit: str | None) -> Decimal:
    return Decimal(n) / 1000 if unit and unit.startswith("m") else Decimal(n)


def _round_out(x: Decimal, *, up: bool) -> Decimal:
    """Round to two significant digits away from the nominal size, so the range always holds N ± 15%.

    8B gives 6.8–9.2 exactly; 7B gives 5.9–8.1 (5.95–8.05 widened), 70B gives 59–81.
    """
    if x == 0:
        return x
    step = Decimal(1).scaleb(x.adjusted() - 1)
    return x.quantize(step, rounding=ROUND_CEILING if up else ROUND_FLOOR)


def _approx(n: Decimal) -> tuple[Decimal, Decimal]:
    return _round_out(n * _PCT_LO, up=False), _round_out(n * _PCT_HI, up=True)


def _bits(m: re.Match[str]) -> int:
    for group in ("bits", "qbits", "fbits"):
        if m.group(group):
            return int(m.group(group))
    return 16 if m.group("half") else 4


def _take_memory(scan: _Scan) -> _SizeClause | None:
    """"fits a 24 GB GPU" → ≤ 12B at 16-bit, ≤ 24B at 8-bit, ≤ 48B at 4-bit (the precision named anywhere).

    Several precisions ("int8 or int4") are alternatives the user accepts, so the smallest bit width counts.
    """
    hits = scan.find(_GB)
    if not hits:
        return None
    precisions = scan.find(_PRECISION)
    bits = min((_bits(m) for m in precisions), default=16)
    for m in hits + precisions:
        scan.take(m.span())
    first = hits[0]
    hi = Decimal(first.group("gb")) * 8 / bits
    return _SizeClause(None, hi, f"{scan.quote(first.span())} ({_size_text(None, hi)} at {bits}-bit)")


def _size_clauses(scan: _Scan) -> list[_SizeClause]:
    """Every size statement, read most specific form first (so "7-9B" is not read as "9B")."""
    clauses: list[_SizeClause] = []

    def add(m: re.Match[str], lo: Decimal | None, hi: Decimal | None, *, approx: bool = False) -> None:
        clauses.append(_SizeClause(lo, hi, f"{scan.quote(m.span())} ({_size_text(lo, hi)})", approx))
        scan.take(m.span())

    for m in scan.find(_MOE):
        # A mixture of experts shares attention and embeddings, so its total is below experts × size
        # (Mixtral 8x7B has 46.7B, not 56B): accept 75–100% of the product.
        total = Decimal(m.group("e")) * _billions(m.group("n"), m.group("u"))
        add(m, _round_out(total * Decimal("0.75"), up=False), total, approx=True)
    for m in scan.find(_RANGE):
        if m.group("sep") == "and" and not m.group("between"):
            continue  # "7 and 9B" without "between" lists two sizes; the approximate reader takes the 9B
        unit = m.group("ub")
        a, b = sorted((_billions(m.group("a"), m.group("ua") or unit), _billions(m.group("b"), unit)))
        add(m, a, b)
    for m in scan.find(_BOUND_BEFORE):
        n = _billions(m.group("n"), m.group("u"))
        add(m, *((None, n) if m.group("up") else (n, None)))
    for m in scan.find(_BOUND_AFTER):
        n = _billions(m.group("n"), m.group("u"))
        add(m, *((None, n) if m.group("down") or m.group("max") else (n, None)))
    for m in scan.find(_APPROX):
        add(m, *_approx(_billions(m.group("n"), m.group("u"))), approx=True)
    return clauses


def _combine_sizes(clauses: list[_SizeClause]) -> tuple[float | None, float | None]:
    """Bounds intersect ("at least 7B, under 13B" → 7–13); approximate sizes unite ("7B or 13B") and then
    intersect with the bounds.

    Raises:
        ContradictoryConstraintsError: the intersection is empty ("under 1B, at least 70B"; "70B that fits 24 GB").
    """
    bounds = [c for c in clauses if not c.approx]
    approx = [c for c in clauses if c.approx]
    low = max((c for c in bounds if c.lo is not None), key=lambda c: c.lo, default=None)
    high = min((c for c in bounds if c.hi is not None), key=lambda c: c.hi, default=None)
    if low is not None and high is not None and low.lo > high.hi:
        raise ContradictoryConstraintsError(*(c.phrase for c in sorted((low, high), key=clauses.index)))
    lo = None if low is None else low.lo
    hi = None if high is None else high.hi
    if approx:
        a_lo, a_hi = min(c.lo for c in approx), max(c.hi for c in approx)
        if high is not None and a_lo > high.hi:
            raise ContradictoryConstraintsError(approx[0].phrase, high.phrase)
        if low is not None and a_hi < low.lo:
            raise ContradictoryConstraintsError(approx[0].phrase, low.phrase)
        lo = a_lo if lo is None else max(lo, a_lo)
        hi = a_hi if hi is None else min(hi, a_hi)
    return (None if lo is None else float(lo)), (None if hi is None else float(hi))


# Tasks --------------------------------------------------------------------------------------------------------

_TASK = re.compile(
    r"(?<!\w)(?P<alias>"
    + "|".join(r"[\s_-]+".join(map(re.escape, key.split("_"))) for key in sorted(TASK_ALIASES, key=len, reverse=True))
    + r")(?!\w)"
)
_NOT_A_TASK = re.compile(r"(?<!\w)knowledge[\s-]+(?:bases?|graphs?|cut-?offs?)(?!\w)")
# Words that usually qualify another task ("math reasoning", "medical knowledge", "a chat model for code"): a
# request that also names a specific task means that one.
_GENERIC_TASK_WORDS = frozenset({"chat", "qa", "instruction", "instructions"})
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
