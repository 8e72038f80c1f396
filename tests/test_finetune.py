"""``finetune-select``: data checks, the schedule, the cache, and one end-to-end run on the two real small models.

The end-to-end tests share one real selection per module: SmolLM2-135M-Instruct and gemma-3-270m (the PyPI-shipped
GGUF files) fine-tuned on 4 and 8 examples of the GSM8K fixture cut to 32 tokens. That run is interrupted once on
purpose (at the start of gemma's last training run) and resumed, so the resume check costs no extra training; the
rerun and the CLI then read its cache. The first run on a machine also dequantises both GGUF files (~1–2 min, once).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from index.errors import DatasetFormatError, DatasetNotFoundError, UsageError
from recommender.predict._ft_cache import PointCache, cache_key
from recommender.predict._ft_data import MIN_HELDOUT, read_dataset
from recommender.models import installed, resolve_model
from recommender.predict.finetune import FinetuneConfig, select, subset_sizes
from ui.cli.main import main

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


# Progressive sampling's stopping rule, on a cached curve --------------------------------------------------------


class TestStoppingRule:
    """The real sampling loop over a curve whose points are already in the cache (no model is loaded)."""

    def _seed_cache(self, tmp_path, config, law):
        from recommender.predict._ft_data import read_dataset
        from recommender.predict.finetune import _Candidate

        dataset = read_dataset(FIXTURE, seed=config.seed)
        cache = PointCache(tmp_path)
        candidate = _Candidate(resolve_model("smollm2-135m-instruct"), dataset, config, cache, lambda _l: None)
        cache.put(candidate._key("facts", probe_size=config.probe_size), {"train_tokens": 270 * 50, "ntk_per_step": 2.0})
        zero = candidate._key("point", examples=0)
        zero["recipe"] = {"max_length": config.max_length, "seed": config.seed}
        cache.put(zero, {"examples": 0, "loss": law(0), "seconds": 0.0, "tokens": 0, "steps": 0})
        for d in subset_sizes(config, len(dataset.train)):
            cache.put(candidate._key("point", examples=d),
                      {"examples": d, "loss": law(d), "seconds": 1.0, "tokens": 50 * d, "steps": d // 8})
        return cache

    @needs_models
    def test_stops_once_the_prediction_is_stable(self, tmp_path):
        config = FinetuneConfig(start=8, factor=2, tolerance=0.02)  # schedule 8 … 256 under a pool of 270
        cache = self._seed_cache(tmp_path, config, lambda d: 2.0 / (1.0 + d**0.5) + 1.0)
        lines: list[str] = []
        result = select(FIXTURE, ["smollm2-135m-instruct"], config=config, cache_dir=cache.folder,
                        progress=lines.append).results[0]
        assert result.stopped == "stable" and len(result.points) < 1 + len(subset_sizes(config, 270))
        assert not any("loading" in line for line in lines)  # every point came from the cache
        truth = 2.0 / (1.0 + 270**0.5) + 1.0
        assert result.predicted_loss == pytest.approx(truth, rel=0.02)
        assert 0 < result.compute_tokens < result.full_finetune_tokens_estimate

    @needs_models
    def test_unstable_curve_runs_to_the_cap(self, tmp_path):
        config = FinetuneConfig(start=8, factor=2, max_examples=64, tolerance=0.001)
        # a curve that keeps bending: each new point moves the prediction by more than 0.1%
        cache = self._seed_cache(tmp_path, config, lambda d: 3.0 - 0.3 * math.log1p(d) + 0.02 * math.log1p(d) ** 2)
        result = select(FIXTURE, ["smollm2-135m-instruct"], config=config, cache_dir=cache.folder).results[0]
        assert result.stopped == "budget" and [p.examples for p in result.points] == [0, 8, 16, 32, 64]


# End to end (real models, real training) ---------------------------------------------------------------------------

#: the cheapest curve that still fits a law: L(0), L(4), L(8) on 32-token examples; 16 examples held out.
TINY = FinetuneConfig(start=4, factor=2, max_examples=8, epochs=1, batch_size=4, max_length=32, probe_size=2,
                      tolerance=0.001)
TINY_ARGS = ("--start", "4", "--max-examples", "8", "--batch-size", "4", "--max-length", "32", "--probe-size", "2",
             "--tolerance", "0.001")
#: the progress line at which the first call is interrupted: gemma's D=8 run is about to start, D=0 and D=4 are saved.
INTERRUPT_AT = "gemma-3-270m: training on 8 examples"


class _Interrupted(Exception):
    """Stands for Ctrl-C / a killed job in the middle of a selection."""


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    """One real selection over both shipped models on 40 fixture lines, interrupted once and resumed.

    Returns (data file, cache dir, the resumed selection, progress lines of the interrupted call, of the resumed one).
    """
    import torch

    folder = tmp_path_factory.mktemp("finetune")
    data = _write(folder, FIXTURE.read_text().splitlines()[:40], "gsm8k_40.jsonl")
    cache = folder / "cache"
    first: list[str] = []

    def interrupt(line: str) -> None:
        first.append(line)
        if line.startswith(INTERRUPT_AT):
            raise _Interrupted(line)

    # The machines running the suite are shared: two intra-op threads competing with other processes run several
    # times slower than one, so this module trains single-threaded (and restores the setting afterwards).
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with pytest.raises(_Interrupted):
            select(data, BOTH_MODELS, config=TINY, cache_dir=cache, progress=interrupt)
        resumed: list[str] = []
        selection = select(data, BOTH_MODELS, config=TINY, cache_dir=cache, progress=resumed.append)
        yield data, cache, selection, first, resumed
    finally:
        torch.set_num_threads(threads)


@needs_models
class TestEndToEnd:
    def test_ranks_both_models_with_curves_and_costs(self, tiny_run):
        _, _, selection, _, _ = tiny_run
        assert selection.n_train == 24 and selection.n_heldout == 16
        assert [r.rank for r in selection.results] == [1, 2]
        assert sorted(r.model for r in selection.results) == sorted(BOTH_MODELS)
        assert selection.results[0].predicted_loss <= selection.results[1].predicted_loss
        for r in selection.results:
            assert [p.examples for p in r.points] == [0, 4, 8]
            assert all(p.tokens > 0 and p.seconds > 0 and p.steps == p.examples // 4 for p in r.points[1:])
            assert r.points[-1].loss < r.points[0].loss  # fine-tuning on the task lowers its held-out loss
            assert r.law == "lensllm" and r.predicted_loss > 0 and r.uncertainty >= 0
            assert {f.law for f in r.fits} >= {"lensllm", "rectified"}
            assert r.ntk_F is not None and r.ntk_F > 0 and r.fitted_F is not None
            assert 0 < r.compute_tokens < r.full_finetune_tokens_estimate
        assert 0 < selection.compute_saved < 1
        assert selection.compute_saved == pytest.approx(
            1 - sum(r.compute_tokens for r in selection.results)
            / sum(r.full_finetune_tokens_estimate for r in selection.results))

    def test_interrupted_run_resumes_with_only_the_missing_point(self, tiny_run):
        _, _, selection, first, resumed = tiny_run
        assert first[-1].startswith(INTERRUPT_AT)
        assert [line for line in resumed if "training on" in line] == [f"{INTERRUPT_AT} (1 epoch(s))"]
        cached = {r.model: {p.examples: p.cached for p in r.points} for r in selection.results}
        assert cached == {"smollm2-135m-instruct": {0: True, 4: True, 8: True},
                          "gemma-3-270m": {0: True, 4: True, 8: False}}

    def test_rerun_trains_nothing(self, tiny_run):
        data, cache, first, _, _ = tiny_run
        lines: list[str] = []
        again = select(data, BOTH_MODELS, config=TINY, cache_dir=cache, progress=lines.append)
        assert all(p.cached for r in again.results for p in r.points)
        assert not any("training" in line or "loading" in line for line in lines)
        assert [r.model for r in again.results] == [r.model for r in first.results]
        assert [r.predicted_loss for r in again.results] == pytest.approx([r.predicted_loss for r in first.results])

    def test_cli_json_and_table_from_the_cache(self, tiny_run, capsys):
        data, cache, _, _, _ = tiny_run
        args = ["finetune-select", "--data", str(data), "--models", *BOTH_MODELS, "--cache-dir", str(cache), *TINY_ARGS]
        assert main([*args, "--json"]) == 0
        out, err = capsys.readouterr()
        obj = json.loads(out)  # exactly one object: json.loads refuses trailing text
        assert obj["data"] == str(data) and obj["n_examples"] == 40 and isinstance(obj["compute_saved"], float)
        r = obj["results"][0]
        assert r["rank"] == 1 and r["model"] in BOTH_MODELS
        assert {"predicted_loss", "uncertainty", "ntk_F", "fitted_F", "compute_tokens",
                "full_finetune_tokens_estimate"} <= set(r)
        assert [p["examples"] for p in r["points"]] == [0, 4, 8]
        assert {"examples", "loss", "seconds", "tokens"} <= set(r["points"][0])
        assert "training on" not in err and "loading" not in err and "(cached)" in err
        assert main(args) == 0
        table = capsys.readouterr().out
        assert "gemma-3-270m" in table and "lensllm" in table and "compute saved" in table


# CLI ---------------------------------------------------------------------------------------------------------------


class TestCli:
    @pytest.mark.parametrize(
        ("args", "kind", "fragment"),
        [(["--data", "missing.jsonl", "--models", "gemma-3-270m"], "dataset_not_found", "No data file"),
         (["--data", str(FIXTURE), "--models", "nope", "--start", "8"], "unknown_model", "Known aliases"),
         (["--data", str(FIXTURE), "--models", "gemma-3-270m", "--start", "200", "--max-examples", "100"],
          "usage", "smaller than start")],
    )
    def test_bad_input_is_one_json_error(self, args, kind, fragment, capsys):
        assert main(["finetune-select", *args, "--json"]) == 1
        out, err = capsys.readouterr()
        error = json.loads(out)["error"]
        assert error["type"] == kind and fragment in error["message"]
        assert "Traceback" not in err

    def test_malformed_line_one_line_error(self, tmp_path, capsys):
        data = _write(tmp_path, ['{"text": "a"}', "oops"] + ['{"text": "b"}'] * 20)
        assert main(["finetune-select", "--data", str(data), "--models", "gemma-3-270m"]) == 1
        out, err = capsys.readouterr()
        assert out == "" and err.count("\n") == 1 and "line 2" in err and "Traceback" not in err

    def test_remote_code_refused(self, tmp_path, capsys):
        folder = tmp_path / "custom"
        folder.mkdir()
        (folder / "config.json").write_text(json.dumps({"auto_map": {"AutoModelForCausalLM": "m.Model"}}))
        assert main(["finetune-select", "--data", str(FIXTURE), "--models", str(folder), "--start", "8", "--json"]) == 1
        assert json.loads(capsys.readouterr().out)["error"]["type"] == "remote_code_refused"
