"""``gemfinder index``: build the catalog and its vectors; report what the catalog holds.

Examples:
    gemfinder index stats
    gemfinder index build                      # rebuild catalog + vectors from the shipped raw inputs
    gemfinder index build --vectors-only       # re-embed the current catalog (e.g. after changing the model)
    gemfinder index build --kind hnsw          # approximate index for very large catalogs
    HF_ENDPOINT=https://huggingface.co gemfinder index build --source hub --max-models 2000 --out-dir ~/gemfinder-hub
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from index import constants
from index.errors import UsageError
from index.store import INDEX_KINDS
from ui.cli._output import console, emit_json, info

SOURCES = ("shipped", "hub")


def register(sub) -> None:
    p = sub.add_parser("index", help="build or inspect the model catalog", description=__doc__,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    actions = p.add_subparsers(dest="action", metavar="ACTION")

    b = actions.add_parser("build", help="build the catalog and its vectors", description=__doc__,
                           formatter_class=argparse.RawDescriptionHelpFormatter)
    b.add_argument("--source", choices=SOURCES, default="shipped",
                   help="'shipped': the raw inputs in index/data/raw (default); 'hub': live Hugging Face Hub")
    b.add_argument("--raw-dir", type=Path, default=None, help="folder of raw inputs (default: the shipped ones)")
    b.add_argument("--out-dir", type=Path, default=None,
                   help="where catalog.parquet and vectors.npz go (default: $GEMFINDER_DATA_DIR or the shipped "
                        "data folder; for --source hub: ./gemfinder-hub)")
    b.add_argument("--vectors-only", action="store_true", help="keep the catalog, rebuild only the vectors")
    b.add_argument("--kind", choices=INDEX_KINDS, default="flat", help="FAISS index kind (default: flat = exact)")
    b.add_argument("--embedding-model", default=None, help="sentence-transformers model name or local folder")
    b.add_argument("--filter", default="text-generation", help="Hub filter for --source hub (default: text-generation)")
    b.add_argument("--max-models", type=int, default=1000, help="how many Hub models to ingest (default 1000)")
    b.add_argument("--json", action="store_true", help="print a JSON summary instead of text")
    b.set_defaults(handler=run_build)

    s = actions.add_parser("stats", help="what the catalog holds")
    s.add_argument("--data-dir", type=Path, default=None, help="folder holding catalog.parquet")
    s.add_argument("--json", action="store_true", help="print one JSON object")
    s.set_defaults(handler=run_stats)
    p.set_defaults(handler=lambda args: (p.print_help(), 2)[1])


def run_stats(args: argparse.Namespace) -> int:
    from index.catalog import Catalog

    data_dir = args.data_dir or constants.DATA_DIR
    stats = Catalog.load(Path(data_dir) / constants.CATALOG_FILENAME).stats()
    if args.json:
        emit_json(stats)
        return 0
    from rich.table import Table

    table = Table(title=f"catalog: {stats['records']:,} records, {stats['with_card_text']:,} with real card text, "
                        f"scores as of {stats['scores_as_of']}", title_justify="left")
    table.add_column("benchmark")
    table.add_column("models with a score", justify="right")
    for bench, n in stats["coverage"].items():
        table.add_row(bench, f"{n:,}")
    console().print(table)
    return 0


def run_build(args: argparse.Namespace) -> int:
    from index.catalog import Catalog, write_catalog
    from index.embed import Embedder
    from index.vectors import build_vector_store, load_previous

    if args.source == "hub" and (args.vectors_only or args.raw_dir):
        raise UsageError("--source hub cannot be combined with --vectors-only or --raw-dir; drop one of them.")
    default_out = Path("gemfinder-hub") if args.source == "hub" else constants.DATA_DIR
    out_dir = Path(args.out_dir or default_out)
    started = time.perf_counter()
    if args.vectors_only:
        catalog = Catalog.load(out_dir / constants.CATALOG_FILENAME)
    elif args.source == "hub":
        from index.hub import ingest_hub

        records = ingest_hub(filter=args.filter, max_models=args.max_models, progress=not args.json)
        write_catalog(records, out_dir / constants.CATALOG_FILENAME)
        catalog = Catalog.load(out_dir / constants.CATALOG_FILENAME)
    else:
        from index.builder import build_catalog

        catalog = build_catalog(raw_dir=args.raw_dir or constants.RAW_DIR,
                                out=out_dir / constants.CATALOG_FILENAME, progress=not args.json)
    info(f"catalog: {len(catalog):,} records → {out_dir / constants.CATALOG_FILENAME}; embedding cards …")
    embedder = Embedder(args.embedding_model)
    vectors_path = out_dir / constants.VECTORS_FILENAME
    build_vector_store(catalog, embedder=embedder, kind=args.kind, out=vectors_path, progress=not args.json,
                       previous=load_previous(vectors_path))
    summary = {"catalog": str(out_dir / constants.CATALOG_FILENAME), "vectors": str(out_dir / constants.VECTORS_FILENAME),
               "records": len(catalog), "kind": args.kind, "embedding_model": embedder.model,
               "seconds": round(time.perf_counter() - started, 1)}
    if args.json:
        emit_json(summary)
    else:
        info(f"done in {summary['seconds']} s: {summary['records']:,} records, {args.kind} index → {summary['vectors']}")
        if args.source == "hub":
            info(f"use it with: GEMFINDER_DATA_DIR={out_dir} gemfinder ask \"...\"")
    return 0
