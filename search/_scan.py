"""The request under parsing: strict decoding, cleaning, and the blank-out scanner every reader shares."""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal

from index.errors import EmptyQueryError, QueryEncodingError, QueryTooLongError

#: longest request accepted, in characters; a request is a sentence or a paragraph, not a document.
MAX_QUERY_CHARS: int = 2000

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




# Shared by the readers ------------------------------------------------------------------------------------

_SIZE_UNIT = r"(?:billion|bn|b|million|mn|m)"
# "8B/70B", "24GB/48GB", "8-bit/4-bit", "q4/q8": alternatives, not an org/name pair.
_QUANTITY = re.compile(r"\d+(?:\.\d+)?\s?(?:b|bn|m|k|gb|gib|[-\s]?bits?)?|q\d\w*|int\d|fp\d+", re.IGNORECASE)


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


def _size_text(lo: float | Decimal | None, hi: float | Decimal | None) -> str:
    """"6.8–9.2B", "≤3B", "≥70B" (one spelling for `Constraints.describe` and error messages)."""
    if lo is not None and hi is not None:
        return f"{float(lo):g}–{float(hi):g}B"
    return f"≤{float(hi):g}B" if hi is not None else f"≥{float(lo):g}B"
