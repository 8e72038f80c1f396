"""Response-matrix files: validation of bad files (directly and through `gemfinder bench-sh`), names, subset truth."""

from __future__ import annotations

import gzip
import json

import numpy as np
import pytest

from index.errors import ResponseMatrixError
from recommender.confirm.matrix import ResponseMatrix, benchmark_name
from recommender.confirm.recorded import (
    RECORDED_BENCHMARKS, combined_matrix, full_scores_path, load_full_scores, load_responses, read_matrix,
)
from ui.cli.main import main

GOOD = "model,q1,q2,q3\na/one,1,0,1\nb/two,0,0,1\n"

#: (file text, fragment of the error message)
BAD_FILES = {
    "value_2": ("model,q1,q2\na/one,1,2\nb/two,0,1\n", "values other than 0 and 1"),
    "value_x": ("model,q1,q2\na/one,1,x\nb/two,0,1\n", "values other than 0 and 1"),
    "duplicated_ids": ("model,q1,q2\na/one,1,0\na/one,0,1\n", "duplicated model ids"),
    "empty": ("", "is empty"),
    "header_only": ("model,q1,q2\n", "no question columns or no model rows"),
    "ragged_long": ("model,q1,q2\na/one,1,0\nb/two,0,1,1\n", "ragged"),
    "ragged_short": ("model,q1,q2\na/one,1,0\nb/two,0\n", "ragged"),
    "duplicated_questions": ("model,q1,q1\na/one,1,0\nb/two,0,1\n", "duplicated question columns"),
}


@pytest.fixture(params=sorted(BAD_FILES))
def bad_file(request, tmp_path):
    text, fragment = BAD_FILES[request.param]
    path = tmp_path / f"{request.param}_responses.csv"
    path.write_text(text)
    return request.param, path, fragment


class TestValidation:
    def test_good_file(self, tmp_path):
        path = tmp_path / "good.csv"
        path.write_text(GOOD)
        m = read_matrix(path)
        assert m.model_ids == ("a/one", "b/two") and m.question_ids == ("q1", "q2", "q3")
        assert m.values.dtype == np.uint8 and m.values.tolist() == [[1, 0, 1], [0, 0, 1]]

    def test_bad_files_raise(self, bad_file):
        name, path, fragment = bad_file
        with pytest.raises(ResponseMatrixError, match=fragment):
            read_matrix(path)
        if name != "duplicated_questions":  # pandas renames repeated columns; only read_matrix catches that
            with pytest.raises(ResponseMatrixError, match=fragment):
                ResponseMatrix.from_csv(path)

    def test_missing_file(self, tmp_path):
        with pytest.raises(ResponseMatrixError, match="does not exist"):
            read_matrix(tmp_path / "nope_responses.csv.gz")

    def test_corrupt_gzip(self, tmp_path):
        path = tmp_path / "broken_responses.csv.gz"
        path.write_bytes(b"not gzip at all")
        with pytest.raises(ResponseMatrixError, match="cannot be read as CSV"):
            read_matrix(path)

    def test_case_variants_with_identical_answers_are_merged(self, tmp_path):
        path = tmp_path / "x.csv.gz"
        with gzip.open(path, "wt") as f:
            f.write("model,q1,q2\nOrg/Model,1,0\norg/model,1,0\nc/d,0,1\n")
        assert read_matrix(path).model_ids == ("Org/Model", "c/d")

    def test_case_variants_with_different_answers_are_refused(self, tmp_path):
        path = tmp_path / "x.csv"
        path.write_text("model,q1,q2\nOrg/Model,1,0\norg/model,0,0\n")
        with pytest.raises(ResponseMatrixError, match="differing only in case have different answers"):
            read_matrix(path)


class TestCli:
    def test_bad_file_is_a_json_error_object(self, bad_file, capsys):
        _, path, fragment = bad_file
        code = main(["bench-sh", "--responses", str(path), "--trees", "none", "--json"])
        out = json.loads(capsys.readouterr().out)
        assert code == 1
        assert out["error"]["type"] == "invalid_response_matrix" and fragment in out["error"]["message"]

    def test_bad_file_is_one_line_for_people(self, tmp_path, capsys):
        path = tmp_path / "bad_responses.csv"
        path.write_text(BAD_FILES["value_2"][0])
        assert main(["bench-sh", "--responses", str(path), "--trees", "none"]) == 1
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("gemfinder: error:") and "Traceback" not in err[0]

    def test_missing_file(self, tmp_path, capsys):
        assert main(["bench-sh", "--responses", str(tmp_path / "none.csv"), "--json"]) == 1
        assert "does not exist" in json.loads(capsys.readouterr().out)["error"]["message"]


@pytest.mark.parametrize(("name", "expected"), [
    ("mmlu_pro_responses_x.csv.gz", "mmlu_pro"),
    ("gsm8k_responses_train.csv.gz", "gsm8k"),
    ("my_eval.csv.gz", "my_eval"),
    ("scores.csv", "scores"),
])
def test_benchmark_name_defaults(name, expected, tmp_path):
    assert benchmark_name(name) == expected
    path = tmp_path / name
    path.write_text(GOOD) if not name.endswith(".gz") else path.write_bytes(gzip.compress(GOOD.encode()))
    assert read_matrix(path).benchmark == expected
    assert read_matrix(path, benchmark="other").benchmark == "other"


def test_subset_truth_is_row_mean_in_points(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("model,q1,q2,q3,q4\na/x,1,1,1,0\nb/y,0,0,0,0\n")
    np.testing.assert_allclose(read_matrix(path).subset_scores(), [75.0, 0.0])


class TestShipped:
    def test_each_pool_loads(self):
        shapes = {b: (load_responses(b).n_models, load_responses(b).n_questions) for b in RECORDED_BENCHMARKS}
        assert {b: q for b, (_, q) in shapes.items()} == {"arc": 100, "gsm8k": 249, "mmlu": 102, "truthfulqa": 136}
        assert shapes["arc"][0] == 4270  # 4,280 rows, 10 case-variant duplicates merged

    def test_combined(self):
        m = combined_matrix()
        assert m.n_questions == 100 + 249 + 102 + 136
        assert 2500 < m.n_models < 2800
        assert {q.split(":")[0] for q in m.question_ids} == set(RECORDED_BENCHMARKS)

    def test_full_scores(self):
        scores = load_full_scores(full_scores_path("gsm8k"))
        assert 30 < scores["mistralai/mistral-7b-v0.1"] < 45
        assert all(0 <= v <= 100 for v in scores.values())
