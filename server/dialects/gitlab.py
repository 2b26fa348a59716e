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
    MAX_MODEL_DESCRIPTION_LENGTH,
    MAX_PARAM_VALUE_LENGTH,
    MODEL_SEARCH_CAVEAT,
    SEARCH_MAX_RESULTS_DEFAULT,
    SEARCH_RUNS_CAVEAT,
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
        # registered-models/create: GitLab documents `tags` as ignored, so any list is taken.
        document["components"]["schemas"]["CreateRegisteredModelRequest"]["properties"]["tags"] = {
            "type": "array",
            "description": "Ignored: GitLab's model registry keeps no tags given at creation.",
        }
        for parameter in document["paths"][_MODEL_SEARCH_PATH]["get"]["parameters"]:
            if parameter["name"] == "max_results":
                parameter["schema"]["default"] = SEARCH_MAX_RESULTS_DEFAULT
                # Any page size is taken: a larger one is capped, a negative one answers nothing.
                parameter["schema"].pop("maximum", None)
                parameter["schema"].pop("minimum", None)
        _state_gitlab_rules(document)
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


_WRITE_ONCE = {
    "error_code": "INVALID_PARAMETER_VALUE",
    "message": "are write-once",
    "rule": "A run's params and tags are set once: a key the run has, or one sent twice, is "
    "refused (mlflow.runName excepted: it is the run's name).",
}
# GitLab's rules that no schema states, by operation (the stock ones stay).
_GITLAB_RULES = {
    "logParam": [_WRITE_ONCE],
    "setTag": [_WRITE_ONCE],
    "logBatch": [_WRITE_ONCE],
    "searchRuns": [
        {
            "error_code": "INVALID_PARAMETER_VALUE",
            "message": "^GitLab: search_runs",
            "rule": SEARCH_RUNS_CAVEAT,
        }
    ],
    "searchRegisteredModels": [
        {
            "error_code": "INVALID_PARAMETER_VALUE",
            "message": "^GitLab: search_registered_models",
            "rule": MODEL_SEARCH_CAVEAT,
        }
    ],
    "createRegisteredModel": [
        {
            "error_code": "INVALID_PARAMETER_VALUE",
            "message": "cannot be the name of an existing experiment",
            "rule": "A model cannot take an existing experiment's name (its [model]<name> "
            "experiment shares the namespace).",
        }
    ],
    "createModelVersion": [
        {
            "error_code": "INVALID_PARAMETER_VALUE",
            "message": "semantic version formatted",
            "rule": "A gitlab.version tag names a SemVer version.",
        },
        {
            "error_code": "RESOURCE_ALREADY_EXISTS",
            "message": "already exists",
            "rule": "A gitlab.version tag names a version the model does not have yet.",
        },
    ],
    "deleteExperiment": [
        {
            "error_code": "INVALID_PARAMETER_VALUE",
            "message": "belongs to model",
            "rule": "A model's [model]<name> experiment is deleted with the model only.",
        }
    ],
    "listArtifactsProxy": [
        {
            "error_code": "INVALID_PARAMETER_VALUE",
            "message": "GitLab lists only the files of a model version",
            "rule": "The artifact proxy lists a model version's files only: path=<run id>[/dir].",
        }
    ],
    "deleteRun": [
        {
            "error_code": "INVALID_PARAMETER_VALUE",
            "message": "backs a version of model",
            "rule": "A run that backs a model version cannot be deleted.",
        }
    ],
}


def _state_gitlab_rules(document: dict) -> None:
    """GitLab's limits where the schema states them, its other rules as `x-mlflow-rule`s."""
    schemas = document["components"]["schemas"]
    for name in ("LogParamRequest", "Param"):
        schemas[name]["properties"]["value"]["maxLength"] = MAX_PARAM_VALUE_LENGTH
    for name in ("CreateRegisteredModelRequest", "UpdateRegisteredModelRequest"):
        if name in schemas:
            description = schemas[name]["properties"]["description"]
            description["maxLength"] = MAX_MODEL_DESCRIPTION_LENGTH
    # Any runs/search page size is taken: a larger one is capped, a negative one answers nothing.
    schemas["SearchRunsRequest"]["properties"]["max_results"].pop("maximum", None)
    schemas["SearchRunsRequest"]["properties"]["max_results"].pop("minimum", None)
    # Stages are ignored.
    schemas["GetLatestVersionsRequest"]["properties"]["stages"]["items"].pop("pattern", None)
    # A version is a SemVer label or a number: no integer pattern. A request body's version is
    # never empty, as in the stock contract (the handler refuses one); a query's names nothing.
    for schema in schemas.values():
        _any_version_label(schema.get("properties", {}).get("version", {}))
    for item in document["paths"].values():
        for operation in item.values():
            if not isinstance(operation, dict):
                continue
            for parameter in operation.get("parameters", ()):
                if parameter.get("name") == "version":
                    parameter.get("schema", {}).pop("pattern", None)
                if parameter.get("name") == "stages":
                    parameter.get("schema", {}).get("items", {}).pop("pattern", None)
            extra = _GITLAB_RULES.get(operation.get("operationId"), ())
            if extra:
                operation["x-mlflow-rule"] = [*operation.get("x-mlflow-rule", ()), *extra]


def _any_version_label(schema: dict) -> None:
    """A request body's version, where the stock contract states its integer pattern (which
    refuses "" too): any label but an empty one."""
    if schema.pop("pattern", None) is not None:
        schema["minLength"] = 1


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
