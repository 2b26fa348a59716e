"""The model registry's validation rules and messages, as mlflow 2.7.1 words them
(``mlflow/utils/validation.py``, ``model_version_stages.py`` and the source checks of
``mlflow/server/handlers.py``)."""

from __future__ import annotations

import os
import pathlib
import re
import urllib.parse
import urllib.request

from server.errors import invalid

from .validation import validate_key_name, validate_length, validate_positive_max_results

STAGE_NONE, STAGE_STAGING, STAGE_PRODUCTION, STAGE_ARCHIVED = (
    "None",
    "Staging",
    "Production",
    "Archived",
)
ALL_STAGES = (STAGE_NONE, STAGE_STAGING, STAGE_PRODUCTION, STAGE_ARCHIVED)
ACTIVE_STAGES = [STAGE_STAGING, STAGE_PRODUCTION]  # a list: 2.7.1's message prints it as one
STAGE_DELETED = "Deleted_Internal"  # a deleted version, kept so that its number is not reused
_CANONICAL_STAGES = {stage.lower(): stage for stage in ALL_STAGES}

MAX_TAG_KEY_LENGTH = 250
MAX_TAG_VALUE_LENGTH = 5000
MAX_ALIAS_LENGTH = 255
SEARCH_REGISTERED_MODELS_DEFAULT = 100
SEARCH_REGISTERED_MODELS_MAX = 1000
SEARCH_MODEL_VERSIONS_DEFAULT = 200_000  # the proto's default, what a request without it gets
SEARCH_MODEL_VERSIONS_MAX = 200_000
_VERSION_RANGE = range(-(2**31), 2**31)  # the version column is a 32-bit integer

_ALIAS = re.compile(r"^[\w\-]*$")
_VERSION_ALIAS = re.compile(r"^[vV]\d+$")


def canonical_stage(stage: str) -> str:
    found = _CANONICAL_STAGES.get(str(stage).lower())
    if found is None:
        raise invalid(
            f"Invalid Model Version stage: {stage}. Value must be one of {', '.join(ALL_STAGES)}."
        )
    return found


def validate_model_name(name) -> None:
    if name is None or name == "":
        raise invalid("Registered model name cannot be empty.")


def model_version_number(version) -> int | None:
    """The integer of a version as sent ("3"); None when it is an integer no version can have."""
    try:
        number = int(version)
    except (TypeError, ValueError):
        raise invalid(f"Model version must be an integer, got '{version}'") from None
    return number if number in _VERSION_RANGE else None


def validate_alias(alias) -> None:
    if alias is None or alias == "":
        raise invalid("Registered model alias name cannot be empty.")
    if not _ALIAS.match(alias):
        raise invalid(
            f"Invalid alias name: '{alias}'. Names may only contain alphanumerics, "
            "underscores (_), and dashes (-)."
        )
    validate_length("Registered model alias name", MAX_ALIAS_LENGTH, alias)
    if alias.lower() == "latest":
        raise invalid("'latest' alias name (case insensitive) is reserved.")
    if _VERSION_ALIAS.match(alias):
        raise invalid(f"Version alias name '{alias}' is reserved.")


def validate_tag_key(key) -> None:
    validate_key_name("Tag", "tag", key)


def validate_registered_model_tag(key, value) -> None:
    validate_tag_key(key)
    validate_length("Registered model key", MAX_TAG_KEY_LENGTH, key)
    validate_length("Registered model value", MAX_TAG_VALUE_LENGTH, value)


def validate_model_version_tag(key, value) -> None:
    validate_tag_key(key)
    if value is None:
        raise invalid("Tag value cannot be None")
    validate_length("Model version key", MAX_TAG_KEY_LENGTH, key)
    validate_length("Model version value", MAX_TAG_VALUE_LENGTH, value)


def validate_registered_models_max_results(max_results) -> None:
    if max_results > SEARCH_REGISTERED_MODELS_MAX:
        raise invalid(
            "Invalid value for request parameter max_results. It must be at most "
            f"{SEARCH_REGISTERED_MODELS_MAX}, but got value {max_results}"
        )
    if max_results < 0:
        # 2.7.1 answers 200 with a page token of offset -1; a negative page size is the
        # caller's mistake (as on runs/search here).
        raise invalid(
            "Invalid value for request parameter max_results. It must be a non-negative "
            f"integer, but got value {max_results}"
        )


def validate_model_versions_max_results(max_results) -> None:
    validate_positive_max_results(max_results)
    if max_results > SEARCH_MODEL_VERSIONS_MAX:
        raise invalid(
            "Invalid value for request parameter max_results. It must be at most "
            f"{SEARCH_MODEL_VERSIONS_MAX}, but got value {max_results}"
        )


# ---- model version sources (2.7.1's handlers._validate_source) ------------------------------


def is_local_uri(uri: str) -> bool:
    parsed = urllib.parse.urlparse(uri)
    host = parsed.hostname
    if host and not (host == "." or host.startswith(("localhost", "127.0.0.1"))):
        return False
    return parsed.scheme in ("", "file")


def local_uri_to_path(uri: str) -> str:
    path = urllib.parse.urlparse(uri).path if uri.startswith("file:") else uri
    return urllib.request.url2pathname(path)


def validate_source(source: str, run_artifact_uri) -> None:
    """Reject a source that reaches into the server's disk. ``run_artifact_uri`` is a callable
    giving the artifact URI of the request's run (raising if there is none such), or None
    when the request names no run."""
    if is_local_uri(source):
        if run_artifact_uri is not None:
            artifact_uri = run_artifact_uri()
            resolved = pathlib.Path(local_uri_to_path(source)).resolve()
            run_dir = pathlib.Path(local_uri_to_path(artifact_uri)).resolve()
            if run_dir in (resolved, *resolved.parents):
                return
            source = str(resolved)
        raise invalid(
            f"Invalid model version source: '{source}'. To use a local path as a model version "
            "source, the run_id request parameter has to be specified and the local path has to "
            "be contained within the artifact directory of the run specified by the run_id."
        )
    if urllib.parse.urlparse(source).scheme == "file":
        raise invalid(
            f"Invalid model version source: '{source}'. MLflow tracking server doesn't allow "
            "using a file URI as a model version source for security reasons. To disable this "
            "check, set the MLFLOW_ALLOW_FILE_URI_AS_MODEL_VERSION_SOURCE environment variable "
            "to True."
        )
    _validate_no_relative_paths(source)


def _validate_no_relative_paths(source: str) -> None:
    message = (
        f"Invalid model version source: '{source}'. If supplying a source as an http, https, "
        "local file path, ftp, objectstore, or mlflow-artifacts uri, an absolute path must be "
        "provided without relative path references present. Please provide an absolute path."
    )
    while (unquoted := urllib.parse.unquote_plus(source)) != source:
        source = unquoted
    path = re.sub(r"/+", "/", urllib.parse.urlparse(source).path.rstrip("/"))
    if "\x00" in path:
        raise invalid(message)
    resolved = pathlib.Path(path).resolve().as_posix()
    if os.path.splitdrive(resolved)[1] != path:
        raise invalid(message)
