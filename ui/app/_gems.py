"""The Gems tab's content: filters → trees, the score-vs-popularity scatter and the gem table (no gradio here).

The plot is a matplotlib `Figure` built without pyplot, so concurrent sessions never share a global figure.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from index.vocabulary import TASK_BENCHMARKS

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from recommender.gems import GemIndex, TreeGems

__all__ = ["GemView", "LICENCE_CHOICES", "SIZE_CHOICES", "gem_view", "size_bounds", "licence_filter"]

#: size filter choices → (min, max) billions of the tree's median size.
SIZE_CHOICES: dict[str, tuple[float | None, float | None]] = {
    "any size": (None, None), "under 3B": (None, 3.0), "3–9B": (3.0, 9.0), "9–20B": (9.0, 20.0),
    "20–40B": (20.0, 40.0), "over 40B": (40.0, None),
}
#: licence filter choices → the `GemIndex.gems` licence argument.
LICENCE_CHOICES: dict[str, str | None] = {
    "any licence": None, "permissive (commercial use)": "permissive", "apache-2.0": "apache-2.0", "mit": "mit",
    "llama2": "llama2", "llama3": "llama3", "cc-by-nc-4.0": "cc-by-nc-4.0", "other": "other",
}
#: columns of the gem table as shown.
GEM_COLUMNS = ("model", "tree", "score", "beats popular best", "margin", "rank", "K", "popularity", "params (B)",
               "licence", "date")


def size_bounds(choice: str) -> tuple[float | None, float | None]:
    """(min, max) billions for a size choice; unknown choices mean any size."""
    return SIZE_CHOICES.get(choice, (None, None))


def licence_filter(choice: str) -> str | None:
    return LICENCE_CHOICES.get(choice)


@dataclass(frozen=True)
class GemView:
    """What the Gems tab shows for one set of filters.

    Attributes:
        benchmark (`str`): the benchmark deciding scores.
        trees (`dict[str, int]`): the trees listed (name → K), largest first.
        tree (`str`, *optional*): the tree plotted; `None` when no tree qualifies.
        figure (`Figure`, *optional*): the scatter of `tree`; `None` when no tree qualifies.
        table (`pd.DataFrame`): the hidden gems of the listed trees that pass the licence filter.
        summary (`str`): one Markdown paragraph saying what is shown (or why nothing is).
    """

    benchmark: str
    trees: dict[str, int]
    tree: str | None
    figure: Figure | None
    table: pd.DataFrame
    summary: str


def gem_view(index: GemIndex, *, task: str, benchmark: str | None, size: str, licence: str, min_models: int,
             tree: str | None) -> GemView:
    """Apply the Gems tab's filters.

    Args:
        index: the catalog's trees.
        task: a task name; `benchmark` defaults to its first benchmark.
        benchmark: the benchmark (must belong to `task`; otherwise the task's first).
        size: a `SIZE_CHOICES` key (filters trees by median size).
        licence: a `LICENCE_CHOICES` key (filters the gems shown, never a tree's K).
        min_models: smallest tree size listed.
        tree: the tree to plot; when not among the listed trees, the largest one.

    Returns:
        A `GemView`.
    """
    benchmarks = TASK_BENCHMARKS.get(task, ())
    if benchmark not in benchmarks:
        benchmark = benchmarks[0] if benchmarks else "gsm8k"
    low, high = size_bounds(size)
    trees = index.trees(benchmark, min_models=min_models, min_params_b=low, max_params_b=high)
    table = index.gems(benchmark, min_models=min_models, min_params_b=low, max_params_b=high,
                       license=licence_filter(licence))
    if not trees:
        summary = (f"No model tree has {min_models} or more models scored on **{benchmark}** within {size}. "
                   "Lower the minimum tree size, widen the size filter, or pick another benchmark.")
        return GemView(benchmark, trees, None, None, _gem_table(table, {}), summary)
    chosen = tree if tree in trees else next(iter(trees))
    detail = index.tree(chosen, benchmark=benchmark)
    summary = _summary(detail, trees, table, licence)
    return GemView(benchmark, trees, chosen, scatter(detail), _gem_table(table, trees), summary)


def _summary(detail: TreeGems, trees: dict[str, int], table: pd.DataFrame, licence: str) -> str:
    best = detail.best_popular
    bar = f"the best popular model scores {best:.1f}" if best is not None else "no model's popularity is known"
    gems = len(detail.gems)
    return (f"**{detail.tree}** on **{detail.benchmark}**: K = {detail.n_models:,} scored models; the top "
            f"⌈1%⌉ = {detail.top} by popularity are *popular* and {bar}; **{gems}** hidden "
            f"gem{'s' if gems != 1 else ''} (top {detail.top} by score, not popular, better than every popular "
            f"model). Across the {len(trees)} listed trees: {len(table):,} gems ({licence}).")


def _gem_table(gems: pd.DataFrame, trees: dict[str, int]) -> pd.DataFrame:
    out = pd.DataFrame({
        "model": gems["id"], "tree": gems["tree"], "score": gems["score"].round(2),
        "beats popular best": gems["best_popular"].astype(float).round(2),
        "margin": gems["margin"].astype(float).round(2),
        "rank": gems["rank"], "K": [trees.get(t) for t in gems["tree"]], "popularity": gems["popularity"],
        "params (B)": gems["params_b"], "licence": gems["license"].fillna("—"), "date": gems["date"].fillna("—"),
    })
    return out[list(GEM_COLUMNS)]


def scatter(detail: TreeGems) -> Figure:
    """Score vs popularity of one tree (log popularity; 0 and unknown drawn at the left edge), gems highlighted."""
    from matplotlib.figure import Figure

    models = detail.models
    popularity = models["popularity"].to_numpy(dtype=float)
    unknown = np.isnan(popularity)
    x = np.where(unknown, 0.0, popularity) + 1.0  # +1 so zero likes sit on the log axis
    y = models["score"].to_numpy(dtype=float)
    popular, gem = models["popular"].to_numpy(bool), models["gem"].to_numpy(bool)
    rest = ~popular & ~gem

    fig = Figure(figsize=(8.0, 4.8), dpi=100, layout="constrained")
    ax = fig.add_subplot()
    ax.scatter(x[rest], y[rest], s=10, c="#9aa5b1", alpha=0.55, label=f"other models ({rest.sum():,})")
    ax.scatter(x[popular], y[popular], s=36, c="#1f77b4", marker="s", label=f"popular: top ⌈1%⌉ ({popular.sum()})")
    ax.scatter(x[gem], y[gem], s=110, c="#e4572e", marker="*", edgecolors="black", linewidths=0.5,
               label=f"hidden gems ({gem.sum()})", zorder=3)
    if detail.best_popular is not None:
        ax.axhline(detail.best_popular, color="#1f77b4", linestyle="--", linewidth=0.8,
                   label=f"best popular: {detail.best_popular:.1f}")
    for xi, yi, name in list(zip(x[gem], y[gem], models["id"][gem]))[:4]:
        ax.annotate(name.split("/")[-1][:28], (xi, yi), textcoords="offset points", xytext=(6, 4), fontsize=7)
    ax.set_xscale("log")
    ax.set_xlabel("popularity + 1 (likes, else downloads; log scale)")
    ax.set_ylabel(f"{detail.benchmark} (points)")
    ax.set_title(f"{detail.tree}: {detail.n_models:,} models on {detail.benchmark}")
    ax.grid(True, alpha=0.3)
    ax.legend(loc="lower right", fontsize=8)
    return fig
