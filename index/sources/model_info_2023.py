"""Hub model metadata of October 2023 (Liang et al., AI-model-card-analysis): downloads and creation dates."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from index.sources._base import SourceRecord, as_int, iso_date, raw_file

FILES = ("catalog/hf_model_info_2023/model_info.parquet",)
#: task categories of text-generating language models.
LLM_TASKS = ("text-generation", "text2text-generation")


def _from_row(row: dict) -> SourceRecord:
    """One model's record (2023 downloads, repo creation date)."""
    return SourceRecord(
        id=str(row["modelId"]).strip(),
        source="hf_model_info_2023",
        downloads=as_int(row["downloads"]),
        created=iso_date(row["creation_time"]),
        pipeline_tag=row["task_category"],
    )


def load(raw_dir: Path) -> list[SourceRecord]:
    """Read the 2023 metadata of text-generation and text2text-generation models.

    Args:
        raw_dir: the raw-data folder.

    Returns:
        One record per model downloaded at least once in the snapshot month.

    Raises:
        RawDataNotFoundError: the file is missing.
    """
    columns = ["modelId", "creation_time", "downloads", "task_category"]
    frame = pd.read_parquet(raw_file(raw_dir, FILES[0]), columns=columns)
    # A repo nobody downloaded in the snapshot month carries no usable popularity signal and, with no score or
    # card, would only crowd retrieval; models that other sources know keep their record through those sources.
    frame = frame[frame["task_category"].isin(LLM_TASKS) & (frame["downloads"] > 0)]
    return [_from_row(row) for row in frame.to_dict("records")]
