"""Live ingestion from the Hugging Face Hub (or the ``HF_ENDPOINT`` mirror) into `ModelRecord`s.

`ingest_hub` lists models with the real ``huggingface_hub`` client (``HfApi.list_models``), downloads each model's
``README.md`` (``HfApi.hf_hub_download``) and maps both into records in one constructor, `record_from_model_info`,
as ``ModelInfo.__init__`` maps the Hub's camelCase into snake_case. Messy cards never abort ingestion: each field
that cannot be read is dropped with a `DroppedFieldWarning` and the record is kept.

The Hub client retries an unreachable host for ~23 s and waits forever for a listing page that never comes
(``list_models`` sends no timeout). So ingestion starts with one pre-flight request of its own, bounded by
``timeout_s`` and never retried, and caps the client's request timeouts while it runs; a Hub that does not answer
raises `HubUnreachableError`, whose message says the shipped catalog remains in use.

Example:
    >>> from index.hub import ingest_hub
    >>> records = ingest_hub(max_models=50)  # doctest: +SKIP
    >>> records[0].card_source  # doctest: +SKIP
    'hub'
"""

from __future__ import annotations

import functools
import logging
import os
import re
import tempfile
import warnings
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from index import constants
from index.errors import DroppedFieldWarning, HubUnreachableError
from index.record import ModelRecord
from index.sources._base import name_declares_contamination, unpacked_params

if TYPE_CHECKING:
    from huggingface_hub import HfApi
    from huggingface_hub.hf_api import ModelInfo

__all__ = ["hub_endpoint", "ingest_hub", "record_from_model_info"]

logger = logging.getLogger(__name__)

_DEFAULT_ENDPOINT = "https://huggingface.co"
_README = "README.md"

#: the listing properties we read (``expand`` returns exactly these; ``full``/``cardData`` would omit
#: ``safetensors`` and ``gguf``, which carry the parameter counts, and ``list_models`` refuses to mix the two).
_EXPAND = ("author", "cardData", "config", "createdAt", "downloads", "gguf", "library_name", "likes",
           "pipeline_tag", "safetensors", "sha", "siblings", "tags")

#: once the pre-flight has answered, a listing page or file may take this long before it is abandoned. Larger than
#: ``timeout_s`` because a 1,000-model listing page with card data takes the real Hub several seconds to build.
_REQUEST_TIMEOUT_S = 30.0
#: README downloads in flight at once (small files; the Hub serves them in parallel without complaint).
_README_WORKERS = 8
#: this many README downloads in a row failing on the network means the Hub went away mid-ingestion.
_MAX_NETWORK_FAILURES = 3

# Name and tag evidence: "-Instruct", "-chat", gemma's "-it"; a "conversational" Hub tag marks a chat template.
_INSTRUCT_TOKEN = re.compile(r"(?<![a-z0-9])(?:instruct|chat|it)(?![a-z])", re.IGNORECASE)
_INSTRUCT_TAGS = frozenset({"instruct", "chat", "conversational"})
_BASE_TOKEN = re.compile(r"(?<![a-z0-9])base(?![a-z])", re.IGNORECASE)
_MERGE_TAGS = frozenset({"merge", "mergekit", "lazymergekit"})
_REPO_ID = re.compile(r"[A-Za-z0-9][\w.-]*(?:/[\w.-]+)?")


def hub_endpoint() -> str:
    """The Hub endpoint to ingest from: ``HF_ENDPOINT`` as set *now*, else ``https://huggingface.co``.

    Read at call time rather than once in `index.constants`, because tests and the CLI point one process (or one
    subprocess) at a local server by setting the variable after gemfinder is imported.

    Returns:
        The endpoint URL without a trailing slash.

    Example:
        >>> hub_endpoint()  # with HF_ENDPOINT=http://127.0.0.1:8080/  # doctest: +SKIP
        'http://127.0.0.1:8080'
    """
    return (os.environ.get("HF_ENDPOINT") or _DEFAULT_ENDPOINT).rstrip("/")


def ingest_hub(
    *,
    # what to list
    filter: str = "text-generation",  # the Hub's own parameter name, shadowing the builtin on purpose
    max_models: int = 1000,
    # where and how long
    endpoint: str | None = None,
    timeout_s: float = constants.HUB_TIMEOUT_S,
    # output
    progress: bool = True,
    cache_dir: str | Path | None = None,
) -> list[ModelRecord]:
    """List models on the Hub and map each, with its README, into a `ModelRecord`.

    Args:
        filter: Hub filter (a tag or pipeline tag), as ``HfApi.list_models(filter=...)``.
        max_models: the most models to ingest, in the Hub's listing order; pages past it are never requested.
        endpoint: the Hub or a mirror; default `hub_endpoint()` (``HF_ENDPOINT``).
        timeout_s: seconds the pre-flight request may take in total (half to connect, half for the answer);
            the Hub counts as unreachable after it. Each README's metadata request is bounded by it too.
        progress: show progress bars on stderr.
        cache_dir: where READMEs are cached (``huggingface_hub`` cache layout). Default: a temporary folder
            removed afterwards, so files from a test server or mirror never enter the user's Hub cache.

    Returns:
        One record per listed model (``sources=("hub",)``, ``available=True``), in listing order.

    Raises:
        ValueError: `max_models` < 1 or `timeout_s` <= 0.
        HubUnreachableError: the Hub did not answer (connection refused, timeout, ``HF_HUB_OFFLINE``, HTTP error on
            the listing), before or during ingestion.

    Example:
        >>> records = ingest_hub(max_models=5, endpoint="http://127.0.0.1:8080")  # doctest: +SKIP
    """
    if max_models < 1:
        raise ValueError(f"max_models={max_models!r} must be at least 1.")
    if not timeout_s > 0:
        raise ValueError(f"timeout_s={timeout_s!r} must be a positive number of seconds.")
    from huggingface_hub import HfApi

    endpoint = (endpoint or hub_endpoint()).rstrip("/")
    _preflight(endpoint, timeout_s)
    api = HfApi(endpoint=endpoint)
    with _capped_request_timeouts(max(_REQUEST_TIMEOUT_S, timeout_s)), _readme_folder(cache_dir) as folder:
        infos = _list_models(api, filter=filter, max_models=max_models, progress=progress)
        readmes = _download_readmes(api, infos, folder=folder, timeout_s=timeout_s, progress=progress)
    return [record_from_model_info(info, text) for info, text in zip(infos, readmes, strict=True)]


# Talking to the Hub ---------------------------------------------------------------------------------------------


def _preflight(endpoint: str, timeout_s: float) -> None:
    """One cheap, unretried listing request bounded by `timeout_s`: fail fast when nothing answers."""
    import httpx2
    from huggingface_hub import constants as hf_constants
    from huggingface_hub.errors import OfflineModeIsEnabled
    from huggingface_hub.utils import get_session

    if hf_constants.is_offline_mode():
        raise HubUnreachableError(endpoint, "HF_HUB_OFFLINE is set")
    # Each phase (connect, send, wait for the answer) gets half the budget: connect + answer stay within it.
    timeout = httpx2.Timeout(timeout_s / 2)
    # Plain headers on purpose: `build_hf_headers` first fetches an "agent harness" registry from the Hub with
    # its own 3 s timeout, which would double the time a dead endpoint takes to report. A public listing needs no
    # token.
    try:
        response = get_session().get(
            f"{endpoint}/api/models", params={"limit": 1}, headers={"user-agent": "gemfinder"}, timeout=timeout
        )
    except (httpx2.TransportError, OfflineModeIsEnabled) as err:
        raise HubUnreachableError(endpoint, _reason(err, timeout_s / 2)) from err
    if response.status_code >= 400:
        raise HubUnreachableError(endpoint, f"HTTP {response.status_code} from {endpoint}/api/models")


def _reason(err: Exception, timeout_s: float) -> str:
    """A short human reason for a network failure."""
    import httpx2

    if isinstance(err, httpx2.TimeoutException):
        return f"no answer within {timeout_s:g} s"
    if isinstance(err, httpx2.ConnectError):
        return f"connection failed: {err}" if str(err) else "connection failed"
    return f"{type(err).__name__}: {err}" if str(err) else type(err).__name__


def _network_errors() -> tuple[type[Exception], ...]:
    """The exceptions that mean "the Hub did not answer" (imported lazily: huggingface_hub is heavy)."""
    import httpx2
    from huggingface_hub.errors import OfflineModeIsEnabled

    return (httpx2.TransportError, OfflineModeIsEnabled)


def _list_models(api: HfApi, *, filter: str, max_models: int, progress: bool) -> list[ModelInfo]:
    """All listed models up to `max_models`, network failures turned into `HubUnreachableError`."""
    from huggingface_hub.errors import HfHubHTTPError
    from tqdm.auto import tqdm

    infos: list[ModelInfo] = []
    listing = api.list_models(filter=filter, limit=max_models, expand=list(_EXPAND))
    try:
        with tqdm(desc="Hub listing", unit="model", disable=not progress) as bar:
            for info in listing:
                infos.append(info)
                bar.update()
    except _network_errors() as err:
        raise HubUnreachableError(api.endpoint, _reason(err, _REQUEST_TIMEOUT_S)) from err
    except HfHubHTTPError as err:
        status = err.response.status_code if err.response is not None else "error"
        raise HubUnreachableError(api.endpoint, f"HTTP {status} while listing models") from err
    return infos


@dataclass(frozen=True)
class _Readme:
    """One README download's outcome: its text (`None` when the repo has none) or the network error."""

    text: str | None = None
    network_error: Exception | None = None


def _download_readmes(
    api: HfApi, infos: list[ModelInfo], *, folder: Path, timeout_s: float, progress: bool
) -> list[str | None]:
    """Each model's README text (`None` when absent), downloaded in parallel, in the order of `infos`."""
    from tqdm.auto import tqdm

    texts: list[str | None] = []
    failures_in_a_row = 0
    pool = ThreadPoolExecutor(max_workers=_README_WORKERS, thread_name_prefix="hub-readme")
    try:
        outcomes = pool.map(lambda info: _download_readme(api, info, folder=folder, timeout_s=timeout_s), infos)
        for outcome in tqdm(outcomes, total=len(infos), desc="Hub cards", unit="card", disable=not progress):
            failures_in_a_row = failures_in_a_row + 1 if outcome.network_error else 0
            if failures_in_a_row >= _MAX_NETWORK_FAILURES:
                reason = _reason(outcome.network_error, timeout_s)
                raise HubUnreachableError(api.endpoint, f"README downloads failed: {reason}")
            texts.append(outcome.text)
    finally:
        # On failure, downloads still queued are dropped and those in flight are not waited for.
        pool.shutdown(wait=False, cancel_futures=True)
    return texts


def _download_readme(api: HfApi, info: ModelInfo, *, folder: Path, timeout_s: float) -> _Readme:
    """Download one README; a repo without one (or refusing it) yields no text, a network failure is reported."""
    from huggingface_hub.errors import HfHubHTTPError, LocalEntryNotFoundError

    if info.siblings is not None and all(s.rfilename != _README for s in info.siblings):
        return _Readme()  # the listing says there is none: spare the request
    try:
        path = api.hf_hub_download(
            info.id, _README, cache_dir=folder, etag_timeout=timeout_s, tqdm_class=_no_progress_class()
        )
    except LocalEntryNotFoundError as err:
        # hf_hub_download turns "the Hub did not answer the HEAD request" into "not in the local cache".
        return _Readme(network_error=err.__cause__ or err)
    except _network_errors() as err:
        return _Readme(network_error=err)
    except HfHubHTTPError as err:  # no README, gated, disabled: the record gets a composed card
        logger.debug("No README for %s: %s", info.id, err)
        return _Readme()
    try:
        return _Readme(text=Path(path).read_text(encoding="utf-8-sig", errors="replace"))
    except OSError as err:
        logger.debug("Unreadable README for %s: %s", info.id, err)
        return _Readme()


@functools.cache
def _no_progress_class() -> type:
    """A tqdm that never draws: one bar per README would drown the ingestion's own progress bar."""
    from tqdm import tqdm

    class NoProgress(tqdm):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            kwargs["disable"] = True
            super().__init__(*args, **kwargs)

    return NoProgress


@contextmanager
def _readme_folder(cache_dir: str | Path | None) -> Iterator[Path]:
    """The README cache: `cache_dir` as given, or a temporary folder removed on exit."""
    if cache_dir is not None:
        yield Path(cache_dir)
        return
    # Downloads abandoned after a failure may still be writing here: cleanup must not mask the real error.
    with tempfile.TemporaryDirectory(prefix="gemfinder-hub-", ignore_cleanup_errors=True) as tmp:
        yield Path(tmp)


@contextmanager
def _capped_request_timeouts(cap_s: float) -> Iterator[None]:
    """Cap every huggingface_hub request's timeouts at `cap_s` while ingesting, then restore the client.

    ``list_models`` passes ``timeout=None`` (wait forever) and offers no way to change it, so the cap goes into
    the shared client through ``set_client_factory``: the previous factory still builds the client (keeping a
    user's proxies or certificates) and a request hook lowers any missing or larger timeout before sending.
    """
    from huggingface_hub import set_client_factory
    from huggingface_hub.utils import _http

    previous = getattr(_http, "_GLOBAL_CLIENT_FACTORY", _http.default_client_factory)

    def capped_factory():
        client = previous()
        hooks = client.event_hooks
        client.event_hooks = {**hooks, "request": [*hooks.get("request", []), _cap_hook(cap_s)]}
        return client

    set_client_factory(capped_factory)
    try:
        yield
    finally:
        set_client_factory(previous)


def _cap_hook(cap_s: float):
    """A request hook that lowers each timeout phase (connect, read, write, pool) to at most `cap_s`."""

    def cap(request) -> None:
        current = request.extensions.get("timeout") or {}
        request.extensions["timeout"] = {
            phase: cap_s if current.get(phase) is None else min(current[phase], cap_s)
            for phase in ("connect", "read", "write", "pool")
        }

    return cap


# Mapping: ModelInfo + README → ModelRecord ----------------------------------------------------------------------


def record_from_model_info(info: ModelInfo, card_text: str | None = None) -> ModelRecord:
    """Map one Hub listing entry and its README into a `ModelRecord` (the only place Hub names are read).

    Card data comes from the listing (``cardData``) and, for keys it lacks, from the README's YAML front matter.
    The model-index evaluation results a card declares are *not* turned into `scores`: they are self-reported, on
    mixed scales (normalised, 0–1, 0–100) and benchmark configurations, so they cannot be mapped onto our
    benchmarks unambiguously; scores come from the leaderboard sources only.

    Args:
        info: a ``huggingface_hub.hf_api.ModelInfo`` (from ``list_models`` with the properties in ``_EXPAND``).
        card_text: the raw README (YAML front matter and markdown), or `None` when the repo has none.

    Returns:
        The record: ``card_source="hub"`` with the cleaned README body (scores scrubbed, ~2,000 characters) when
        one exists, else a card composed from metadata (``card_source="composed"``).

    Warns:
        DroppedFieldWarning: a field could not be read (unparseable front matter, a licence list, a base model
            that is not a repo id, a non-positive parameter count …); it is left `None`.

    Example:
        >>> from huggingface_hub.hf_api import ModelInfo
        >>> info = ModelInfo(id="org/m-7b-instruct", tags=["license:mit"], safetensors={"parameters": {}, "total": 7e9})
        >>> record_from_model_info(info).params_b
        7.0
    """
    from index.families import infer_family

    meta, body = _card_metadata(info, card_text)
    tags = tuple(t for t in (info.tags or ()) if isinstance(t, str))
    base_model = _base_model(info.id, meta, tags)
    architecture = _architecture(info)
    params_b = unpacked_params(_params_b(info), info.id)  # a GPTQ / AWQ repo's tensors hold packed integers
    license = _license(info.id, meta, tags)
    facts: dict[str, Any] = {
        "family": infer_family(info.id, architecture=architecture, base_model=base_model, params_b=params_b),
        "base_model": base_model,
        "architecture": architecture,
        "params_b": params_b,
        "instruct": _instruct(info.id, tags, base_model),
        "license": license,
        "merged": True if _MERGE_TAGS & set(tags) else None,  # no merge tag does not prove it is not one
        "pipeline_tag": info.pipeline_tag if isinstance(info.pipeline_tag, str) else None,
        "tags": tags,
    }
    card, card_source = _card(info.id, body, facts)
    return ModelRecord(
        id=info.id,
        author=_author(info),
        **facts,
        license_source=None if license is None else "card",
        likes=_count(info.likes),
        downloads=_count(info.downloads),
        created=info.created_at.date().isoformat() if info.created_at is not None else None,
        available=True,
        flagged=True if name_declares_contamination(info.id) else None,
        card_text=card,
        card_source=card_source,
        sources=("hub",),
    )


def _dropped(model_id: str, field: str, value: object, why: str) -> None:
    warnings.warn(f"{model_id}: dropped {field}={value!r} ({why}).", DroppedFieldWarning, stacklevel=3)


def _card_metadata(info: ModelInfo, card_text: str | None) -> tuple[dict[str, Any], str]:
    """The card data (listing first, README front matter for missing keys) and the README's markdown body."""
    listed = info.card_data.to_dict() if info.card_data is not None else {}
    front, body = _parse_readme(info.id, card_text)
    return {**front, **listed}, body


def _parse_readme(model_id: str, text: str | None) -> tuple[dict[str, Any], str]:
    """Split a README into its front matter (parsed leniently) and body; bad YAML drops only the metadata."""
    if not text:
        return {}, ""
    import yaml
    from huggingface_hub import ModelCard
    from huggingface_hub.repocard import REGEX_YAML_BLOCK

    try:
        card = ModelCard(text, ignore_metadata_errors=True)
        return card.data.to_dict(), card.text
    except (yaml.YAMLError, ValueError, TypeError) as err:
        first_line = str(err).splitlines()[0] if str(err) else type(err).__name__
        _dropped(model_id, "front matter", "<README YAML block>", f"unparseable: {first_line}")
    match = REGEX_YAML_BLOCK.search(text)
    return {}, text[match.end():] if match else text


def _author(info: ModelInfo) -> str | None:
    if isinstance(info.author, str) and info.author:
        return info.author
    return info.id.split("/", 1)[0] if "/" in info.id else None


def _count(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def _license(model_id: str, meta: dict[str, Any], tags: tuple[str, ...]) -> str | None:
    """The card's licence id, lower-cased; else the Hub's ``license:<id>`` tag; `None` when neither says."""
    value = meta.get("license")
    if isinstance(value, str) and value.strip():
        return value.strip().lower()
    if value is not None:
        _dropped(model_id, "license", value, "expected one licence id")
    tagged = [t.split(":", 1)[1].lower() for t in tags if t.startswith("license:")]
    return tagged[0] if len(tagged) == 1 else None


def _base_model(model_id: str, meta: dict[str, Any], tags: tuple[str, ...]) -> str | None:
    """The card's base model (the first when it lists several), else the Hub's ``base_model:<id>`` tag."""
    value = meta.get("base_model")
    candidate = value[0] if isinstance(value, list) and value else value
    if isinstance(candidate, str) and _REPO_ID.fullmatch(candidate.strip()):
        return candidate.strip()
    if value is not None:
        _dropped(model_id, "base_model", value, "expected a repo id or a list of them")
    # Tags read "base_model:<id>" and, with the relation, "base_model:finetune:<id>"; the plain form suffices.
    tagged = [t.split(":", 1)[1] for t in tags if t.startswith("base_model:") and t.count(":") == 1]
    return tagged[0] if tagged and _REPO_ID.fullmatch(tagged[0]) else None


def _architecture(info: ModelInfo) -> str | None:
    """The first transformers class in ``config.architectures`` (a bare string is accepted too)."""
    config = info.config if isinstance(info.config, dict) else {}
    value = config.get("architectures")
    first = value[0] if isinstance(value, list) and value else value
    if isinstance(first, str) and first:
        return first
    if value is not None:
        _dropped(info.id, "config.architectures", value, "expected a list of class names")
    return None


def _params_b(info: ModelInfo) -> float | None:
    """Parameters in billions: the safetensors total, else the GGUF total (quantised repos have no safetensors)."""
    for field, total in (("safetensors.total", _total(info.safetensors)), ("gguf.total", _total(info.gguf))):
        if total is None:
            continue
        if isinstance(total, (int, float)) and not isinstance(total, bool) and total > 0:
            return total / 1e9
        _dropped(info.id, field, total, "not a positive parameter count")
    return None


def _total(block: object) -> object:
    return block.get("total") if isinstance(block, dict) else None


def _instruct(model_id: str, tags: tuple[str, ...], base_model: str | None) -> bool | None:
    """Instruction / chat tuned from the name or tags; a base release when nothing says so and it derives from
    no other model; `None` for a derivative that does not say (a fine-tune of unknown kind)."""
    name = model_id.rsplit("/", 1)[-1]
    if _INSTRUCT_TOKEN.search(name) or _INSTRUCT_TAGS & {t.lower() for t in tags}:
        return True
    if _BASE_TOKEN.search(name) or base_model is None:
        return False
    return None


def _card(model_id: str, body: str, facts: dict[str, Any]) -> tuple[str, str]:
    """The cleaned README body (``"hub"``), or a composed card (``"composed"``) when nothing useful remains."""
    from index.cards import MAX_CARD_CHARS, clean_card, compose_card_text

    text = clean_card(body, max_chars=MAX_CARD_CHARS) if body.strip() else ""
    if text:
        return text, "hub"
    keys = ("family", "architecture", "params_b", "instruct", "base_model", "merged", "license", "pipeline_tag",
            "tags")
    return compose_card_text(model_id, **{k: facts[k] for k in keys}), "composed"

