"""The GitLab dialect on the wire: project addressing, tokens, and which routes exist.

Served (anything else under /api/v4/ answers GitLab's own 404, see gitlab_rules.NOT_ROUTED_BODY;
other paths MLflow's 404 ENDPOINT_NOT_FOUND):
- /health and /version, without a token;
- /api/v4/projects/<id or URL-encoded path>/ml/mlflow/api/2.0/mlflow/<operation>: the MLflow
  API, for the operations GitLab supports;
- .../ml/mlflow/api/2.0/mlflow-artifacts/artifacts[/<run id>/<path>] (GET): the files of a model
  version, which get-download-uri names `mlflow-artifacts:/<run id>`;
- /api/v4/projects/<project>/packages/generic/ml_experiment_<experiment>/<run id>/<file> (PUT,
  GET): a run's files, where its artifact URI points, as GitLab stores them (no directories);
  <experiment> is the experiment's number in the project, its id on the wire.

Each request must carry a token (`Authorization: Bearer <token>` as MLFLOW_TRACKING_TOKEN
sends it, or GitLab's PRIVATE-TOKEN header): none or an unknown one is 401, a read_api token
doing anything but GET is 403, a project the token cannot reach is 404. The request then runs in
the project (its store bound to the project), on the stock route; every 2xx answer leaves as 200.
"""

from __future__ import annotations

import posixpath
from urllib.parse import parse_qsl, quote, unquote, urlencode

from anyio import to_thread

from server.contract import Contract
from server.dialects.gitlab_config import GitLabConfig
from server.dialects.gitlab_rules import (
    ARTIFACT_CAVEAT,
    MODEL_DIRECTORY,
    NOT_ROUTED_BODY,
    NOT_ROUTED_STATUS,
    GitLabRequest,
    safe_artifact_path,
)
from server.errors import MlflowError, endpoint_not_found, invalid
from server.wire import base_url, header, send_error, send_json, with_content_type

PROJECTS_PREFIX = "/api/v4/projects/"
MLFLOW_PREFIX = "/ml/mlflow"
API_PREFIX = "/api/2.0/mlflow/"
PROXY_PATH = "/api/2.0/mlflow-artifacts/artifacts"
PACKAGES_PREFIX = "/packages/generic/"
UNAUTHENTICATED_PATHS = ("/health", "/version")
# Where the request's GitLabRequest travels to the handlers: connexion's per-request context.
CONTEXT_KEY = "gitlab_request"
API_V4 = "/api/v4/"


class NotRouted(Exception):
    """A path (or a method on it) GitLab has no route for: see gitlab_rules.NOT_ROUTED_BODY."""


def with_gitlab_request(scope: dict, request: GitLabRequest) -> dict:
    """`scope` carrying `request` in connexion's context of the request (see CONTEXT_KEY)."""
    extensions = dict(scope.get("extensions") or {})
    extensions["connexion_context"] = {
        **extensions.get("connexion_context", {}),
        CONTEXT_KEY: request,
    }
    return {**scope, "extensions": extensions}


def _bearer(scope) -> str | None:
    authorization = header(scope, b"authorization")
    if authorization:
        kind, _, token = authorization.partition(" ")
        return token.strip() if kind.lower() == "bearer" else None
    return header(scope, b"private-token")


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
    """The ASGI layer in front of the app: GitLab's addressing, tokens and routes."""

    def __init__(self, app, config: GitLabConfig, store, contract: Contract):
        self.app = app
        self.config = config
        self.store = store  # unbound: each request binds its project
        self.contract = contract  # the operations GitLab serves (the dialect's contract)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        if scope["path"] in UNAUTHENTICATED_PATHS:
            return await self.app(scope, receive, send)
        raw = (scope.get("raw_path") or scope["path"].encode()).decode("latin-1")
        try:
            if not raw.startswith(PROJECTS_PREFIX):
                if raw.startswith(API_V4):
                    raise NotRouted
                raise endpoint_not_found()
            ref, _, tail = raw[len(PROJECTS_PREFIX) :].partition("/")
            tail = unquote("/" + tail)
            inner = self._route(scope, tail)  # routing comes first: see NOT_ROUTED_BODY
            project = self._authorize(scope, unquote(ref))
            if inner is None:  # an artifact route: it needs the project's store to find the run
                store = self.store.for_project(project.id)
                inner = await to_thread.run_sync(self._artifact_route, store, scope, tail)
        except NotRouted:
            return await send_json(send, NOT_ROUTED_STATUS, NOT_ROUTED_BODY)
        except MlflowError as error:
            return await send_error(send, error)
        inner = with_gitlab_request(inner, GitLabRequest(project.id, base_url(scope)))
        await self.app(inner, receive, _ok_as_200(send))

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
        (resolved later, with the project's store); NotRouted for anything GitLab does not
        route."""
        method = scope["method"]
        if method == "HEAD":  # Grape answers HEAD wherever it answers GET
            method = "GET"
        if tail.startswith(MLFLOW_PREFIX + API_PREFIX):
            path = tail[len(MLFLOW_PREFIX) :]
            if self.contract.operation_id(method, path) is None:
                raise NotRouted
            return _with_path(scope, path)
        proxy = tail[len(MLFLOW_PREFIX) :] if tail.startswith(MLFLOW_PREFIX) else ""
        if (proxy == PROXY_PATH or proxy.startswith(PROXY_PATH + "/")) and method == "GET":
            return None
        if tail.startswith(PACKAGES_PREFIX) and method in ("GET", "PUT"):
            return None
        raise NotRouted

    # ---- artifact routes (run in a worker thread, in the project's namespace) ----------------

    def _artifact_route(self, store, scope, tail: str) -> dict:
        if tail.startswith(PACKAGES_PREFIX):
            return self._package_file(store, scope, tail[len(PACKAGES_PREFIX) :])
        rest = tail[len(MLFLOW_PREFIX + PROXY_PATH) :].lstrip("/")
        if rest:  # download: <run id>/<path>
            run_id, _, path = rest.partition("/")
            return _with_path(
                scope, f"{PROXY_PATH}/{_run_root(store, run_id)}/{safe_artifact_path(path)}"
            )
        query = parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
        path = dict(query).get("path", "")
        run_id, _, sub = path.strip("/").partition("/")
        if not run_id:
            raise invalid("GitLab lists only the files of a model version: path=<run id>[/dir]")
        inner = _run_root(store, run_id)
        if sub:
            inner = posixpath.join(inner, safe_artifact_path(sub))
        query = [(k, inner if k == "path" else v) for k, v in query]
        return _with_path(scope, PROXY_PATH, urlencode(query))

    def _package_file(self, store, scope, rest: str) -> dict:
        """PUT/GET <package>/<version>/<file>: package ml_experiment_<id>, version a run id."""
        package, _, tail = rest.partition("/")
        run_id, _, path = tail.partition("/")
        if not package.startswith("ml_experiment_") or not run_id or not path:
            raise MlflowError(f"Package file not found: {rest}", "RESOURCE_DOES_NOT_EXIST")
        root = _run_root(store, run_id, experiment_number=package[len("ml_experiment_") :])
        path = safe_artifact_path(path)
        if "/" in path and path.split("/", 1)[0] != MODEL_DIRECTORY:
            raise invalid(f"{ARTIFACT_CAVEAT} Got {path!r}.")
        inner = _with_path(scope, f"{PROXY_PATH}/{root}/{path}")
        if scope["method"] == "PUT":
            inner = with_content_type(inner, b"application/octet-stream")
        return inner


def _run_root(store, run_id: str, experiment_number: str | None = None) -> str:
    """Where a run of this project keeps its files in the artifact store."""
    try:
        info = store.get_run(run_id)["info"]
    except MlflowError as e:
        raise MlflowError(f"Run {run_id} not found", "RESOURCE_DOES_NOT_EXIST") from e
    if experiment_number is not None:
        numbers = store.experiment_numbers([info["experiment_id"]])
        if numbers.get(info["experiment_id"]) != experiment_number:
            raise MlflowError(f"Run {run_id} not found", "RESOURCE_DOES_NOT_EXIST")
    return f"{info['experiment_id']}/{info['run_id']}/artifacts"
