"""A real HTTP server on 127.0.0.1 that answers like the Hugging Face Hub, for testing live ingestion offline.

It serves the recorded files in ``tests/fixtures/hub/`` through the two routes `index.hub` uses, with the headers
``huggingface_hub`` 2.4 checks (read from its ``hf_api.py``, ``utils/_pagination.py`` and ``file_download.py``):

- ``GET /api/models?filter=&author=&search=&limit=&expand=&full=&cardData=&config=&cursor=``: a JSON list of model
  objects. ``expand`` keeps only the named properties (plus ``_id`` and ``id``), as the Hub does. Pages hold
  ``min(limit, page_size)`` models; when more remain, a ``Link: <...&cursor=...>; rel="next"`` header points at the
  next page, which ``huggingface_hub``'s ``paginate`` follows.
- ``HEAD`` / ``GET /<repo_id>/resolve/<revision>/<filename>``: ``README.md`` from ``readmes/<repo_id>/``, with
  ``ETag`` (the git blob sha1), ``X-Repo-Commit`` (the model's ``sha``) and ``Content-Length``; without them
  ``hf_hub_download`` refuses the file. A missing file answers 404 with ``X-Error-Code: EntryNotFound`` (an unknown
  repo: ``RepoNotFound``), so the client raises its own typed errors.

Helpers for the unreachable cases, on loopback only: `closed_port_endpoint` (nothing listens: connection refused)
and `SilentHub` (a socket that accepts connections into its backlog and never answers: the client must time out).

Use it from a test module::

    from hub_server import local_hub  # noqa: F401  (a session fixture)

    def test_something(local_hub):
        records = ingest_hub(endpoint=local_hub.endpoint)

or by hand: ``python tests/hub_server.py`` prints the endpoint to put in ``HF_ENDPOINT``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import socket
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

import pytest

FIXTURES_DIR = Path(__file__).resolve().parent / "fixtures" / "hub"

#: properties the listing returns without ``expand`` / ``full`` (the Hub's default, trimmed, model object).
_DEFAULT_KEYS = ("_id", "id", "modelId", "likes", "downloads", "tags", "pipeline_tag", "library_name", "createdAt",
                 "private")
#: extra properties ``full=true`` adds.
_FULL_KEYS = ("author", "sha", "lastModified", "gated", "disabled", "siblings")


@dataclass(frozen=True)
class LoggedRequest:
    """One request the server answered: method, path and the parsed query (each value a list)."""

    method: str
    path: str
    query: dict[str, list[str]]


def git_blob_sha1(data: bytes) -> str:
    """The git object id of a file's bytes: what the Hub sends as ``ETag`` for a regular (non-LFS) file."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


class LocalHub:
    """A threaded HTTP server on 127.0.0.1 (a free port) serving the recorded Hub fixtures.

    Args:
        fixtures_dir: folder with ``models.json`` and ``readmes/<repo_id>/README.md``.
        page_size: the most models one listing page holds (small, so that pagination is exercised).
        status: when set, every request is answered with this HTTP status and an empty JSON body (a broken Hub).
        file_status: when set, only file requests (``/resolve/``) get this status: a Hub that lists models but
            fails mid-ingestion.

    Attributes:
        endpoint (`str`): ``http://127.0.0.1:<port>``, the value for ``HF_ENDPOINT``.
        requests (`list[LoggedRequest]`): every request answered, in order (tests count pages with it).
    """

    def __init__(
        self,
        fixtures_dir: Path = FIXTURES_DIR,
        *,
        page_size: int = 4,
        status: int | None = None,
        file_status: int | None = None,
    ):
        self.models: list[dict] = json.loads((fixtures_dir / "models.json").read_text(encoding="utf-8"))
        self.readmes_dir = fixtures_dir / "readmes"
        self.page_size = page_size
        self.status = status
        self.file_status = file_status
        self.requests: list[LoggedRequest] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # Lifecycle ---------------------------------------------------------------------------------------------

    def start(self) -> LocalHub:
        """Bind a free loopback port and serve in a daemon thread."""
        hub = self

        class Handler(_HubHandler):
            server_hub = hub

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, name="local-hub", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and release the port."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> LocalHub:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def endpoint(self) -> str:
        if self._server is None:
            raise RuntimeError("LocalHub is not started; call start() or use it as a context manager.")
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    # Introspection -----------------------------------------------------------------------------------------

    def log(self, request: LoggedRequest) -> None:
        with self._lock:
            self.requests.append(request)

    def clear_log(self) -> None:
        with self._lock:
            self.requests.clear()

    def listing_requests(self) -> list[LoggedRequest]:
        """The ``/api/models`` requests answered so far."""
        with self._lock:
            return [r for r in self.requests if r.path == "/api/models"]

    def readme(self, repo_id: str) -> bytes | None:
        """The recorded README bytes of `repo_id`, or `None` when the repo has none."""
        path = self.readmes_dir / repo_id / "README.md"
        return path.read_bytes() if path.is_file() else None

    def model(self, repo_id: str) -> dict | None:
        return next((m for m in self.models if m["id"] == repo_id), None)

    # Listing -----------------------------------------------------------------------------------------------

    def list_page(self, query: dict[str, list[str]]) -> tuple[list[dict], int | None]:
        """The models of one listing page and the offset of the next page (`None` on the last page)."""
        selected = [m for m in self.models if _matches(m, query)]
        offset = _decode_cursor(query.get("cursor", [""])[0])
        limit = int(query["limit"][0]) if "limit" in query else self.page_size
        size = max(1, min(limit, self.page_size))
        page = [_project(m, query) for m in selected[offset:offset + size]]
        next_offset = offset + size if offset + size < len(selected) else None
        return page, next_offset


def _matches(model: dict, query: dict[str, list[str]]) -> bool:
    """The Hub's search semantics, restricted to what the fixtures need: every ``filter`` is a tag (or the
    pipeline tag / library), ``author`` is exact, ``search`` is a case-insensitive substring of the id."""
    tags = set(model.get("tags") or ()) | {model.get("pipeline_tag"), model.get("library_name")}
    if any(f not in tags for f in query.get("filter", [])):
        return False
    if "author" in query and model.get("author") != query["author"][0]:
        return False
    return "search" not in query or query["search"][0].lower() in model["id"].lower()


def _project(model: dict, query: dict[str, list[str]]) -> dict:
    """Keep the properties the query asked for, as the Hub trims its answer."""
    if "expand" in query:
        keys = {"_id", "id", *query["expand"]}
    else:
        keys = set(_DEFAULT_KEYS)
        if _truthy(query, "full"):
            keys |= set(_FULL_KEYS)
        if _truthy(query, "cardData"):
            keys.add("cardData")
        if _truthy(query, "config"):
            keys.add("config")
    return {k: v for k, v in model.items() if k in keys}


def _truthy(query: dict[str, list[str]], key: str) -> bool:
    return query.get(key, ["false"])[0].lower() in ("1", "true")


def _encode_cursor(offset: int) -> str:
    # Opaque like the Hub's cursors (base64 JSON), so a client cannot depend on its content.
    return base64.urlsafe_b64encode(json.dumps({"offset": offset}).encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> int:
    if not cursor:
        return 0
    padded = cursor + "=" * (-len(cursor) % 4)
    return int(json.loads(base64.urlsafe_b64decode(padded))["offset"])


class _HubHandler(BaseHTTPRequestHandler):
    """Routes one request to the listing or to a file; everything else is a JSON 404."""

    server_hub: LocalHub
    protocol_version = "HTTP/1.1"  # keep-alive, as the Hub; every answer carries Content-Length.

    def log_message(self, format: str, *args) -> None:  # the base class names it `format`
        pass  # quiet: the request log is `LocalHub.requests`

    def do_GET(self) -> None:
        self._route(head=False)

    def do_HEAD(self) -> None:
        self._route(head=True)

    def _route(self, *, head: bool) -> None:
        parts = urlsplit(self.path)
        path = unquote(parts.path)
        query = parse_qs(parts.query, keep_blank_values=True)
        hub = self.server_hub
        hub.log(LoggedRequest(self.command, path, query))
        failing = hub.file_status if "/resolve/" in path else None
        if hub.status is not None or failing is not None:
            self._send(hub.status or failing, b"{}", {"Content-Type": "application/json"}, head=head)
        elif path == "/api/models":
            self._send_listing(query, head=head)
        elif "/resolve/" in path:
            self._send_file(path, head=head)
        else:
            self._send_error(404, "RepoNotFound", f"Not found: {path}", head=head)

    def _send_listing(self, query: dict[str, list[str]], *, head: bool) -> None:
        page, next_offset = self.server_hub.list_page(query)
        headers = {"Content-Type": "application/json; charset=utf-8"}
        if next_offset is not None:
            params = [(k, v) for k, values in query.items() if k != "cursor" for v in values]
            params.append(("cursor", _encode_cursor(next_offset)))
            headers["Link"] = f'<{self.server_hub.endpoint}/api/models?{urlencode(params)}>; rel="next"'
        self._send(200, json.dumps(page).encode(), headers, head=head)

    def _send_file(self, path: str, *, head: bool) -> None:
        repo_id, _, rest = path.lstrip("/").partition("/resolve/")
        _revision, _, filename = rest.partition("/")
        model = self.server_hub.model(repo_id)
        if model is None:
            self._send_error(404, "RepoNotFound", "Repository not found", head=head)
            return
        commit = {"X-Repo-Commit": model.get("sha") or "0" * 40}
        data = self.server_hub.readme(repo_id) if filename == "README.md" else None
        if data is None:
            self._send_error(404, "EntryNotFound", f"{filename} does not exist on \"main\"", head=head, extra=commit)
            return
        headers = {
            **commit,
            "Content-Type": "text/plain; charset=utf-8",
            "ETag": f'"{git_blob_sha1(data)}"',
            "Accept-Ranges": "bytes",
        }
        self._send(200, data, headers, head=head)

    def _send_error(self, status: int, code: str, message: str, *, head: bool, extra: dict | None = None) -> None:
        body = json.dumps({"error": message}).encode()
        headers = {"Content-Type": "application/json", "X-Error-Code": code, "X-Error-Message": message}
        self._send(status, body, {**headers, **(extra or {})}, head=head)

    def _send(self, status: int, body: bytes, headers: dict[str, str], *, head: bool) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        # HEAD answers carry the length of the body a GET would return: hf_hub_download reads the size from it.
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not head:
            self.wfile.write(body)


# Unreachable Hubs (loopback only) ------------------------------------------------------------------------------


def closed_port_endpoint() -> str:
    """An ``http://127.0.0.1:<port>`` where nothing listens (the port was bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"


class SilentHub:
    """A loopback socket that listens but never accepts or answers: connections succeed, replies never come.

    The kernel completes the TCP handshake for connections waiting in the backlog, so a client gets past
    ``connect`` and then waits for a response that never arrives; only a read timeout ends the wait.
    """

    def __init__(self) -> None:
        self._sock: socket.socket | None = None

    def __enter__(self) -> SilentHub:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(64)
        return self

    def __exit__(self, *exc) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    @property
    def endpoint(self) -> str:
        assert self._sock is not None, "use SilentHub as a context manager"
        return f"http://127.0.0.1:{self._sock.getsockname()[1]}"


# Pytest fixture ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def local_hub():
    """One `LocalHub` for the whole test session (tests call `clear_log` before counting requests)."""
    with LocalHub() as hub:
        yield hub


if __name__ == "__main__":
    import argparse
    import time

    parser = argparse.ArgumentParser(description="Serve the recorded Hub fixtures on 127.0.0.1.")
    parser.add_argument("--page-size", type=int, default=4)
    args = parser.parse_args()
    with LocalHub(page_size=args.page_size) as running:
        print(f"HF_ENDPOINT={running.endpoint}", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
