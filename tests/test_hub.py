"""Live Hub ingestion against a real HTTP server on 127.0.0.1 serving recorded Hub responses (tests/hub_server.py).

Nothing here leaves the machine: every endpoint is a loopback port (the local Hub, a closed port, or a socket that
never answers), and subprocesses get ``HF_ENDPOINT`` pointing at the local Hub and a private ``HF_HOME``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import warnings
from pathlib import Path

import pytest
from hub_server import FIXTURES_DIR, LocalHub, SilentHub, closed_port_endpoint, local_hub  # noqa: F401

from index.cards import MAX_CARD_CHARS
from index.errors import DroppedFieldWarning, HubUnreachableError
from index.hub import hub_endpoint, ingest_hub, record_from_model_info

ROOT = Path(__file__).resolve().parents[1]

TEXT_GENERATION_IDS = [
    "mistralai/Mistral-7B-Instruct-v0.2",
    "Qwen/Qwen2.5-7B-Instruct",
    "mlabonne/NeuralBeagle14-7B",
    "TheBloke/Mistral-7B-Instruct-v0.2-GGUF",
    "meta-llama/Llama-3.1-8B",
    "dolphinfan42/llama3-8b-roleplay-sft-v0.3",
    "trl-internal-testing/tiny-random-LlamaForCausalLM",
]
MESSY = "dolphinfan42/llama3-8b-roleplay-sft-v0.3"

# The messy card warns on every ingestion; the tests that are about it record the warnings themselves.
pytestmark = pytest.mark.filterwarnings("ignore::index.errors.DroppedFieldWarning")


@pytest.fixture(scope="module", autouse=True)
def _online_mode():
    """These tests talk to a local Hub: undo the process-wide HF_HUB_OFFLINE an earlier test's app build set.

    `build_app` sets ``HF_HUB_OFFLINE=1`` for the whole process (the served app never calls the Hub), so any test that
    built the app before this module would otherwise turn every request below into an offline-mode refusal.
    """
    from huggingface_hub import constants as hf_constants

    saved_env, saved_flag = os.environ.pop("HF_HUB_OFFLINE", None), hf_constants.HF_HUB_OFFLINE
    hf_constants.HF_HUB_OFFLINE = False  # read once at import: the flag, not the variable, decides
    yield
    hf_constants.HF_HUB_OFFLINE = saved_flag
    if saved_env is not None:
        os.environ["HF_HUB_OFFLINE"] = saved_env


@pytest.fixture(scope="module")
def ingested(local_hub):  # noqa: F811 - the imported session fixture
    """One full ingestion from the local Hub: (records by id, the DroppedFieldWarnings it raised)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        records = ingest_hub(endpoint=local_hub.endpoint, progress=False)
    dropped = [w for w in caught if issubclass(w.category, DroppedFieldWarning)]
    return {r.id: r for r in records}, dropped


@pytest.fixture()
def hub(local_hub):  # noqa: F811
    """The session's local Hub with an empty request log."""
    local_hub.clear_log()
    return local_hub


def _model_info(repo_id: str):
    from huggingface_hub.hf_api import ModelInfo

    item = next(m for m in json.loads((FIXTURES_DIR / "models.json").read_text()) if m["id"] == repo_id)
    return ModelInfo(**item)


def _readme(repo_id: str) -> str:
    return (FIXTURES_DIR / "readmes" / repo_id / "README.md").read_text(encoding="utf-8")


# Listing and mapping ---------------------------------------------------------------------------------------------


class TestMapping:
    def test_lists_the_filtered_models_in_hub_order(self, ingested):
        records, _ = ingested
        assert list(records) == TEXT_GENERATION_IDS  # the sentence-similarity model is filtered out by the Hub

    def test_every_hub_fact_of_one_model(self, ingested):
        r = ingested[0]["mistralai/Mistral-7B-Instruct-v0.2"]
        assert (r.author, r.family, r.base_model) == ("mistralai", "mistral", None)
        assert r.architecture == "MistralForCausalLM"
        assert r.params_b == pytest.approx(7.241732096)  # safetensors.total / 1e9
        assert (r.license, r.license_source) == ("apache-2.0", "card")
        assert (r.likes, r.downloads, r.created) == (2784, 1520394, "2023-12-11")
        assert r.instruct is True and r.available is True and r.pipeline_tag == "text-generation"
        assert "conversational" in r.tags and "license:apache-2.0" in r.tags
        assert r.sources == ("hub",) and r.card_source == "hub"

    @pytest.mark.parametrize(
        ("repo_id", "family", "base_model", "params_b", "instruct", "license"),
        [
            ("Qwen/Qwen2.5-7B-Instruct", "qwen2.5", "Qwen/Qwen2.5-7B", 7.615616512, True, "apache-2.0"),
            ("mlabonne/NeuralBeagle14-7B", "mistral", "mlabonne/Beagle14-7B", 7.241732096, True, "cc-by-nc-4.0"),
            ("TheBloke/Mistral-7B-Instruct-v0.2-GGUF", "mistral", "mistralai/Mistral-7B-Instruct-v0.2", 7.241732096,
             True, "apache-2.0"),
            ("meta-llama/Llama-3.1-8B", "llama-3.1", None, 8.030261248, False, "llama3.1"),
            ("trl-internal-testing/tiny-random-LlamaForCausalLM", "llama", None, 0.001032272, False, None),
        ],
    )
    def test_family_base_size_instruct_license(self, ingested, repo_id, family, base_model, params_b, instruct,
                                               license):
        r = ingested[0][repo_id]
        assert (r.family, r.base_model, r.instruct, r.license) == (family, base_model, instruct, license)
        assert r.params_b == pytest.approx(params_b)

    def test_gguf_repo_takes_its_size_from_the_gguf_header(self, ingested):
        r = ingested[0]["TheBloke/Mistral-7B-Instruct-v0.2-GGUF"]
        assert r.architecture is None  # its config names no transformers class
        assert r.params_b == pytest.approx(7.241732096)

    def test_merge_is_flagged_and_its_base_is_the_first_listed(self, ingested):
        r = ingested[0]["mlabonne/NeuralBeagle14-7B"]
        assert r.merged is True and r.base_model == "mlabonne/Beagle14-7B"
        assert ingested[0]["Qwen/Qwen2.5-7B-Instruct"].merged is None  # no merge tag proves nothing

    def test_model_index_results_never_become_scores(self, ingested):
        # NeuralBeagle's card declares ARC 72.95 and GSM8K 70.28 in model-index: self-reported, not our scale.
        assert all(r.scores == {} for r in ingested[0].values())

    def test_base_model_falls_back_to_the_hub_tag(self):
        info = _model_info("TheBloke/Mistral-7B-Instruct-v0.2-GGUF")
        info.card_data = None
        assert record_from_model_info(info).base_model == "mistralai/Mistral-7B-Instruct-v0.2"

    def test_quantized_repo_takes_its_size_from_the_name(self):
        # A GPTQ checkpoint's safetensors total counts packed int32s: TheBloke's 70B GPTQ repos read about 9 B.
        from huggingface_hub.hf_api import ModelInfo

        info = ModelInfo(id="TheBloke/Platypus2-70B-Instruct-GPTQ", tags=["text-generation"],
                         safetensors={"parameters": {"I32": 8_000_000_000, "F16": 1_100_000_000},
                                      "total": 9_100_000_000})
        assert record_from_model_info(info).params_b == 70.0
        info = ModelInfo(id="mistralai/Mistral-7B-v0.1", tags=["text-generation"],
                         safetensors={"parameters": {"BF16": 7_241_732_096}, "total": 7_241_732_096})
        assert record_from_model_info(info).params_b == pytest.approx(7.241732096)
        assert record_from_model_info(info).flagged is None

    def test_a_repo_named_contaminated_is_flagged(self):
        from huggingface_hub.hf_api import ModelInfo

        info = ModelInfo(id="Contamination/contaminated_proof_7b_v1.0", tags=["text-generation"])
        assert record_from_model_info(info).flagged is True

    def test_record_round_trips_through_the_catalog(self, ingested):
        from index.catalog import Catalog

        catalog = Catalog.from_records(ingested[0].values())
        assert catalog.get("qwen/qwen2.5-7b-instruct") == ingested[0]["Qwen/Qwen2.5-7B-Instruct"]


# Card texts ------------------------------------------------------------------------------------------------------


class TestCards:
    def test_card_is_the_readme_body_without_front_matter(self, ingested):
        text = ingested[0]["mistralai/Mistral-7B-Instruct-v0.2"].card_text
        assert "instruct fine-tuned version of the Mistral-7B-v0.2" in text
        assert "pipeline_tag" not in text and not text.startswith("---")

    @pytest.mark.parametrize(
        ("repo_id", "values"),
        [
            ("mlabonne/NeuralBeagle14-7B", ["72.95", "88.34", "64.55", "70.28", "60.25", "46.06", "76.77"]),
            ("meta-llama/Llama-3.1-8B", ["66.7", "47.8", "75.0"]),
            (MESSY, ["63.17", "71.42"]),
        ],
    )
    def test_score_values_are_scrubbed(self, ingested, repo_id, values):
        r = ingested[0][repo_id]
        assert r.card_source == "hub" and r.card_text
        assert [v for v in values if v in r.card_text] == []

    def test_descriptions_survive_scrubbing(self, ingested):
        assert "DPO fine-tune" in ingested[0]["mlabonne/NeuralBeagle14-7B"].card_text
        assert "roleplay fine-tune" in ingested[0][MESSY].card_text

    def test_readme_missing_on_the_server_gets_a_composed_card(self, tmp_path):
        # The listing claims a README (siblings) that the server no longer has: 404 EntryNotFound, no abort.
        shutil.copytree(FIXTURES_DIR, tmp_path / "hub")
        (tmp_path / "hub" / "readmes" / "Qwen" / "Qwen2.5-7B-Instruct" / "README.md").unlink()
        with LocalHub(tmp_path / "hub") as hub:
            records = {r.id: r for r in ingest_hub(endpoint=hub.endpoint, progress=False)}
        assert len(records) == 7 and records["Qwen/Qwen2.5-7B-Instruct"].card_source == "composed"
        assert records["Qwen/Qwen2.5-7B-Instruct"].license == "apache-2.0"

    def test_cards_are_trimmed(self, ingested):
        assert max(len(r.card_text) for r in ingested[0].values()) <= MAX_CARD_CHARS

    def test_repo_without_readme_gets_a_composed_card_and_no_request(self, ingested, hub):
        r = ingested[0]["trl-internal-testing/tiny-random-LlamaForCausalLM"]
        assert r.card_source == "composed" and "tiny-random-LlamaForCausalLM" in r.card_text
        ingest_hub(endpoint=hub.endpoint, progress=False)
        assert not [q for q in hub.requests if q.path.startswith("/trl-internal-testing/")]  # siblings said none


# Messy cards -----------------------------------------------------------------------------------------------------


class TestMessyCard:
    def test_messy_card_does_not_abort_and_keeps_what_is_readable(self, ingested):
        r = ingested[0][MESSY]
        assert (r.license, r.license_source) == ("other", "card")  # a licence list: the Hub's license: tag
        assert r.base_model == "unsloth/llama-3-8b-Instruct-bnb-4bit"  # a mapping in the card: the Hub's tag
        assert r.architecture == "LlamaForCausalLM" and r.family == "llama-3"
        assert r.params_b is None  # safetensors total 0
        assert r.instruct is None  # a fine-tune whose name and tags do not say

    def test_each_dropped_field_is_warned(self, ingested):
        messages = [str(w.message) for w in ingested[1]]
        assert all(m.startswith(MESSY) for m in messages)
        for field in ("front matter", "base_model", "license", "safetensors.total"):
            assert any(f"dropped {field}=" in m for m in messages), field

    def test_unparseable_front_matter_keeps_the_body(self):
        with pytest.warns(DroppedFieldWarning, match="front matter"):
            record = record_from_model_info(_model_info(MESSY), _readme(MESSY))
        assert record.card_text.startswith("# llama3-8b-roleplay-sft-v0.3")

    def test_readme_front_matter_fills_what_the_listing_lacks(self):
        info = _model_info("Qwen/Qwen2.5-7B-Instruct")
        info.card_data = None
        info.tags = [t for t in info.tags if not t.startswith(("license:", "base_model:"))]
        record = record_from_model_info(info, _readme("Qwen/Qwen2.5-7B-Instruct"))
        assert (record.license, record.base_model) == ("apache-2.0", "Qwen/Qwen2.5-7B")


# Pagination and limits -------------------------------------------------------------------------------------------


class TestPagination:
    def test_follows_the_link_header_to_the_second_page(self, hub):
        records = ingest_hub(endpoint=hub.endpoint, progress=False)
        pages = [q for q in hub.listing_requests() if "expand" in q.query]
        assert len(records) == 7 and len(pages) == 2  # 4 + 3 models with the server's page size of 4
        assert "cursor" not in pages[0].query and "cursor" in pages[1].query
        assert pages[1].query["expand"] == pages[0].query["expand"]  # the next link keeps the query

    def test_max_models_stops_before_the_next_page(self, hub):
        records = ingest_hub(endpoint=hub.endpoint, max_models=3, progress=False)
        assert [r.id for r in records] == TEXT_GENERATION_IDS[:3]
        assert len([q for q in hub.listing_requests() if "expand" in q.query]) == 1
        assert {q.path.split("/resolve/")[0].lstrip("/") for q in hub.requests if "/resolve/" in q.path} == set(
            TEXT_GENERATION_IDS[:3]
        )

    def test_many_small_pages(self):
        with LocalHub(page_size=2) as small:
            records = ingest_hub(endpoint=small.endpoint, progress=False)
            pages = [q for q in small.listing_requests() if "expand" in q.query]
        assert [r.id for r in records] == TEXT_GENERATION_IDS and len(pages) == 4

    def test_readmes_go_to_the_given_cache(self, hub, tmp_path):
        ingest_hub(endpoint=hub.endpoint, max_models=1, progress=False, cache_dir=tmp_path)
        readme = tmp_path / "models--mistralai--Mistral-7B-Instruct-v0.2" / "snapshots"
        assert [p.name for p in readme.glob("*/README.md")] == ["README.md"]

    def test_progress_goes_to_stderr_only(self, hub, capsys):
        ingest_hub(endpoint=hub.endpoint, max_models=2, progress=True)
        out, _ = capsys.readouterr()
        assert out == ""  # stdout stays free for `--json` output

    @pytest.mark.parametrize(("kwargs", "match"), [({"max_models": 0}, "max_models"), ({"timeout_s": 0}, "timeout_s")])
    def test_bad_arguments_are_refused_before_any_request(self, hub, kwargs, match):
        with pytest.raises(ValueError, match=match):
            ingest_hub(endpoint=hub.endpoint, **kwargs)
        assert hub.requests == []


# Unreachable Hub -------------------------------------------------------------------------------------------------


def _time_unreachable(endpoint: str, **kwargs) -> tuple[HubUnreachableError, float]:
    start = time.perf_counter()
    with pytest.raises(HubUnreachableError) as info:
        ingest_hub(endpoint=endpoint, progress=False, **kwargs)
    return info.value, time.perf_counter() - start


class TestUnreachable:
    def test_closed_port_fails_fast(self):
        endpoint = closed_port_endpoint()
        error, seconds = _time_unreachable(endpoint)
        assert seconds < 5.0
        assert error.endpoint == endpoint and isinstance(error, ConnectionError)
        assert "not reachable" in str(error) and "shipped catalog remains in use" in str(error)

    def test_silent_server_times_out_within_five_seconds(self):
        # Connections are accepted by the kernel but never answered: only the client's own timeout ends the wait
        # (huggingface_hub alone would wait forever on list_models).
        with SilentHub() as silent:
            error, seconds = _time_unreachable(silent.endpoint)  # the default timeout, GEMFINDER_HUB_TIMEOUT
        assert seconds < 5.0
        assert "no answer within" in error.reason

    def test_hub_answering_errors_is_unreachable(self):
        with LocalHub(status=503) as broken:
            error, seconds = _time_unreachable(broken.endpoint)
        assert seconds < 5.0 and "HTTP 503" in error.reason

    @pytest.mark.slow
    def test_hub_failing_mid_ingestion_is_unreachable(self):
        # The listing works, then every README answers 503. hf_hub_download retries a failed HEAD with backoff
        # (~23 s) before giving up, so this ends later than the pre-flight cases, but it does end, with the error.
        with LocalHub(file_status=503) as failing:
            error, seconds = _time_unreachable(failing.endpoint)
        assert seconds < 60.0 and "README downloads failed" in error.reason

    def test_offline_mode_is_unreachable(self, hub, monkeypatch):
        from huggingface_hub import constants as hf_constants

        monkeypatch.setattr(hf_constants, "HF_HUB_OFFLINE", True)
        error, seconds = _time_unreachable(hub.endpoint)
        assert seconds < 1.0 and "HF_HUB_OFFLINE" in error.reason and hub.requests == []

    def test_the_client_is_restored_after_ingestion(self, hub):
        from huggingface_hub.utils import _http

        before = _http._GLOBAL_CLIENT_FACTORY
        ingest_hub(endpoint=hub.endpoint, max_models=1, progress=False)
        with pytest.raises(HubUnreachableError):
            ingest_hub(endpoint=closed_port_endpoint(), progress=False)
        assert _http._GLOBAL_CLIENT_FACTORY is before


# HF_ENDPOINT --------------------------------------------------------------------------------------------------


class TestEndpoint:
    def test_hub_endpoint_reads_hf_endpoint_at_call_time(self, monkeypatch):
        monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9/")
        assert hub_endpoint() == "http://127.0.0.1:9"
        monkeypatch.delenv("HF_ENDPOINT")
        assert hub_endpoint() == "https://huggingface.co"

    def test_hf_endpoint_selects_the_server_in_a_fresh_process(self, hub, tmp_path):
        env = {
            **os.environ,
            "HF_ENDPOINT": hub.endpoint,
            "HF_HOME": str(tmp_path / "hf-home"),  # no user token or cache is read or written
            "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
        }
        env.pop("HF_HUB_OFFLINE", None)
        code = (
            "import json; from index.hub import ingest_hub; "
            "print(json.dumps([[r.id, r.family, r.params_b] for r in ingest_hub(max_models=5, progress=False)]))"
        )
        done = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True,
                              timeout=60, check=False)
        assert done.returncode == 0, done.stderr
        rows = json.loads(done.stdout.strip().splitlines()[-1])
        assert [row[0] for row in rows] == TEXT_GENERATION_IDS[:5]
        assert rows[0][1:] == ["mistral", pytest.approx(7.241732096)]
        assert hub.listing_requests(), "the subprocess did not reach the local Hub"
