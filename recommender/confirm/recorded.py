"""The shipped recorded response matrices (metabench, Open LLM Leaderboard v1 runs) and a tolerant matrix reader.

Four question pools ship under ``index/data/responses/`` (CC BY-NC-SA 4.0, see the NOTICE there): ARC, GSM8K, MMLU
and TruthfulQA, each an IRT-selected subset of 100–249 items of the whole benchmark, plus each model's
whole-benchmark score (``*_fullscore_train_val.csv.gz``, the "full truth" of the Sequential Halving replication).

`read_matrix` is `ResponseMatrix.from_csv` plus one tolerance the shipped files need: ids that differ only in case
*and carry identical answers* are one model listed twice (metabench has ~10 per file), so the first spelling is kept.
Exactly duplicated ids, or case variants whose answers differ, stay errors.

Example:
    >>> gsm8k = load_responses("gsm8k")
    >>> gsm8k.n_models, gsm8k.n_questions        # 5,041 rows, 7 case-variant duplicates merged
    (5034, 249)
    >>> combined = combined_matrix()            # models present in all four, columns "arc:…", "gsm8k:…", …
"""

from __future__ import annotations

import csv
import gzip
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from index import constants
from index.errors import ResponseMatrixError
from recommender.confirm.matrix import ResponseMatrix, benchmark_name

__all__ = [
    "RECORDED_BENCHMARKS",
    "RESPONSES_DIR",
    "combined_full_scores",
    "combined_matrix",
    "load_full_scores",
    "load_responses",
    "read_matrix",
    "responses_path",
    "full_scores_path",
]

#: the folder of shipped matrices (``index/data/responses``).
RESPONSES_DIR = constants.PACKAGE_DATA_DIR / "responses"
#: the question pools that ship, in the order the combined matrix concatenates them.
RECORDED_BENCHMARKS: tuple[str, ...] = ("arc", "gsm8k", "mmlu", "truthfulqa")
#: the name of the four-pool matrix.
COMBINED = "combined"


def responses_path(benchmark: str) -> Path:
    """The shipped matrix file of `benchmark` (``index/data/responses/<b>_responses_train.csv.gz``)."""
    _check_recorded(benchmark)
    return RESPONSES_DIR / f"{benchmark}_responses_train.csv.gz"


def full_scores_path(benchmark: str) -> Path:
    """The shipped whole-benchmark score file of `benchmark` (columns ``model,score``)."""
    _check_recorded(benchmark)
    return RESPONSES_DIR / f"{benchmark}_fullscore_train_val.csv.gz"


def _check_recorded(benchmark: str) -> None:
    if benchmark not in RECORDED_BENCHMARKS:
        raise ValueError(
            f"No recorded matrix for benchmark {benchmark!r}; shipped ones: {', '.join(RECORDED_BENCHMARKS)}."
        )


# Reading ------------------------------------------------------------------------------------------------------


def read_matrix(path: str | Path, *, benchmark: str | None = None) -> ResponseMatrix:
    """Read and validate a matrix file, merging ids that differ only in case when their answers are identical.

    Args:
        path: CSV or CSV.GZ; first column the model id, one column per question, values 0/1.
        benchmark: the pool's name; default `benchmark_name(path)` (``mmlu_pro_responses_x.csv.gz`` → ``mmlu_pro``).

    Returns:
        The `ResponseMatrix` (rows in file order; of case variants, the first spelling).

    Raises:
        ResponseMatrixError: the file is missing, unreadable, empty, header-only, ragged, has values other than
            0/1, duplicated question columns, exactly duplicated model ids, or case-variant ids with different
            answers.
    """
    path = Path(path)
    name = benchmark or benchmark_name(path)
    if path.is_dir():
        raise ResponseMatrixError(name, f"'{path}' is a folder, not a file")
    _check_header(path, name)
    try:
        return ResponseMatrix.from_csv(path, benchmark=name)
    except ResponseMatrixError as err:
        merged = _merge_case_variants(path, name)
        if merged is None:  # not a case-variant problem: the original message says what is wrong
            raise err from None
        return merged
    except (OSError, UnicodeDecodeError, EOFError) as err:  # corrupt gzip, binary file, permissions
        raise ResponseMatrixError(name, f"the file '{path}' cannot be read as CSV ({err})") from None


def _open_text(path: Path):
    return gzip.open(path, "rt", newline="") if path.name.endswith(".gz") else open(path, newline="")


def _check_header(path: Path, name: str) -> None:
    """Refuse duplicated question columns, which pandas would silently rename (``q``, ``q.1``)."""
    if not path.exists():
        return  # from_csv words the missing-file error
    try:
        with _open_text(path) as handle:
            header = next(csv.reader(handle), None)
    except (OSError, UnicodeDecodeError, EOFError, csv.Error) as err:
        raise ResponseMatrixError(name, f"the file '{path}' cannot be read as CSV ({err})") from None
    if not header:
        return  # empty: from_csv says so
    questions = [h.strip() for h in header[1:]]
    seen: set[str] = set()
    dups = sorted({q for q in questions if q in seen or seen.add(q)})
    if dups:
        raise ResponseMatrixError(name, f"the file '{path}' has duplicated question columns {dups[:3]}")


def _merge_case_variants(path: Path, name: str) -> ResponseMatrix | None:
    """The matrix with case-variant rows merged, or `None` when the file's problem is something else."""
    import pandas as pd

    try:
        frame = pd.read_csv(path, dtype={0: str})
    except Exception:  # noqa: BLE001 - any parse failure: from_csv's own error is the one to show
        return None
    ids = frame.iloc[:, 0].astype(str)
    body = frame.iloc[:, 1:].apply(pd.to_numeric, errors="coerce")
    if ids.duplicated().any() or body.isna().any().any() or not body.isin((0, 1)).all().all():
        return None  # exact duplicates / bad values: reported by from_csv as they are
    lowered = ids.str.lower()
    if not lowered.duplicated().any():
        return None
    values = body.to_numpy(dtype=np.uint8)
    first = ~lowered.duplicated().to_numpy()
    # Each case variant must repeat its first spelling's answers exactly; otherwise they are two different runs.
    group = pd.factorize(lowered)[0]
    firsts = np.flatnonzero(first)[group]
    differ = (values != values[firsts]).any(axis=1)
    if differ.any():
        bad = ids.iloc[int(np.flatnonzero(differ)[0])]
        raise ResponseMatrixError(name, f"model ids differing only in case have different answers (e.g. '{bad}')")
    return ResponseMatrix(name, tuple(ids[first]), tuple(map(str, frame.columns[1:])), values[first])


def load_responses(benchmark: str) -> ResponseMatrix:
    """The shipped matrix of one benchmark (``arc``, ``gsm8k``, ``mmlu``, ``truthfulqa``).

    Args:
        benchmark: one of `RECORDED_BENCHMARKS`.

    Returns:
        Its `ResponseMatrix` (case-variant duplicate rows merged).

    Raises:
        ValueError: no matrix ships for `benchmark`.

    Example:
        >>> load_responses("arc").n_questions
        100
    """
    return read_matrix(responses_path(benchmark), benchmark=benchmark)


def load_full_scores(path: str | Path) -> dict[str, float]:
    """Whole-benchmark scores from a ``model,score`` CSV (or CSV.GZ), keyed by **lower-cased** model id.

    Args:
        path: the file; columns ``model`` and ``score`` (points, 0–100). Case variants of one id must agree.

    Returns:
        ``{model_id.lower(): points}``.

    Raises:
        ResponseMatrixError: missing or unreadable file, missing columns, non-numeric or out-of-range scores, or
            one id given two different scores.

    Example:
        >>> round(load_full_scores(full_scores_path("gsm8k"))["mistralai/mistral-7b-v0.1"], 1)
        37.1
    """
    import pandas as pd

    path = Path(path)
    name = f"{path.name} (full scores)"
    if not path.is_file():
        raise ResponseMatrixError(name, f"the file '{path}' does not exist")
    try:
        frame = pd.read_csv(path, dtype={"model": str})
    except (pd.errors.EmptyDataError, pd.errors.ParserError, OSError, UnicodeDecodeError, EOFError) as err:
        raise ResponseMatrixError(name, f"the file '{path}' cannot be read as CSV ({str(err).strip()})") from None
    if not {"model", "score"} <= set(frame.columns):
        raise ResponseMatrixError(name, f"the file '{path}' needs columns 'model,score', has {list(frame.columns)}")
    scores = pd.to_numeric(frame["score"], errors="coerce")
    if scores.isna().any() or not scores.between(0, 100).all():
        raise ResponseMatrixError(name, f"the file '{path}' has scores that are not numbers in 0–100 points")
    out: dict[str, float] = {}
    for model, score in zip(frame["model"].astype(str).str.lower(), scores.astype(float)):
        if model in out and out[model] != score:
            raise ResponseMatrixError(name, f"model '{model}' has two different scores ({out[model]}, {score})")
        out[model] = score
    return out


# The four pools together --------------------------------------------------------------------------------------


def combined_matrix(benchmarks: Sequence[str] = RECORDED_BENCHMARKS) -> ResponseMatrix:
    """One matrix over the models present in every given pool, columns prefixed ``"<benchmark>:"``.

    The four shipped pools give ~600 questions, a mix close to RouterBench's (the Hidden Gems paper's setting).

    Args:
        benchmarks: the pools to join (default all four).

    Returns:
        A `ResponseMatrix` named ``"combined"``, rows in the first pool's order.

    Example:
        >>> m = combined_matrix()
        >>> m.question_ids[0].split(":")[0]
        'arc'
    """
    matrices = [load_responses(b) for b in benchmarks]
    common = set.intersection(*({m.lower() for m in x.model_ids} for x in matrices))
    ids = tuple(m for m in matrices[0].model_ids if m.lower() in common)
    blocks, questions = [], []
    for b, matrix in zip(benchmarks, matrices):
        blocks.append(matrix.rows(ids).values)
        questions.extend(f"{b}:{q}" for q in matrix.question_ids)
    return ResponseMatrix(COMBINED, ids, tuple(questions), np.concatenate(blocks, axis=1))


def combined_full_scores(benchmarks: Sequence[str] = RECORDED_BENCHMARKS) -> dict[str, float]:
    """The mean of the given pools' whole-benchmark scores, for models scored on all of them (lower-cased ids).

    The combined matrix's full truth: like the leaderboard average, each benchmark counts equally (the subset
    truth instead weights each pool by its number of questions).
    """
    tables = [load_full_scores(full_scores_path(b)) for b in benchmarks]
    common = set.intersection(*(set(t) for t in tables))
    return {m: float(np.mean([t[m] for t in tables])) for m in common}
