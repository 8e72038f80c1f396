"""The answer records: the prediction shown beside a measurement is on the measured benchmark."""

from __future__ import annotations

from recommender.records import Measurement, Pick, Prediction

PREDICTION = Prediction(41.1, 1.2, (39.6, 42.6), {"gsm8k": (75.2, 0.0), "math_lvl5": (7.0, 2.4)}, "known+prior")


def _pick(measured: Measurement | None, prediction: Prediction | None = PREDICTION) -> Pick:
    return Pick(1, "org/model-7b", 7.0, "apache-2.0", "mistral", 3, "likes", None, "why", prediction=prediction,
                measured=measured)


def test_prediction_on_the_measured_benchmark():
    measured = Measurement(77.2, 145, (70.0, 83.0), "recorded:gsm8k")
    assert _pick(measured).comparable_prediction() == ("gsm8k", 75.2, 0.0)


def test_task_mean_when_not_measured_or_measured_elsewhere():
    assert _pick(None).comparable_prediction() == ("task mean", 41.1, 1.2)
    live = Measurement(30.0, 50, (19.0, 44.0), "live:math500", tokens=9000, seconds=12.0, strategy="greedy@1")
    assert _pick(live).comparable_prediction() == ("task mean", 41.1, 1.2)
    assert _pick(None, prediction=None).comparable_prediction() is None
