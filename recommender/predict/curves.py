"""Fine-tuning curve files: test loss against training-set size, one row per model.

The format is the one Lin et al. (ICML 2024, "Selecting Large Language Model to Fine-tune via Rectified Scaling
Law") publish their 30-model benchmark in (shipped under ``index/data/curves/``):

    config name,0,200,400,...,1638400,size,family
    gpt2,4.857,4.386,4.288,...,1.791,124439808,GPT2

``config name`` names the model, every column whose header is a whole number is a training-set size D (0 is the
zero-shot point) holding the fine-tuning test loss L(D), ``size`` (parameter count) and ``family`` are optional.
`load_curves` checks all of it and returns a `CurveSet`; anything it cannot use raises `CurveFileError`.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from index.errors import CurveFileError

#: the column naming the model.
CONFIG_COLUMN = "config name"
#: optional metadata columns; any other non-numeric header is an error (a typo in a size would go unnoticed).
OPTIONAL_COLUMNS = ("size", "family")
#: the least number of training-set sizes a law can be fitted on.
MIN_SIZES = 3


@dataclass(frozen=True)
class CurveSet:
    """Fine-tuning curves of several models measured at the same training-set sizes.

    Attributes:
        name: the dataset's name (the file's stem, e.g. ``benchmark_flan``).
        configs: model names, one per row (``config name``), unique.
        sizes: training-set sizes D (examples), shape ``(n_sizes,)``, strictly increasing, may start at 0.
        losses: fine-tuning test loss L(D), shape ``(n_models, n_sizes)``, every value finite and > 0.
        params: parameter counts, shape ``(n_models,)``; ``None`` when the file has no ``size`` column. A model
            whose count is blank is NaN.
        families: model family per row; ``None`` when the file has no ``family`` column. Blank → ``""``.
    """

    name: str
    configs: tuple[str, ...]
    sizes: np.ndarray
    losses: np.ndarray
    params: np.ndarray | None = None
    families: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if self.losses.shape != (len(self.configs), len(self.sizes)):
            raise ValueError(
                f"losses has shape {self.losses.shape} but configs has {len(self.configs)} rows and sizes "
                f"{len(self.sizes)} columns"
            )

    @property
    def n_models(self) -> int:
        return len(self.configs)

    def groups(self) -> tuple[str, ...]:
        """The family of each model (``"all"`` where the file has none): the pooling groups of `PooledLensLLM`."""
        if self.families is None:
            return ("all",) * self.n_models
        return tuple(f or "all" for f in self.families)


def load_curves(path: str | Path) -> CurveSet:
    """Read and check a curve file.

    Args:
        path: a CSV file in the format of the module docstring.

    Returns:
        The curves, sizes sorted ascending.

    Raises:
        CurveFileError: the file is missing or unreadable, has no ``config name`` column, a header that is neither a
            whole number nor ``size`` / ``family``, fewer than 3 sizes, duplicated sizes or configs, or a loss that
            is blank, NaN, infinite, zero or negative.

    Example:
        >>> curves = load_curves("index/data/curves/benchmark_flan.csv")  # doctest: +SKIP
        >>> curves.losses.shape
        (30, 15)
    """
    path = Path(path)
    try:
        with path.open(newline="", encoding="utf-8") as fh:
            rows = list(csv.reader(fh))
    except FileNotFoundError:
        raise CurveFileError(str(path), "the file does not exist") from None
    except (OSError, UnicodeDecodeError) as err:
        raise CurveFileError(str(path), f"it cannot be read ({err})") from None
    rows = [r for r in rows if any(cell.strip() for cell in r)]
    if not rows:
        raise CurveFileError(str(path), "the file is empty")
    header = [h.strip() for h in rows[0]]
    size_cols, sizes, meta_cols = _parse_header(str(path), header)
    configs, losses, params, families = [], [], [], []
    for lineno, row in enumerate(rows[1:], start=2):
        row = row + [""] * (len(header) - len(row))
        name = row[header.index(CONFIG_COLUMN)].strip()
        if not name:
            raise CurveFileError(str(path), f"line {lineno} has an empty 'config name'")
        configs.append(name)
        losses.append([_loss(str(path), row[c], name, sizes[k]) for k, c in enumerate(size_cols)])
        if "size" in meta_cols:
            params.append(_float_or_nan(row[meta_cols["size"]]))
        if "family" in meta_cols:
            families.append(row[meta_cols["family"]].strip())
    if not configs:
        raise CurveFileError(str(path), "it has a header but no model rows")
    dupes = sorted({c for c in configs if configs.count(c) > 1})
    if dupes:
        raise CurveFileError(str(path), f"config names appear more than once: {dupes}")
    order = np.argsort(sizes)
    return CurveSet(
        name=path.stem,
        configs=tuple(configs),
        sizes=np.asarray(sizes, dtype=float)[order],
        losses=np.asarray(losses, dtype=float)[:, order],
        params=np.asarray(params, dtype=float) if "size" in meta_cols else None,
        families=tuple(families) if "family" in meta_cols else None,
    )


def _parse_header(path: str, header: list[str]) -> tuple[list[int], list[int], dict[str, int]]:
    """Column indices of the sizes, the sizes themselves, and the optional metadata columns."""
    if CONFIG_COLUMN not in header:
        raise CurveFileError(path, f"there is no '{CONFIG_COLUMN}' column (header: {header})")
    size_cols, sizes, meta, bad = [], [], {}, []
    for i, h in enumerate(header):
        if h == CONFIG_COLUMN:
            continue
        if h in OPTIONAL_COLUMNS:
            meta[h] = i
        elif h.isdigit():
            size_cols.append(i)
            sizes.append(int(h))
        else:
            bad.append(h)
    if bad:
        raise CurveFileError(
            path, f"headers {bad} are neither training-set sizes (whole numbers) nor one of {list(OPTIONAL_COLUMNS)}"
        )
    if len(set(sizes)) != len(sizes):
        raise CurveFileError(path, f"a training-set size appears twice among {sorted(sizes)}")
    if len(sizes) < MIN_SIZES:
        raise CurveFileError(path, f"it has {len(sizes)} training-set size column(s) {sizes}; at least {MIN_SIZES} are needed")
    return size_cols, sizes, meta


def _loss(path: str, cell: str, config: str, size: int) -> float:
    text = cell.strip()
    try:
        value = float(text)
    except ValueError:
        raise CurveFileError(path, f"the loss of '{config}' at size {size} is {text!r}, not a number") from None
    if not math.isfinite(value):
        raise CurveFileError(path, f"the loss of '{config}' at size {size} is {text!r} (NaN or infinite)")
    if value <= 0:
        raise CurveFileError(path, f"the loss of '{config}' at size {size} is {value:g}; losses must be > 0")
    return value


def _float_or_nan(cell: str) -> float:
    try:
        return float(cell)
    except ValueError:
        return float("nan")
