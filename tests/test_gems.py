"""Hidden gems over the shipped catalog's trees (recommender.gems)."""

from __future__ import annotations

import numpy as np
import pytest

from index.errors import UnknownBenchmarkError
from index.vocabulary import PERMISSIVE_LICENSES
from recommender.gems import GemIndex, gem_mask


@pytest.fixture(scope="module")
def gem_index(shipped_catalog):
    return GemIndex(shipped_catalog)


class TestGemMask:
    def test_ties_at_the_popularity_cut_are_all_popular(self):
        # 200 models → top = 2; three share the 2nd-highest popularity, so four are popular.
        scores = np.arange(200, dtype=float)
        popularity = np.zeros(200)
        popularity[[0, 1, 2, 3]] = [50, 10, 10, 10]
        _, popular = gem_mask(scores, popularity)
        assert popular.sum() == 4

    def test_a_gem_must_beat_every_popular_model(self):
        scores = np.array([90.0, 80.0, 70.0])
        gem, popular = gem_mask(scores, np.array([5.0, 1.0, 0.0]))
        assert popular.tolist() == [True, False, False] and not gem.any()

    def test_unknown_popularity_is_never_popular(self):
        gem, popular = gem_mask(np.array([1.0, 2.0]), np.array([np.nan, np.nan]))
        assert not popular.any() and gem.tolist() == [False, True]


class TestGemIndex:
    def test_mistral_7b_gsm8k_gems_beat_the_popular_models(self, gem_index):
        tree = gem_index.tree("Mistral-7B", benchmark="gsm8k")
        assert tree.n_models > 1000 and tree.top == int(np.ceil(tree.n_models / 100))
        assert tree.models["popular"].sum() >= tree.top
        gems = tree.gems
        assert len(gems) > 0 and (gems["score"] > tree.best_popular).all()
        assert (gems["rank"] <= tree.top).all() and not gems["popular"].any()
        # the most popular mistral-7b model is popular and no gem
        most = tree.models.loc[tree.models["popularity"].idxmax()]
        assert most["popular"] and not most["gem"]

    def test_unavailable_models_stay_out(self, gem_index, shipped_catalog):
        frame = shipped_catalog.frame
        gone = frame.loc[~frame["available"].fillna(True).astype(bool), "id"]
        assert len(gone) > 1000 and not gem_index.frame["id"].isin(gone).any()

    def test_size_and_licence_filters_choose_what_is_shown(self, gem_index):
        small = gem_index.trees("gsm8k", max_params_b=3)
        assert small and "mistral-7b" not in small
        everything = gem_index.gems("gsm8k")
        permissive = gem_index.gems("gsm8k", license="permissive")
        assert 0 < len(permissive) < len(everything)
        assert permissive["license"].isin(PERMISSIVE_LICENSES).all()
        # a filter never changes K: the permissive gems are exactly the permissive rows of all gems
        assert set(permissive["id"]) == set(everything.loc[everything["license"].isin(PERMISSIVE_LICENSES), "id"])

    def test_bad_names_say_what_to_do(self, gem_index):
        with pytest.raises(UnknownBenchmarkError, match="Unknown benchmark 'gsm9k'"):
            gem_index.trees("gsm9k")
        with pytest.raises(KeyError, match="no model scored on gsm8k"):
            gem_index.tree("nonexistent-1b", benchmark="gsm8k")
        assert gem_index.trees("medqa") == {}
