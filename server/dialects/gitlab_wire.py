"""The GitLab dialect on the wire: project addressing, tokens, and which routes exist.

Served (everything else answers 404 ENDPOINT_NOT_FOUND):
- /health and /version, without a token;
- /api/v4/projects/<id or URL-encoded path>/ml/mlflow/api/2.0/mlflow/<operation>: the MLflow
  API, for the operations GitLab supports (others: 404 saying GitLab does not support them);
- .../ml/mlflow/api/2.0/mlflow-artifacts/artifacts[/<run id>/<path>] (GET): the files of a model
  version, which get-download-uri names `mlflow-artifacts:/<run id>`;
- /api/v4/projects/<project>/packages/generic/ml_experiment_<experiment>/<run id>/<file> (PUT,
  GET): a run's files, where its artifact URI points, as GitLab stores them (no directories);
  <experiment> is the experiment's number in the project, its id on the wire.

Each request must carry a token (`Authorization: Bearer <token>` as MLFLOW_TRACKING_TOKEN
sends it, or GitLab's PRIVATE-TOKEN header): none or an unknown one is 401, a read_api token
doing anything but GET is 403, a project the token cannot reach is 404. The request then runs in
the project's store namespace, on the stock route; every 2xx answer leaves as 200.
"""

from __future__ import annotations

import json
import posixpath
from contextvars import ContextVar
from dataclasses import dataclass
from urllib.parse import parse_qsl, quote, unquote, urlencode

from anyio import to_thread

from server.dialects.gitlab import SUPPORTED_OPERATIONS
from server.errors import MlflowError, endpoint_not_found, invalid
from server.store.scope import in_namespace
from server.wire import _replay, _send_error, _with_content_type

PROJECTS_PREFIX = "/api/v4/projects/"
MLFLOW_PREFIX = "/ml/mlflow"
API_PREFIX = "/api/2.0/mlflow/"
PROXY_PATH = "/api/2.0/mlflow-artifacts/artifacts"
PACKAGES_PREFIX = "/packages/generic/"
UNAUTHENTICATED_PATHS = ("/health", "/version")
ARTIFACT_CAVEAT = (
    "GitLab: `artifact_path` must be empty. Does not support directories (log_artifact, "
    "log_artifacts, log_text, log_dict)."
)
# log_model saves a model's files under its artifact_path; the document's own log_model example
# uses artifact_path="model" and says the files are saved, so that one directory is accepted.
MODEL_DIRECTORY = "model"
IGNORED_SOURCE = "ignored-by-gitlab"


@dataclass(frozen=True)
class GitLabRequest:
    project_id: int
    base_url: str


_request: ContextVar[GitLabRequest] = ContextVar("mlflow_compat_gitlab_request")


def current_request() -> GitLabRequest:
    return _request.get()


def unsupported(method: str, path: str) -> MlflowError:
    return MlflowError(
        f"GitLab does not support {method} {path}: the MLflow client method that calls it is "
        "not among the methods GitLab's MLflow client compatibility supports",
        "ENDPOINT_NOT_FOUND",
    )


def _header(scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return value.decode("latin-1")
    return None


def _bearer(scope) -> str | None:
    authorization = _header(scope, b"authorization")
    if authorization:
        kind, _, token = authorization.partition(" ")
        return token.strip() if kind.lower() == "bearer" else None
    return _header(scope, b"private-token")


def _base_url(scope) -> str:
    host = _header(scope, b"host")
    if not host:
        server = scope.get("server") or ("127.0.0.1", 80)
        host = f"{server[0]}:{server[1]}"
    return f"{scope.get('scheme', 'http')}://{host}"


def _with_path(scope, path: str, query: str | None = None) -> dict:
    out = {**scope, "path": path, "raw_path": quote(path).encode()}
    if query is not None:
        out["query_string"] = query.encode()
    return out


def _ok_as_200(send):
    """GitLab answers every success with 200 (the MLflow client treats 201 as an error)."""

    async def wrapped(message):
        if message["type"] == "http.response.start" and 200 < message["status"] < 300:
            message = {**message, "status": 200}
        await send(message)

    return wrapped


class GitLabWire:
    def __init__(self, app, dialect):
        self.app = app
        self.dialect = dialect
        self.config = dialect.config

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        if scope["path"] in UNAUTHENTICATED_PATHS:
            return await self.app(scope, receive, send)
        try:
            raw = (scope.get("raw_path") or scope["path"].encode()).decode("latin-1")
            if not raw.startswith(PROJECTS_PREFIX):
                raise endpoint_not_found()
            ref, _, tail = raw[len(PROJECTS_PREFIX) :].partition("/")
            project = self._authorize(scope, unquote(ref))
            tail = unquote("/" + tail)
            inner = self._route(scope, tail)
        except MlflowError as error:
            return await _send_error(send, error)
        request = GitLabRequest(project.id, _base_url(scope))
        token = _request.set(request)
        try:
            with in_namespace(project.id):
                if inner is None:  # an artifact route: it needs the store to resolve the run
                    try:
                        inner = await to_thread.run_sync(self._artifact_route, scope, tail)
                    except MlflowError as error:
                        return await _send_error(send, error)
                if self.dialect.operation(inner["method"], inner["path"]) == "createModelVersion":
                    receive = await _with_source(receive)
                await self.app(inner, receive, _ok_as_200(send))
        finally:
            _request.reset(token)

    def _authorize(self, scope, ref: str):
        token = self.config.token(_bearer(scope))
        if token is None:
            raise MlflowError("401 Unauthorized", "UNAUTHENTICATED")
        if token.read_only and scope["method"] not in ("GET", "HEAD"):
            raise MlflowError(
                "403 Forbidden: insufficient_scope (the token has the read_api scope, "
                "which allows only GET requests; writing needs the api scope)",
                "PERMISSION_DENIED",
            )
        project = self.config.project(ref)
        if project is None or project.id not in token.projects:
            raise MlflowError("404 Project Not Found", "RESOURCE_DOES_NOT_EXIST")
        return project

    def _route(self, scope, tail: str):
        """The scope of the stock route for an MLflow API path; None for an artifact route
        (resolved later, in the project's namespace); raises for anything not served."""
        method = scope["method"]
        if tail.startswith(MLFLOW_PREFIX + API_PREFIX):
            path = tail[len(MLFLOW_PREFIX) :]
            operation = self.dialect.operation(method, path)
            if operation is not None and operation not in SUPPORTED_OPERATIONS:
                raise unsupported(method, path)
            return _with_path(scope, path)
        proxy = tail[len(MLFLOW_PREFIX) :] if tail.startswith(MLFLOW_PREFIX) else ""
        if proxy == PROXY_PATH or proxy.startswith(PROXY_PATH + "/"):
            if method in ("GET", "HEAD"):
                return None
            template = PROXY_PATH if proxy == PROXY_PATH else PROXY_PATH + "/{artifact_path}"
            if self.dialect.operation(method, template) is not None:
                raise unsupported(method, proxy)
            # A method the spec does not declare here: the app answers 405, running no handler.
            return _with_path(scope, proxy)
        if tail.startswith(PACKAGES_PREFIX):
            if method not in ("GET", "PUT"):
                raise unsupported(method, "/packages/generic")
            return None
        raise endpoint_not_found()

    # ---- artifact routes (run in a worker thread, in the project's namespace) ----------------

    def _artifact_route(self, scope, tail: str) -> dict:
        if tail.startswith(PACKAGES_PREFIX):
            return self._package_file(scope, tail[len(PACKAGES_PREFIX) :])
        rest = tail[len(MLFLOW_PREFIX + PROXY_PATH) :].lstrip("/")
        if rest:  # download: <run id>/<path>
            run_id, _, path = rest.partition("/")
            return _with_path(scope, f"{PROXY_PATH}/{self._run_root(run_id)}/{_safe(path)}")
        query = parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
        path = dict(query).get("path", "")
        run_id, _, sub = path.strip("/").partition("/")
        if not run_id:
            raise invalid("GitLab lists only the files of a model version: path=<run id>[/dir]")
        inner = self._run_root(run_id)
        if sub:
            inner = posixpath.join(inner, _safe(sub))
        query = [(k, inner if k == "path" else v) for k, v in query]
        return _with_path(scope, PROXY_PATH, urlencode(query))

    def _package_file(self, scope, rest: str) -> dict:
        """PUT/GET <package>/<version>/<file>: package ml_experiment_<id>, version a run id."""
        package, _, tail = rest.partition("/")
        run_id, _, path = tail.partition("/")
        if not package.startswith("ml_experiment_") or not run_id or not path:
            raise MlflowError(f"Package file not found: {rest}", "RESOURCE_DOES_NOT_EXIST")
        root = self._run_root(run_id, experiment_number=package[len("ml_experiment_") :])
        path = _safe(path)
        if "/" in path and path.split("/", 1)[0] != MODEL_DIRECTORY:
            raise invalid(f"{ARTIFACT_CAVEAT} Got {path!r}.")
        inner = _with_path(scope, f"{PROXY_PATH}/{root}/{path}")
        if scope["method"] == "PUT":
            inner = _with_content_type(inner, b"application/octet-stream")
        return inner

    def _run_root(self, run_id: str, experiment_number: str | None = None) -> str:
        """Where a run of this project keeps its files in the artifact store."""
        store = self.dialect.store
        try:
            info = store.get_run(run_id)["info"]
        except MlflowError as e:
            raise MlflowError(f"Run {run_id} not found", "RESOURCE_DOES_NOT_EXIST") from e
        if experiment_number is not None:
            numbers = store.experiment_numbers([info["experiment_id"]])
            if numbers.get(info["experiment_id"]) != experiment_number:
                raise MlflowError(f"Run {run_id} not found", "RESOURCE_DOES_NOT_EXIST")
        return f"{info['experiment_id']}/{info['run_id']}/artifacts"


async def _with_source(receive):
    """model-versions/create with its `source` filled in when left out or empty: GitLab ignores
    the argument (and the seed's own example sends source=""), where MLflow requires it."""
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return _replay([message])
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            break
    raw = b"".join(chunks)
    try:
        body = json.loads(raw)
    except ValueError:
        body = None
    if isinstance(body, dict) and not body.get("source"):
        raw = json.dumps({**body, "source": IGNORED_SOURCE}).encode()
    return _replay([{"type": "http.request", "body": raw}])


def _safe(path: str) -> str:
    parts = path.split("/")
    if not path or any(p in ("", ".", "..") for p in parts) or "\\" in path or "\x00" in path:
        raise invalid(f"Invalid artifact path: {path!r}")
    return path
