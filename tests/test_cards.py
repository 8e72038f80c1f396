"""Tests of `index.cards`: the score scrubber, card cleaning and composed cards."""

from __future__ import annotations

import re

import pytest

from index.cards import MAX_CARD_CHARS, clean_card, compose_card_text, scrub_scores

# Snippets as real cards write them (Open LLM Leaderboard footers, README result tables, prose claims).
LEADERBOARD_FOOTER = """# [Open LLM Leaderboard Evaluation Results](https://huggingface.co/spaces/open-llm-leaderboard)
Detailed results can be found [here](https://huggingface.co/datasets/open-llm-leaderboard/details)

|             Metric              |Value|
|---------------------------------|----:|
|Avg.                             |61.77|
|AI2 Reasoning Challenge (25-Shot)|59.98|
|HellaSwag (10-Shot)              |83.31|
|MMLU (5-Shot)                    |64.16|
"""
HTML_TABLE = "<table><tr><td>MMLU</td><td>61.8</td></tr><tr><td>GSM8K</td><td>37.83</td></tr></table>"
MODEL_INDEX = """model-index:
- name: Foo-7B
  results:
  - task:
      type: text-generation
    dataset:
      name: AI2 Reasoning Challenge (25-Shot)
    metrics:
    - type: acc_norm
      value: 59.98
"""
PROSE = (
    "Foo-7B is a chat model fine-tuned from Mistral-7B-v0.1 on 1M conversations. It scores 72.3% on GSM8K "
    "and reaches an MMLU accuracy of 64.2, outperforming Llama 2 13B. Use it for assistants."
)


class TestScrubScores:
    @pytest.mark.parametrize("text", [LEADERBOARD_FOOTER, HTML_TABLE, MODEL_INDEX, PROSE])
    def test_no_score_value_survives(self, text):
        out = scrub_scores(text)
        for value in ("61.77", "59.98", "83.31", "64.16", "61.8", "37.83", "72.3", "64.2"):
            assert value not in out

    def test_keeps_descriptive_sentences(self):
        out = scrub_scores(PROSE)
        assert "Foo-7B is a chat model fine-tuned from Mistral-7B-v0.1" in out
        assert "Use it for assistants." in out

    def test_keeps_text_without_numbers_or_benchmarks(self):
        text = "A 7B instruction model.\n\n| Attribute | Details |\n|---|---|\n| License | MIT |"
        assert scrub_scores(text) == text

    def test_drops_bare_value_runs(self):
        assert "55.0" not in scrub_scores("Results: 61.8 / 72.3 / 55.0")


class TestCleanCard:
    def test_strips_front_matter_eval_sections_and_markup(self):
        card = (
            "---\nlicense: mit\n---\n# Foo\n![logo](x.png)\nFoo is a [small](https://x) model.\n"
            "## Evaluation\nWe report 61.8 on MMLU.\n## Intended uses\nCall it.\n"
        )
        out = clean_card(card)
        assert out.startswith("# Foo")
        assert "Foo is a small model." in out
        assert "Evaluation" not in out and "61.8" not in out
        assert "Call it." in out

    def test_trims_long_cards(self):
        card = "\n\n".join(f"Paragraph {i} " + "words " * 100 for i in range(20))
        assert len(clean_card(card)) <= MAX_CARD_CHARS


class TestComposeCardText:
    def test_mentions_metadata(self):
        text = compose_card_text(
            "org/Foo-7B-Instruct", family="mistral", architecture="MistralForCausalLM", params_b=7.24,
            instruct=True, base_model="mistralai/Mistral-7B-v0.1", license="apache-2.0",
        )
        for fragment in ("Foo-7B-Instruct by org", "7.24B-parameter", "instruction-tuned", "mistral family",
                         "MistralForCausalLM", "mistralai/Mistral-7B-v0.1", "apache-2.0"):
            assert fragment in text

    def test_unknown_licence_is_said(self):
        assert "License: unknown." in compose_card_text("gpt2")

    def test_has_no_scores(self):
        assert not re.search(r"\d+\.\d+\s*%", compose_card_text("org/m", params_b=0.135))
