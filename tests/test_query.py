"""Tests of `search.query`: one parametrized case per request form DESIGN's "Query conventions" cover."""

from __future__ import annotations

import json

import pytest

from index.errors import (
    ContradictoryConstraintsError,
    EmptyQueryError,
    QueryEncodingError,
    QueryError,
    QueryTooLongError,
    UnknownLicenseError,
)
from index.vocabulary import PERMISSIVE_LICENSES, TASKS
from search import Constraints, ParsedQuery, parse_query
from search.query import MAX_QUERY_CHARS


def size(text: str) -> tuple[float | None, float | None]:
    c = parse_query(text).constraints
    return c.params_min_b, c.params_max_b


class TestSize:
    @pytest.mark.parametrize(
        "text, expected",
        [
            # "NB" is N ± 15%, rounded outward to two significant digits
            ("best 8B model for math", (6.8, 9.2)),
            ("an 8b model", (6.8, 9.2)),
            ("8 billion parameters", (6.8, 9.2)),
            ("a 7B model", (5.9, 8.1)),
            ("around 70B", (59.0, 81.0)),
            ("a 1.5B model", (1.2, 1.8)),
            ("something 7b-ish", (5.9, 8.1)),
            # upper bounds
            ("under 3B", (None, 3.0)),
            ("at most 3B", (None, 3.0)),
            ("<= 3B", (None, 3.0)),
            ("≤3B", (None, 3.0)),
            ("no more than 3B", (None, 3.0)),
            ("smaller than 3B", (None, 3.0)),
            ("less than 3 billion parameters", (None, 3.0)),
            ("sub-3B", (None, 3.0)),
            ("3B or smaller", (None, 3.0)),
            ("3B max", (None, 3.0)),
            # lower bounds
            ("at least 70B", (70.0, None)),
            ("over 30B", (30.0, None)),
            (">= 30B", (30.0, None)),
            ("70B+", (70.0, None)),
            ("13B or larger", (13.0, None)),
            # ranges
            ("7-9B", (7.0, 9.0)),
            ("7–9B", (7.0, 9.0)),
            ("between 7 and 9B", (7.0, 9.0)),
            ("between 7B and 9B", (7.0, 9.0)),
            ("7B to 9B", (7.0, 9.0)),
            ("from 1 to 3B", (1.0, 3.0)),
            ("500M-1B", (0.5, 1.0)),
            # bounds intersect
            ("at least 7B and under 13B", (7.0, 13.0)),
            ("under 10B, no more than 8B", (None, 8.0)),
            # millions
            ("under 500M parameters", (None, 0.5)),
            ("a 135M model", (0.11, 0.16)),
            # no size
            ("a model for math", (None, None)),
            ("a model with 1M context", (None, None)),
            ("trained on 2B tokens", (None, None)),
            ("the gsm8k benchmark", (None, None)),
        ],
    )
    def test_size_phrases(self, text: str, expected: tuple[float | None, float | None]) -> None:
        assert size(text) == pytest.approx(expected)

    def test_500m_is_half_a_billion(self) -> None:
        lo, hi = size("a 500M model")
        assert lo < 0.5 < hi and (lo, hi) == pytest.approx((0.42, 0.58))

    @pytest.mark.parametrize(
        "text, expected",
        [
            # 16-bit is the default: G/2
            ("fits a 24 GB GPU", 12.0),
            ("fits in 24GB", 12.0),
            ("runs on a single 24GB card", 12.0),
            ("under 24 GB of VRAM in fp16", 12.0),
            # the precision, when named: G at 8-bit, 2G at 4-bit
            ("fits 24GB at 8-bit", 24.0),
            ("fits 24GB with int8", 24.0),
            ("fits a 24 GB GPU at 4-bit", 48.0),
            ("24GB VRAM, q4", 48.0),
            ("24GB card, q4_k_m gguf", 48.0),
            ("16 GB GPU, int8 or int4", 32.0),  # alternatives: the smallest width counts
        ],
    )
    def test_memory_budget(self, text: str, expected: float) -> None:
        assert size(text) == (None, pytest.approx(expected))

    def test_memory_intersects_size(self) -> None:
        assert size("an 8B model that fits a 16GB GPU") == pytest.approx((6.8, 8.0))

    @pytest.mark.parametrize(
        "text, expected_size, expected_family",
        [
            ("llama-3-8b", (6.8, 9.2), "llama-3"),
            ("Mistral 7B", (5.9, 8.1), "mistral"),
            ("Qwen2.5-7B-Instruct", (5.9, 8.1), "qwen2.5"),
            ("gemma 2 9b", (7.6, 11.0), "gemma-2"),
            ("llama 70b", (59.0, 81.0), "llama"),
            ("mixtral 8x7b", (42.0, 56.0), "mixtral"),  # MoE: 75–100% of experts × size (Mixtral has 46.7B)
        ],
    )
    def test_family_size_tokens(self, text: str, expected_size: tuple, expected_family: str) -> None:
        c = parse_query(text).constraints
        assert (c.params_min_b, c.params_max_b) == pytest.approx(expected_size)
        assert c.family == expected_family


class TestLicense:
    @pytest.mark.parametrize(
        "text, expected",
        [
            ("apache", ("apache-2.0",)),
            ("apache 2.0", ("apache-2.0",)),
            ("apache-2.0", ("apache-2.0",)),
            ("Apache License 2.0", ("apache-2.0",)),
            ("apache-licensed", ("apache-2.0",)),
            ("MIT licensed", ("mit",)),
            ("an MIT-style license", ("mit",)),
            ("llama3 license", ("llama3",)),
            ("under the Llama 3.1 Community License", ("llama3.1",)),
            ("gemma license", ("gemma",)),
            ("license: cc-by-nc-4.0", ("cc-by-nc-4.0",)),
            ("licensed under bsd-3-clause", ("bsd-3-clause",)),
            # several licences are alternatives: the union
            ("apache-2.0 only ... mit only", ("apache-2.0", "mit")),
            ("MIT or Apache", ("mit", "apache-2.0")),
            # named licences inside "commercial use" say which ones
            ("commercial use, so apache or mit", ("apache-2.0", "mit")),
            # no licence
            ("a model for math", None),
            ("what license does it have?", None),
            ("any license is fine", None),
            ("non-commercial use is fine", None),
            ("not for commercial use", None),
            ("python code for apache spark jobs", None),
            ("a model that runs on cuda", None),
        ],
    )
    def test_license_phrases(self, text: str, expected: tuple[str, ...] | None) -> None:
        assert parse_query(text).constraints.license == expected

    @pytest.mark.parametrize(
        "text",
        ["for commercial use", "commercially usable", "commercial-friendly", "permissive license", "OSI-approved"],
    )
    def test_commercial_use_means_permissive(self, text: str) -> None:
        assert parse_query(text).constraints.license == PERMISSIVE_LICENSES

    def test_commercial_use_with_restrictive_licence_is_union(self) -> None:
        license = parse_query("commercial use, llama3 license ok").constraints.license
        assert set(license) == {*PERMISSIVE_LICENSES, "llama3"}

    @pytest.mark.parametrize(
        "text, name, suggestion",
        [
            ("a math model under the FooBar license", "FooBar", None),
            ("license: xyz-9", "xyz-9", None),
            ("apache-3.0 license", "apache-3.0", "apache-2.0"),
            ("licensed under mitt", "mitt", "mit"),
        ],
    )
    def test_unknown_license(self, text: str, name: str, suggestion: str | None) -> None:
        with pytest.raises(UnknownLicenseError, match=f"Unknown license '{name}'") as info:
            parse_query(text)
        assert info.value.license == name
        if suggestion is not None:
            assert suggestion in info.value.suggestions
        assert isinstance(info.value, ValueError)  # callers catching ValueError still catch it


class TestFamily:
    @pytest.mark.parametrize(
        "text, expected",
        [
            ("llama-3", "llama-3"),
            ("llama 3", "llama-3"),
            ("Llama3", "llama-3"),
            ("llama-3.1", "llama-3.1"),
            ("Llama 3.1 8B Instruct", "llama-3.1"),
            ("llama2", "llama-2"),
            ("llama", "llama"),
            ("mistral", "mistral"),
            ("mixtral", "mixtral"),
            ("qwen2.5", "qwen2.5"),
            ("Qwen 2.5", "qwen2.5"),
            ("qwen2", "qwen2"),
            ("Qwen1.5-7B-Chat", "qwen1.5"),
            ("gemma-2", "gemma-2"),
            ("gemma2", "gemma-2"),
            ("phi-3", "phi-3"),
            ("phi 3.5 mini", "phi-3"),  # the catalog files Phi-3.5 under phi-3 (index.families)
            ("yi", "yi"),
            ("Yi-1.5", "yi"),
            ("solar", "solar"),
            ("falcon", "falcon"),
            ("code llama", "llama-2"),
            ("llama and llama-3.1 models", "llama-3.1"),  # nested: the most specific
            ("llama-3 or qwen2.5", None),  # two lineages: one filter cannot say "either"
            ("better than llama-2-7b", None),  # a reference, not a constraint
            ("gemma 2 vs phi-3", None),  # both sides of a comparison are candidates
            ("a physics tutor", None),
            ("solar energy questions", None),
            ("a model for math", None),
        ],
    )
    def test_family(self, text: str, expected: str | None) -> None:
        assert parse_query(text).constraints.family == expected

    def test_reference_sets_no_size_or_instruct(self) -> None:
        c = parse_query("something better than Mistral-7B-Instruct for math").constraints
        assert (c.family, c.params_min_b, c.params_max_b, c.instruct) == (None, None, None, None)


class TestInstruct:
    @pytest.mark.parametrize(
        "text, expected",
        [
            ("an instruct model", True),
            ("chat model for support", True),
            ("instruction-tuned", True),
            ("instruction tuned 7B", True),
            ("Qwen2.5-7B-Instruct", True),
            ("gemma-2-9b-it", True),
            ("llama-2-7b-chat", True),
            ("a base model", False),
            ("pretrained", False),
            ("a pretrained checkpoint", False),
            ("not instruction tuned", False),
            ("non-instruct", False),
            ("not a chat model", False),
            ("Yi-34B-base", False),
            # not constraints
            ("instruction following", None),
            ("a model for my knowledge base", None),
            ("knowledge base model", None),
            ("a model pretrained on medical text", None),
            ("a chatbot", None),
        ],
    )
    def test_instruct(self, text: str, expected: bool | None) -> None:
        assert parse_query(text).constraints.instruct is expected

    @pytest.mark.parametrize(
        "text, finetune, instruct",
        [
            ("which base should I fine-tune for medical QA?", True, None),
            ("which base model should I fine-tune?", True, None),
            ("a 7B model to finetune with LoRA", True, None),
            ("fine-tune a non-instruct model", True, False),  # an explicit negation still counts
            ("a model fine-tuned on medical data", False, None),  # "fine-tuned" describes, it is no intent
            ("a Llama 3.1 8B fine-tune that is good at math", False, None),  # a noun: a model, no intent
        ],
    )
    def test_finetune_intent(self, text: str, finetune: bool, instruct: bool | None) -> None:
        q = parse_query(text)
        assert (q.finetune, q.constraints.instruct) == (finetune, instruct)


class TestTask:
    @pytest.mark.parametrize(
        "text, expected",
        [
            ("grade-school math", "math"),
            ("math word problems", "math"),
            ("math reasoning", "math"),
            ("mathematics tutor", "math"),
            ("coding assistant", "code"),
            ("python code", "code"),
            ("medical QA", "medical"),
            ("summarise clinical notes", "medical"),
            ("instruction following", "instruction_following"),
            ("truthful answers", "truthfulness"),
            ("science questions", "science"),
            ("commonsense", "commonsense"),
            ("reasoning", "reasoning"),
            ("knowledge", "knowledge"),
            ("strong reasoning on math word problems", "math"),  # a specific task beats a generic one
            ("medical knowledge", "medical"),
            ("a chat model for coding", "code"),
            ("a model that does not hallucinate", "truthfulness"),
            ("an honest assistant", "truthfulness"),
            ("a medical model that does not hallucinate", "medical"),  # "hallucinate" qualifies another task
            ("best 7B model, apache", None),
            ("a model for my knowledge base", None),
        ],
    )
    def test_task(self, text: str, expected: str | None) -> None:
        assert parse_query(text).task == expected

    def test_tasks_are_vocabulary(self) -> None:
        assert parse_query("gsm8k").task in TASKS


class TestBudgetAndSwitches:
    @pytest.mark.parametrize(
        "text, expected",
        [
            ("spend at most 2,000 evaluation questions", 2000),
            ("budget 500 queries", 500),
            ("discovery budget: 2k", 2000),
            ("use up to 1.5k queries", 1500),
            ("2000 evaluation queries", 2000),
            ("under 3B, no budget stated", None),
        ],
    )
    def test_budget(self, text: str, expected: int | None) -> None:
        assert parse_query(text).budget_queries == expected

    def test_budget_is_not_a_size_bound(self) -> None:
        q = parse_query("spend at most 2,000 evaluation questions on 3B models")
        assert q.budget_queries == 2000 and size(q.text) == pytest.approx((2.5, 3.5))

    @pytest.mark.parametrize(
        "text, flagged, unavailable",
        [
            ("include flagged models", True, False),
            ("best math model, flagged ones too", True, False),
            ("including unavailable models", False, True),
            ("show deleted models as well, include flagged", True, True),
            ("a model for math", False, False),
        ],
    )
    def test_switches(self, text: str, flagged: bool, unavailable: bool) -> None:
        q = parse_query(text)
        assert (q.include_flagged, q.include_unavailable) == (flagged, unavailable)

    @pytest.mark.parametrize(
        "text, expected",
        [
            ("better than mistralai/Mistral-7B-v0.1 at math", ("mistralai/Mistral-7B-v0.1",)),
            ("meta-llama/Meta-Llama-3-8B vs Qwen/Qwen2.5-7B", ("meta-llama/Meta-Llama-3-8B", "Qwen/Qwen2.5-7B")),
            ("like https://huggingface.co/google/gemma-2-9b-it.", ("google/gemma-2-9b-it",)),
            ("math/physics and/or 8B/70B, mit/apache-2.0", ()),
            ("TCP/IP questions about images/example.jpg", ()),
        ],
    )
    def test_mentioned_models(self, text: str, expected: tuple[str, ...]) -> None:
        assert parse_query(text).mentioned_models == expected

    def test_mentioned_model_sets_no_constraint(self) -> None:
        assert parse_query("is there anything better than meta-llama/Llama-2-70b-chat-hf").constraints.is_empty


class TestRetrievalText:
    @pytest.mark.parametrize(
        "text, expected",
        [
            ("best model for math under 3B, apache-2.0", "best model for math"),
            ("a 7B instruct model for medical QA that fits a 16 GB GPU", "a model for medical QA"),
            ("Qwen2.5-7B-Instruct alternatives with commercial use", "Qwen2.5 alternatives"),
            ("python code, budget 500 queries, include flagged models", "python code"),
            ("a model for my knowledge base under the MIT license", "a model for my knowledge base"),
            # nothing topical left: the request itself
            ("under 3B, apache-2.0 only", "under 3B, apache-2.0 only"),
        ],
    )
    def test_retrieval_text(self, text: str, expected: str) -> None:
        assert parse_query(text).retrieval_text == expected


class TestBadInput:
    @pytest.mark.parametrize("text", ["", "   ", "\n\t ", "\u200b\ufeff", b"", b"  "])
    def test_empty(self, text: str | bytes) -> None:
        with pytest.raises(EmptyQueryError, match="The query is empty"):
            parse_query(text)

    @pytest.mark.parametrize("text", ["x" * (MAX_QUERY_CHARS + 1), "best math model " * 6400, b"a" * 100_000])
    def test_too_long(self, text: str | bytes) -> None:
        with pytest.raises(QueryTooLongError, match=f"the limit is {MAX_QUERY_CHARS:,}") as info:
            parse_query(text)
        assert info.value.length > MAX_QUERY_CHARS

    def test_longest_allowed(self) -> None:
        assert parse_query("m" * MAX_QUERY_CHARS).text == "m" * MAX_QUERY_CHARS

    @pytest.mark.parametrize(
        "raw, fragment",
        [
            (b"best \xff math model", "byte 0xff at position 5"),
            ("8B model".encode("utf-16"), "byte 0xff at position 0"),
            (b"caf\xc3", "position 3"),  # truncated multi-byte sequence
            ("bad \udcff surrogate", "unpaired surrogate at position 4"),
        ],
    )
    def test_encoding(self, raw: str | bytes, fragment: str) -> None:
        with pytest.raises(QueryEncodingError, match=fragment):
            parse_query(raw)

    def test_utf8_bytes_are_decoded(self) -> None:
        q = parse_query("modèle 8B pour les maths, licence apache".encode())
        assert q.text.startswith("modèle") and q.constraints.params_max_b == pytest.approx(9.2)

    def test_not_text(self) -> None:
        with pytest.raises(TypeError, match="expects str or bytes"):
            parse_query(42)  # type: ignore[arg-type]

    @pytest.mark.parametrize(
        "text, first, second",
        [
            ("under 1B, at least 70B", "'under 1B'", "'at least 70B'"),
            ("at least 70B but below 3B", "'at least 70B'", "'below 3B'"),
            ("a 70B model that fits a 24 GB GPU", "'70B'", "fits a 24 GB GPU"),
            ("an 8B model, at least 30B", "'8B'", "'at least 30B'"),
            ("instruct base model", "'instruct'", "'base'"),
            ("a chat model, not instruction tuned", "'chat'", "'not instruction tuned'"),
        ],
    )
    def test_contradictory(self, text: str, first: str, second: str) -> None:
        with pytest.raises(ContradictoryConstraintsError, match="no model can satisfy both") as info:
            parse_query(text)
        assert first in info.value.first and second in info.value.second

    @pytest.mark.parametrize(
        "error", [EmptyQueryError, QueryTooLongError, QueryEncodingError, ContradictoryConstraintsError]
    )
    def test_errors_are_query_errors(self, error: type) -> None:
        assert issubclass(error, QueryError) and issubclass(error, ValueError)


class TestRecords:
    def test_constraints_to_dict_is_json(self) -> None:
        c = parse_query("an 8B llama-3 instruct model, apache-2.0").constraints
        assert json.loads(json.dumps(c.to_dict())) == {
            "params_min_b": 6.8,
            "params_max_b": 9.2,
            "license": ["apache-2.0"],
            "family": "llama-3",
            "instruct": True,
        }
        assert Constraints.from_dict(c.to_dict()) == c

    def test_empty_constraints_to_dict(self) -> None:
        assert Constraints().to_dict() == dict.fromkeys(
            ["params_min_b", "params_max_b", "license", "family", "instruct"]
        )
        assert Constraints().is_empty and Constraints().describe() == "no constraints"

    @pytest.mark.parametrize(
        "constraints, expected",
        [
            (Constraints(6.8, 9.2, ("apache-2.0",), "llama-3"), "6.8–9.2B, licence in (apache-2.0), family llama-3"),
            (Constraints(params_max_b=3), "≤3B"),
            (Constraints(params_min_b=70, instruct=False), "≥70B, base models"),
            (
                Constraints(license=PERMISSIVE_LICENSES),
                (
                    "licence in (apache-2.0, mit, bsd, bsd-2-clause, bsd-3-clause, bsd-3-clause-clear, "
                    f"… {len(PERMISSIVE_LICENSES) - 6} more)"
                ),
            ),
        ],
    )
    def test_describe(self, constraints: Constraints, expected: str) -> None:
        assert constraints.describe() == expected

    @pytest.mark.parametrize(
        "kwargs, error, fragment",
        [
            ({"params_min_b": 10, "params_max_b": 3}, ContradictoryConstraintsError, "params_min_b=10"),
            ({"params_max_b": -1}, ValueError, "non-negative"),
            ({"license": ()}, ValueError, "non-empty tuple"),
            ({"license": ["mit"]}, ValueError, "non-empty tuple"),
            ({"license": ("MIT",)}, ValueError, "lower-case"),
            ({"family": "Llama-3"}, ValueError, "lower-case family"),
        ],
    )
    def test_constraints_validation(self, kwargs: dict, error: type, fragment: str) -> None:
        with pytest.raises(error, match=fragment):
            Constraints(**kwargs)

    def test_parsed_query_validation(self) -> None:
        with pytest.raises(ValueError, match="is not one of"):
            ParsedQuery(text="x", task="poetry", constraints=Constraints(), retrieval_text="x")

    def test_full_request(self) -> None:
        q = parse_query(
            "Best 8B Llama-3 instruct model for grade-school math, commercially usable, fits a 24GB GPU at 8-bit; "
            "spend at most 2,000 evaluation questions and include flagged models."
        )
        assert q.task == "math" and q.budget_queries == 2000 and q.include_flagged and not q.finetune
        c = q.constraints
        assert (c.params_min_b, c.params_max_b, c.family, c.instruct) == (6.8, 9.2, "llama-3", True)
        assert c.license == PERMISSIVE_LICENSES
        assert q.retrieval_text == "Best Llama-3 model for grade-school math"
        assert json.loads(json.dumps(q.to_dict()))["constraints"]["family"] == "llama-3"

    def test_normalisation(self) -> None:
        q = parse_query("  ＬＬａｍａ ３ ８Ｂ\n\nfor   math  ")
        assert q.text == "LLama 3 8B for math"
        assert (q.constraints.family, q.task) == ("llama-3", "math")
