"""Shared fixtures: real small things loaded once per run (the shipped MiniLM, the shipped catalog)."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")


@pytest.fixture(scope="session")
def embedder():
    """The PyPI-shipped all-MiniLM-L6-v2, loaded once."""
    from index.embed import Embedder

    e = Embedder()
    e.encode(["warm up"])
    return e


@pytest.fixture(scope="session")
def shipped_catalog():
    """The shipped catalog (index/data/catalog.parquet)."""
    from index.catalog import Catalog

    return Catalog.load()


@pytest.fixture(scope="session")
def shortlister(embedder):
    """The full pipeline's first stage over the shipped catalog and vectors."""
    from recommender.shortlist import Shortlister

    return Shortlister.load(embedder=embedder)


@pytest.fixture(scope="session")
def app_service(shortlister):
    """The web app's back end over the shared shortlister, warmed (tests/test_app.py, tests/test_browser.py)."""
    from ui.app import AppService

    return AppService(shortlister=shortlister).warm()


@pytest.fixture(scope="session")
def smollm2_engine():
    """The PyPI-shipped SmolLM2-135M-Instruct behind TransformersEngine on the CPU, loaded once per run."""
    from recommender.confirm.engines import load_engine

    engine = load_engine("smollm2-135m-instruct", device="cpu")
    yield engine
    engine.close()


@pytest.fixture(scope="session")
def prior_cache_dir(tmp_path_factory):
    """One folder of fitted catalog priors for the whole run (the Recommender fits a benchmark once, then reads it)."""
    return tmp_path_factory.mktemp("priors")
