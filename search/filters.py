"""Hard filters: which catalog rows a request's `Constraints` allow.

Runs once per request over the whole catalog (~20k rows), so it works on numpy columns, never on records. Unknown
values never pass a filter on that value (DESIGN: "a licence filter never passes a model whose licence is unknown";
the same holds for size, family and instruct), because a recommendation must not break a stated constraint.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from index.errors import CatalogSchemaError

if TYPE_CHECKING:
    from search.query import Constraints

__all__ = ["family_matches", "filter_mask"]

_COLUMNS = ("params_b", "license", "family", "instruct", "flagged", "available")
# Licence values that mean "not known" even though they are strings on the Hub.
_UNKNOWN_LICENSES = frozenset({"unknown"})


def family_matches(prefix: str, family: str | None) -> bool:
    """Whether `family` belongs to the family filter `prefix` (DESIGN: a family filter matches by prefix).

    The prefix must end at a name boundary: ``llama`` matches ``llama-2`` and ``llama-3`` matches ``llama-3.1``,
    ``qwen`` matches ``qwen2.5``, but ``phi`` does not match ``phind``.

    Args:
        prefix: the lowercase family of the filter.
        family: a model's lowercase family; `None` (unknown) never matches.

    Returns:
        `True` when `family` is `prefix` or one of its generations.

    Example:
        >>> family_matches("llama-3", "llama-3.1"), family_matches("phi", "phind")
        (True, False)
    """
    if not isinstance(family, str) or not family.startswith(prefix):  # None / NaN: unknown
        return False
    rest = family[len(prefix) :]
    return not rest or not rest[0].isalpha()


def _bools(column: pd.Series, *, unknown: bool) -> np.ndarray:
    """A nullable boolean column as a numpy bool array, unknown (NA / None) read as `unknown`."""
    return column.to_numpy(dtype=bool, na_value=unknown)


def filter_mask(
    frame: pd.DataFrame,
    constraints: Constraints,
    *,
    include_flagged: bool = False,
    include_unavailable: bool = False,
) -> np.ndarray:
    """Rows of a catalog frame that satisfy `constraints`.

    Rules: ``params_b`` within ``[params_min_b, params_max_b]`` (unknown size fails any size constraint); licence
    in the allowed set (unknown never passes); family by prefix (see `family_matches`; unknown fails); instruct
    equal (unknown fails). Flagged rows (``flagged`` is `True`) are dropped unless `include_flagged`; rows with
    ``available`` `False` are dropped unless `include_unavailable` (unknown availability passes).

    Args:
        frame: the catalog frame (`index.Catalog.frame` or `index.catalog.records_to_frame`).
        constraints: the request's hard filters.
        include_flagged: keep models flagged by leaderboard maintainers.
        include_unavailable: keep models no longer available on the Hub.

    Returns:
        A bool array with one entry per row of `frame`, in row order.

    Raises:
        CatalogSchemaError: `frame` lacks a column the filters read.

    Example:
        >>> mask = filter_mask(catalog.frame, Constraints(params_max_b=3, license=("apache-2.0",)))
        >>> catalog.frame.loc[mask, "id"].head()
    """
    missing = [c for c in _COLUMNS if c not in frame.columns]
    if missing:
        raise CatalogSchemaError("<frame>", missing)
    mask = np.ones(len(frame), dtype=bool)

    if constraints.params_min_b is not None or constraints.params_max_b is not None:
        params = frame["params_b"].to_numpy(dtype=float, na_value=np.nan)
        # NaN compares False, so an unknown size fails both bounds.
        if constraints.params_min_b is not None:
            mask &= params >= constraints.params_min_b
        if constraints.params_max_b is not None:
            mask &= params <= constraints.params_max_b
    if constraints.license is not None:
        allowed = [x for x in constraints.license if x not in _UNKNOWN_LICENSES]
        mask &= frame["license"].isin(allowed).to_numpy(dtype=bool)
    if constraints.family is not None:
        # ~100 distinct families over ~20k rows: decide once per distinct value, then one hash lookup per row.
        column = frame["family"]
        members = [f for f in column.unique() if family_matches(constraints.family, f)]
        mask &= column.isin(members).to_numpy(dtype=bool)
    if constraints.instruct is not None:
        if constraints.instruct:
            mask &= _bools(frame["instruct"], unknown=False)
        else:
            mask &= ~_bools(frame["instruct"], unknown=True)
    if not include_flagged:
        mask &= ~_bools(frame["flagged"], unknown=False)
    if not include_unavailable:
        mask &= _bools(frame["available"], unknown=True)
    return mask
