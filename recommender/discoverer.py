"""`ModelDiscoverer`: the Hidden Gems write-ups' API — the best models of one family or model tree for a task,
found within a budget of evaluation queries.

Example:
    >>> from recommender import ModelDiscoverer
    >>> discoverer = ModelDiscoverer(repository="huggingface", model_family="mistral-7b", task="math_reasoning",
    ...                              budget=5000)
    >>> for pick in discoverer.find_top_k(k=5):
    ...     print(pick.rank, pick.id, pick.score, pick.gem)
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from index.errors import NoCandidatesError, NoTaskDataError
from index.vocabulary import TASK_BENCHMARKS, normalize_task
from recommender.budget import check_budget
from recommender.records import Pick, Recommendation

__all__ = ["ModelDiscoverer"]

#: a tree name: a family, a hyphen, a size ("mistral-7b", "llama-3.1-8B", "mixtral-8x7b", "qwen2-0.5b").
_TREE = re.compile(r"^(?P<family>.+?)-(?P<size>(?:\d+x)?\d+(?:\.\d+)?b)$")


class ModelDiscoverer:
    """Find the top models of a family or model tree for a task, spending at most `budget` evaluation queries.

    Args:
        repository: ``"huggingface"`` — the shipped snapshot of the Hugging Face catalog (offline) — or a folder
            holding ``catalog.parquet`` and ``vectors.npz`` (e.g. built by ``gemfinder index build --source hub
            --out-dir DIR``).
        model_family: a family (``"llama-3.1"``, ``"Mistral"``: matched by prefix as in requests) or a model
            tree (``"llama-3.1-8B"``, ``"mistral-7b"``: one family at one size), case-insensitive; `None` = any.
        task: a task or common alias (``"math_reasoning"``, ``"medical"``, ``"code"``).
        budget: total evaluation queries (one question to one model = one query), ≥ 1.
        recommender: an already loaded `Recommender` to reuse (then `repository` is not read).

    Raises:
        UnknownTaskError: `task` is neither a task nor an alias.
        InvalidBudgetError: `budget` is zero or negative.
        FileNotFoundError: `repository` is a path without a catalog.

    Example:
        >>> ModelDiscoverer(model_family="llama-3.1-8B", task="math", budget=2000).find_top_k(k=3)[0].id
    """

    def __init__(self, repository: str | Path = "huggingface", model_family: str | None = None,
                 task: str = "math", budget: int = 5000, *, recommender=None):
        # Check every argument before loading anything.
        self.task = normalize_task(task)
        self.budget = check_budget(budget)
        self.repository = repository
        self.model_family = model_family
        self._family, self._tree = _family_or_tree(model_family)
        data_dir = None if str(repository).lower() in ("huggingface", "hf", "hub") else Path(repository)
        if data_dir is not None and not (data_dir / "catalog.parquet").exists():
            from index.errors import CatalogNotFoundError

            raise CatalogNotFoundError(str(data_dir / "catalog.parquet"))
        self._data_dir = data_dir
        self._recommender = recommender
        self.last: Recommendation | None = None  # the full answer behind the last `find_top_k`

    @property
    def recommender(self):
        """The `Recommender` behind this discoverer (loaded on first use)."""
        if self._recommender is None:
            from recommender.pipeline import Recommender

            self._recommender = Recommender.load(self._data_dir)
        return self._recommender

    def find_top_k(self, k: int = 5) -> list[Pick]:
        """The `k` best models for the task, confirmed within the budget where recorded answers exist.

        Returns:
            `Pick`s, best first, each with known scores, predicted score ± σ, measured accuracy with n and 95%
            interval where evaluated, and the gem flag. The whole `Recommendation` is kept in `last`.

        Raises:
            NoCandidatesError: no model of the family / tree passes.
            NoTaskDataError: the catalog holds no score for the task's benchmarks among these models.
        """
        rec = self.recommender
        mask = self._mask(rec)
        words = self.task.replace("_", " ")
        answer = rec.recommend(f"best model for {words}", k=k, budget=self.budget, mask=mask)
        if answer.task != self.task:  # the composed request must mean the task asked for
            raise NoTaskDataError(f"task '{self.task}'", "the request composed for it was read differently")
        if all(p.prediction is None for p in answer.picks):
            raise NoTaskDataError(
                f"task '{self.task}' among {self.model_family or 'these models'}",
                f"no model has a known or predictable score on {', '.join(TASK_BENCHMARKS[self.task])}",
            )
        self.last = answer
        return list(answer.picks)

    def _mask(self, rec) -> np.ndarray | None:
        """Rows of the family (prefix match) or of the tree; `None` when no family was given."""
        if self._family is None:
            return None
        from search.filters import family_matches

        catalog = rec.catalog
        if self._tree is not None:
            from recommender.gems import GemIndex

            frame = GemIndex(catalog).frame
            mask = np.zeros(len(catalog), dtype=bool)
            mask[frame.loc[frame["tree"] == self._tree, "row"].to_numpy()] = True
            if not mask.any():
                raise NoCandidatesError(f"model tree '{self._tree}' (no catalog model is placed in it)")
            return mask
        families = catalog.frame["family"]
        mask = np.array([isinstance(f, str) and family_matches(self._family, f) for f in families])
        if not mask.any():
            raise NoCandidatesError(f"family '{self._family}'")
        return mask


def _family_or_tree(name: str | None) -> tuple[str | None, str | None]:
    """(family, tree) from a family or tree name: ``"Llama-3.1-8B"`` → (``"llama-3.1"``, ``"llama-3.1-8b"``)."""
    if name is None:
        return None, None
    key = name.strip().lower().replace("_", "-").replace(" ", "-")
    if not key:
        raise ValueError("model_family is empty; give a family ('mistral') or a tree ('mistral-7b'), or None.")
    m = _TREE.match(key)
    if m is None:
        return key, None
    return m.group("family"), key
