"""Hugging Face Space entry point (``app_file: app.py``): the gemfinder web app over the shipped catalog.

A Space runs ``python app.py`` after ``pip install -r requirements.txt`` and expects a server on 0.0.0.0:7860
(it sets ``GRADIO_SERVER_NAME`` / ``GRADIO_SERVER_PORT``). Run locally, this serves on 127.0.0.1:7860 like
``gemfinder ui``. Everything runs on the Space's CPU from files in this repository: no Hub downloads, no analytics.
"""

from __future__ import annotations

import os

os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
os.environ.setdefault("HF_HUB_OFFLINE", "1")

if __name__ == "__main__":
    from ui.app import DEFAULT_CONCURRENCY, launch

    launch(
        host=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"),
        port=int(os.environ.get("GRADIO_SERVER_PORT", "7860")),
        concurrency=int(os.environ.get("GEMFINDER_APP_CONCURRENCY", DEFAULT_CONCURRENCY)),
    )
