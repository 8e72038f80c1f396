"""The ``gemfinder`` command: one sub-command module per noun, wired here.

Examples:
    gemfinder ask "best 7B model for grade-school math with an apache-2.0 license"
    gemfinder ask "medical QA model under 3B" --k 5 --json
    gemfinder index stats --json
    gemfinder index build
"""

from __future__ import annotations

import argparse
import sys

from ui.cli import ask_cmd, bench_lensllm_cmd, bench_sh_cmd, finetune_cmd, index_cmd, models_cmd, recommend_cmd, ui_cmd
from ui.cli import eval_cmd
from ui.cli import evaluate_cmd
from ui.cli._errors import EXIT_FAILURE, report


class _Parser(argparse.ArgumentParser):
    """argparse that answers usage errors with the JSON error object when ``--json`` was given."""

    json_errors = False

    def error(self, message: str):  # noqa: D401 - argparse API
        if self.json_errors:
            from ui.cli._output import emit_json

            emit_json({"error": {"type": "usage", "message": f"{message} (see `gemfinder {self.prog.split()[-1]} --help`)"}})
            sys.exit(2)
        super().error(message)


def build_parser(*, json_errors: bool = False) -> argparse.ArgumentParser:
    """The argument parser; with `json_errors`, usage errors print the JSON error object."""
    parser_class = type("_CommandParser", (_Parser,), {"json_errors": json_errors})
    parser = parser_class(
        prog="gemfinder",
        description="Find the best open model for a task under your constraints, with the evidence behind it.",
        epilog=__doc__.split("Examples:", 1)[1] if __doc__ else None,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=parser_class)
    ask_cmd.register(sub)
    recommend_cmd.register(sub)
    index_cmd.register(sub)
    bench_sh_cmd.register(sub)
    bench_lensllm_cmd.register(sub)
    eval_cmd.register(sub)
    evaluate_cmd.register(sub)
    finetune_cmd.register(sub)
    models_cmd.register(sub)
    ui_cmd.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser(json_errors="--json" in argv)
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help(sys.stderr)
        return 2
    try:
        return int(args.handler(args) or 0)
    except KeyboardInterrupt:
        print("gemfinder: interrupted", file=sys.stderr)
        return 130
    except Exception as err:  # every failure becomes one line (or the JSON error object), never a traceback
        return report(err, as_json=getattr(args, "json", False))


if __name__ == "__main__":
    sys.exit(main())
