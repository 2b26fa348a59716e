"""GitLab's rules and constants, as GitLab's page "MLflow client compatibility" documents them.

A leaf module: it imports nothing of the GitLab dialect, so that the dialect's other modules
(gitlab.py, gitlab_handlers.py, gitlab_wire.py) import it and never each other in a circle.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import semver

from server.errors import MlflowError, invalid
from server.store.validation import RUN_NAME_TAG

# The operations behind the client methods the page lists as supported (both tables), and the
# artifact reads that `models:/` URIs need: all a client may call under a project's MLflow
# prefix. Any other MLflow operation answers 404.
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
# Served without a token, at the host's root.
OPEN_OPERATIONS = frozenset({"health", "version"})
# What a client sees: the contract of the dialect (spec/mlflow-2.7.1-gitlab.yaml).
PUBLIC_OPERATIONS = SUPPORTED_OPERATIONS | OPEN_OPERATIONS
# Reached only behind GitLab's own routes: a run's files are uploaded to its generic package,
# which the wire layer hands to the artifact proxy's upload.
PACKAGE_OPERATIONS = frozenset({"uploadArtifact", "downloadArtifact"})
# What the app serves behind the wire layer.
SERVED_OPERATIONS = PUBLIC_OPERATIONS | PACKAGE_OPERATIONS

# ---- registry -----------------------------------------------------------------------------
MODEL_EXPERIMENT_PREFIX = "[model]"
VERSION_TAG = "gitlab.version"
FIRST_VERSION = "1.0.0"
VERSION_STAGE = "development"

# ---- limits -------------------------------------------------------------------------------
MAX_PARAM_VALUE_LENGTH = 250
MAX_MODEL_DESCRIPTION_LENGTH = 10000
SEARCH_MAX_RESULTS_DEFAULT = 200
SEARCH_MAX_RESULTS_CAP = 1000

# ---- caveats, quoted in the errors that enforce them -----------------------------------------
SEARCH_RUNS_CAVEAT = (
    "GitLab: search_runs `experiment_ids` supports only a single experiment ID with order by "
    "column or metric."
)
MODEL_SEARCH_CAVEAT = (
    "GitLab: search_registered_models supports only the filter name='<text>', which selects "
    "the models whose name contains <text>."
)
ARTIFACT_CAVEAT = (
    "GitLab: `artifact_path` must be empty. Does not support directories (log_artifact, "
    "log_artifacts, log_text, log_dict)."
)
# log_model saves a model's files under its artifact_path; the page's own log_model example
# uses artifact_path="model" and says the files are saved, so that one directory is accepted.
MODEL_DIRECTORY = "model"

_ORDER_BY_PARAM_OR_TAG = re.compile(r"^\s*[`\"]?(params?|parameters?|tags?)[`\"]?\.", re.I)
_NAME_FILTER = re.compile(r"^name='([^']*)'$")


@dataclass(frozen=True)
class GitLabRequest:
    """What a request to a project carries beyond its MLflow arguments."""

    project_id: int
    base_url: str  # scheme://host of the request, where GitLab's package URLs point


# What GitLab answers for a path or method it does not route, under /api/v4/ (so under a
# project's MLflow prefix too): its Grape API ends with the catch-all
#     route :any, '*path', feature_category: :not_owned do
#       error!('404 Not Found', 404)
#     end
# (gitlabhq lib/api/api.rb), and Grape's `error!` with a string message answers JSON
# {"error": <message>}. The MLflow API (lib/api/ml/mlflow/entrypoint.rb) declares no catch-all
# of its own, and its routes authenticate in a `before` block that the catch-all does not run,
# so the answer comes without a token check. A route's path with another method reaches the
# catch-all too (Grape matches `route :any` before answering 405). The MLflow client reads that
# body as an error without an error_code (INTERNAL_ERROR), not as ENDPOINT_NOT_FOUND.
NOT_ROUTED_STATUS = 404
NOT_ROUTED_BODY = {"error": "404 Not Found"}


# ---- versions -----------------------------------------------------------------------------


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


def model_of(experiment_name: str) -> str | None:
    """The registered model whose `[model]<name>` experiment this is, if it is one."""
    if experiment_name.startswith(MODEL_EXPERIMENT_PREFIX):
        return experiment_name[len(MODEL_EXPERIMENT_PREFIX) :]
    return None


# ---- request rules ------------------------------------------------------------------------


def page_size(sent: int | None) -> int:
    """GitLab's page size: 200 when not asked, never more than 1000 (a larger one is capped)."""
    if sent is None:
        return SEARCH_MAX_RESULTS_DEFAULT
    return min(sent, SEARCH_MAX_RESULTS_CAP)


def check_search_runs(experiment_ids: list, order_by) -> None:
    if len(experiment_ids) != 1:
        raise invalid(f"{SEARCH_RUNS_CAVEAT} Got {len(experiment_ids)} experiment IDs.")
    for clause in order_by or ():
        if _ORDER_BY_PARAM_OR_TAG.match(clause):
            raise invalid(f"{SEARCH_RUNS_CAVEAT} Cannot order by {clause!r}.")


def model_name_filter(filter_string: str | None) -> str | None:
    """The text a model search's name must contain (None: every model)."""
    if not filter_string:
        return None
    match = _NAME_FILTER.match(filter_string.strip())
    if match is None:
        raise invalid(f"{MODEL_SEARCH_CAVEAT} Got filter {filter_string!r}.")
    return match.group(1)


def check_param_value(key, value) -> None:
    value = "" if value is None else str(value)
    if len(value) > MAX_PARAM_VALUE_LENGTH:
        raise invalid(
            f"Param value '{value[:250]}' of param '{key}' had length {len(value)}, which exceeded "
            f"GitLab's length limit of {MAX_PARAM_VALUE_LENGTH} (MLflow allows 500)"
        )


def check_description(description) -> None:
    if description is not None and len(description) > MAX_MODEL_DESCRIPTION_LENGTH:
        raise invalid(
            f"Model description had length {len(description)}, which exceeded GitLab's length "
            f"limit of {MAX_MODEL_DESCRIPTION_LENGTH}"
        )


def check_write_once(run_id, kind: str, keys, existing: set[str]) -> None:
    """Params and tags are write-once in GitLab: a key the run has, or one sent twice, is 400.
    `mlflow.runName` is no tag in GitLab but the run's name, a column: it may be set again."""
    seen = set()
    for key in keys:
        if kind == "tag" and key == RUN_NAME_TAG:
            continue
        if key in existing:
            raise invalid(
                f"GitLab: {kind}s are write-once: {kind} '{key}' was already logged for run "
                f"ID='{run_id}' and cannot be set again"
            )
        if key in seen:
            raise invalid(
                f"GitLab: {kind}s are write-once: {kind} '{key}' appears more than once in the "
                "batch"
            )
        seen.add(key)


def safe_artifact_path(path: str) -> str:
    """A relative file path with no empty, '.' or '..' segment; 400 otherwise."""
    parts = path.split("/")
    if not path or any(p in ("", ".", "..") for p in parts) or "\\" in path or "\x00" in path:
        raise invalid(f"Invalid artifact path: {path!r}")
    return path
