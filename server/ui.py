"""What a browser gets at `/`: MLflow 2.7.1's own web UI when the `mlflow` wheel that carries it
is installed (`pip install 'mlflow-compat[ui]'`), else a short page about this server.

2.7.1 serves the UI's index.html at `/` and the files of its build folder
(`mlflow/server/js/build`) at `/static-files/<path>`; so does WebUi, from the installed wheel
(nothing of the UI is copied into this project). The UI's own endpoints (artifact previews, bulk
metric history, ...) are operations of the contract, tagged UI (server/handlers/ui.py).
"""

from __future__ import annotations

import html
import importlib.metadata
import importlib.util
import typing as t
from pathlib import Path

from starlette.responses import FileResponse, HTMLResponse

from server.wire import base_url

STATIC_PREFIX = "/static-files/"
UI_EXTRA_COMMAND = "pip install 'mlflow-compat[ui]'"
# As 2.7.1 (Flask's send_from_directory): the build's file names carry content hashes.
STATIC_CACHE_CONTROL = "public, max-age=2419200"


def mlflow_ui_build() -> Path | None:
    """The built web UI inside the installed `mlflow` wheel, or None (not installed, or a
    source install without a build). Found without importing mlflow."""
    try:
        spec = importlib.util.find_spec("mlflow")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    build = Path(next(iter(spec.submodule_search_locations))) / "server" / "js" / "build"
    return build if (build / "index.html").is_file() else None


def server_version() -> str:
    try:
        return importlib.metadata.version("mlflow-compat")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def info_page(title: str, blocks: t.Iterable[tuple[str, str]]) -> str:
    """A small self-contained HTML page: a title, then blocks, each ("p", html text) or
    ("code", a shell command, escaped here)."""
    body = "".join(
        f"<p>{text}</p>" if kind == "p" else f"<pre><code>{html.escape(text)}</code></pre>"
        for kind, text in blocks
    )
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title>"
        "<style>body{font-family:sans-serif;max-width:46em;margin:2em auto;padding:0 1em}"
        "pre{background:#f4f4f4;padding:.6em;overflow-x:auto}</style></head>"
        f"<body><h1>{html.escape(title)}</h1>{body}</body></html>"
    )


def _about() -> tuple[str, str]:
    return (
        "p",
        f"mlflow-compat {html.escape(server_version())}: a reference server for the MLflow "
        "2.7.1 REST API (tracking, model registry, artifact proxy). Its contract: "
        '<a href="/openapi.json">/openapi.json</a>; browse and try it in Swagger UI: '
        '<a href="/ui">/ui</a>.',
    )


def stock_page(tracking_lines: t.Iterable[str]) -> str:
    """The stock dialect's `/` when MLflow's web UI is not installed."""
    return info_page(
        "mlflow-compat",
        [
            _about(),
            ("p", "Point an MLflow client at it:"),
            *(("code", line) for line in tracking_lines),
            ("p", "MLflow's own web UI is not installed. This adds it (then restart the server):"),
            ("code", UI_EXTRA_COMMAND),
        ],
    )


def gitlab_page(tracking_lines: t.Iterable[str]) -> str:
    """The GitLab dialect's `/`: GitLab shows experiments and models in its own UI."""
    return info_page(
        "mlflow-compat: GitLab dialect",
        [
            _about(),
            (
                "p",
                "This server stands in for GitLab's MLflow API. GitLab has its own UI for "
                "experiments and models (a project's Analyze menu), not MLflow's: there is no "
                "web UI here. Point an MLflow client at a project, with a token:",
            ),
            *(("code", line) for line in tracking_lines),
            ("code", "export MLFLOW_TRACKING_TOKEN=<token>"),
        ],
    )


class WebUi:
    """`/` and, with MLflow's UI installed, `/static-files/...` in front of the API (GET and
    HEAD only; anything else, and a file the build does not have, goes on to the API)."""

    def __init__(self, app, page: t.Callable[[str], str], build: Path | None = None):
        self.app = app
        self.page = page
        self.build = build.resolve() if build else None

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope["method"] in ("GET", "HEAD"):
            response = self._response(scope)
            if response is not None:
                return await response(scope, receive, send)
        return await self.app(scope, receive, send)

    def _response(self, scope):
        path = scope["path"]
        if path == "/":
            if self.build is None:
                return HTMLResponse(self.page(base_url(scope)))
            return FileResponse(self.build / "index.html", headers={"Cache-Control": "no-cache"})
        if self.build is not None and path.startswith(STATIC_PREFIX):
            found = self._static_file(path[len(STATIC_PREFIX) :])
            if found is not None:
                return FileResponse(found, headers={"Cache-Control": STATIC_CACHE_CONTROL})
        return None

    def _static_file(self, relative: str) -> Path | None:
        if not relative or "\\" in relative or "\x00" in relative:
            return None
        try:
            full = (self.build / relative).resolve()
        except (OSError, RuntimeError):
            return None
        if not full.is_relative_to(self.build) or not full.is_file():
            return None
        return full
