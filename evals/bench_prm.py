"""Small-LM PRM scoring speed: step prompts packed into token tries vs one padded row per prompt.

    python -m evals.bench_prm [--questions 40] [--ns 4,16] [--reps 2]

The `small_lm` PRM asks SmolLM2-135M-Instruct "Is the last step correct?" about every step prefix of every candidate.
Those prompts repeat the chat template, the question and the earlier steps; `SmallLMPRM` packs them into token tries
(`recommender.confirm.prms._prefix_tree`) so each shared token is computed once. The baseline is what the PRM did
before: batches of 16 prompts, left-padded, full logits. Candidates are built from ``arith`` questions (default
difficulty): the gold steps, a wrong equation, a wrong answer line, an extra sentence, in turn, so each has 1-3 steps
like the models' samples. Both paths score the same prompts; the table gives the tokens each feeds the model, the
best of `reps` timings (shared machine), the speed-up and the largest score difference. A second table gives each
small-LM scoring's step AUROC on these hand-made candidates (labels: the exact verifier), for comparison with the
AUROC on the models' own samples in `evals.bench_strategies`. Writes ``evals/reports/bench_prm.{md,json}``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

REPORTS = Path(__file__).resolve().parent / "reports"


def candidates(questions, n: int) -> list[tuple[str, list[list[str]]]]:
    """`n` candidate step lists per question: gold, a wrong equation, a wrong answer line, an extra sentence, ..."""
    from recommender.confirm.datasets import arith

    items = []
    for q in questions:
        gold = arith.gold_solution(arith.solve(q.text)).split("\n\n")
        cands = []
        for j in range(n):
            steps = list(gold)
            kind, k = j % 4, j // 4
            if kind == 1:
                steps[0] = steps[0].rsplit("=", 1)[0] + f"= {k + 1}"
            elif kind == 2:
                steps[-1] = f"The answer is {k + 2}."
            elif kind == 3:
                steps = steps[:1] + [f"So there are {k + 3} left."]
            cands.append(steps)
        items.append((q.text, cands))
    return items


def unpacked_yes_prob(prm, prompts: list[str], batch_size: int = 16) -> tuple[list[float], int]:
    """The baseline: left-padded batches of `batch_size` prompts, full-vocabulary logits."""
    import torch

    out, fed = [], 0
    for lo in range(0, len(prompts), batch_size):
        batch = prm.tokenizer(prompts[lo : lo + batch_size], return_tensors="pt", padding=True,
                              add_special_tokens=False)
        fed += batch["input_ids"].numel()
        with torch.inference_mode():
            logits = prm.model(**batch).logits[:, -1, [prm._yes, prm._no]].float()
        out += logits.softmax(-1)[:, 0].tolist()
    return out, fed


def synthetic_aurocs(items) -> list[dict]:
    """Step AUROC of each small-LM scoring on hand-made candidates, labelled by the exact verifier."""
    from recommender.confirm.prms import load_prm
    from sklearn.metrics import roc_auc_score

    verifier = load_prm("verifier")
    out = []
    for method in ("yes_prob", "logprob"):
        prm = load_prm("small_lm", method=method)
        labels, scores = [], []
        for question, cands in items:
            for truth, guess in zip(verifier.score(question, cands), prm.score(question, cands)):
                labels += truth
                scores += guess
        out.append({"method": method, "steps": len(labels), "correct_steps": int(sum(labels)),
                    "auroc": round(float(roc_auc_score(labels, scores)), 3)})
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evals.bench_prm", description=__doc__.split("\n\n")[0])
    parser.add_argument("--questions", type=int, default=40)
    parser.add_argument("--ns", default="4,16")
    parser.add_argument("--reps", type=int, default=2)
    parser.add_argument("--out", default=str(REPORTS / "bench_prm"))
    args = parser.parse_args(argv)
    from recommender.confirm.datasets import load_dataset
    from recommender.confirm.prms import load_prm
    from recommender.confirm.prms._prefix_tree import pack

    prm = load_prm("small_lm")
    questions = load_dataset("arith", limit=args.questions).questions
    rows = []
    for n in [int(x) for x in args.ns.split(",")]:
        items = candidates(questions, n)
        keys = sorted({(q, tuple(c[: k + 1])) for q, cands in items for c in cands for k in range(len(c))})
        prompts = [prm._judge_prompt(q, steps) for q, steps in keys]
        seqs = prm.tokenizer(prompts, add_special_tokens=False)["input_ids"]
        packed_tokens = sum(len(tree) for tree, _ in pack(seqs, prm.max_tree_tokens))
        timings = {"unpacked": [], "packed": []}
        for _ in range(args.reps):
            start = time.perf_counter()
            base, fed = unpacked_yes_prob(prm, prompts)
            timings["unpacked"].append(time.perf_counter() - start)
            start = time.perf_counter()
            fast = prm._yes_prob(prompts)
            timings["packed"].append(time.perf_counter() - start)
        slow_s, fast_s = min(timings["unpacked"]), min(timings["packed"])
        rows.append({"n": n, "questions": len(items), "prompts": len(prompts), "tokens_unpacked": fed,
                     "tokens_packed": packed_tokens, "seconds_unpacked": round(slow_s, 2),
                     "seconds_packed": round(fast_s, 2), "seconds_per_question_packed": round(fast_s / len(items), 3),
                     "speedup": round(slow_s / fast_s, 2),
                     "max_abs_diff": float(f"{max(abs(a - b) for a, b in zip(base, fast)):.2g}")})
        print(rows[-1], file=sys.stderr, flush=True)
    aurocs = synthetic_aurocs(candidates(questions, 4))
    load = os.getloadavg()[0]
    lines = [
        "# Small-LM PRM: packed step prompts vs one padded row per prompt",
        "",
        f"`python -m evals.bench_prm`: SmolLM2-135M-Instruct yes/no judge, {args.questions} arith questions, "
        f"best of {args.reps} runs, 1-minute load average {load:.1f} at the end (2 shared cores).",
        "",
        "| N | questions | prompts | tokens (rows) | tokens (packed) | s (rows) | s (packed) | s/question (packed) "
        "| speed-up | max abs diff |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(f"| {r['n']} | {r['questions']} | {r['prompts']} | {r['tokens_unpacked']:,} | "
                     f"{r['tokens_packed']:,} | {r['seconds_unpacked']} | {r['seconds_packed']} | "
                     f"{r['seconds_per_question_packed']} | {r['speedup']}× | {r['max_abs_diff']:g} |")
    lines += ["", "Step AUROC on the N = 4 hand-made candidates (wrong sums, wrong answers, stray sentences):", "",
              "| scoring | steps | correct steps | AUROC |", "|---|---:|---:|---:|"]
    lines += [f"| {a['method']} | {a['steps']} | {a['correct_steps']} | {a['auroc']:.3f} |" for a in aurocs]
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".md").write_text("\n".join(lines) + "\n")
    out.with_suffix(".json").write_text(json.dumps({"rows": rows, "aurocs": aurocs, "load": load}, indent=2) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
