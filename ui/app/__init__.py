"""The gemfinder web app (Gradio): a chat that streams the pipeline's stages into a sortable table of picks, a Gems
browser (per model tree: score vs popularity, hidden gems highlighted) and a model page.

Importing this package does not import gradio; `build_app` and `launch` do. The app binds 127.0.0.1 unless told
otherwise, sends no analytics and makes no outbound calls (fonts and assets are served locally; the embedding model
loads from its PyPI package with ``HF_HUB_OFFLINE=1``).

Example:
    >>> from ui.app import launch
    >>> launch(port=7860)            # http://127.0.0.1:7860
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from ui.app._service import AppService, ChatUpdate, parse_budget, safe_markdown

if TYPE_CHECKING:
    import gradio as gr

__all__ = ["AppService", "ChatUpdate", "DEFAULT_CONCURRENCY", "build_app", "launch", "parse_budget", "safe_markdown"]

#: chats served at once. Each request is CPU work that releases the GIL (torch, FAISS, numpy), so more than the two
#: cores keeps both busy while another request waits on I/O or the queue.
DEFAULT_CONCURRENCY = 4


def _offline_environment() -> None:
    """No analytics, no Hub calls: set before gradio or sentence-transformers are imported."""
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")


def build_app(service: AppService | None = None, *, concurrency: int = DEFAULT_CONCURRENCY) -> gr.Blocks:
    """The queued Gradio app over a warmed `AppService`.

    Args:
        service: the back end; default a new `AppService` over the shipped catalog, warmed here.
        concurrency: handlers run at once (the queue's ``default_concurrency_limit``).

    Returns:
        The `gr.Blocks`, queued, ready for ``.launch()``.

    Raises:
        ValueError: `concurrency` is below 1.
    """
    if concurrency < 1:
        raise ValueError(f"concurrency={concurrency!r} must be at least 1.")
    _offline_environment()
    from ui.app._blocks import build_blocks

    service = service or AppService().warm()
    demo = build_blocks(service)
    return demo.queue(default_concurrency_limit=concurrency, max_size=512)


def launch(host: str = "127.0.0.1", port: int = 7860, *, service: AppService | None = None,
           concurrency: int = DEFAULT_CONCURRENCY, block: bool = True, quiet: bool = False) -> gr.Blocks:
    """Build and serve the app.

    Args:
        host: interface to bind (``0.0.0.0`` exposes it to the network; the default is loopback only).
        port: TCP port.
        service: the back end (default: a new one over the shipped catalog, warmed before serving).
        concurrency: as in `build_app`.
        block: wait until interrupted (`False` returns once the server is up, for tests and scripts).
        quiet: no startup banner.

    Returns:
        The running `gr.Blocks` (call ``.close()`` to stop it when `block` is `False`).
    """
    from ui.app._blocks import CSS

    demo = build_app(service, concurrency=concurrency)
    demo.launch(server_name=host, server_port=port, share=False, ssr_mode=False, quiet=quiet, show_error=False,
                prevent_thread_lock=not block, footer_links=["api"], mcp_server=False, pwa=False,
                enable_monitoring=False, css=CSS)
    return demo
