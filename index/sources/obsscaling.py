"""ObsScaling (Ruan et al., 2024) base and instruct model evaluations: HumanEval, and v1 benchmarks as a fallback.

Its v1-style columns (MMLU, ARC-C, HellaSwag, Winogrande, TruthfulQA, GSM8K) come from the same harness as the
Open LLM Leaderboard v1; the builder uses them only for models the v1 leaderboard lacks. Accuracies are 0–1.
"""

from __future__ import annotations

from pathlib import Path

from index.record import Score
from index.sources._base import SourceRecord, is_hf_id, params_or_none, points, read_csv

FILES = ("leaderboards/obsscaling/base_llm_benchmark_eval.csv", "leaderboards/obsscaling/instruct_llm_benchmark_eval.csv")

#: benchmarks the builder only takes from here for models without a v1 leaderboard record.
V1_BENCHMARKS = ("mmlu", "arc", "hellaswag", "winogrande", "truthfulqa", "gsm8k")
#: ObsScaling column → benchmark ("Winograd" in the base table is WinoGrande, 5-shot, as on the v1 leaderboard).
_SCORES = {
    "HumanEval": "humaneval", "MMLU": "mmlu", "ARC-C": "arc", "HellaSwag": "hellaswag", "Winograd": "winogrande",
    "Winogrande": "winogrande", "TruthfulQA": "truthfulqa", "GSM8K": "gsm8k",
}


def _from_row(row: dict, *, instruct: bool) -> SourceRecord:
    """One model's record from a table row whose ``Model`` is a Hub id."""
    scores = {
        bench: Score(value, "obsscaling")
        for col, bench in _SCORES.items()
        if col in row and (value := points(row[col], scale=100.0)) is not None
    }
    return SourceRecord(
        id=str(row["Model"]).strip(),
        source="obsscaling",
        params_b=params_or_none(row.get("Model Size (B)")),
        instruct=instruct,
        scores=scores,
    )


def load(raw_dir: Path) -> list[SourceRecord]:
    """Read the base and instruct tables (rows named by Hub id only; API models are skipped).

    Args:
        raw_dir: the raw-data folder.

    Returns:
        One record per Hub-id row with a score.

    Raises:
        RawDataNotFoundError: a file of `FILES` is missing.
    """
    records: list[SourceRecord] = []
    for relpath, instruct in zip(FILES, (False, True)):
        for row in read_csv(raw_dir, relpath).to_dict("records"):
            if is_hf_id(str(row["Model"]).strip()):
                record = _from_row(row, instruct=instruct)
                if record.scores:
                    records.append(record)
    return records
