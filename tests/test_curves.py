"""Curve files: the shipped ones load; every kind of bad file raises CurveFileError naming the problem."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from index.errors import CurveFileError, GemfinderError
from recommender.predict import load_curves

SHIPPED = Path(__file__).resolve().parents[1] / "index" / "data" / "curves"
GOOD = "config name,0,200,400,800,size,family\na,3.0,2.5,2.4,2.3,1e8,A\nb,2.8,2.2,2.1,2.0,2e8,A\n"


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "curves.csv"
    path.write_text(text)
    return path


class TestLoadCurves:
    @pytest.mark.parametrize("name", ["benchmark_flan.csv", "benchmark_gigaword.csv"])
    def test_shipped_files_load(self, name):
        curves = load_curves(SHIPPED / name)
        assert curves.losses.shape == (30, 15)
        assert curves.sizes[0] == 0 and curves.sizes[-1] == 1_638_400
        assert np.all(np.diff(curves.sizes) > 0)
        assert curves.params is not None and curves.families is not None
        assert curves.name == Path(name).stem

    def test_good_small_file(self, tmp_path):
        curves = load_curves(_write(tmp_path, GOOD))
        assert curves.configs == ("a", "b")
        assert curves.groups() == ("A", "A")

    def test_optional_columns_may_be_absent(self, tmp_path):
        curves = load_curves(_write(tmp_path, "config name,200,400,800\na,2.5,2.4,2.3\n"))
        assert curves.params is None and curves.families is None
        assert curves.groups() == ("all",)

    @pytest.mark.parametrize(
        ("text", "match"),
        [
            ("config name,0,200,4OO\na,3,2,1\n", r"neither training-set sizes"),  # non-numeric header (letter O)
            ("config name,0,200\na,3,2\n", r"at least 3 are needed"),  # too few sizes
            ("config name,0,200,400\na,3,,1\n", r"not a number"),  # missing loss
            ("config name,0,200,400\na,3,nan,1\n", r"NaN or infinite"),
            ("config name,0,200,400\na,3,-2,1\n", r"must be > 0"),  # negative loss
            ("config name,0,200,400\na,3,0,1\n", r"must be > 0"),  # zero loss
            ("config name,0,200,400\na,3,2,1\na,3,2,1\n", r"more than once: \['a'\]"),  # duplicate config
            ("model,0,200,400\na,3,2,1\n", r"no 'config name' column"),
            ("config name,0,200,200\na,3,2,1\n", r"appears twice"),
            ("config name,0,200,400\n", r"no model rows"),
            ("", r"empty"),
        ],
    )
    def test_bad_files_raise_curve_file_error(self, tmp_path, text, match):
        with pytest.raises(CurveFileError, match=match) as info:
            load_curves(_write(tmp_path, text))
        assert isinstance(info.value, (GemfinderError, ValueError))
        assert info.value.path.endswith("curves.csv")

    def test_missing_file(self, tmp_path):
        with pytest.raises(CurveFileError, match="does not exist"):
            load_curves(tmp_path / "nope.csv")
