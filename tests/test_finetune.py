"""``finetune-select``: data checks, model resolution, the cache, and an end-to-end run on the two real small models.

The end-to-end tests fine-tune SmolLM2-135M-Instruct and gemma-3-270m (the PyPI-shipped GGUF files) once per module
on 4 and 8 examples of the GSM8K fixture cut to 32 tokens, then check the resume, an interrupted run and the CLI
against that run's cache. The first run on a machine also dequantises both GGUF files (~1–2 min, once).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from index.errors import (
    DatasetFormatError,
    DatasetNotFoundError,
    RemoteCodeRefusedError,
    UnknownModelError,
    UsageError,
)
from recommender.predict._ft_cache import PointCache, cache_key
from recommender.predict._ft_data import MIN_HELDOUT, read_dataset
from recommender.models import LOCAL_MODELS, installed, resolve_model
from recommender.predict.finetune import FinetuneConfig, select, subset_sizes

FIXTURE = Path(__file__).parent / "fixtures" / "finetune" / "gsm8k_300.jsonl"
BOTH_MODELS = ["smollm2-135m-instruct", "gemma-3-270m"]
needs_models = pytest.mark.skipif(not all(installed(a) for a in BOTH_MODELS),
                                  reason="pip install gemfinder[local-models]")


def _write(tmp_path: Path, lines: list[str], name: str = "data.jsonl") -> Path:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n")
    return path


# Data --------------------------------------------------------------------------------------------------------------


class TestReadDataset:
    def test_fixture_splits_into_fixed_heldout_and_pool(self):
        a, b = read_dataset(FIXTURE, seed=0), read_dataset(FIXTURE, seed=0)
        assert a.n_examples == 300 and len(a.heldout) == 30 and len(a.train) == 270
        assert a.heldout == b.heldout and a.train == b.train
        assert set(a.heldout).isdisjoint(a.train)
        assert read_dataset(FIXTURE, seed=1).heldout != a.heldout

    def test_missing_file(self, tmp_path):
        with pytest.raises(DatasetNotFoundError, match="No data file at"):
            read_dataset(tmp_path / "nope.jsonl")

    def test_empty_file(self, tmp_path):
        with pytest.raises(DatasetFormatError, match="no examples"):
            read_dataset(_write(tmp_path, ["", "  "]))

    @pytest.mark.parametrize(
        ("bad", "fragment"),
        [("{not json", "not valid JSON"), ("[1, 2]", "expected an object"), ('{"text": ""}', "non-empty string"),
         ('{"prompt": "q"}', "needs 'text'"), ('{"question": "q", "answer": "a"}', "keys: \\['answer', 'question'\\]")],
    )
    def test_malformed_line_is_named(self, tmp_path, bad, fragment):
        lines = ['{"text": "fine"}'] * 3 + [bad] + ['{"text": "fine"}'] * 30
        with pytest.raises(DatasetFormatError, match=f"line 4: .*{fragment}") as info:
            read_dataset(_write(tmp_path, lines))
        assert info.value.line == 4

    def test_too_few_examples(self, tmp_path):
        with pytest.raises(DatasetFormatError, match="too few"):
            read_dataset(_write(tmp_path, ['{"text": "x"}'] * MIN_HELDOUT))


class TestSchedule:
    def test_geometric_sizes_capped(self):
        assert subset_sizes(FinetuneConfig(start=200, max_examples=1000), 5000) == (200, 400, 800)
        assert subset_sizes(FinetuneConfig(start=200), 700) == (200, 400)
        assert subset_sizes(FinetuneConfig(start=10, factor=1.5), 40) == (10, 15, 22, 34)

    def test_one_size_is_not_a_curve(self):
        with pytest.raises(UsageError, match="a curve needs two"):
            subset_sizes(FinetuneConfig(start=200), 270)

    def test_max_examples_below_start(self):
        with pytest.raises(UsageError, match=r"max_examples \(100\) is smaller than start \(200\)"):
            FinetuneConfig(start=200, max_examples=100)


# Models ------------------------------------------------------------------------------------------------------------


class TestResolveModel:
    @needs_models
    @pytest.mark.parametrize("alias", BOTH_MODELS)
    def test_aliases_point_at_shipped_gguf(self, alias):
        r = resolve_model(alias)
        assert r.source == "alias" and r.gguf_file == LOCAL_MODELS[alias].filename
        assert (Path(r.path) / r.gguf_file).is_file() and len(r.fingerprint) == 64

    def test_unknown_alias_lists_known_ones(self):
        with pytest.raises(UnknownModelError, match="Known aliases: smollm2-135m-instruct, gemma-3-270m"):
            resolve_model("smollm3-tiny")

    def test_gguf_file_and_folder(self, tmp_path):
        gguf = tmp_path / "m.gguf"
        gguf.write_bytes(b"GGUF....")
        assert resolve_model(str(gguf)).source == "gguf"
        (tmp_path / "folder").mkdir()
        (tmp_path / "folder" / "config.json").write_text('{"model_type": "llama"}')
        folder = resolve_model(str(tmp_path / "folder"))
        assert folder.source == "folder" and not folder.trust_remote_code

    def test_remote_code_refused_unless_named(self, tmp_path):
        folder = tmp_path / "custom"
        folder.mkdir()
        (folder / "config.json").write_text(json.dumps({"auto_map": {"AutoModelForCausalLM": "m.Model"}}))
        with pytest.raises(RemoteCodeRefusedError, match=f"--trust-remote-code {folder}"):
            resolve_model(str(folder))
        with pytest.raises(RemoteCodeRefusedError):
            resolve_model(str(folder), trust_remote_code=["some/other-model"])
        assert resolve_model(str(folder), trust_remote_code=[str(folder)]).trust_remote_code

    def test_uncached_hub_id(self, tmp_path, monkeypatch):
        from index.errors import ModelNotFoundError

        monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))
        monkeypatch.setattr("huggingface_hub.constants.HF_HUB_CACHE", str(tmp_path))
        with pytest.raises(ModelNotFoundError, match="not in the local Hugging Face cache"):
            resolve_model("nobody/not-cached-model")


# Cache -------------------------------------------------------------------------------------------------------------


class TestPointCache:
    KEY = {"kind": "point", "model": "m", "fingerprint": "f", "data": "d", "examples": 200,
           "recipe": {"epochs": 1, "lr": 5e-5, "seed": 0}}

    def test_round_trip_and_key_sensitivity(self, tmp_path):
        cache = PointCache(tmp_path)
        cache.put(self.KEY, {"loss": 1.5})
        assert cache.get(dict(self.KEY))["loss"] == 1.5
        for change in ({"examples": 400}, {"fingerprint": "g"}, {"data": "e"},
                       {"recipe": {"epochs": 1, "lr": 1e-4, "seed": 0}}, {"recipe": {"epochs": 1, "lr": 5e-5, "seed": 1}}):
            assert cache.get({**self.KEY, **change}) is None
            assert cache_key({**self.KEY, **change}) != cache_key(self.KEY)

    def test_key_ignores_dict_order_and_torn_files(self, tmp_path):
        assert cache_key(dict(reversed(list(self.KEY.items())))) == cache_key(self.KEY)
        cache = PointCache(tmp_path)
        cache.path(self.KEY).parent.mkdir(parents=True, exist_ok=True)
        cache.path(self.KEY).write_text('{"key": ')
        assert cache.get(self.KEY) is None


# End to end (real models, real training) ---------------------------------------------------------------------------

#: the cheapest curve that still fits a law: L(0), L(4), L(8) on 32-token examples; 16 examples held out.
TINY = FinetuneConfig(start=4, factor=2, max_examples=8, epochs=1, batch_size=4, max_length=32, probe_size=2,
                      tolerance=0.001)
TINY_ARGS = ("--start", "4", "--max-examples", "8", "--batch-size", "4", "--max-length", "32", "--probe-size", "2",
             "--tolerance", "0.001")


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    """One real selection over both shipped models on 40 fixture lines: (data file, cache dir, selection, progress)."""
    folder = tmp_path_factory.mktemp("finetune")
    data = _write(folder, FIXTURE.read_text().splitlines()[:40], "gsm8k_40.jsonl")
    lines: list[str] = []
    cache = folder / "cache"
    selection = select(data, BOTH_MODELS, config=TINY, cache_dir=cache, progress=lines.append)
    return data, cache, selection, lines


@needs_models
class TestEndToEnd:
    def test_ranks_both_models_with_curves_and_costs(self, tiny_run):
        _, _, selection, lines = tiny_run
        assert selection.n_train == 24 and selection.n_heldout == 16
        assert [r.rank for r in selection.results] == [1, 2]
        assert sorted(r.model for r in selection.results) == sorted(BOTH_MODELS)
        assert selection.results[0].predicted_loss <= selection.results[1].predicted_loss
        for r in selection.results:
            assert [p.examples for p in r.points] == [0, 4, 8] and not any(p.cached for p in r.points)
            assert all(p.tokens > 0 and p.seconds > 0 and p.steps > 0 for p in r.points[1:])
            assert r.points[-1].loss < r.points[0].loss  # fine-tuning on the task lowers its held-out loss
            assert r.law == "lensllm" and r.predicted_loss > 0 and r.uncertainty >= 0
            assert {f.law for f in r.fits} >= {"lensllm", "rectified"}
            assert r.ntk_F is not None and r.ntk_F > 0 and r.fitted_F is not None
            assert r.full_finetune_tokens_estimate > 0 and r.compute_tokens > 0
        assert selection.compute_saved == pytest.approx(
            1 - sum(r.compute_tokens for r in selection.results)
            / sum(r.full_finetune_tokens_estimate for r in selection.results))
        assert any("training on 8 examples" in line for line in lines)

    def test_rerun_trains_nothing(self, tiny_run):
        data, cache, first, _ = tiny_run
        lines: list[str] = []
        again = select(data, BOTH_MODELS, config=TINY, cache_dir=cache, progress=lines.append)
        assert all(p.cached for r in again.results for p in r.points)
        assert not any("training" in line or "loading" in line for line in lines)
        assert [r.model for r in again.results] == [r.model for r in first.results]
        assert [r.predicted_loss for r in again.results] == pytest.approx([r.predicted_loss for r in first.results])

    def test_interrupted_run_redoes_only_the_missing_point(self, tiny_run, tmp_path):
        data, cache, _, _ = tiny_run
        copy = tmp_path / "cache"
        shutil.copytree(cache, copy)
        # An interruption during the D=8 run of SmolLM2 leaves every earlier point saved and that one missing.
        for f in copy.glob("*.json"):
            key = json.loads(f.read_text())["key"]
            if key.get("examples") == 8 and key["model"] == "smollm2-135m-instruct":
                f.unlink()
        lines: list[str] = []
        again = select(data, ["smollm2-135m-instruct"], config=TINY, cache_dir=copy, progress=lines.append)
        assert {p.examples: p.cached for p in again.results[0].points} == {0: True, 4: True, 8: False}
        assert [line for line in lines if "training on" in line] == ["smollm2-135m-instruct: training on 8 examples "
                                                                     "(1 epoch(s))"]

    def test_cli_json_and_table_from_the_cache(self, tiny_run):
        data, cache, _, _ = tiny_run
        args = ("finetune-select", "--data", str(data), "--models", *BOTH_MODELS, "--cache-dir", str(cache), *TINY_ARGS)
        out = _cli(*args, "--json")
        assert out.returncode == 0, out.stderr
        obj = json.loads(out.stdout)
        assert obj["data"] == str(data) and obj["n_examples"] == 40 and isinstance(obj["compute_saved"], float)
        r = obj["results"][0]
        assert r["rank"] == 1 and r["model"] in BOTH_MODELS
        assert {"predicted_loss", "uncertainty", "ntk_F", "fitted_F", "compute_tokens",
                "full_finetune_tokens_estimate"} <= set(r)
        assert [p["examples"] for p in r["points"]] == [0, 4, 8]
        assert {"examples", "loss", "seconds", "tokens"} <= set(r["points"][0])
        assert "training on" not in out.stderr and "loading" not in out.stderr
        table = _cli(*args)
        assert table.returncode == 0 and "gemma-3-270m" in table.stdout and "lensllm" in table.stdout


# CLI ---------------------------------------------------------------------------------------------------------------


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ui.cli.main", *args], capture_output=True, text=True,
                          cwd=Path(__file__).parents[1])


class TestCli:
    @pytest.mark.parametrize(
        ("args", "kind", "fragment"),
        [(["--data", "missing.jsonl", "--models", "gemma-3-270m"], "dataset_not_found", "No data file"),
         (["--data", str(FIXTURE), "--models", "nope", "--start", "8"], "unknown_model", "Known aliases"),
         (["--data", str(FIXTURE), "--models", "gemma-3-270m", "--start", "200", "--max-examples", "100"],
          "usage", "smaller than start")],
    )
    def test_bad_input_is_one_json_error(self, args, kind, fragment):
        out = _cli("finetune-select", *args, "--json")
        assert out.returncode == 1
        error = json.loads(out.stdout)["error"]
        assert error["type"] == kind and fragment in error["message"]
        assert "Traceback" not in out.stderr

    def test_malformed_line_one_line_error(self, tmp_path):
        data = _write(tmp_path, ['{"text": "a"}', "oops"] + ['{"text": "b"}'] * 20)
        out = _cli("finetune-select", "--data", str(data), "--models", "gemma-3-270m")
        assert out.returncode == 1 and out.stderr.strip().count("\n") == 0
        assert "line 2" in out.stderr and "Traceback" not in out.stderr

    def test_remote_code_refused(self, tmp_path):
        folder = tmp_path / "custom"
        folder.mkdir()
        (folder / "config.json").write_text(json.dumps({"auto_map": {"AutoModelForCausalLM": "m.Model"}}))
        out = _cli("finetune-select", "--data", str(FIXTURE), "--models", str(folder), "--start", "8", "--json")
        assert json.loads(out.stdout)["error"]["type"] == "remote_code_refused"

    def test_models_local(self):
        out = _cli("models", "--local", "--json")
        assert out.returncode == 0
        aliases = {m["alias"]: m for m in json.loads(out.stdout)["models"]}
        assert set(aliases) == set(LOCAL_MODELS)
        assert all(isinstance(m["installed"], bool) for m in aliases.values())
