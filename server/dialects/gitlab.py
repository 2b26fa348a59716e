"""The GitLab dialect: the MLflow API as GitLab documents it ("MLflow client compatibility").

- Addressing: served under /api/v4/projects/<id or URL-encoded path>/ml/mlflow/, each project a
  namespace of its own (see gitlab_wire).
- Auth: `Authorization: Bearer <token>`, tokens and their projects and scopes from the config
  (see gitlab_config).
- Registry: SemVer model versions, each backed by a run of the model's `[model]<name>`
  experiment; the documented caveats (see gitlab_handlers).
- Operations: those the document lists as supported; any other answers 404.
"""

from __future__ import annotations

import semver
import yaml

from server.dialects.base import Dialect
from server.dialects.gitlab_config import load_config
from server.errors import MlflowError, invalid
from server.settings import Settings

MODEL_EXPERIMENT_PREFIX = "[model]"
VERSION_TAG = "gitlab.version"
FIRST_VERSION = "1.0.0"

# The operations behind the client methods the document lists as supported (both tables),
# and the artifact reads that `models:/` URIs need. Anything else answers 404.
SUPPORTED_OPERATIONS = frozenset(
    {
        "createExperiment",
        "getExperiment",
        "getExperimentByName",
        "deleteExperiment",
        "createRun",
        "getRun",
        "updateRun",
        "deleteRun",
        "searchRuns",
        "logBatch",
        "logMetric",
        "logParam",
        "setTag",
        "createRegisteredModel",
        "getRegisteredModel",
        "updateRegisteredModel",
        "deleteRegisteredModel",
        "searchRegisteredModels",
        "createModelVersion",
        "getModelVersion",
        "updateModelVersion",
        "getLatestVersions",
        "getLatestVersionsGet",
        "getModelVersionDownloadUri",
        "listArtifactsProxy",
        "downloadArtifact",
    }
)


def parse_version(text: str) -> semver.Version:
    """A SemVer version; 400 INVALID_PARAMETER_VALUE for anything else."""
    try:
        return semver.Version.parse(text)
    except (TypeError, ValueError):
        raise invalid(
            f"Version must be semantic version formatted (https://semver.org), not {text!r}"
        ) from None


def highest_version(labels):
    """The highest of some SemVer labels (None for none)."""
    return max(labels, key=semver.Version.parse, default=None)


def next_version(existing: list[str], requested: str | None) -> str:
    """The version a new model version gets: the one its `gitlab.version` tag asks for, else
    the highest existing version with its patch part incremented, else 1.0.0."""
    if requested is not None:
        version = str(parse_version(requested))
        if version in existing:
            raise MlflowError(f"Version {version} already exists", "RESOURCE_ALREADY_EXISTS")
        return version
    latest = highest_version(existing)
    return FIRST_VERSION if latest is None else str(semver.Version.parse(latest).bump_patch())


def _operation_routes(spec_path: str) -> dict[tuple[str, str], str]:
    """(METHOD, path) -> operationId, for every operation the spec declares."""
    with open(spec_path) as f:
        spec = yaml.safe_load(f)
    routes = {}
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if isinstance(operation, dict) and "operationId" in operation:
                routes[(method.upper(), path)] = operation["operationId"]
    return routes


class GitLabDialect(Dialect):
    name = "gitlab"

    def __init__(self, settings: Settings):
        self.config = load_config(settings)
        self.routes = _operation_routes(settings.spec_path)

    def startup_lines(self, url: str) -> list[str]:
        lines = []
        for project in self.config.projects:
            lines.append(
                f"project {project.path}: export MLFLOW_TRACKING_URI="
                f"{url}/api/v4/projects/{project.id}/ml/mlflow"
            )
        return lines

    def attach(self, store, artifacts) -> None:
        super().attach(store, artifacts)
        store.labelled_versions = True

    def adapt_handlers(self, table: dict) -> dict:
        from server.dialects.gitlab_handlers import GitLabHandlers

        return GitLabHandlers(self.store, table).table()

    def wrap_asgi(self, app):
        from server.dialects.gitlab_wire import GitLabWire

        return GitLabWire(app, self)

    def operation(self, method: str, path: str) -> str | None:
        """The operationId of an MLflow API route (None when the spec has no such route)."""
        return self.routes.get((method, path))
