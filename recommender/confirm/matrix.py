"""`ResponseMatrix`: item-level correctness of many models on one question pool (rows = models, columns = questions).

The recorded oracle replays it; the Sequential Halving replication is measured on it. Files are CSV or CSV.GZ with
the model id in the first column, one column per question, values 0/1 (metabench's layout).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from index.errors import ResponseMatrixError


@dataclass(frozen=True)
class ResponseMatrix:
    """0/1 correctness of models (rows) on questions (columns).

    Attributes:
        benchmark (`str`): name of the question pool (``"gsm8k"``).
        model_ids (`tuple[str, ...]`): row labels, unique case-insensitively.
        question_ids (`tuple[str, ...]`): column labels, unique.
        values (`np.ndarray`): ``uint8`` array of shape ``(len(model_ids), len(question_ids))``, entries 0 or 1.
        costs (`np.ndarray`, *optional*): per-question cost of one pull (e.g. tokens); `None` = every pull costs 1.
    """

    benchmark: str
    model_ids: tuple[str, ...]
    question_ids: tuple[str, ...]
    values: np.ndarray
    costs: np.ndarray | None = None

    def __post_init__(self) -> None:
        k, q = len(self.model_ids), len(self.question_ids)
        if self.values.shape != (k, q):
            raise ResponseMatrixError(self.benchmark, f"values have shape {self.values.shape}, labels say ({k}, {q})")
        if k == 0 or q == 0:
            raise ResponseMatrixError(self.benchmark, "it has no models or no questions")
        if not np.isin(self.values, (0, 1)).all():
            raise ResponseMatrixError(self.benchmark, "values other than 0 and 1 are present")
        lowered = [m.lower() for m in self.model_ids]
        if len(set(lowered)) != k:
            dup = sorted({m for m in lowered if lowered.count(m) > 1})[:3]
            raise ResponseMatrixError(self.benchmark, f"duplicated model ids {dup}")
        if len(set(self.question_ids)) != q:
            raise ResponseMatrixError(self.benchmark, "duplicated question ids")
        if self.costs is not None and (self.costs.shape != (q,) or (self.costs < 0).any()):
            raise ResponseMatrixError(self.benchmark, "costs must be one non-negative number per question")

    @property
    def n_models(self) -> int:
        return len(self.model_ids)

    @property
    def n_questions(self) -> int:
        return len(self.question_ids)

    def subset_scores(self) -> np.ndarray:
        """Each model's mean over the matrix's questions, in points (0–100): the "subset truth"."""
        return 100.0 * self.values.mean(axis=1)

    def rows(self, model_ids) -> ResponseMatrix:
        """The sub-matrix of the given models (in that order)."""
        index = {m.lower(): i for i, m in enumerate(self.model_ids)}
        picked = [index[m.lower()] for m in model_ids]
        return ResponseMatrix(self.benchmark, tuple(self.model_ids[i] for i in picked), self.question_ids,
                              self.values[picked], self.costs)

    @classmethod
    def from_csv(cls, path: str | Path, *, benchmark: str | None = None) -> ResponseMatrix:
        """Read a matrix file (CSV or CSV.GZ; first column model id, other columns questions, values 0/1).

        Args:
            path: the file.
            benchmark: its name; default: the file name before ``_responses`` (``gsm8k_responses_train.csv.gz``
                → ``gsm8k``), else the stem.

        Raises:
            ResponseMatrixError: missing, empty, ragged, non-0/1 values, duplicated ids.
        """
        import pandas as pd

        path = Path(path)
        name = benchmark or benchmark_name(path)
        if not path.exists():
            raise ResponseMatrixError(name, f"the file '{path}' does not exist")
        try:
            frame = pd.read_csv(path, dtype={0: str}, keep_default_na=True)
        except pd.errors.EmptyDataError:
            raise ResponseMatrixError(name, f"the file '{path}' is empty") from None
        except pd.errors.ParserError as err:  # rows with more fields than the header
            raise ResponseMatrixError(name, f"the file '{path}' is ragged ({str(err).strip()})") from None
        if frame.shape[1] < 2 or frame.shape[0] == 0:
            raise ResponseMatrixError(name, f"the file '{path}' has no question columns or no model rows")
        body = frame.iloc[:, 1:]
        if body.isna().any().any():  # rows with fewer fields than the header
            bad = frame.iloc[int(np.flatnonzero(body.isna().any(axis=1).to_numpy())[0]), 0]
            raise ResponseMatrixError(name, f"the file '{path}' is ragged or has empty cells (first at model '{bad}')")
        numeric = body.apply(pd.to_numeric, errors="coerce")
        if numeric.isna().any().any() or not numeric.isin((0, 1)).all().all():
            raise ResponseMatrixError(name, f"the file '{path}' has values other than 0 and 1")
        return cls(name, tuple(frame.iloc[:, 0].astype(str)), tuple(map(str, body.columns)),
                   numeric.to_numpy(dtype=np.uint8))


def benchmark_name(path: str | Path) -> str:
    """``mmlu_pro_responses_x.csv.gz`` → ``mmlu_pro``; otherwise the file's stem without extensions."""
    name = Path(path).name
    if "_responses" in name:
        return name.split("_responses", 1)[0]
    for ext in (".gz", ".csv"):
        name = name.removesuffix(ext)
    return name
