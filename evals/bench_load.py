"""Load test of the web app: 1, 5 and 20 concurrent chats against a local server through `gradio_client`.

The app runs as its own process (``gemfinder ui`` on a free loopback port, the real queue and concurrency limit).
Each simulated user opens its own `gradio_client.Client` (its own session) and sends `--messages` requests one
after another; at each level every user starts at once. No two requests of a run are alike: they are drawn without
repetition from combinations of task, size, licence and phrasing. Before the timed levels, one request per task
warms the server (model graphs, catalog priors from the disk cache) so the levels compare steady states.

A request is an *error* when the call raises, or when its reply is the app's "something went wrong" sentence, or
when it comes back without a picks table (every generated request is a valid search). Throughput is completed
requests per second of wall time at that level; the target is 20-user throughput ≥ 1.5× single-user throughput,
with 0 errors.

The machine's cores are shared: the 1-minute load average is recorded before and after each level.

Usage:
    python -m evals.bench_load                  # prints the table, writes evals/reports/bench_load.{md,json}
    python -m evals.bench_load --levels 1,5 --messages 2 --concurrency 4
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path

REPORTS = Path(__file__).resolve().parent / "reports"
TARGET_SPEEDUP = 1.5

_TASKS = (
    "grade-school math", "math word problems", "python code", "code generation", "medical QA",
    "clinical questions", "commonsense reasoning", "logical reasoning", "world knowledge", "trivia questions",
    "following instructions", "truthful answers", "science questions", "physics and chemistry",
)
_SIZES = ("7B", "8B", "13B", "under 3B", "under 10B", "3B", "at most 14B", "fits a 24 GB GPU", "70B", "")
_LICENCES = ("", ", apache-2.0", ", commercial use", ", MIT licence", ", llama3 license")
_FORMS = ("best {size} model for {task}{lic}", "which {size} model is strongest at {task}{lic}?",
          "{size} instruct model for {task}{lic}", "recommend a {size} open model for {task}{lic}")
_WARM = ("best 7B model for grade-school math", "small model for python code", "medical QA model",
         "best model for reasoning", "knowledge model 7B", "instruction following 8B model",
         "truthful 7B model", "science questions model", "commonsense 13B model")


def requests(n: int, *, seed: int = 0, min_eligible: int = 10) -> list[str]:
    """`n` distinct, valid requests (shuffled combinations of task, size, licence and phrasing).

    Valid: the query parser reads a task and at least `min_eligible` catalog models pass its filters, so each
    request gets a picks table (a request no model satisfies would be answered by a sentence, faster, and skew
    the latencies).
    """
    from index.catalog import Catalog
    from search.filters import filter_mask
    from search.query import parse_query

    combos = [f.format(size=s, task=t, lic=lic).replace("  ", " ").replace(" ?", "?").strip()
              for f, t, s, lic in itertools.product(_FORMS, _TASKS, _SIZES, _LICENCES)]
    combos = sorted(set(combos) - set(_WARM))
    random.Random(seed).shuffle(combos)
    frame, chosen = Catalog.load().frame, []
    for text in combos:
        parsed = parse_query(text)
        if parsed.task and filter_mask(frame, parsed.constraints).sum() >= min_eligible:
            chosen.append(text)
            if len(chosen) == n:
                return chosen
    raise ValueError(f"Only {len(chosen)} distinct valid requests can be generated; asked for {n}.")


@dataclass(frozen=True)
class Level:
    """One concurrency level's figures (latencies in seconds)."""

    users: int
    requests: int
    errors: int
    wall_s: float
    throughput_rps: float
    p50_s: float
    p95_s: float
    max_s: float
    load_before: float
    load_after: float
    error_examples: tuple[str, ...] = ()


# The server ---------------------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(port: int, concurrency: int, *, timeout_s: float = 600) -> subprocess.Popen:
    """``gemfinder ui`` on 127.0.0.1:`port`, returned once it answers HTTP."""
    env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False"}
    cmd = [sys.executable, "-m", "ui.cli.main", "ui", "--port", str(port), "--concurrency", str(concurrency)]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the app exited with {proc.returncode}: {proc.stderr.read()[-2000:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as r:
                if r.status == 200:
                    return proc
        except OSError:
            time.sleep(1.0)
    proc.kill()
    raise TimeoutError(f"the app did not answer on port {port} within {timeout_s:.0f} s")


# One request ---------------------------------------------------------------------------------------------------


def ask(client, message: str) -> tuple[float, str | None]:
    """(latency in seconds, error description or None) of one chat request."""
    start = time.perf_counter()
    try:
        history, table, _ = client.predict(message, [], "", None, api_name="/chat")
    except Exception as err:  # noqa: BLE001 - a failed call is what the benchmark counts
        return time.perf_counter() - start, f"{type(err).__name__}: {str(err)[:200]}"
    elapsed = time.perf_counter() - start
    reply = history[-1]["content"][0]["text"] if history else ""
    if "Something went wrong" in reply:
        return elapsed, f"app error for {message!r}: {reply[-200:]}"
    if not isinstance(table, dict) or not table.get("data"):
        return elapsed, f"no picks table for {message!r}: {reply[-200:]}"
    return elapsed, None


def run_level(url: str, users: int, messages: list[list[str]]) -> Level:
    """All `users` start together; each sends its own messages one after another."""
    from gradio_client import Client

    clients = [Client(url, verbose=False) for _ in range(users)]
    results: list[tuple[float, str | None]] = []
    lock = threading.Lock()
    barrier = threading.Barrier(users + 1)

    def user(i: int) -> None:
        barrier.wait()
        for message in messages[i]:
            outcome = ask(clients[i], message)
            with lock:
                results.append(outcome)

    threads = [threading.Thread(target=user, args=(i,), daemon=True) for i in range(users)]
    for t in threads:
        t.start()
    load_before = os.getloadavg()[0]
    barrier.wait()
    start = time.perf_counter()
    for t in threads:
        t.join()
    wall = time.perf_counter() - start
    latencies = sorted(r[0] for r in results)
    errors = [r[1] for r in results if r[1]]
    return Level(users, len(results), len(errors), round(wall, 2), round(len(results) / wall, 3),
                 round(statistics.median(latencies), 3), round(_quantile(latencies, 0.95), 3),
                 round(latencies[-1], 3), round(load_before, 2), round(os.getloadavg()[0], 2),
                 tuple(errors[:3]))


def _quantile(values: list[float], q: float) -> float:
    """Linear-interpolated quantile of sorted values."""
    if len(values) == 1:
        return values[0]
    pos = q * (len(values) - 1)
    low = int(pos)
    high = min(low + 1, len(values) - 1)
    return values[low] + (values[high] - values[low]) * (pos - low)


# Report --------------------------------------------------------------------------------------------------------


def markdown(levels: list[Level], meta: dict) -> str:
    single = next((lv for lv in levels if lv.users == 1), None)
    lines = [
        "# Web app load test (`python -m evals.bench_load`)", "",
        f"{meta['when']} · {meta['cpus']} CPUs (shared with other work) · server concurrency "
        f"{meta['concurrency']} · {meta['messages']} requests per user, all distinct · startup {meta['startup_s']} s",
        "",
        "| users | requests | errors | wall (s) | throughput (req/s) | × single | p50 (s) | p95 (s) | max (s) "
        "| load avg before → after |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for lv in levels:
        ratio = f"{lv.throughput_rps / single.throughput_rps:.2f}" if single else "—"
        lines.append(f"| {lv.users} | {lv.requests} | {lv.errors} | {lv.wall_s} | {lv.throughput_rps:.3f} | {ratio} "
                     f"| {lv.p50_s:.2f} | {lv.p95_s:.2f} | {lv.max_s:.2f} | {lv.load_before} → {lv.load_after} |")
    lines += ["", f"Targets: 0 errors; throughput at 20 users ≥ {TARGET_SPEEDUP}× single-user throughput."]
    verdict = meta.get("verdict")
    if verdict:
        lines += ["", f"Result: {verdict}"]
    for lv in levels:
        for example in lv.error_examples:
            lines.append(f"- error at {lv.users} users: {example}")
    return "\n".join(lines) + "\n"


def verdict(levels: list[Level]) -> str:
    by_users = {lv.users: lv for lv in levels}
    errors = sum(lv.errors for lv in levels)
    parts = [f"{errors} errors"]
    if 1 in by_users and 20 in by_users:
        ratio = by_users[20].throughput_rps / by_users[1].throughput_rps
        ok = errors == 0 and ratio >= TARGET_SPEEDUP
        parts.append(f"20-user throughput {ratio:.2f}× single-user ({'meets' if ok else 'misses'} the target)")
    return "; ".join(parts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--levels", default="1,5,20", help="concurrent users per level (default 1,5,20)")
    parser.add_argument("--messages", type=int, default=5, help="requests per user per level (default 5)")
    parser.add_argument("--concurrency", type=int, default=None, help="server concurrency (default: the app's)")
    parser.add_argument("--url", default=None, help="an already running app instead of starting one")
    parser.add_argument("--out", type=Path, default=REPORTS, help="report folder (default evals/reports)")
    args = parser.parse_args(argv)
    levels_wanted = [int(x) for x in args.levels.split(",") if x.strip()]
    if not levels_wanted or min(levels_wanted) < 1 or args.messages < 1:
        parser.error("--levels must list positive user counts and --messages must be at least 1")

    from ui.app import DEFAULT_CONCURRENCY

    concurrency = args.concurrency or DEFAULT_CONCURRENCY
    pool = requests(sum(levels_wanted) * args.messages)
    proc, started = None, time.perf_counter()
    url = args.url
    if url is None:
        port = _free_port()
        proc = start_server(port, concurrency)
        url = f"http://127.0.0.1:{port}/"
    startup = round(time.perf_counter() - started, 1)
    try:
        from gradio_client import Client

        warm = Client(url, verbose=False)
        for message in _WARM:  # one per task: model graphs and priors loaded before anything is timed
            ask(warm, message)
        levels, cursor = [], 0
        for users in levels_wanted:
            messages = [pool[cursor + i * args.messages: cursor + (i + 1) * args.messages] for i in range(users)]
            cursor += users * args.messages
            level = run_level(url, users, messages)
            levels.append(level)
            print(f"{users:>3} users: {level.requests} requests, {level.errors} errors, "
                  f"{level.throughput_rps:.3f} req/s, p50 {level.p50_s:.2f} s, p95 {level.p95_s:.2f} s "
                  f"(load {level.load_before} → {level.load_after})", file=sys.stderr, flush=True)
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=30)
    meta = {"when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "cpus": os.cpu_count(),
            "concurrency": concurrency, "messages": args.messages, "startup_s": startup, "url_given": bool(args.url)}
    meta["verdict"] = verdict(levels)
    text = markdown(levels, meta)
    print(text)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "bench_load.md").write_text(text)
    (args.out / "bench_load.json").write_text(json.dumps(
        {**meta, "levels": [asdict(lv) for lv in levels]}, indent=2) + "\n")
    return 0 if all(lv.errors == 0 for lv in levels) else 1


if __name__ == "__main__":
    sys.exit(main())
