"""The GitLab dialect: the MLflow API as GitLab documents it ("MLflow client compatibility").

- Contract: only the operations the page lists as supported (gitlab_rules), `source` optional
  on model-version creation (GitLab ignores it), GitLab's page size for model searches.
- Addressing and auth: served under /api/v4/projects/<id or URL-encoded path>/ml/mlflow/ with a
  token; each project a namespace of its own (gitlab_wire, gitlab_config).
- Handlers: SemVer model versions, each backed by a run of the model's `[model]<name>`
  experiment, write-once params and tags, the documented caveats (gitlab_handlers).

Each request's handlers work on the store bound to the request's project: the wire layer puts
the project in the request's context, and the table built here picks that project's handlers.
"""

from __future__ import annotations

import functools
import inspect
import threading
import typing as t

from connexion.context import context

from server.contract import Contract, without_operations
from server.dialects.gitlab_config import load_config
from server.dialects.gitlab_handlers import OVERRIDDEN, GitLabHandlers
from server.dialects.gitlab_rules import (
    SEARCH_MAX_RESULTS_DEFAULT,
    SERVED_OPERATIONS,
    GitLabRequest,
)
from server.dialects.gitlab_wire import CONTEXT_KEY, GitLabWire
from server.dialects.mlflow import MlflowDialect
from server.handlers import handler_table, public_methods
from server.settings import Settings
from server.ui import WebUi, gitlab_page

_MODEL_SEARCH_PATH = "/api/2.0/mlflow/registered-models/search"


class GitLabDialect(MlflowDialect):
    name = "gitlab"
    store_options: t.ClassVar[dict] = {"version_labels": True}

    def __init__(self, settings: Settings):
        self.config = load_config(settings)

    def startup_lines(self, url: str) -> list[str]:
        return [
            f"project {project.path}: export MLFLOW_TRACKING_URI="
            f"{url}/api/v4/projects/{project.id}/ml/mlflow"
            for project in self.config.projects
        ]

    @staticmethod
    def adapt_spec(document: dict) -> dict:
        without_operations(document, SERVED_OPERATIONS.__contains__)
        # model-versions/create: GitLab ignores `source` (the page's own example sends "").
        request = document["components"]["schemas"]["CreateModelVersionRequest"]
        required = [f for f in request.get("required", ()) if f != "source"]
        if required:
            request["required"] = required
        else:
            request.pop("required", None)
        for parameter in document["paths"][_MODEL_SEARCH_PATH]["get"]["parameters"]:
            if parameter["name"] == "max_results":
                parameter["schema"]["default"] = SEARCH_MAX_RESULTS_DEFAULT
        return document

    def handlers(self, store, artifacts) -> dict[str, t.Callable]:
        """Handlers that run the request's project's handler (stock tables cached per project)."""
        stock_tables: dict[int, tuple] = {}
        lock = threading.Lock()

        def handler_of(name: str) -> t.Callable:
            request: GitLabRequest = context[CONTEXT_KEY]
            with lock:
                found = stock_tables.get(request.project_id)
                if found is None:
                    bound = store.for_project(request.project_id)
                    found = stock_tables[request.project_id] = (
                        bound,
                        handler_table(bound, artifacts),
                    )
            bound, stock = found
            if name in OVERRIDDEN:
                return getattr(GitLabHandlers(bound, stock, request), name)
            return stock[name]

        # Signatures come from a table built on the unbound store (connexion reads them).
        stock = handler_table(store, artifacts)
        shapes = {**stock, **public_methods(GitLabHandlers(store, stock, GitLabRequest(0, "")))}
        return {name: _dispatch(name, shape, handler_of) for name, shape in shapes.items()}

    def home_page(self, url: str) -> str:
        return gitlab_page(
            f"export MLFLOW_TRACKING_URI={url}/api/v4/projects/{project.id}/ml/mlflow"
            f"  # {project.path}"
            for project in self.config.projects
        )

    def wrap_asgi(self, app, store, contract: Contract):
        # No MLflow UI: GitLab shows experiments and models in its own.
        return WebUi(GitLabWire(app, self.config, store, contract), self.home_page)


def _dispatch(name: str, shape: t.Callable, handler_of) -> t.Callable:
    """A handler with `shape`'s signature that runs `name` for the request's project;
    /health and /version, served without a project, run as they are."""
    if name in ("health", "version"):
        return shape
    if inspect.iscoroutinefunction(shape):

        @functools.wraps(shape)
        async def dispatch_async(*args, **kwargs):
            return await handler_of(name)(*args, **kwargs)

        return dispatch_async

    @functools.wraps(shape)
    def dispatch(*args, **kwargs):
        return handler_of(name)(*args, **kwargs)

    return dispatch
