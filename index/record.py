"""`ModelRecord`, the spine of the catalog, and `Score`, one benchmark result.

Records do no I/O: the parquet reader/writer is `index.catalog`, each source's mapping lives in `index.sources`.
`None` always means "not known", never a guess.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import Any

from index.vocabulary import BENCHMARKS


@dataclass(frozen=True)
class Score:
    """One benchmark result of one model.

    Attributes:
        value (`float`): accuracy in points on the 0–100 scale.
        source (`str`): the leaderboard or paper it comes from (a `Source_T` name), never empty.
        date (`str`, *optional*): ISO date (``YYYY-MM-DD``) of the evaluation or of the leaderboard snapshot;
            `None` when the source gives none.
    """

    value: float
    source: str
    date: str | None = None

    def __post_init__(self) -> None:
        if not self.source:
            raise ValueError(f"Score value={self.value!r} has no source: every score must name where it comes from.")
        if not (0.0 <= self.value <= 100.0):
            raise ValueError(
                f"Score value={self.value!r} from source={self.source!r} is outside 0–100: scores are points."
            )


@dataclass(frozen=True)
class ModelRecord:
    """Everything gemfinder knows about one model, one record per Hugging Face id (case-insensitive).

    Attributes:
        id (`str`): Hugging Face repo id (``"mistralai/Mistral-7B-v0.1"``) as first seen; unique case-insensitively.
        author (`str`, *optional*): the namespace part of `id`; `None` for legacy un-namespaced ids (``gpt2``).
        family (`str`, *optional*): lowercase base family (``"llama-3.1"``, ``"mistral"``); `None` if not inferable.
        base_model (`str`, *optional*): the id it was fine-tuned / merged / quantised from, when known.
        architecture (`str`, *optional*): transformers class name (``"MistralForCausalLM"``).
        params_b (`float`, *optional*): parameter count in billions.
        instruct (`bool`, *optional*): instruction / chat tuned (`True`), a base model (`False`), unknown (`None`).
        license (`str`, *optional*): Hub licence id, lower-case (``"apache-2.0"``); `None` when unknown.
        license_source (`str`, *optional*): ``"card"`` when the model's own metadata states it, or
            ``"inherited from <base>"`` when taken from its base model; `None` when `license` is `None`.
        likes (`int`, *optional*): Hub likes at the snapshot date.
        downloads (`int`, *optional*): Hub downloads (monthly, at the snapshot date).
        created (`str`, *optional*): ISO date the repo was created or first submitted.
        available (`bool`, *optional*): still available on the Hub at the snapshot.
        flagged (`bool`, *optional*): flagged by the leaderboard maintainers (e.g. contaminated), or a repo whose
            name declares it contaminated (the sources kept no leaderboard flags: the scrape hid flagged models).
        merged (`bool`, *optional*): a merge of other models.
        tags (`tuple[str, ...]`): Hub / gallery tags, may be empty.
        pipeline_tag (`str`, *optional*): Hub pipeline tag (``"text-generation"``).
        card_text (`str`): the model's real description where one exists, otherwise one composed from metadata;
            never contains benchmark score values.
        card_source (`str`): where `card_text` comes from (a `CardSource_T` name; ``"composed"`` when built).
        price_per_1m_tokens (`float`, *optional*): hosted price in USD per 1M tokens (mean of input and output).
        context_window (`int`, *optional*): maximum context in tokens, where a provider states it.
        scores (`dict[str, Score]`): benchmark (a `Benchmark_T` name) → score.
        sources (`tuple[str, ...]`): the data sources that contributed to this record.
    """

    id: str
    author: str | None = None
    family: str | None = None
    base_model: str | None = None
    architecture: str | None = None
    params_b: float | None = None
    instruct: bool | None = None
    license: str | None = None
    license_source: str | None = None
    likes: int | None = None
    downloads: int | None = None
    created: str | None = None
    available: bool | None = None
    flagged: bool | None = None
    merged: bool | None = None
    tags: tuple[str, ...] = ()
    pipeline_tag: str | None = None
    card_text: str = ""
    card_source: str = "composed"
    price_per_1m_tokens: float | None = None
    context_window: int | None = None
    scores: dict[str, Score] = field(default_factory=dict)
    sources: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.id or self.id != self.id.strip():
            raise ValueError(f"ModelRecord id={self.id!r} must be a non-empty id without surrounding spaces.")
        unknown = set(self.scores) - set(BENCHMARKS)
        if unknown:
            raise ValueError(f"ModelRecord {self.id!r} has scores for unknown benchmarks {sorted(unknown)}.")
        if (self.license is None) != (self.license_source is None):
            raise ValueError(
                f"ModelRecord {self.id!r}: license={self.license!r} and license_source={self.license_source!r} "
                "must be both set or both None."
            )
        if self.params_b is not None and not self.params_b > 0:
            raise ValueError(f"ModelRecord {self.id!r}: params_b={self.params_b!r} must be positive or None.")

    @property
    def key(self) -> str:
        """The case-insensitive identity of the record (lower-cased id)."""
        return self.id.lower()

    @property
    def popularity(self) -> int | None:
        """Likes where known, else downloads; `None` when neither is known (DESIGN "Popularity")."""
        return self.likes if self.likes is not None else self.downloads

    def score(self, benchmark: str) -> float | None:
        """The score on `benchmark` in points, or `None` when unknown."""
        s = self.scores.get(benchmark)
        return None if s is None else s.value

    def without_benchmarks(self, benchmarks: tuple[str, ...] | list[str]) -> ModelRecord:
        """A copy with the given benchmarks' scores removed (offline evaluation hides a target this way)."""
        return replace(self, scores={b: s for b, s in self.scores.items() if b not in benchmarks})

    def to_dict(self) -> dict[str, Any]:
        """Plain-Python form (scores as nested dicts), as used by ``--json`` outputs."""
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        out["tags"] = list(self.tags)
        out["sources"] = list(self.sources)
        out["scores"] = {b: {"value": s.value, "source": s.source, "date": s.date} for b, s in self.scores.items()}
        return out
