"""Reading licence constraints from a request ("apache-2.0", "MIT licensed", "commercial use", unknown names)."""

from __future__ import annotations

import difflib
import re

from index.errors import UnknownLicenseError
from index.vocabulary import KNOWN_LICENSES, LICENSE_ALIASES, PERMISSIVE_LICENSES
from search._scan import _QUANTITY, _Scan, _words

# Licences -----------------------------------------------------------------------------------------------------





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


