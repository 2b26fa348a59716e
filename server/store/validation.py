"""Every limit and validation message of the tracking store, in one place.

Limits and message texts follow mlflow 2.7.1 (``mlflow/utils/validation.py`` and the checks in
``mlflow/store/tracking/sqlalchemy_store.py``) so that clients see the same errors.
"""

from __future__ import annotations

import functools
import math
import numbers
import posixpath
import re

from server.errors import MlflowError, invalid

# The tag in which MLflow keeps a run's name (2.7.1 also stores it in the run's name column).
RUN_NAME_TAG = "mlflow.runName"
_VALID_KEY_NAME = re.compile(r"^[/\w.\- ]*$")
RUN_ID_PATTERN = re.compile(r"^[a-zA-Z0-9][\w\-]{0,255}$")

MAX_PARAMS_TAGS_PER_BATCH = 100
MAX_METRICS_PER_BATCH = 1000
MAX_ENTITIES_PER_BATCH = 1000
MAX_PARAM_VAL_LENGTH = 500
MAX_TAG_VAL_LENGTH = 5000
MAX_EXPERIMENT_TAG_KEY_LENGTH = 250
MAX_EXPERIMENT_TAG_VAL_LENGTH = 5000
MAX_ENTITY_KEY_LENGTH = 250
MAX_DATASET_NAME_SIZE = 500
MAX_DATASET_DIGEST_SIZE = 36
MAX_DATASET_SCHEMA_SIZE = 65535
MAX_DATASET_SOURCE_SIZE = 65535
MAX_DATASET_PROFILE_SIZE = 16777215
MAX_INPUT_TAG_KEY_SIZE = 255
MAX_INPUT_TAG_VALUE_SIZE = 500
SEARCH_MAX_RESULTS_THRESHOLD = 50000
# A search runs as one SQL query holding every filter clause and order_by key. SQLite's parser
# overflows its stack near 80 filter clauses, and SQLite 3.40 crashes the process on a query
# joining 32 tables (31 order_by keys of runs/search); 2.7.1's SQL store builds the same joins.
MAX_FILTER_CLAUSES = 50
MAX_ORDER_BY_KEYS = 20
# Column widths a PostgreSQL store enforces (2.7.1's schema) that no 2.7.1 check states; they are
# enforced on every backend alike, so SQLite and PostgreSQL answer the same.
MAX_USER_ID_LENGTH = 256
MAX_DATASET_SOURCE_TYPE_SIZE = 36
SEARCH_MAX_RESULTS_DEFAULT = 1000
# MLflow stores +/-inf as the largest finite doubles and returns them as such.
MAX_DOUBLE = 1.7976931348623157e308

_BAD_CHARACTERS_MESSAGE = (
    "Names may only contain alphanumerics, underscores (_), dashes (-), periods (.),"
    " spaces ( ), and slashes (/)."
)
_MISSING_KEY_NAME_MESSAGE = "A key name must be provided."


def _bad_path_message(name: str) -> str:
    return (
        "Names may be treated as files in certain cases, and must not resolve to other names"
        f" when treated as such. This name would resolve to '{posixpath.normpath(name)}'"
    )


def _path_not_unique(name: str) -> bool:
    norm = posixpath.normpath(name)
    return norm != name or norm == "." or norm.startswith("..") or norm.startswith("/")


@functools.lru_cache(maxsize=8192)
def _key_name_problem(what: str, name: str) -> str | None:
    # Cached: the same few metric keys arrive in every batch of a training loop.
    if not _VALID_KEY_NAME.match(name):
        return f"Invalid {what} name: '{name}'. {_BAD_CHARACTERS_MESSAGE}"
    if _path_not_unique(name):
        return f"Invalid {what} name: '{name}'. {_bad_path_message(name)}"
    return None


def validate_key_name(kind: str, what: str, name) -> None:
    """kind: 'Metric'/'Parameter'/'Tag' (None message); what: 'metric'/'parameter'/'tag'."""
    if name is None:
        raise invalid(f"{kind} name cannot be None. {_MISSING_KEY_NAME_MESSAGE}")
    if not isinstance(name, str):
        raise invalid(f"Invalid {what} name: '{name}'. {_BAD_CHARACTERS_MESSAGE}")
    problem = _key_name_problem(what, name)
    if problem:
        raise invalid(problem)


def validate_length(entity_name: str, limit: int, value) -> None:
    if value is not None and len(value) > limit:
        raise invalid(
            f"{entity_name} '{value[:250]}' had length {len(value)}, "
            f"which exceeded length limit of {limit}"
        )


def is_numeric(value) -> bool:
    kind = type(value)
    if kind is float or kind is int:  # the common case, without the slower ABC check
        return True
    return kind is not bool and isinstance(value, numbers.Number)


def validate_metric(key, value, timestamp, step) -> None:
    validate_key_name("Metric", "metric", key)
    if not is_numeric(value):
        raise invalid(
            f"Got invalid value {value} for metric '{key}' (timestamp={timestamp}). "
            "Please specify value as a valid double (64-bit floating point)"
        )
    if not is_numeric(timestamp) or timestamp < 0:
        raise invalid(
            f"Got invalid timestamp {timestamp} for metric '{key}' (value={value}). "
            "Timestamp must be a nonnegative long (64-bit integer) "
        )
    if not is_numeric(step):
        raise invalid(
            f"Got invalid step {step} for metric '{key}' (value={value}). "
            "Step must be a valid long (64-bit integer)."
        )


def metric_storage_value(value: float) -> tuple[float, bool]:
    """(stored value, is_nan) as MLflow's SQL store keeps them: NaN -> 0, +/-inf -> +/-max."""
    value = float(value)
    if math.isnan(value):
        return 0.0, True
    if math.isinf(value):
        return (MAX_DOUBLE if value > 0 else -MAX_DOUBLE), False
    return value, False


def validate_param(key, value) -> None:
    validate_key_name("Parameter", "parameter", key)
    validate_length("Param key", MAX_ENTITY_KEY_LENGTH, key)
    validate_length("Param value", MAX_PARAM_VAL_LENGTH, value)


def validate_tag(key, value) -> None:
    validate_key_name("Tag", "tag", key)
    validate_tag_widths(key, value)


def validate_tag_widths(key, value) -> None:
    validate_length("Tag key", MAX_ENTITY_KEY_LENGTH, key)
    validate_length("Tag value", MAX_TAG_VAL_LENGTH, value)


def validate_experiment_tag(key, value) -> None:
    validate_key_name("Tag", "tag", key)
    validate_experiment_tag_widths(key, value)


def validate_experiment_tag_widths(key, value) -> None:
    validate_length("Tag key", MAX_EXPERIMENT_TAG_KEY_LENGTH, key)
    validate_length("Tag value", MAX_EXPERIMENT_TAG_VAL_LENGTH, value)


def validate_param_keys_unique(params) -> None:
    seen: set[str] = set()
    dupes: list[str] = []
    for p in params:
        if p["key"] in seen:
            dupes.append(p["key"])
        seen.add(p["key"])
    if dupes:
        raise invalid(
            f"Duplicate parameter keys have been submitted: {dupes}. Please ensure "
            "the request contains only one param value per param key."
        )


def _validate_batch_limit(entity_name: str, limit: int, length: int) -> None:
    if length > limit:
        raise invalid(
            f"A batch logging request can contain at most {limit} {entity_name}. "
            f"Got {length} {entity_name}. Please split up {entity_name} across multiple"
            " requests and try again."
        )


def validate_batch(metrics, params, tags) -> None:
    """MLflow's order: each entity's content first, then the counts, then duplicate params."""
    for m in metrics:
        validate_metric(m.get("key"), m.get("value"), m.get("timestamp"), m.get("step", 0))
        validate_length("Metric name", MAX_ENTITY_KEY_LENGTH, m["key"])
    for p in params:
        validate_param(p.get("key"), p.get("value"))
    for t in tags:
        validate_tag(t.get("key"), t.get("value"))
    _validate_batch_limit("metrics", MAX_METRICS_PER_BATCH, len(metrics))
    _validate_batch_limit("params", MAX_PARAMS_TAGS_PER_BATCH, len(params))
    _validate_batch_limit("tags", MAX_PARAMS_TAGS_PER_BATCH, len(tags))
    _validate_batch_limit(
        "metrics, params, and tags",
        MAX_ENTITIES_PER_BATCH,
        len(metrics) + len(params) + len(tags),
    )
    validate_param_keys_unique(params)


def validate_run_id(run_id) -> None:
    if not isinstance(run_id, str) or RUN_ID_PATTERN.match(run_id) is None:
        raise invalid(f"Invalid run ID: '{run_id}'")


def validate_experiment_name(name) -> None:
    if name == "" or name is None:
        raise invalid(f"Invalid experiment name: '{name}'")
    if not isinstance(name, str):
        raise invalid(f"Invalid experiment name: {name}. Expects a string.")


def validate_artifact_location(location) -> None:
    if location is not None and location.startswith("runs:"):
        raise invalid(f"Artifact location cannot be a runs:/ URI. Given: '{location}'")


def validate_search_max_results(max_results) -> None:
    if max_results is None:
        return
    if not isinstance(max_results, int) or isinstance(max_results, bool) or max_results < 0:
        raise invalid(
            "Invalid value for request parameter max_results. It must be a non-negative "
            f"integer, but got value {max_results}"
        )
    if max_results > SEARCH_MAX_RESULTS_THRESHOLD:
        # The message of 2.7.1's request validation, which answers before the store does.
        raise invalid(
            f"Invalid value {max_results} for parameter 'max_results' supplied. Hint: Value was"
            " of type 'int'. See the API docs for more information about request parameters."
        )


def validate_positive_max_results(max_results) -> None:
    if not isinstance(max_results, int) or isinstance(max_results, bool) or max_results < 1:
        raise invalid(
            f"Invalid value for max_results. It must be a positive integer, but got {max_results}"
        )


def validate_experiments_max_results(max_results) -> None:
    validate_positive_max_results(max_results)
    if max_results > SEARCH_MAX_RESULTS_THRESHOLD:
        raise invalid(
            f"Invalid value for max_results. It must be at most {SEARCH_MAX_RESULTS_THRESHOLD},"
            f" but got {max_results}"
        )


def validate_dataset_inputs(datasets) -> None:
    for d in datasets:
        ds = d.get("dataset")
        if ds is None:
            raise invalid("Dataset cannot be None")
        for field in ("name", "digest", "source_type", "source"):
            if ds.get(field) is None:
                raise invalid(f"Dataset {field} cannot be None")
        for field, limit in (
            ("name", MAX_DATASET_NAME_SIZE),
            ("digest", MAX_DATASET_DIGEST_SIZE),
            ("source_type", MAX_DATASET_SOURCE_TYPE_SIZE),
            ("source", MAX_DATASET_SOURCE_SIZE),
            ("schema", MAX_DATASET_SCHEMA_SIZE),
            ("profile", MAX_DATASET_PROFILE_SIZE),
        ):
            if ds.get(field) is not None and len(ds[field]) > limit:
                raise invalid(f"Dataset {field} exceeds the maximum length of {limit}")
        for tag in d.get("tags") or ():
            if tag.get("key") is None:
                raise invalid("InputTag key cannot be None")
            if tag.get("value") is None:
                raise invalid("InputTag value cannot be None")
            if len(tag["key"]) > MAX_INPUT_TAG_KEY_SIZE:
                raise invalid(
                    f"InputTag key exceeds the maximum length of {MAX_INPUT_TAG_KEY_SIZE}"
                )
            if len(tag["value"]) > MAX_INPUT_TAG_VALUE_SIZE:
                raise invalid(
                    f"InputTag value exceeds the maximum length of {MAX_INPUT_TAG_VALUE_SIZE}"
                )


def run_not_active(run_id: str, stage: str) -> MlflowError:
    return invalid(f"The run {run_id} must be in the 'active' state. Current state is {stage}.")


def experiment_not_active(experiment_id, stage: str) -> MlflowError:
    return invalid(
        f"The experiment {experiment_id} must be in the 'active' state. Current state is {stage}."
    )


def validate_filter_clause_count(clauses) -> None:
    if len(clauses) > MAX_FILTER_CLAUSES:
        raise invalid(
            f"Too many filter clauses ({len(clauses)}): a search takes at most "
            f"{MAX_FILTER_CLAUSES}."
        )


def validate_order_by_count(order_by) -> None:
    if order_by and len(order_by) > MAX_ORDER_BY_KEYS:
        raise invalid(
            f"Too many order_by keys ({len(order_by)}): a search takes at most {MAX_ORDER_BY_KEYS}."
        )


def validate_user_id(user_id) -> None:
    if user_id:
        validate_length("User id", MAX_USER_ID_LENGTH, user_id)
