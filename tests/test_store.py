"""VectorStore: exact search, filters inside FAISS, persistence, and detection of stale or damaged files."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest

from index.errors import IndexCorruptError
from index.store import STORE_FORMAT, VectorStore


def _unit(rng, n, d=32):
    v = rng.normal(size=(n, d)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


@pytest.fixture()
def vectors():
    return _unit(np.random.default_rng(0), 500)


class TestSearch:
    def test_flat_is_exact(self, vectors):
        store = VectorStore.build(vectors, model="m", catalog_fingerprint="fp")
        q = vectors[7]
        scores, rows = store.search(q, 10)
        brute = np.argsort(-(store.vectors @ q))[:10]
        assert rows.tolist() == brute.tolist()
        assert rows[0] == 7 and scores[0] == pytest.approx(1.0, abs=1e-3)

    def test_mask_is_applied_inside_search(self, vectors):
        store = VectorStore.build(vectors, model="m", catalog_fingerprint="fp")
        mask = np.zeros(len(vectors), dtype=bool)
        mask[[3, 50, 400]] = True
        scores, rows = store.search(vectors[7], 10, mask=mask)
        assert sorted(rows.tolist()) == [3, 50, 400]  # k=10 asked, only 3 pass: all 3 come back
        assert store.search(vectors[7], 10, mask=np.zeros(len(vectors), bool))[1].size == 0

    @pytest.mark.parametrize("kind", ["hnsw", "ivf"])
    def test_approximate_kinds_find_near_duplicates(self, kind, vectors, tmp_path):
        store = VectorStore.build(vectors, model="m", catalog_fingerprint="fp", kind=kind)
        store.save(tmp_path / "v.npz")
        loaded = VectorStore.load(tmp_path / "v.npz", catalog_fingerprint="fp", model="m")
        hits = sum(int(loaded.search(vectors[i], 1)[1][0] == i) for i in range(0, 500, 10))
        assert hits >= 45  # a vector's nearest neighbour is itself


class TestPersistence:
    def test_round_trip_answers_identically(self, vectors, tmp_path):
        store = VectorStore.build(vectors, model="m", catalog_fingerprint="fp")
        store.save(tmp_path / "v.npz")
        loaded = VectorStore.load(tmp_path / "v.npz", catalog_fingerprint="fp", model="m")
        assert loaded.header == store.header and loaded.header.format == STORE_FORMAT
        for i in (0, 99, 499):
            assert loaded.search(vectors[i], 5)[1].tolist() == store.search(vectors[i], 5)[1].tolist()

    def test_stale_catalog_is_detected(self, vectors, tmp_path):
        VectorStore.build(vectors, model="m", catalog_fingerprint="old").save(tmp_path / "v.npz")
        with pytest.raises(IndexCorruptError, match="different catalog"):
            VectorStore.load(tmp_path / "v.npz", catalog_fingerprint="new")

    def test_other_embedding_model_is_detected(self, vectors, tmp_path):
        VectorStore.build(vectors, model="m", catalog_fingerprint="fp").save(tmp_path / "v.npz")
        with pytest.raises(IndexCorruptError, match="embedding model"):
            VectorStore.load(tmp_path / "v.npz", model="other")

    def test_flipped_bytes_are_detected(self, vectors, tmp_path):
        path = tmp_path / "v.npz"
        VectorStore.build(vectors, model="m", catalog_fingerprint="fp").save(path)
        # Rewrite the vectors member with one value changed, keeping the (now wrong) header checksum.
        with np.load(path) as data:
            arrays = {k: data[k] for k in data.files}
        arrays["vectors"] = arrays["vectors"].copy()
        arrays["vectors"][10, 3] += np.float16(0.5)
        np.savez(path, **arrays)
        with pytest.raises(IndexCorruptError, match="checksum"):
            VectorStore.load(path)

    def test_truncated_file_is_detected(self, vectors, tmp_path):
        path = tmp_path / "v.npz"
        VectorStore.build(vectors, model="m", catalog_fingerprint="fp").save(path)
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
        with pytest.raises(IndexCorruptError, match="cannot be read"):
            VectorStore.load(path)

    def test_old_format_is_detected(self, vectors, tmp_path):
        path = tmp_path / "v.npz"
        VectorStore.build(vectors, model="m", catalog_fingerprint="fp").save(path)
        with np.load(path) as data:
            arrays = {k: data[k] for k in data.files}
        header = json.loads(bytes(arrays["header"]).decode())
        header["format"] = STORE_FORMAT - 1
        arrays["header"] = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)
        np.savez(path, **arrays)
        with pytest.raises(IndexCorruptError, match="format"):
            VectorStore.load(path)

    def test_missing_file(self, tmp_path):
        with pytest.raises(IndexCorruptError, match="does not exist"):
            VectorStore.load(tmp_path / "nope.npz")

    def test_save_is_atomic(self, vectors, tmp_path):
        path = tmp_path / "v.npz"
        VectorStore.build(vectors, model="m", catalog_fingerprint="fp").save(path)
        assert zipfile.is_zipfile(path) and not (tmp_path / "v.npz.tmp").exists()
