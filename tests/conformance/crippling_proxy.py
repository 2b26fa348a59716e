"""A loopback proxy that cripples a server on purpose, to prove the suite can say No.

It forwards every request to an upstream MLflow server, except that it can:
- answer the model registry's routes with a 404 whose body is not an MLflow error
  (`block_registry`; GitLab answers unsupported routes so), and
- rewrite every run's `mlflow-artifacts:` artifact_uri into a bare relative path
  (`local_artifacts`), as a server would whose artifacts only work on a shared disk;
and it can require HTTP basic auth (`basic_auth`), answering 401 without it.
"""

from __future__ import annotations

import base64
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests

REGISTRY_PATHS = ("/api/2.0/mlflow/registered-models/", "/api/2.0/mlflow/model-versions/")


def _localise(node):
    """Every artifact_uri `mlflow-artifacts:/<exp>/<run>/artifacts` -> `mlruns/<exp>/<run>/...`."""
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == "artifact_uri" and isinstance(value, str):
                value = value.replace("mlflow-artifacts:/", "mlruns/", 1)
            out[key] = _localise(value)
        return out
    if isinstance(node, list):
        return [_localise(v) for v in node]
    return node


class CripplingProxy:
    def __init__(
        self,
        upstream: str,
        block_registry: bool,
        local_artifacts: bool,
        basic_auth: tuple[str, str] | None = None,
    ) -> None:
        self.upstream = upstream.rstrip("/")
        self.block_registry = block_registry
        self.local_artifacts = local_artifacts
        self.authorization = None
        if basic_auth:
            self.authorization = "Basic " + base64.b64encode(":".join(basic_auth).encode()).decode()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> CripplingProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _handler(self):
        proxy = self
        session = requests.Session()

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def _forward(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                if proxy.authorization and self.headers.get("Authorization") != proxy.authorization:
                    error = {"error_code": "UNAUTHENTICATED", "message": "Credentials required"}
                    self._answer(401, "application/json", json.dumps(error).encode())
                    return
                if proxy.block_registry and self.path.startswith(REGISTRY_PATHS):
                    self._answer(404, "application/json", b'{"error":"404 Not Found"}')
                    return
                headers = {
                    k: v
                    for k, v in self.headers.items()
                    if k.lower() not in ("host", "content-length", "connection")
                }
                r = session.request(
                    self.command, proxy.upstream + self.path, data=body, headers=headers
                )
                content = r.content
                content_type = r.headers.get("Content-Type", "application/octet-stream")
                if proxy.local_artifacts and "json" in content_type and b"artifact_uri" in content:
                    content = json.dumps(_localise(json.loads(content))).encode()
                self._answer(r.status_code, content_type, content)

            def _answer(self, status: int, content_type: str, content: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _forward

        return Handler
