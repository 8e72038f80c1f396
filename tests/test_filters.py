"""Tests of `search.filters`: each hard-filter rule, unknown (NA) values, and the per-query time budget."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from index.catalog import records_to_frame
from index.errors import CatalogSchemaError
from index.record import ModelRecord, Score
from search import Constraints, filter_mask, parse_query
from search.filters import family_matches

FIXTURE = Path(__file__).parent / "fixtures" / "catalog" / "models.jsonl"


def load_fixture_records() -> list[ModelRecord]:
    records = []
    for line in FIXTURE.read_text().splitlines():
        row = json.loads(line)
        scores = {b: Score(**s) for b, s in row.pop("scores", {}).items()}
        records.append(ModelRecord(**row, scores=scores))
    return records


@pytest.fixture(scope="module")
def catalog() -> pd.DataFrame:
    return records_to_frame(load_fixture_records())


def kept(frame: pd.DataFrame, constraints: Constraints, **switches: bool) -> list[str]:
    return list(frame.loc[filter_mask(frame, constraints, **switches), "id"])


def rec(model_id: str, **fields) -> ModelRecord:
    if fields.get("license") is not None:
        fields.setdefault("license_source", "card")
    return ModelRecord(id=model_id, **fields)


class TestSize:
    @pytest.fixture()
    def frame(self) -> pd.DataFrame:
        return records_to_frame(
            [rec("a", params_b=0.5), rec("b", params_b=3.0), rec("c", params_b=7.24), rec("d", params_b=70.0),
             rec("unknown")]
        )

    @pytest.mark.parametrize(
        "lo, hi, expected",
        [
            (None, 3.0, ["a", "b"]),  # bounds are inclusive
            (3.0, None, ["b", "c", "d"]),
            (3.0, 7.24, ["b", "c"]),
            (6.8, 9.2, ["c"]),
            (100.0, None, []),
            (None, None, ["a", "b", "c", "d", "unknown"]),  # no size constraint: unknown size passes
        ],
    )
    def test_range(self, frame: pd.DataFrame, lo: float | None, hi: float | None, expected: list[str]) -> None:
        assert kept(frame, Constraints(params_min_b=lo, params_max_b=hi)) == expected

    def test_all_unknown_sizes(self) -> None:
        # A column of only None is object-typed; it must still read as unknown, not fail.
        frame = records_to_frame([rec("x"), rec("y")])
        assert kept(frame, Constraints(params_max_b=100)) == []


class TestLicense:
    @pytest.fixture()
    def frame(self) -> pd.DataFrame:
        return records_to_frame(
            [rec("apache", license="apache-2.0"), rec("mit", license="mit"), rec("llama", license="llama3"),
             rec("hub-unknown", license="unknown"), rec("none")]
        )

    @pytest.mark.parametrize(
        "allowed, expected",
        [
            (("apache-2.0",), ["apache"]),
            (("apache-2.0", "mit"), ["apache", "mit"]),
            (("llama3",), ["llama"]),
            (("cc-by-nc-4.0",), []),
            # the Hub's "unknown" is no licence: it never passes, even when asked for
            (("unknown", "mit"), ["mit"]),
        ],
    )
    def test_allowed_set(self, frame: pd.DataFrame, allowed: tuple[str, ...], expected: list[str]) -> None:
        assert kept(frame, Constraints(license=allowed)) == expected

    def test_no_licence_filter_keeps_unknown(self, frame: pd.DataFrame) -> None:
        assert kept(frame, Constraints()) == ["apache", "mit", "llama", "hub-unknown", "none"]


class TestFamily:
    @pytest.mark.parametrize(
        "prefix, family, expected",
        [
            ("llama", "llama", True),
            ("llama", "llama-2", True),
            ("llama", "llama-3.1", True),
            ("llama-3", "llama-3.1", True),
            ("llama-3", "llama-3", True),
            ("llama-3.1", "llama-3", False),
            ("llama-2", "llama-3", False),
            ("llama", "tinyllama", False),
            ("qwen", "qwen2.5", True),
            ("qwen2", "qwen2.5", True),
            ("phi", "phi-3", True),
            ("phi", "phind", False),  # a prefix must end at a name boundary
            ("mistral", "mixtral", False),
            ("llama", None, False),
        ],
    )
    def test_family_matches(self, prefix: str, family: str | None, expected: bool) -> None:
        assert family_matches(prefix, family) is expected

    @pytest.fixture()
    def frame(self) -> pd.DataFrame:
        families = ["llama", "llama-2", "llama-3", "llama-3.1", "tinyllama", "mistral", "qwen2.5", None]
        return records_to_frame([rec(f"m{i}", family=f) for i, f in enumerate(families)])

    @pytest.mark.parametrize(
        "prefix, expected",
        [
            ("llama", ["m0", "m1", "m2", "m3"]),
            ("llama-3", ["m2", "m3"]),
            ("llama-3.1", ["m3"]),
            ("mistral", ["m5"]),
            ("qwen", ["m6"]),
            ("gemma", []),
        ],
    )
    def test_prefix(self, frame: pd.DataFrame, prefix: str, expected: list[str]) -> None:
        assert kept(frame, Constraints(family=prefix)) == expected


class TestInstructAndSwitches:
    @pytest.fixture()
    def frame(self) -> pd.DataFrame:
        return records_to_frame(
            [
                rec("chat", instruct=True, flagged=False, available=True),
                rec("base", instruct=False, flagged=False, available=True),
                rec("instruct-unknown", flagged=None, available=None),
                rec("flagged", instruct=True, flagged=True, available=True),
                rec("gone", instruct=True, flagged=False, available=False),
                rec("flagged-and-gone", instruct=False, flagged=True, available=False),
            ]
        )

    @pytest.mark.parametrize(
        "instruct, expected",
        [(True, ["chat"]), (False, ["base"]), (None, ["chat", "base", "instruct-unknown"])],
    )
    def test_instruct(self, frame: pd.DataFrame, instruct: bool | None, expected: list[str]) -> None:
        assert kept(frame, Constraints(instruct=instruct)) == expected

    @pytest.mark.parametrize(
        "include_flagged, include_unavailable, expected",
        [
            (False, False, ["chat", "base", "instruct-unknown"]),  # NA flagged / available pass
            (True, False, ["chat", "base", "instruct-unknown", "flagged"]),
            (False, True, ["chat", "base", "instruct-unknown", "gone"]),
            (True, True, ["chat", "base", "instruct-unknown", "flagged", "gone", "flagged-and-gone"]),
        ],
    )
    def test_flagged_and_unavailable(
        self, frame: pd.DataFrame, include_flagged: bool, include_unavailable: bool, expected: list[str]
    ) -> None:
        got = kept(frame, Constraints(), include_flagged=include_flagged, include_unavailable=include_unavailable)
        assert got == expected

    def test_object_columns(self, frame: pd.DataFrame) -> None:
        # A frame built elsewhere may hold None in object columns instead of pandas' nullable booleans.
        loose = frame.astype({c: object for c in ("instruct", "flagged", "available")})
        assert kept(loose, Constraints(instruct=True)) == kept(frame, Constraints(instruct=True)) == ["chat"]
        assert kept(loose, Constraints(instruct=False), include_flagged=True, include_unavailable=True) == [
            "base", "flagged-and-gone"
        ]


class TestCatalog:
    def test_result_shape(self, catalog: pd.DataFrame) -> None:
        mask = filter_mask(catalog, Constraints())
        assert isinstance(mask, np.ndarray) and mask.dtype == bool and mask.shape == (len(catalog),)

    @pytest.mark.parametrize(
        "request_text, expected",
        [
            ("a 7B apache-2.0 instruct model", ["mistralai/Mistral-7B-Instruct-v0.2", "Qwen/Qwen2.5-7B-Instruct"]),
            ("llama-3 8B", ["meta-llama/Meta-Llama-3-8B", "meta-llama/Meta-Llama-3-8B-Instruct",
                            "meta-llama/Llama-3.1-8B-Instruct"]),
            ("mit licensed base model", ["microsoft/phi-2"]),
            ("commercial use, at least 30B", ["mistralai/Mixtral-8x7B-Instruct-v0.1", "01-ai/Yi-34B",
                                              "tiiuae/falcon-40b"]),
            ("under 500M parameters", ["Qwen/Qwen2.5-0.5B", "HuggingFaceTB/SmolLM2-135M-Instruct"]),
            ("mistral 7b", ["mistralai/Mistral-7B-v0.1", "mistralai/Mistral-7B-Instruct-v0.2"]),
            ("mistral 7b, include flagged models", ["mistralai/Mistral-7B-v0.1", "mistralai/Mistral-7B-Instruct-v0.2",
                                                    "some-org/contaminated-merge-7b"]),
            ("llama-2 chat model including unavailable models", ["meta-llama/Llama-2-70b-chat-hf",
                                                                  "deleted-org/old-llama-finetune"]),
            ("fits a 16 GB GPU, gemma", []),  # gemma-7b has 8.54B parameters
            ("fits a 20 GB GPU, gemma", ["google/gemma-2-9b-it", "google/gemma-7b"]),
            ("fits a 16 GB GPU at 8-bit, gemma 2", ["google/gemma-2-9b-it"]),
        ],
    )
    def test_parsed_requests(self, catalog: pd.DataFrame, request_text: str, expected: list[str]) -> None:
        q = parse_query(request_text)
        got = kept(
            catalog, q.constraints, include_flagged=q.include_flagged, include_unavailable=q.include_unavailable
        )
        assert got == expected

    def test_unknown_model_passes_only_without_constraints(self, catalog: pd.DataFrame) -> None:
        assert "unknown-org/mystery-model" in kept(catalog, Constraints())
        for c in (Constraints(params_max_b=1000), Constraints(license=("apache-2.0",)), Constraints(family="llama"),
                  Constraints(instruct=True), Constraints(instruct=False)):
            assert "unknown-org/mystery-model" not in kept(catalog, c)

    def test_parquet_round_trip(self, catalog: pd.DataFrame, tmp_path: Path) -> None:
        pytest.importorskip("pyarrow")
        path = tmp_path / "catalog.parquet"
        catalog.to_parquet(path)
        again = pd.read_parquet(path)
        c = Constraints(params_max_b=10, license=("apache-2.0", "mit"), instruct=True)
        assert kept(again, c) == kept(catalog, c)

    def test_missing_column(self, catalog: pd.DataFrame) -> None:
        with pytest.raises(CatalogSchemaError, match=r"lacks columns \['flagged'\]"):
            filter_mask(catalog.drop(columns=["flagged"]), Constraints())

    def test_whole_catalog_sized_frame(self, catalog: pd.DataFrame) -> None:
        # Speed is measured by evals/bench_search.py; here: a 20k-row frame gives the same rows as the small one.
        big = pd.concat([catalog] * (20_000 // len(catalog) + 1), ignore_index=True).iloc[:20_000]
        big["family"] = big["family"].astype(object)
        c = Constraints(params_min_b=1, params_max_b=10, license=("apache-2.0", "mit"), family="llama",
                        instruct=True)
        small = filter_mask(catalog, c)
        assert (filter_mask(big, c) == np.resize(small, len(big))).all()
