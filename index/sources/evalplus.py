"""EvalPlus leaderboard: HumanEval and MBPP base pass@1 (the plain tests, not the stricter "+" ones)."""

from __future__ import annotations

from pathlib import Path

from index.record import Score
from index.sources._base import SourceRecord, is_hf_id, missing, params_or_none, points, read_csv

FILES = ("leaderboards/evalplus_leaderboard/evalplus_pass1.csv",)
#: the leaderboard snapshot (evalplus/evalplus.github.io @ 8741845) carries no date, nor do its rows.
SNAPSHOT_DATE: str | None = None

#: EvalPlus column → benchmark (pass@1 already in percent).
_SCORES = {"pass1_humaneval": "humaneval", "pass1_mbpp": "mbpp"}


def _from_row(row: dict) -> SourceRecord:
    """One model's record (only rows with a Hub id reach here)."""
    scores = {
        bench: Score(value, "evalplus", SNAPSHOT_DATE)
        for col, bench in _SCORES.items()
        if (value := points(row[col])) is not None
    }
    return SourceRecord(
        id=str(row["hf_id"]).strip(), source="evalplus", params_b=params_or_none(row["size_b"]), scores=scores
    )


def load(raw_dir: Path) -> list[SourceRecord]:
    """Read the EvalPlus pass@1 table.

    Args:
        raw_dir: the raw-data folder.

    Returns:
        One record per row that names a Hub id and has a score.

    Raises:
        RawDataNotFoundError: the file is missing.
    """
    frame = read_csv(raw_dir, FILES[0])
    rows = [r for r in frame.to_dict("records") if not missing(r["hf_id"]) and is_hf_id(str(r["hf_id"]).strip())]
    return [rec for rec in map(_from_row, rows) if rec.scores]
