"""``python -m evals.recommend``: the shipped query set through `gemfinder eval` (report under evals/reports/)."""

from __future__ import annotations

import sys

from ui.cli.main import main

if __name__ == "__main__":
    args = sys.argv[1:]
    if "--queries" not in args:
        args = ["--queries", "evals/queries/recommend.jsonl", *args]
    sys.exit(main(["eval", *args]))
