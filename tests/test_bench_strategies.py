"""The strategy benchmark's bookkeeping: extending a finished run to more questions, and which rows the report uses."""

from evals._bench_strategies_report import current
from evals.bench_strategies import _key, finished_prefix, merge_rows
from recommender.records import wilson_interval


def _row(strategy="best_of_n", prm="verifier", questions=100, correct=50, tokens=10.0, seconds=1.0, **kw):
    return {"model": "m", "dataset": "arith", "strategy": strategy, "n": 16, "prm": prm, "questions": questions,
            "correct": correct, "accuracy": 100 * correct / questions, "ci95": [0, 0],
            "generations_per_question": 16.0, "tokens_per_question": tokens, "seconds_per_question": seconds,
            "wall_seconds": seconds * questions, "load": 1.0, **kw}


def test_merge_adds_counts_and_weights_costs_by_questions():
    merged = merge_rows(_row(questions=100, correct=79, tokens=280.0, seconds=2.0),
                        _row(questions=300, correct=150, tokens=300.0, seconds=1.0))
    assert (merged["questions"], merged["correct"], merged["accuracy"]) == (400, 229, 57.25)
    assert merged["tokens_per_question"] == 295.0 and merged["seconds_per_question"] == 1.25
    assert merged["ci95"] == [round(x, 2) for x in wilson_interval(229, 400)]
    assert [p["questions"] for p in merged["parts"]] == [[0, 100], [100, 400]]
    again = merge_rows(merged, _row(questions=100, correct=0))
    assert [p["questions"] for p in again["parts"]] == [[0, 100], [100, 400], [400, 500]]


def test_finished_prefix_needs_every_row_of_the_run():
    keys = {_key(_row(questions=200)), _key(_row(strategy="majority", prm=None, questions=200))}
    by_key = {_key(r): r for r in [_row(questions=100), _row(questions=50),
                                   _row(strategy="majority", prm=None, questions=50)]}
    assert finished_prefix(keys, by_key, 200) == 50  # at 100 the majority row is missing
    by_key[_key(_row(strategy="majority", prm=None, questions=100))] = _row(strategy="majority", prm=None)
    assert finished_prefix(keys, by_key, 200) == 100
    assert finished_prefix(keys, by_key, 100) == 50 and finished_prefix(keys, by_key, 50) == 0


def test_report_keeps_the_row_on_most_questions():
    rows = current([_row(questions=200, correct=1), _row(questions=100, correct=2), _row(prm="small_lm")])
    assert sorted((r["prm"], r["questions"]) for r in rows) == [("small_lm", 100), ("verifier", 200)]


def test_a_line_cut_short_by_a_killed_run_is_skipped(tmp_path):
    from evals.bench_strategies import _read_rows

    partial = tmp_path / "rows.jsonl"
    partial.write_text('{"a": 1}\n{"b": 2}\n{"c": ')
    assert _read_rows(partial) == [{"a": 1}, {"b": 2}]
    assert _read_rows(tmp_path / "missing.jsonl") == []


def test_summary_marks_a_cell_on_fewer_questions_than_its_column():
    from evals._bench_strategies_report import summary

    table = "\n".join(summary([_row(questions=100), _row(strategy="dvts", questions=20, correct=5)]))
    assert "(20 q so far)" in table and table.count("so far") == 1
