"""Question sets: answer extraction on tricky cases, sympy equivalence with its timeout, the arith generator, JSONL."""

from __future__ import annotations

import json
import time

import pytest

from index.errors import QuestionFileError, UnknownNameError
from recommender.confirm.datasets import (
    DATASETS,
    arith,
    extract_letter,
    extract_number,
    last_boxed,
    load_dataset,
    load_jsonl_dataset,
    math_equal,
)
from recommender.confirm.datasets._equiv import EquivalenceTimeout, run_with_timeout


class TestExtractNumber:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("She makes 9 * 2 = $18 every day.\n#### 18", "18"),
            ("The answer is $1,234.", "1234"),
            ("The answer is 1,234,567 apples", "1234567"),
            ("It costs $70,000 in total. The answer is 70000.", "70000"),
            ("The temperature drops to −5 degrees. The answer is -5.", "-5"),
            ("Final answer: 3/4 of the cake", "3/4"),
            ("answer: 18.00 dollars", "18"),
            ("so x = \\boxed{\\frac{3}{4}} and then 7", "3/4"),
            ("\\boxed{12} is wrong, the answer is \\boxed{14}", "14"),
            ("The answer is 2.5 km.", "5/2"),
            ("First 12 + 7 = 19, then 19 - 5 = 14", "14"),  # no marker: the last number
            ("The answer is **42**.", "42"),
            ("I don't know.", None),
        ],
    )
    def test_cases(self, text, expected):
        assert extract_number(text) == expected

    def test_answer_marker_beats_later_numbers(self):
        assert extract_number("The answer is 7. Question: Tom has 12 apples") == "7"


class TestBoxed:
    def test_nested_braces(self):
        assert last_boxed(r"$\boxed{\frac{\sqrt{2}}{2}}$") == r"\frac{\sqrt{2}}{2}"

    def test_unbalanced_is_none(self):
        assert last_boxed(r"\boxed{\frac{1}{2}") is None

    def test_braceless(self):
        assert last_boxed(r"so \boxed 5.") == "5"


OPTIONS = {"A": "Factor VII", "B": "Factor VIII", "C": "Factor IX", "D": "Factor XII"}


class TestExtractLetter:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("The answer is (B).", "B"),
            ("B. Factor VIII is defective.", "B"),
            ("**C**", "C"),
            ("answer: d", "D"),
            ("Answer: **A**", "A"),
            ("The correct option is C because ...", "C"),
            ("I think (A) is tempting but the answer is D.", "D"),
            ("The defect is in Factor IX, which explains the PTT.", "C"),  # option text echoed
            ("Factor VIII", "B"),  # "Factor VII" is a prefix of it: the longest echoed option wins
            ("c", "C"),
            ("The answer is a deficiency of clotting.", None),  # the article "a" is no choice
            ("Either Factor VII or Factor IX.", None),  # two options named: none chosen
            ("The answer is (F).", None),  # not an option
        ],
    )
    def test_cases(self, text, expected):
        assert extract_letter(text, OPTIONS) == expected


class TestMathEqual:
    @pytest.mark.parametrize(
        ("a", "b"),
        [
            (r"\frac{1}{2}", "0.5"),
            (r"\dfrac{1}{2}", r"\frac12"),
            (r"3\sqrt{2}", r"\sqrt{18}"),
            (r"\frac{\sqrt{2}}{2}", r"\frac{1}{\sqrt{2}}"),
            (r"(-\infty, 3]", r"(-\infty,3]"),
            (r"\left( 3, \frac{\pi}{2} \right)", r"(3,\frac{\pi}{2})"),
            ("10\\%", "10"),
            (r"\text{(B)}", "(B)"),
            ("x = 5", "5"),
            ("1,000", "1000"),
            ("2, -1", "-1, 2"),
            (r"90^\circ", "90"),
        ],
    )
    def test_equal(self, a, b):
        assert math_equal(a, b)

    @pytest.mark.parametrize(
        ("a", "b"),
        [("6", "7"), (r"(-\infty, 3)", r"(-\infty,3]"), (r"\frac{1}{3}", "0.33"), ("(1,2)", "(2,1)"), ("", "1")],
    )
    def test_not_equal(self, a, b):
        assert not math_equal(a, b)

    def test_hanging_sympy_times_out_as_not_equal(self):
        start = time.perf_counter()
        assert not math_equal(r"2^{2^{2^{99}}}", "3", timeout=0.5)
        assert time.perf_counter() - start < 3

    def test_timeout_in_a_thread(self):
        import threading

        box = []

        def slow():
            try:
                run_with_timeout(lambda: time.sleep(2), 0.2)
            except EquivalenceTimeout:
                box.append("timeout")

        t = threading.Thread(target=slow)
        t.start()
        t.join(5)
        assert box == ["timeout"]


class TestArith:
    def test_seeded_and_knobbed(self):
        a = arith.generate(20, steps=4, digits=2, seed=7)
        assert a == arith.generate(20, steps=4, digits=2, seed=7)
        assert a != arith.generate(20, steps=4, digits=2, seed=8)
        assert all(len(q.meta["steps"]) == 4 for q in a)
        assert len({q.id for q in a}) == 20

    @pytest.mark.parametrize(("steps", "digits", "ops"), [(1, 1, "+"), (3, 2, "+-*/"), (6, 3, "+-*/"), (2, 2, "*/")])
    def test_steps_are_exact_and_recoverable_from_text(self, steps, digits, ops):
        for q in arith.generate(30, steps=steps, digits=digits, ops=ops, seed=1):
            chain = arith.solve(q.text)
            assert [str(s) for s in chain] == q.meta["steps"]
            for s in chain:
                assert s.c == {"+": s.a + s.b, "-": s.a - s.b, "*": s.a * s.b, "/": s.a / s.b}[s.op]
                assert s.c > 0 and s.op in ops
            assert str(chain[-1].c) == q.answer

    def test_gold_solution_format_is_graded_correct(self):
        ds = load_dataset("arith", limit=10, steps=3)
        for q in ds.questions:
            paragraphs = q.meta["solution"].split("\n\n")
            assert paragraphs[-1] == f"The answer is {q.answer}."
            assert len(paragraphs) == 4
            assert ds.is_correct(q, ds.extract(q.meta["solution"]))
            assert ds.is_final(paragraphs[-1]) and not ds.is_final(paragraphs[0])

    def test_worked_examples_are_turns_of_the_same_difficulty_and_never_an_asked_question(self):
        ds = load_dataset("arith", limit=200, steps=2, shots=4)
        assert len(ds.shots) == 4 and ds.params["shots"] == 4
        asked = {ds.prompt(q) for q in ds.questions}
        for user, reply in ds.shots:
            assert user.startswith(ds.instructions) and user not in asked
            question = user.split("Question: ", 1)[1].strip()
            assert [str(s) for s in arith.solve(question)] == reply.split("\n\n")[:-1]  # two steps, then the answer
            assert len(reply.split("\n\n")) == 3
        # the same knobs give the same examples whatever questions are asked
        assert load_dataset("arith", limit=5, steps=2, shots=4, seed=9).shots == ds.shots
        assert load_dataset("arith", limit=5, shots=0).shots == ()
        with pytest.raises(ValueError, match="shots >= 0"):
            load_dataset("arith", shots=-1)

    def test_bad_knobs(self):
        with pytest.raises(ValueError, match="steps >= 1"):
            arith.generate(3, steps=0)
        with pytest.raises(ValueError, match="ops from"):
            arith.generate(3, ops="+^")


class TestLoadDataset:
    @pytest.mark.parametrize("name", sorted(DATASETS))
    def test_every_shipped_set_loads_and_grades_its_gold_answer(self, name):
        ds = load_dataset(name, limit=5, seed=3)
        assert len(ds.questions) == 5 and ds.name == name
        for q in ds.questions:
            assert q.text and q.answer
            prompt = ds.prompt(q)
            assert q.text in prompt and ds.instructions in prompt
            answer = f"\\boxed{{{q.answer}}}" if name == "math500" else f"The answer is ({q.answer})." \
                if "options" in q.meta else f"The answer is {q.answer}."
            assert ds.is_correct(q, ds.extract(answer, q)), (name, q.answer)
            assert not ds.is_correct(q, None)

    def test_sizes(self):
        assert len(load_dataset("gsm8k")) == 1319
        assert len(load_dataset("math500")) == 500
        assert len(load_dataset("arith")) == 200

    def test_subset_is_seeded(self):
        assert load_dataset("gsm8k", limit=7, seed=1).questions == load_dataset("gsm8k", limit=7, seed=1).questions
        assert load_dataset("gsm8k", limit=7, seed=1).questions != load_dataset("gsm8k", limit=7, seed=2).questions

    def test_multiple_choice_reads_echoed_option_text(self):
        ds = load_dataset("medqa", limit=3)
        q = ds.questions[0]
        gold_text = q.meta["options"][q.answer]
        assert ds.extract(f"I believe it is {gold_text}.", q) == q.answer

    def test_unknown_name(self):
        with pytest.raises(UnknownNameError, match="Unknown dataset 'gsm9k'.*arith"):
            load_dataset("gsm9k")

    def test_knobs_only_for_arith(self):
        with pytest.raises(ValueError, match="takes no parameters"):
            load_dataset("gsm8k", steps=3)


class TestJsonl:
    def _write(self, tmp_path, lines):
        path = tmp_path / "q.jsonl"
        path.write_text("\n".join(lines) + "\n")
        return path

    def test_numbers(self, tmp_path):
        path = self._write(tmp_path, [json.dumps({"question": "2+2?", "answer": 4}),
                                      json.dumps({"question": "Big?", "answer": "1,000"})])
        ds = load_jsonl_dataset(path)
        assert ds.params["answers"] == "number"
        assert ds.is_correct(ds.questions[1], ds.extract("The answer is 1000."))
        assert ds.name == "jsonl:q.jsonl"
        assert load_dataset(f"jsonl:{path}").questions == ds.questions

    def test_letters_and_strings(self, tmp_path):
        letters = load_jsonl_dataset(self._write(tmp_path, ['{"question": "Pick", "answer": "b"}']))
        assert letters.is_correct(letters.questions[0], letters.extract("The answer is (B)."))
        path = tmp_path / "s.jsonl"
        path.write_text('{"question": "Capital of France?", "answer": "Paris"}\n')
        strings = load_jsonl_dataset(path)
        assert strings.is_correct(strings.questions[0], strings.extract("The answer is paris."))

    @pytest.mark.parametrize(
        ("lines", "match"),
        [
            (['{"question": "a", "answer": 1}', "{not json"], "line 2: not valid JSON"),
            (['{"answer": 1}'], "line 1: missing a non-empty string 'question'"),
            (['{"question": "a"}'], "line 1: missing an 'answer'"),
            (['{"question": "a", "answer": ""}'], "line 1: missing an 'answer'"),
            (["", "  "], "holds no questions"),
        ],
    )
    def test_bad_lines_are_named(self, tmp_path, lines, match):
        with pytest.raises(QuestionFileError, match=match):
            load_jsonl_dataset(self._write(tmp_path, lines))

    def test_missing_file(self, tmp_path):
        with pytest.raises(QuestionFileError, match="no such file"):
            load_jsonl_dataset(tmp_path / "nope.jsonl")


def test_importing_live_evaluation_packages_stays_light():
    import subprocess
    import sys

    code = ("import sys, recommender.confirm.datasets, recommender.confirm.strategies, recommender.confirm.prms\n"
            "print(','.join(m for m in ('torch', 'transformers', 'sympy', 'vllm') if m in sys.modules))")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() == ""
