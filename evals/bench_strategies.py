"""Test-time strategies compared: greedy, majority, Best-of-N, weighted Best-of-N, beam search and DVTS.

For each small PyPI model, each PRM and N ∈ {1, 4, 16}: accuracy on ``arith`` (points, 95% Wilson interval) and
cost (generated tokens and seconds per question), then GSM8K for the record; plus how well the small-LM PRM
separates correct from wrong ``arith`` steps (AUROC against the exact verifier). Tree searches use M = 4, so they
run at N = 4 and 16. Every finished configuration is appended to a JSONL file first, so an interrupted run resumes
where it stopped. A run asked for more questions than a finished one (e.g. ``--arith-questions-16 200`` after 100)
runs only the new questions and merges them with the finished rows (each question's draws are independent); the
merged row lists its parts. ``--fresh`` runs all the questions instead (e.g. when the code changed in between).
``--chunk K`` saves each run every K questions the same way, so a long run that is interrupted resumes mid-way.

Usage:
    python -m evals.bench_strategies                       # the report's configuration
    python -m evals.bench_strategies --quick               # 4 questions, N ∈ {1, 4}: a smoke run
    python -m evals.bench_strategies --models smollm2-135m-instruct --ns 1,4 --arith-questions 20

Writes ``evals/reports/bench_strategies.{md,json}`` and ``bench_strategies.png`` (accuracy vs tokens per question).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import replace
from pathlib import Path

from recommender.confirm.datasets import load_dataset
from recommender.confirm.datasets._loaders import ARITH_DEFAULTS
from recommender.confirm.prms import load_prm
from recommender.confirm.strategies import (
    PRM_STRATEGIES,
    STRATEGIES,
    TREE_STRATEGIES,
    StrategyConfig,
    aggregate,
    split_steps,
)
from recommender.confirm.strategies._base import weighted_vote
from recommender.records import wilson_interval

REPORTS = Path(__file__).resolve().parent / "reports"
MODELS = ("smollm2-135m-instruct", "gemma-3-270m")
ORDER = ("greedy", "majority", "best_of_n", "weighted_best_of_n", "beam_search", "dvts")


#: majority, best_of_n and weighted_best_of_n at one N are read off the same N samples (as search-and-learn
#: evaluates them): each row's cost is what that strategy alone would have paid.
SAMPLED = ("majority", "best_of_n", "weighted_best_of_n")


def configs(ns: list[int], prms: list[str], *, width: int, max_tokens: int, step_tokens: int,
            max_steps: int) -> list[tuple[StrategyConfig, str | None]]:
    """The runs the table needs, cheapest first: greedy, one sampling run per N (``best_of_n`` with the first PRM;
    the other sampled strategies and PRMs are derived from it), and each tree search per PRM."""
    out: list[tuple[StrategyConfig, str | None]] = []
    for n in ns:
        for name in ORDER:
            if name == "greedy" and n != 1 or name in TREE_STRATEGIES and n % width or name in SAMPLED[::2]:
                continue
            tree = name in TREE_STRATEGIES
            config = StrategyConfig(name, n=n, width=width, max_tokens=step_tokens if tree else max_tokens,
                                    max_steps=max_steps, temperature=0.8, aggregation="min" if tree else "last")
            for prm in (prms[:1] if name == "best_of_n" else prms if name in PRM_STRATEGIES else [None]):
                out.append((config, prm))
    return out


def run_one(engine, dataset, questions, config: StrategyConfig, prms: dict, prm_name: str | None,
            model: str, extra: dict, small_lm_max_n: int = 16, auroc_prms: dict | None = None) -> list[dict]:
    """The rows of one run: one row, or for ``best_of_n`` the rows of every sampled strategy and PRM (and, on
    arith at N = 4, each small-LM scoring's step AUROC into `extra`, keyed by (model, method))."""
    start = time.perf_counter()
    solutions = STRATEGIES[config.name](engine, dataset, questions, config, prm=prms.get(prm_name))
    wall = time.perf_counter() - start
    if config.name != "best_of_n":
        return [_row(model, dataset, questions, config, prm_name, solutions, wall)]
    rows = [_row(model, dataset, questions, config, prm_name, solutions, wall)]
    derived = [("majority", None, solutions, 0.0)]
    for name in _scoring_prms(prms, config, small_lm_max_n):
        prm = prms[name]
        if name == prm_name:
            rescored, extra_s = solutions, 0.0
        else:
            rescored, extra_s = _rescore(prm, questions, solutions, config)
            derived.append(("best_of_n", name, rescored, extra_s))
        derived.append(("weighted_best_of_n", name, rescored, extra_s))
    if "verifier" in prms and config.n == 4:
        add_aurocs(model, questions, solutions, prms["verifier"], auroc_prms or {}, extra)
    for strategy, name, sols, extra_s in derived:
        chosen = [_pick(strategy, s) for s in sols]
        rows.append(_row(model, dataset, questions, replace(config, name=strategy), name, chosen, wall + extra_s))
    return rows


def _scoring_prms(prms: dict, config: StrategyConfig, small_lm_max_n: int) -> list[str]:
    """The PRMs whose Best-of-N rows a sampling run produces."""
    # the small-LM PRM scores every step of every sample: its cost grows with N
    return [name for name in prms if name != "small_lm" or config.n <= small_lm_max_n]


def row_keys(probe: dict, prms: dict, config: StrategyConfig, small_lm_max_n: int) -> set[tuple]:
    """The keys of the rows `run_one` makes for `probe`'s run."""
    if config.name != "best_of_n":
        return {_key(probe)}
    keys = {_key(probe), _key({**probe, "strategy": "majority", "prm": None})}
    for name in _scoring_prms(prms, config, small_lm_max_n):
        keys |= {_key({**probe, "strategy": s, "prm": name}) for s in ("best_of_n", "weighted_best_of_n")}
    return keys


def _rescore(prm, questions, solutions, config):
    """The same samples scored by another PRM; its time is added to each question's seconds."""
    start = time.perf_counter()
    scores = prm.score_batch([(q.text, [split_steps(c.text) for c in s.candidates]) for q, s in zip(questions,
                                                                                                   solutions)])
    seconds = time.perf_counter() - start
    out = []
    for s, per_q in zip(solutions, scores):
        cands = tuple(replace(c, score=aggregate(sc, config.aggregation)) for c, sc in zip(s.candidates, per_q))
        out.append(replace(s, candidates=cands, seconds=s.seconds + seconds / len(solutions)))
    return out, seconds


def _pick(strategy: str, s):
    """`s` answered by `strategy` from its candidates (the rules of the strategy modules)."""
    if strategy == "majority":
        chosen = weighted_vote(s.candidates, weighted=False) or s.candidates[0]
    elif strategy == "weighted_best_of_n":
        chosen = weighted_vote(s.candidates) or max(s.candidates, key=lambda c: c.score)
    else:
        chosen = max(s.candidates, key=lambda c: c.score)
    return replace(s, answer=chosen.answer, text=chosen.text)


def _row(model, dataset, questions, config, prm_name, solutions, wall) -> dict:
    correct = sum(dataset.is_correct(q, s.answer) for q, s in zip(questions, solutions))
    k = len(questions)
    low, high = wilson_interval(correct, k)
    return {
        "model": model, "dataset": dataset.name, "strategy": config.name, "n": config.n,
        "width": config.width if config.name in TREE_STRATEGIES else None, "prm": prm_name,
        "aggregation": config.aggregation if prm_name else None, "questions": k, "correct": correct,
        "accuracy": round(100 * correct / k, 2), "ci95": [round(low, 2), round(high, 2)],
        "generations_per_question": round(sum(s.generations for s in solutions) / k, 2),
        "tokens_per_question": round(sum(s.tokens for s in solutions) / k, 1),
        "seconds_per_question": round(sum(s.seconds for s in solutions) / k, 3),
        "wall_seconds": round(wall, 2), "load": os.getloadavg()[0],
        "shared_samples": config.name in SAMPLED,
    }


def add_aurocs(model: str, questions, solutions, verifier, auroc_prms: dict, extra: dict) -> None:
    """The step AUROC of each small-LM scoring (method → PRM) on these samples that `extra` does not have yet."""
    for method, prm in auroc_prms.items():
        if (model, method) not in extra:
            extra[(model, method)] = prm_auroc(questions, solutions, verifier, prm)


def prm_auroc(questions, solutions, verifier, small_prm) -> dict:
    """How well the small-LM PRM ranks correct above wrong arith steps of these samples (labels: the verifier).

    The small-LM scores come from its prefix cache when the samples were already rescored, so this costs little.
    """
    labels, scores = [], []
    for q, s in zip(questions, solutions):
        steps = [split_steps(c.text) for c in s.candidates]
        for truth, guess in zip(verifier.score(q.text, steps), small_prm.score(q.text, steps)):
            labels += truth
            scores += guess
    # AUROC = P(a correct step outscores a wrong one), ties counting half = Mann-Whitney U / (n+ · n-); scipy, not
    # scikit-learn, because this runs in the vLLM environment too
    from scipy.stats import mannwhitneyu

    pos = [g for g, y in zip(scores, labels) if y]
    neg = [g for g, y in zip(scores, labels) if not y]
    auroc = mannwhitneyu(pos, neg).statistic / (len(pos) * len(neg)) if pos and neg else None
    return {"steps": len(labels), "correct_steps": int(sum(labels)),
            "auroc": None if auroc is None else round(float(auroc), 3), "method": getattr(small_prm, "method", "")}


def _auroc_only(args, arith, verifier, auroc_prms: dict, extra: dict, partial: Path) -> None:
    """Draw each model's Best-of-4 arith samples (the benchmark's own settings and seed) and add missing AUROCs."""
    from recommender.confirm.engines import load_engine

    (config, _), = [(c, p) for c, p in configs([4], ["verifier"], width=args.width, max_tokens=args.max_tokens,
                                               step_tokens=args.step_tokens, max_steps=args.max_steps)
                    if c.name == "best_of_n"]
    for model in args.models.split(","):
        missing = {m: prm for m, prm in auroc_prms.items() if (model, m) not in extra}
        if not missing:
            continue
        engine = load_engine(model, backend=args.engine)
        solutions = STRATEGIES["best_of_n"](engine, arith, arith.questions, config, prm=verifier)
        engine.close()
        before = set(extra)
        add_aurocs(model, arith.questions, solutions, verifier, missing, extra)
        _save_aurocs(extra, before, partial)
        for m in missing:
            print(f"{model} step AUROC ({m}): {extra[(model, m)]['auroc']}", file=sys.stderr, flush=True)


def _save_aurocs(extra: dict, before: set, partial: Path) -> None:
    with partial.open("a") as f:
        for (model, method) in sorted(set(extra) - before):
            f.write(json.dumps({"kind": "auroc", "model": model, **extra[(model, method)], "method": method}) + "\n")


def _key(row: dict) -> tuple:
    return (row["model"], row["dataset"], row["strategy"], row["n"], row["prm"], row["questions"])


def _read_rows(partial: Path) -> list[dict]:
    """The saved rows; a line cut short by a killed run is skipped (its run is simply redone)."""
    rows = []
    for line in partial.read_text().splitlines() if partial.is_file() else []:
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            print(f"skipping an unfinished line of {partial}", file=sys.stderr)
    return rows


def finished_prefix(keys: set[tuple], by_key: dict, questions: int) -> int:
    """The largest question count below `questions` at which every row of `keys` is finished (0 if none)."""
    runs = {k[:-1] for k in keys}
    counts = {key[-1] for key in by_key if key[:-1] in runs and key[-1] < questions}
    done = [c for c in counts if all(k[:-1] + (c,) in by_key for k in keys)]
    return max(done, default=0)


def _part(row: dict, start: int) -> dict:
    return {"questions": [start, start + row["questions"]], "correct": row["correct"],
            "tokens_per_question": row["tokens_per_question"], "seconds_per_question": row["seconds_per_question"],
            "load": row["load"]}


def merge_rows(head: dict, tail: dict) -> dict:
    """One row for `head`'s questions followed by `tail`'s: counts add, per-question costs are weighted means."""
    k0, k1 = head["questions"], tail["questions"]
    k, correct = k0 + k1, head["correct"] + tail["correct"]
    low, high = wilson_interval(correct, k)

    def mean(field: str, digits: int) -> float:
        return round((head[field] * k0 + tail[field] * k1) / k, digits)

    return {**tail, "questions": k, "correct": correct, "accuracy": round(100 * correct / k, 2),
            "ci95": [round(low, 2), round(high, 2)],
            "generations_per_question": mean("generations_per_question", 2),
            "tokens_per_question": mean("tokens_per_question", 1),
            "seconds_per_question": mean("seconds_per_question", 3),
            "wall_seconds": round(head["wall_seconds"] + tail["wall_seconds"], 2),
            "parts": head.get("parts", [_part(head, 0)]) + [_part(tail, k0)]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evals.bench_strategies", description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--ns", default="1,4,16")
    parser.add_argument("--prms", default="verifier,small_lm")
    parser.add_argument("--arith-questions", type=int, default=200)
    parser.add_argument("--arith-questions-16", type=int, default=200, help="questions at N=16 (cost grows with N)")
    parser.add_argument("--gsm8k-questions", type=int, default=100)
    parser.add_argument("--gsm8k-ns", default="1,4,16", help="N for GSM8K (the small-LM PRM only)")
    parser.add_argument("--gsm8k-tree-max-n", type=int, default=4, help="largest N for tree searches on GSM8K")
    parser.add_argument("--steps", type=int, default=ARITH_DEFAULTS["steps"], help="arith events per problem")
    parser.add_argument("--digits", type=int, default=ARITH_DEFAULTS["digits"], help="arith number size")
    parser.add_argument("--ops", default=ARITH_DEFAULTS["ops"])
    parser.add_argument("--shots", type=int, default=ARITH_DEFAULTS["shots"], help="arith worked examples")
    parser.add_argument("--width", type=int, default=4, help="M for beam search / DVTS")
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--step-tokens", type=int, default=24)
    parser.add_argument("--max-steps", type=int, default=4)
    parser.add_argument("--small-lm-tree-max-n", type=int, default=4,
                        help="largest N for tree searches guided by the small-LM PRM (it scores every step)")
    parser.add_argument("--small-lm-max-n", type=int, default=4,
                        help="largest N at which sampled solutions are also rescored by the small-LM PRM")
    parser.add_argument("--engine", choices=("transformers", "vllm"), default="transformers")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")
    parser.add_argument("--quick", action="store_true", help="4 questions, N in {1, 4}, no GSM8K")
    parser.add_argument("--out", default=str(REPORTS / "bench_strategies"))
    parser.add_argument("--report-only", action="store_true", help="rewrite the report from the saved rows")
    parser.add_argument("--auroc-methods", default="yes_prob,logprob",
                        help="small-LM PRM scorings whose step AUROC is measured on the N=4 arith samples")
    parser.add_argument("--chunk", type=int, default=0,
                        help="save each run every CHUNK questions, so an interrupted long run resumes mid-way "
                             "(default: once per run)")
    parser.add_argument("--fresh", action="store_true",
                        help="run every question of a run asked for more questions than a finished one (no merge)")
    parser.add_argument("--auroc-only", action="store_true",
                        help="only draw the N=4 arith samples of each model and measure the missing AUROCs")
    args = parser.parse_args(argv)
    if args.quick:
        args.arith_questions, args.arith_questions_16, args.gsm8k_questions, args.ns = 4, 4, 0, "1,4"
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    from recommender.confirm.engines import load_engine

    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_suffix(".partial.jsonl")
    rows = _read_rows(partial)
    # AUROC records share the append-only file (two processes, one per model, may write it at once)
    extra = {(r["model"], r.get("method") or "yes_prob"): r for r in rows if r.get("kind") == "auroc"}
    # a run re-made to add rows (e.g. another PRM's) supersedes the earlier rows of its samples: the last row wins
    by_key = {_key(r): r for r in rows if r.get("kind") != "auroc"}
    if args.report_only:
        from evals._bench_strategies_report import write_report

        write_report(list(by_key.values()), extra, vars(args), out)
        return 0
    ns, prm_names = [int(x) for x in args.ns.split(",")], args.prms.split(",")
    arith = load_dataset("arith", steps=args.steps, digits=args.digits, ops=args.ops, shots=args.shots,
                         limit=args.arith_questions)
    gsm8k = load_dataset("gsm8k", limit=args.gsm8k_questions, seed=0) if args.gsm8k_questions else None
    prms = {name: load_prm(name) for name in prm_names if name != "verifier"}
    prms["verifier"] = load_prm("verifier")
    auroc_prms = {m: prms["small_lm"] if "small_lm" in prms and prms["small_lm"].method == m
                  else load_prm("small_lm", method=m) for m in args.auroc_methods.split(",") if m}
    if args.auroc_only:
        _auroc_only(args, arith, prms["verifier"], auroc_prms, extra, partial)
        from evals._bench_strategies_report import write_report

        write_report(list(by_key.values()), extra, vars(args), out)
        return 0
    plans = {"arith": [(arith, c, p) for c, p in configs(ns, prm_names, width=args.width, max_tokens=args.max_tokens,
                                                         step_tokens=args.step_tokens, max_steps=args.max_steps)]}
    if gsm8k is not None:  # for the record, with the small-LM PRM (the verifier reads only arith)
        plans["gsm8k"] = [(gsm8k, c, p) for c, p in configs([int(x) for x in args.gsm8k_ns.split(",")], ["small_lm"],
                                                            width=args.width, max_tokens=4 * args.max_tokens,
                                                            step_tokens=4 * args.step_tokens,
                                                            max_steps=2 * args.max_steps)
                          if c.name not in TREE_STRATEGIES or c.n <= args.gsm8k_tree_max_n]
    for plan in plans.values():
        # the small-LM PRM inside a tree search scores every step of every candidate: the costliest runs go last
        plan.sort(key=lambda item: item[1].name in TREE_STRATEGIES and item[2] == "small_lm")
    # every model's arith runs come before any GSM8K run (near 0% for these models: the record, not the comparison)
    for phase, model in [(p, m) for p in plans for m in args.models.split(",")]:
        plan = plans[phase]
        engine = None  # loaded on the first run this model still needs (a resumed benchmark may need none)
        for dataset, config, prm_name in plan:
            k = args.arith_questions_16 if config.n >= 16 else len(dataset.questions)
            questions = dataset.questions[:k]
            probe = {"model": model, "dataset": dataset.name, "strategy": config.name, "n": config.n,
                     "prm": prm_name, "questions": len(questions)}
            if config.name in TREE_STRATEGIES and prm_name == "small_lm" and config.n > args.small_lm_tree_max_n:
                continue
            usable = {k: v for k, v in prms.items() if dataset.name == "arith" or k != "verifier"}
            keys = row_keys(probe, usable, config, args.small_lm_max_n)
            if keys <= by_key.keys():
                continue
            head = 0 if args.fresh else finished_prefix(keys, by_key, len(questions))
            aurocs_before = set(extra)
            engine = engine or load_engine(model, backend=args.engine)
            step = args.chunk or len(questions)
            for start in range(head, len(questions), step):
                for row in run_one(engine, dataset, questions[start:start + step], config, usable, prm_name, model,
                                   extra, args.small_lm_max_n, auroc_prms if dataset.name == "arith" else None):
                    if start:  # the finished rows' questions come first: only the rest was run
                        row = merge_rows(by_key[_key({**row, "questions": start})], row)
                    by_key[_key(row)] = row
                    with partial.open("a") as f:
                        f.write(json.dumps(row) + "\n")
                    print(f"{model} {dataset.name} {row['strategy']}@{row['n']} prm={row['prm']} "
                          f"({row['questions']}/{len(questions)} q): {row['accuracy']:.1f} "
                          f"[{row['ci95'][0]:.1f}, {row['ci95'][1]:.1f}] {row['tokens_per_question']} tok/q "
                          f"{row['seconds_per_question']} s/q (load {row['load']:.1f})", file=sys.stderr, flush=True)
            _save_aurocs(extra, aurocs_before, partial)
        if engine is not None:
            engine.close()
    from evals._bench_strategies_report import write_report

    write_report(list(by_key.values()), extra, vars(args), out)
    print(f"wrote {out}.md, {out}.json, {out}.png", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
