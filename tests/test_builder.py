"""Tests of `index.builder`: known models come out right, and catalog-wide contracts hold.

The catalog is built once per module from the shipped raw inputs (``index/data/raw``), never from ../shared.
"""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest

from index import constants
from index.builder import build_records
from index.catalog import Catalog
from index.errors import RawDataNotFoundError
from index.sources._base import raw_file, read_text, unpacked_params
from index.vocabulary import BENCHMARKS

RAW = constants.RAW_DIR
MEDICAL = ("anatomy", "clinical_knowledge", "college_medicine", "medical_genetics", "professional_medicine")


@pytest.fixture(scope="module")
def records():
    return build_records(RAW, progress=False)


@pytest.fixture(scope="module")
def catalog(records):
    return Catalog.from_records(records)


class TestKnownModels:
    def test_v1_picks_full_precision_latest_run(self, catalog):
        # Yi-1.5-6B has a float16 run (2024-05-13) and a later bfloat16 run (2024-06-09): the later one wins.
        sloth = pd.read_csv(raw_file(RAW, "leaderboards/sloth_openllm/open-llm-leaderboard_old.csv"))
        runs = sloth[sloth["Model"] == "01-ai/Yi-1.5-6B"]
        assert len(runs) > 1
        latest = runs.sort_values("date").iloc[-1]
        record = catalog.get("01-ai/yi-1.5-6b")
        assert record.id == "01-ai/Yi-1.5-6B"
        assert record.score("gsm8k") == pytest.approx(latest["GSM8K"])
        assert record.score("arc") == pytest.approx(latest["ARC"])
        assert record.scores["gsm8k"].source == "open_llm_leaderboard_v1"
        assert record.scores["gsm8k"].date == latest["date"][:10]
        assert record.created <= runs["date"].min()[:10]  # a Hub upload date may precede the first run
        assert record.instruct is False and record.merged is False
        assert record.family == "yi"

    def test_v1_prefers_full_precision_over_quantised(self, catalog):
        sloth = pd.read_csv(raw_file(RAW, "leaderboards/sloth_openllm/open-llm-leaderboard_old.csv"))
        mixed = sloth.groupby("Model").filter(
            lambda g: g["Precision"].isin(["4bit", "8bit", "GPTQ"]).any() and g["Precision"].isin(["float16", "bfloat16"]).any()
        )
        model = sorted(mixed["Model"].unique())[0]
        full = mixed[(mixed["Model"] == model) & mixed["Precision"].isin(["float16", "bfloat16"])]
        assert catalog.get(model).score("mmlu") in set(full["MMLU"].round(2))

    def test_v2_scores_are_raw_times_100(self, catalog):
        v2 = pd.read_csv(raw_file(RAW, "leaderboards/every_eval_ever/hfopenllm_v2.csv"))
        row = v2[v2["model_id"] == "dnhkng/RYS-XLarge"].iloc[0]
        record = catalog.get("dnhkng/RYS-XLarge")
        assert record.score("ifeval") == pytest.approx(row["IFEval"] * 100)
        assert record.score("bbh") == pytest.approx(row["BBH"] * 100)  # raw, not the normalised 58.77
        assert record.scores["ifeval"].date == "2024-08-07"  # sloth's submission date of that run
        assert record.likes == 45 and record.license == "mit"

    def test_model_in_v1_and_v2_has_both(self, catalog):
        record = catalog.get("mistralai/Mistral-7B-v0.1")
        assert {"arc", "hellaswag", "mmlu", "truthfulqa", "winogrande", "gsm8k"} <= set(record.scores)
        assert {"ifeval", "bbh", "math_lvl5", "gpqa", "musr", "mmlu_pro"} <= set(record.scores)
        assert record.family == "mistral" and record.license == "apache-2.0"

    def test_case_insensitive_merge_keeps_hub_casing(self, catalog):
        # HELM writes "qwen/qwen1.5-72b"; the leaderboards "Qwen/Qwen1.5-72B": one record, Hub casing.
        record = catalog.get("qwen/qwen1.5-72b")
        assert record.id == "Qwen/Qwen1.5-72B"
        assert "helm_lite" in record.sources and "open_llm_leaderboard_v1" in record.sources

    def test_helm_medqa_mapped(self, catalog):
        record = catalog.get("Qwen/Qwen1.5-72B")
        assert record.score("medqa") == pytest.approx(67.0)
        assert record.scores["medqa"].source == "helm_lite"
        assert catalog.frame["score.medqa"].notna().sum() >= 15

    def test_unmappable_helm_models_are_absent(self, catalog):
        assert "anthropic/claude-2.1" not in catalog
        assert "qwen/qwen2.5-72b-instruct-turbo" not in catalog

    def test_mmlu_medical_is_mean_of_subjects(self, catalog):
        table = pd.read_csv(raw_file(RAW, "leaderboards/sloth_openllm/data_v1.csv"))
        row = table[table["Model"] == "yi-1.5-6b"].iloc[0]
        expected = sum(row[f"hendrycksTest-{s}"] for s in MEDICAL) / len(MEDICAL) * 100
        record = catalog.get("01-ai/Yi-1.5-6B")
        assert record.score("mmlu_medical") == pytest.approx(expected, abs=0.01)
        assert record.scores["mmlu_medical"].source == "sloth_mmlu_subjects"

    def test_evalplus_base_pass_at_1(self, catalog):
        record = catalog.get("infly/OpenCoder-8B-Instruct")
        assert record.score("humaneval") == pytest.approx(81.7)  # not the "+" column (77.4)
        assert record.score("mbpp") == pytest.approx(82.0)
        assert record.scores["humaneval"].source == "evalplus"

    def test_litellm_price_is_mean_of_input_and_output(self, catalog):
        prices = json.loads(read_text(RAW, "catalog/litellm_model_prices/model_prices_and_context_window_backup.json"))
        target = "meta-llama/llama-2-7b-chat-hf"
        offers = [
            (e["input_cost_per_token"] + e["output_cost_per_token"]) / 2 * 1e6
            for k, e in prices.items()
            if k.lower().split("/", 1)[-1] == target and e.get("mode") in ("chat", "completion")
            and e.get("input_cost_per_token") is not None
        ]
        assert offers
        assert catalog.get(target).price_per_1m_tokens == pytest.approx(min(offers), abs=1e-4)

    def test_licence_inherited_from_base(self, catalog):
        inherited = catalog.frame[catalog.frame["license_source"].str.startswith("inherited from", na=False)]
        assert len(inherited) > 0
        for row in inherited.head(20).itertuples():
            base = catalog.get(row.license_source.removeprefix("inherited from "))
            assert row.base_model == base.id
            assert row.license == base.license

    def test_obsscaling_fills_v1_only_where_v1_lacks(self, records):
        for record in records:
            if "open_llm_leaderboard_v1" in record.sources:
                assert all(s.source != "obsscaling" for b, s in record.scores.items() if b in ("arc", "mmlu", "gsm8k"))

    def test_gguf_repo_points_at_original(self, catalog):
        gguf = catalog.frame[catalog.frame["id"].str.contains("GGUF") & catalog.frame["base_model"].notna()]
        assert len(gguf) > 100
        assert not gguf["base_model"].str.contains("GGUF").all()

    def test_v1_sizes_take_the_scrapes_decimals(self, catalog):
        # v1 floors sizes to whole billions (phi-2: 2); the scrape has 2.78, and an "under 2B" filter must not pass it.
        assert catalog.get("microsoft/phi-2").params_b == pytest.approx(2.78)
        assert catalog.get("mistralai/Mistral-7B-v0.1").params_b == pytest.approx(7.24, abs=0.01)
        sloth = pd.read_csv(raw_file(RAW, "leaderboards/sloth_openllm/open-llm-leaderboard_old.csv"))
        v1 = dict(zip(sloth["Model"].str.lower(), sloth["#Params (B)"]))
        for model in ("microsoft/phi-2", "mistralai/Mistral-7B-v0.1"):
            assert int(catalog.get(model).params_b) == v1[model.lower()]

    def test_a_failed_gsm8k_run_is_dropped(self, catalog):
        # v1 records Yi-1.5-34B-32K at GSM8K 0.00 beside MMLU 78.15: the run failed, the model is predicted instead.
        sloth = pd.read_csv(raw_file(RAW, "leaderboards/sloth_openllm/open-llm-leaderboard_old.csv"))
        assert (sloth.loc[sloth["Model"] == "01-ai/Yi-1.5-34B-32K", "GSM8K"] == 0).all()
        yi = catalog.get("01-ai/Yi-1.5-34B-32K")
        assert yi.score("gsm8k") is None and yi.score("mmlu") == pytest.approx(78.15)
        frame = catalog.frame
        v1 = frame["source.gsm8k"].isin(["open_llm_leaderboard_v1", "metabench_v1_scrape"])
        low = frame[v1 & (frame["score.gsm8k"] < 1)]
        # weak models (and those with no MMLU to judge by) keep their near-zero GSM8K
        assert len(low) > 500 and ((low["score.mmlu"] < 50) | low["score.mmlu"].isna()).all()
        assert catalog.get("mistralai/Mistral-7B-v0.1").score("gsm8k") == pytest.approx(37.83, abs=0.01)

    def test_a_repo_named_contaminated_is_flagged(self, catalog):
        # It tops v1 at 7 B (MMLU 78.9) because it was trained on the test sets; no source kept a leaderboard flag.
        record = catalog.get("Contamination/contaminated_proof_7b_v1.0")
        assert record.flagged is True and record.score("mmlu") == pytest.approx(78.92)
        assert catalog.get("mistralai/Mistral-7B-v0.1").flagged is not True
        assert int(catalog.frame["flagged"].fillna(False).astype(bool).sum()) == 3

    def test_quantized_repos_keep_the_size_their_name_states(self, catalog):
        # v1 reads TheBloke/Platypus2-70B-Instruct-GPTQ as 9.1 B (packed 4-bit weights); a 7-9 B filter must not see it.
        assert catalog.get("TheBloke/Platypus2-70B-Instruct-GPTQ").params_b == 70.0
        assert catalog.get("TheBloke/Llama-2-7B-Chat-AWQ").params_b == 7.0
        assert catalog.get("01-ai/Yi-1.5-6B").params_b == pytest.approx(6.06, abs=0.1)


class TestSizeFromName:
    @pytest.mark.parametrize(("model_id", "recorded", "expected"), [
        ("TheBloke/LongChat-13B-GPTQ", 2.03, 13.0),          # packed 4-bit: the name wins
        ("someone/Llama-2-13b-chat-hf-4bit", 2.0, 13.0),
        ("someone/foo-13b-int4", 2.0, 13.0),
        ("LEESM/llama-3-8b-bnb-4b-kowiki", 8.03, 8.03),      # "8b" and "4b": no single stated size
        ("ModelCloud/Llama-3.2-1B-Instruct-gptqmodel-4bit", 5.45, 5.45),  # over the name: not a packing undercount
        ("RatanRohith/NeuralPizza-7B-Merge-Slerp", 0.916, 0.916),  # not quantized: the record stands
        ("TheBloke/Some-Model-GPTQ", 2.0, 2.0),              # no size in the name
        ("TheBloke/Llama-2-7B-AWQ", None, None),
    ])
    def test_unpacked_params(self, model_id, recorded, expected):
        assert unpacked_params(recorded, model_id) == expected


class TestCatalogContracts:
    def test_size(self, catalog):
        assert len(catalog) >= 10_000

    def test_ids_unique_case_insensitive_and_sorted(self, records):
        keys = [r.key for r in records]
        assert len(keys) == len(set(keys))
        assert keys == sorted(keys)

    def test_every_record_has_a_signal(self, records):
        for r in records:
            assert r.scores or r.popularity is not None or r.card_source != "composed" or r.price_per_1m_tokens is not None, r.id

    def test_scores_are_points_with_source(self, records):
        for r in records:
            for bench, score in r.scores.items():
                assert bench in BENCHMARKS and 0 <= score.value <= 100 and score.source

    def test_no_card_contains_its_own_scores(self, records):
        bench_words = re.compile(
            r"\b(arc|hellaswag|mmlu|truthful\w*|winogrande|gsm8k|ifeval|bbh|math|gpqa|musr|humaneval|mbpp|medqa|"
            r"scores?|accuracy)\b",
            re.IGNORECASE,
        )
        for r in records:
            for score in r.scores.values():
                for text in {f"{score.value:.2f}", f"{score.value:.1f}"}:
                    for m in re.finditer(rf"(?<![\d.]){re.escape(text)}(?![\dA-Za-z])", r.card_text):
                        window = r.card_text[max(0, m.start() - 80): m.end() + 80]
                        assert not bench_words.search(window), (r.id, text, window)

    def test_real_cards_are_short_and_scrubbed(self, catalog):
        real = catalog.frame[catalog.frame["card_source"] != "composed"]
        assert len(real) > 1000
        assert real["card_text"].str.len().max() <= 2000

    def test_licences_are_lower_case(self, catalog):
        licences = catalog.frame["license"].dropna()
        assert (licences == licences.str.lower()).all()

    def test_shipped_catalog_is_this_build(self, catalog):
        shipped = Catalog.load(constants.PACKAGE_DATA_DIR / constants.CATALOG_FILENAME)
        assert shipped.fingerprint() == catalog.fingerprint()
        assert list(shipped.frame["id"]) == list(catalog.frame["id"])


class TestRawData:
    def test_missing_raw_file_raises(self, tmp_path):
        with pytest.raises(RawDataNotFoundError, match="open-llm-leaderboard_old.csv"):
            build_records(tmp_path, progress=False)

    def test_builder_reads_only_raw_dir(self):
        assert "shared" not in str(RAW)
