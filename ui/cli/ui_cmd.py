"""``gemfinder ui``: serve the web app (chat, Gems browser, model pages) on this machine.

Examples:
    gemfinder ui                          # http://127.0.0.1:7860, loopback only
    gemfinder ui --port 8080
    gemfinder ui --host 0.0.0.0           # reachable from the network (think before you do this)
"""

from __future__ import annotations

import argparse

from ui.cli._options import int_between
from ui.cli._output import info


def register(sub) -> None:
    p = sub.add_parser(
        "ui", help="serve the web app (chat, Gems browser, model pages)", description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=int_between(1, 65535), default=7860, help="TCP port (default 7860)")
    p.add_argument("--concurrency", type=int_between(1, 64), default=None,
                   help="chats served at once (default 4; both cores stay busy)")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    import socket

    from index.errors import UsageError
    from ui.app import DEFAULT_CONCURRENCY, launch

    # Refuse a taken port in a sentence before the ~10 s of loading (gradio would otherwise try neighbours).
    with socket.socket(socket.AF_INET6 if ":" in args.host else socket.AF_INET) as probe:
        try:
            probe.bind((args.host, args.port))
        except OSError as err:
            message = f"Cannot listen on {args.host}:{args.port} ({err.strerror}); pick another --port."
            raise UsageError(message) from None
    info(f"gemfinder: loading the catalog and models, then serving on http://{args.host}:{args.port} (Ctrl-C stops)")
    launch(args.host, args.port, concurrency=args.concurrency or DEFAULT_CONCURRENCY)
    return 0
