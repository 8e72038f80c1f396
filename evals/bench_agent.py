"""How well a chat model drives gemfinder's tools, against the deterministic planner as the reference.

Runs a fixed conversation of varied requests through two `ChatSession`s — the rules planner and a LangChain chat
model (``--chat-model openai:<base_url>/<model>``, e.g. a ``vllm serve`` of SmolLM2-135M-Instruct on 127.0.0.1) —
and reports per request: whether the model's tool calls were schema-valid, whether it chose the same tool as the
rules planner, whether the turn fell back to the rules, and the planning latency. Writes
``evals/reports/bench_agent.{md,json}``.

Usage:
    python -m evals.bench_agent --chat-model openai:http://127.0.0.1:8011/v1/smollm2
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

#: (message, the tool the request calls for). Follow-ups depend on the answer before them.
CONVERSATION: tuple[tuple[str, str], ...] = (
    ("best 7B model for grade-school math with an apache-2.0 license", "search_models"),
    ("evaluate the top 3 with 50 questions", "confirm_top"),
    ("tell me about mistralai/Mistral-7B-v0.1", "explain_model"),
    ("hidden gems for mistral-7b on gsm8k", "list_gems"),
    ("compare mistralai/Mistral-7B-v0.1 and meta-llama/Llama-2-7b-hf on math", "predict_scores"),
    ("medical QA model under 3B", "search_models"),
    ("a small instruct model for python code", "search_models"),
    ("which hidden gems are there for code?", "list_gems"),
    ("explain Qwen/Qwen2.5-7B-Instruct", "explain_model"),
    ("best commercial-use model for reasoning under 14B", "search_models"),
    ("I want a llama-3 8B model for knowledge questions", "search_models"),
    ("show hidden gems of llama-2-13b on mmlu", "list_gems"),
)
REPORTS = Path(__file__).resolve().parent / "reports"


def run(chat_model: str, tool_choice: str | None = None) -> dict:
    from recommender.agent import ChatSession
    from recommender.agent.intent import plan_message
    from recommender.agent.llm import load_chat_model, plan_with_model
    from recommender.pipeline import Recommender

    rec = Recommender.load()
    rules = ChatSession(rec, chat_model=False)
    model = load_chat_model(chat_model)
    rows = []
    for message, expected in CONVERSATION:
        # Plan with the model on the same state the rules session has, then let the rules session answer (so
        # follow-ups always have the previous answer, whatever the model did).
        start = time.perf_counter()
        calls = plan_with_model(model, message, rules.history.last, rules.tools, tool_choice=tool_choice)
        seconds = time.perf_counter() - start
        reference = plan_message(message, rules.history.last).calls
        rules.send(message)
        valid = [c for c in calls if c.valid]
        rows.append({
            "message": message, "expected": expected,
            "rules_tool": reference[0].name if reference else None,
            "llm_calls": [{"name": c.name, "args": c.args, "valid": c.valid, "error": c.error} for c in calls],
            "valid": bool(valid) and len(valid) == len(calls),
            "any_valid": bool(valid),
            "right_tool": bool(valid) and valid[0].name == expected,
            "seconds": round(seconds, 2),
        })
    n = len(rows)
    summary = {
        "chat_model": chat_model, "tool_choice": tool_choice or "auto", "requests": n,
        "valid_rate": sum(r["valid"] for r in rows) / n,
        "any_valid_rate": sum(r["any_valid"] for r in rows) / n,
        "right_tool_rate": sum(r["right_tool"] for r in rows) / n,
        "rules_right_tool_rate": sum(r["rules_tool"] == r["expected"] for r in rows) / n,
        "median_plan_seconds": sorted(r["seconds"] for r in rows)[n // 2],
        "load_average": os.getloadavg()[0],
    }
    return {"summary": summary, "rows": rows}


def to_markdown(report: dict) -> str:
    s = report["summary"]
    lines = [
        f"# Tool calling by `{s['chat_model']}`, tool_choice={s['tool_choice']} ({s['requests']} requests; "
        f"load average {s['load_average']:.1f})",
        "",
        "| measure | value |", "|---|---:|",
        f"| schema-valid tool calls (all calls of the turn valid) | {s['valid_rate']:.0%} |",
        f"| turns with at least one valid call | {s['any_valid_rate']:.0%} |",
        f"| right tool (same as the request calls for) | {s['right_tool_rate']:.0%} |",
        f"| rules planner: right tool | {s['rules_right_tool_rate']:.0%} |",
        f"| median planning latency | {s['median_plan_seconds']:.2f} s |",
        "", "| request | expected | model's calls |", "|---|---|---|",
    ]
    for r in report["rows"]:
        calls = "; ".join(f"{c['name']}{'' if c['valid'] else ' ✗ ' + (c['error'] or '')[:60]}"
                          for c in r["llm_calls"])
        lines.append(f"| {r['message']} | {r['expected']} | {calls} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--chat-model", required=True, help="openai:<base_url>/<model>")
    parser.add_argument("--tool-choice", choices=("auto", "any"), default="auto",
                        help="auto: the model may answer without a call; any: a call is forced (vLLM: schema-guided)")
    parser.add_argument("--out", type=Path, default=REPORTS)
    args = parser.parse_args(argv)
    report = run(args.chat_model, None if args.tool_choice == "auto" else args.tool_choice)
    args.out.mkdir(parents=True, exist_ok=True)
    stem = f"bench_agent_{args.tool_choice}"
    (args.out / f"{stem}.json").write_text(json.dumps(report, indent=1))
    markdown = to_markdown(report)
    (args.out / f"{stem}.md").write_text(markdown)
    print(markdown)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
