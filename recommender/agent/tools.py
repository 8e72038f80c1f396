"""The agent's five tools, over one `Recommender`, as plain methods and as langchain-core tools.

Every tool takes JSON-able arguments, returns a JSON-able dict and raises a `GemfinderError` subclass on bad input
(the chat turns it into one sentence). Card text a tool returns is data for the user, never instructions: the chat
loop never lets a tool's output choose the next tool (`recommender.agent.session`).

Example:
    >>> box = Toolbox(Recommender.load())
    >>> box.search_models("best 7B model for math", k=5)["picks"][0]["id"]
    >>> [t.name for t in box.langchain_tools()]
    ['search_models', 'predict_scores', 'confirm_top', 'explain_model', 'list_gems']
"""

from __future__ import annotations

import difflib
from typing import TYPE_CHECKING, Any

import numpy as np

from index.errors import ModelNotInCatalogError, NoTaskDataError, UsageError
from index.vocabulary import BENCHMARKS, TASK_BENCHMARKS, normalize_task
from recommender.records import Recommendation

if TYPE_CHECKING:
    from recommender.pipeline import Recommender

__all__ = ["Toolbox", "TOOL_NAMES"]

TOOL_NAMES: tuple[str, ...] = ("search_models", "predict_scores", "confirm_top", "explain_model", "list_gems")
#: card text shown by explain_model is cut to this many characters.
CARD_CHARS = 1200
#: most questions per model a chat may ask for in one evaluation.
MAX_QUESTIONS = 2000


class Toolbox:
    """The tools, sharing one `Recommender` and the last answer (follow-ups refine it).

    Args:
        recommender: the pipeline.

    Attributes:
        last (`Recommendation`, *optional*): the last answer of `search_models`.
    """

    def __init__(self, recommender: Recommender):
        self.rec = recommender
        self.last: Recommendation | None = None

    # search_models ---------------------------------------------------------------------------------------------

    def search_models(self, request: str, k: int = 10, budget: int | None = None, confirm: bool = True,
                      *, parsed=None, questions_file: str | None = None, on_event=None) -> dict[str, Any]:
        """Rank catalog models for a request in plain words (task, size, licence, family, budget).

        Args:
            request: the request ("best 7B model for grade-school math, apache-2.0").
            k: how many picks (1–50).
            budget: evaluation queries for the confirm stage; `None` = what the request says, else the default.
            confirm: run the confirm stage (recorded answers where the task has them).
            parsed: an already edited `ParsedQuery` (chat follow-ups); then `request` is only shown.
            questions_file: the user's own JSONL of ``{"question", "answer"}``: the candidates that run here are
                evaluated on it (the app's upload).
            on_event: progress callback.
        """
        _check_range("k", k, 1, 50)
        questions_file = _checked_questions_file(questions_file)
        answer = self.rec.recommend(parsed if parsed is not None else request, k=k, budget=budget,
                                    confirm="auto" if confirm else "none", questions=questions_file,
                                    on_event=on_event)
        self.last = answer
        return answer.to_dict()

    # predict_scores --------------------------------------------------------------------------------------------

    def predict_scores(self, model_ids: list[str], task: str) -> dict[str, Any]:
        """Known and predicted scores (points ± σ) of named catalog models on a task's benchmarks.

        Args:
            model_ids: Hugging Face ids ("org/name"), 1–20.
            task: a task or alias ("math", "medical", "code").
        """
        if isinstance(model_ids, str):
            model_ids = [model_ids]
        _check_range("model_ids", len(model_ids), 1, 20)
        task = normalize_task(task)
        rows = np.array([self.row(m) for m in model_ids], dtype=np.int64)
        benchmarks = TASK_BENCHMARKS[task]
        predictions = self.rec.predictor.predict_rows(rows, benchmarks)
        out = []
        for row, pred in zip(rows, predictions):
            out.append({
                "id": str(self.rec.catalog.frame.at[int(row), "id"]),
                "known": [vars(s) for s in self.rec.predictor.known(int(row), benchmarks)],
                "prediction": None if pred is None else {"mean": pred.mean, "std": pred.std,
                                                          "interval": list(pred.interval),
                                                          "per_benchmark": pred.per_benchmark, "source": pred.source},
            })
        return {"task": task, "benchmarks": list(benchmarks), "models": out}

    # confirm_top -----------------------------------------------------------------------------------------------

    def confirm_top(self, n: int = 3, dataset: str | None = None, questions: int = 100,
                    questions_file: str | None = None, *, on_event=None) -> dict[str, Any]:
        """Evaluate the top `n` picks of the last answer on `questions` questions each.

        Args:
            n: how many of the last answer's picks (1–10).
            dataset: a recorded benchmark (arc, gsm8k, mmlu, truthfulqa) or a live question set (gsm8k, math500,
                medqa, medmcqa, pubmedqa, mmlu_medical, arith); default: the task's.
            questions: questions per model (1–2000).
            questions_file: the user's own JSONL of ``{"question", "answer"}`` (live evaluation) instead.
        """
        if self.last is None:
            raise UsageError("There is no previous answer to evaluate. Ask for models first, e.g. "
                             "'best 7B model for math', then 'evaluate the top 3'.")
        _check_range("n", n, 1, 10)
        _check_range("questions", questions, 1, MAX_QUESTIONS)
        ids = [p.id for p in self.last.picks[:n]]
        questions_file = _checked_questions_file(questions_file)
        report = self.rec.evaluate(ids, dataset=dataset, task=self.last.task, questions=questions,
                                   questions_file=questions_file, on_event=on_event)
        return report

    # explain_model ---------------------------------------------------------------------------------------------

    def explain_model(self, model_id: str) -> dict[str, Any]:
        """Everything the catalog knows about one model, and where it stands in the last answer.

        Args:
            model_id: a Hugging Face id ("org/name"), case-insensitive.
        """
        row = self.row(model_id)
        record = self.rec.catalog.record(row)
        out: dict[str, Any] = {
            "id": record.id, "family": record.family, "params_b": record.params_b, "license": record.license,
            "instruct": record.instruct, "base_model": record.base_model, "popularity": record.popularity,
            "flagged": record.flagged, "available": record.available,
            "scores": {b: vars(s) for b, s in record.scores.items()},
            "card_source": record.card_source,
            # Data, not instructions: shown to the person, never fed to a tool-choosing model.
            "card_excerpt": record.card_text[:CARD_CHARS],
        }
        out["tree"] = self._gem_index().tree_of(record.id)
        last = self.last
        if last is not None and last.task is not None:
            out["task"] = last.task
            out["in_last_answer"] = next((p.rank for p in last.picks if p.id.lower() == record.id.lower()), None)
            out["prediction"] = self.predict_scores([record.id], last.task)["models"][0]["prediction"]
            out["passes_filters"] = self._passes(row)
            out["standing"] = self._standing(row, last.task)
            if last.picks:
                top = last.picks[0]
                out["top_pick"] = {
                    "id": top.id, "score": top.score, "measured": top.measured is not None,
                    "measured_source": top.measured.source if top.measured is not None else None,
                    "per_benchmark": dict(top.prediction.per_benchmark) if top.prediction is not None else {},
                    "standing": self._standing(self.rec.catalog.row(top.id), last.task),
                }
        return out

    def _standing(self, row: int, task: str) -> dict[str, Any] | None:
        """The task standing the answer is ordered by (a mean percentile) and its parts; `None` when unknown."""
        vote = float(self.rec.task_vote(task, np.array([row], dtype=np.int64))[0])
        return None if np.isnan(vote) else {"vote": round(vote, 1), "parts": self.rec.task_vote_parts(task, row)}

    def _passes(self, row: int) -> bool:
        from search.query import Constraints, ParsedQuery

        last = self.last
        c = {k: v for k, v in last.constraints.items() if k != "price_max_per_1m_tokens"}
        parsed = ParsedQuery(text=last.query, task=last.task, constraints=Constraints.from_dict(c),
                             retrieval_text=last.query)
        return bool(self.rec.eligible_mask(parsed)[row])

    # list_gems -------------------------------------------------------------------------------------------------

    def list_gems(self, task: str, tree: str | None = None, k: int = 10) -> dict[str, Any]:
        """Hidden gems: rarely used models that beat every popular model of their tree on the task's benchmark.

        Args:
            task: a task or alias, or a benchmark name ("gsm8k").
            tree: a model tree ("mistral-7b"); `None` = every tree with at least 20 scored models.
            k: how many gems (1–50).
        """
        _check_range("k", k, 1, 50)
        benchmark = task if task in BENCHMARKS else TASK_BENCHMARKS[normalize_task(task)][0]
        index = self._gem_index()
        if tree is not None:
            found = index.tree(tree, benchmark=benchmark).gems
        else:
            found = index.gems(benchmark)
        rows = found.head(k)
        if rows.empty and not index.trees(benchmark):
            raise NoTaskDataError(f"gems on {benchmark}", "no model tree has 20 or more models scored on it")
        gems = [{"id": r["id"], "tree": r["tree"], "score": round(float(r["score"]), 2),
                 "popularity": None if r["popularity"] != r["popularity"] else int(r["popularity"]),
                 "params_b": None if r["params_b"] != r["params_b"] else float(r["params_b"]),
                 "license": r["license"]} for _, r in rows.iterrows()]
        return {"benchmark": benchmark, "tree": tree, "gems": gems, "total": int(len(found))}

    # Helpers ---------------------------------------------------------------------------------------------------

    def row(self, model_id: str) -> int:
        """The catalog row of `model_id`, or `ModelNotInCatalogError` with the closest ids."""
        if not isinstance(model_id, str) or not model_id.strip():
            raise ModelNotInCatalogError(str(model_id))
        catalog = self.rec.catalog
        if model_id.strip() in catalog:
            return catalog.row(model_id.strip())
        keys = list(catalog._row_of)
        close = difflib.get_close_matches(model_id.strip().lower(), keys, n=3, cutoff=0.75)
        raise ModelNotInCatalogError(model_id.strip()[:120],
                                     tuple(str(catalog.frame.at[catalog._row_of[c], "id"]) for c in close))

    def _gem_index(self):
        return self.rec.gem_index

    def langchain_tools(self) -> list:
        """The five tools as langchain-core `StructuredTool`s (argument schemas from the signatures)."""
        from langchain_core.tools import StructuredTool

        def wrap(name: str):
            method = getattr(self, name)

            def call(**kwargs):
                return method(**kwargs)

            call.__name__ = name
            call.__doc__ = method.__doc__
            return call

        schemas = _schemas()
        return [StructuredTool.from_function(func=wrap(n), name=n, description=schemas[n].__doc__,
                                             args_schema=schemas[n]) for n in TOOL_NAMES]


def _checked_questions_file(path: str | None) -> str | None:
    """The user's question file, expanded and read once, so a bad file is refused before any work."""
    if path is None:
        return None
    from pathlib import Path

    from recommender.confirm.datasets import load_jsonl_dataset

    path = str(Path(path).expanduser())
    load_jsonl_dataset(path)
    return path


def _check_range(name: str, value, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise UsageError(f"{name}={value!r} must be a whole number from {low} to {high}.")


def _schemas() -> dict[str, type]:
    """Pydantic argument schemas of the tools (what a tool-calling chat model sees)."""
    from pydantic import BaseModel, Field

    class search_models(BaseModel):
        """Rank open models for a request in plain words: task, size, licence, family, evaluation budget."""

        request: str = Field(description="the user's request, e.g. 'best 7B model for math, apache-2.0'")
        k: int = Field(10, ge=1, le=50, description="how many models to return")
        budget: int | None = Field(None, ge=1, description="evaluation queries to spend confirming the top models")

    class predict_scores(BaseModel):
        """Known and predicted benchmark scores of named models on a task."""

        model_ids: list[str] = Field(description="Hugging Face ids like 'mistralai/Mistral-7B-v0.1'")
        task: str = Field(description="math, reasoning, knowledge, instruction_following, truthfulness, science, "
                                      "commonsense, code or medical")

    class confirm_top(BaseModel):
        """Evaluate the top models of the last answer on a question set."""

        n: int = Field(3, ge=1, le=10, description="how many of the top models")
        dataset: str | None = Field(None, description="gsm8k, arc, mmlu, truthfulqa, medqa, medmcqa, pubmedqa, "
                                                      "math500 or mmlu_medical; default the task's")
        questions: int = Field(100, ge=1, le=MAX_QUESTIONS, description="questions per model")
        questions_file: str | None = Field(None, description="the user's JSONL of question/answer pairs")

    class explain_model(BaseModel):
        """Explain one model: scores with sources and dates, size, licence, card, rank in the last answer."""

        model_id: str = Field(description="a Hugging Face id like 'org/name'")

    class list_gems(BaseModel):
        """List hidden gems: rarely used models that beat every popular model of their family and size."""

        task: str = Field(description="a task (math, code, ...) or a benchmark (gsm8k, mmlu, ...)")
        tree: str | None = Field(None, description="a model tree such as 'mistral-7b' or 'llama-2-13b'")
        k: int = Field(10, ge=1, le=50, description="how many gems")

    return {c.__name__: c for c in (search_models, predict_scores, confirm_top, explain_model, list_gems)}
