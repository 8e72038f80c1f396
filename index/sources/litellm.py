"""litellm's model price table (PyPI litellm): hosted price per 1M tokens and context windows of open models.

A price key is ``<provider>/<rest>``; it maps to a Hub id only when ``<rest>`` is a known Hub id (e.g.
``together_ai/meta-llama/Llama-3.3-70B-Instruct``); provider-renamed variants (``-Turbo``) stay unmapped.
litellm's list of Hub text-generation ids is the universe of known ids; an id alone is no signal.
"""

from __future__ import annotations

from pathlib import Path

from index.sources._base import SourceRecord, as_float, as_int, is_hf_id, read_json, read_text
from index.sources._ids import IdIndex

PRICES_FILE = "catalog/litellm_model_prices/model_prices_and_context_window_backup.json"
HF_IDS_FILE = "catalog/litellm_model_prices/hf_text_generation_models.txt"
FILES = (PRICES_FILE, HF_IDS_FILE)
#: litellm modes of text-generating models.
_MODES = ("chat", "completion")


def hub_ids(raw_dir: Path) -> list[str]:
    """litellm's list of Hub text-generation model ids.

    Raises:
        RawDataNotFoundError: the file is missing.
    """
    return [line.strip() for line in read_text(raw_dir, HF_IDS_FILE).splitlines() if is_hf_id(line.strip())]


def _price(entry: dict) -> float | None:
    """Mean of input and output price per token, in USD per 1M tokens."""
    cost_in, cost_out = as_float(entry.get("input_cost_per_token")), as_float(entry.get("output_cost_per_token"))
    if cost_in is None or cost_out is None:
        return None
    return round((cost_in + cost_out) / 2 * 1e6, 4)


def load(raw_dir: Path, *, known: IdIndex) -> list[SourceRecord]:
    """Read prices of hosted open models.

    Args:
        raw_dir: the raw-data folder.
        known: every Hub id the shipped data knows.

    Returns:
        One record per Hub id; where several providers host it, the cheapest offer (and its context window).

    Raises:
        RawDataNotFoundError: a file of `FILES` is missing.
    """
    best: dict[str, SourceRecord] = {}
    for key, entry in sorted(read_json(raw_dir, PRICES_FILE).items()):
        if not isinstance(entry, dict) or entry.get("mode") not in _MODES or "/" not in key:
            continue
        hub_id = known.unique([key.split("/", 1)[1]])
        price = _price(entry)
        if hub_id is None or price is None:
            continue
        context = as_int(entry.get("max_input_tokens") or entry.get("max_tokens"))
        if hub_id.lower() not in best or price < best[hub_id.lower()].price_per_1m_tokens:
            best[hub_id.lower()] = SourceRecord(
                id=hub_id, source="litellm", price_per_1m_tokens=price, context_window=context
            )
    return list(best.values())
