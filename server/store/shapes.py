"""Rows -> the plain dicts mlflow server 2.7.1 puts on the wire (proto field order, unset and
empty fields omitted, int64 as int, NaN as float('nan'))."""

from __future__ import annotations

import base64
import json
from operator import itemgetter

from server.errors import invalid

NAN = float("nan")


def key_values(pairs) -> list[dict]:
    return [{"key": k, "value": v} for k, v in pairs]


def experiment(row, tags=()) -> dict:
    """row: (experiment_id, name, artifact_location, lifecycle_stage, creation, last_update)."""
    exp_id, name, location, stage, created, updated = row
    out = {"experiment_id": str(exp_id), "name": name}
    if location is not None:
        out["artifact_location"] = location
    out["lifecycle_stage"] = stage
    if updated is not None:
        out["last_update_time"] = updated
    if created is not None:
        out["creation_time"] = created
    if tags:
        out["tags"] = key_values(tags)
    return out


def experiment_columns(E) -> tuple:
    """The Experiment columns `experiment` shapes, in its order."""
    return (
        E.experiment_id,
        E.name,
        E.artifact_location,
        E.lifecycle_stage,
        E.creation_time,
        E.last_update_time,
    )


RUN_COLUMNS = (
    "run_uuid",
    "experiment_id",
    "name",
    "user_id",
    "status",
    "start_time",
    "end_time",
    "artifact_uri",
    "lifecycle_stage",
)


def run_columns(R) -> tuple:
    """The Run columns `run_info` shapes, in RUN_COLUMNS order."""
    return tuple(R.experiment if c == "experiment_id" else getattr(R, c) for c in RUN_COLUMNS)


def run_info(row) -> dict:
    """row: the RUN_COLUMNS values in that order."""
    run_id, exp_id, name, user_id, status, start, end, artifact_uri, stage = row
    out = {"run_uuid": run_id, "experiment_id": str(exp_id)}
    if name is not None:
        out["run_name"] = name
    if user_id is not None:
        out["user_id"] = user_id
    out["status"] = status
    if start is not None:
        out["start_time"] = start
    if end is not None:
        out["end_time"] = end
    if artifact_uri is not None:
        out["artifact_uri"] = artifact_uri
    out["lifecycle_stage"] = stage
    out["run_id"] = run_id
    return out


def metric(key, value, timestamp, step, is_nan) -> dict:
    return {"key": key, "value": NAN if is_nan else value, "timestamp": timestamp, "step": step}


def metrics(rows) -> list[dict]:
    """rows: (key, value, timestamp, step, is_nan) -> metrics. (`metric`, inlined: a history
    shapes thousands of points.)"""
    return [
        {"key": k, "value": NAN if is_nan else v, "timestamp": ts, "step": step}
        for k, v, ts, step, is_nan in rows
    ]


_BY_KEY = itemgetter("key")


def data_by_run(rows, runs: int) -> list[dict]:
    """rows: (position, kind, key, value, number, timestamp, step, is_nan) of `runs` runs, each
    run named by its position (0 to runs - 1), kind 0 for a metric (value: its number, NaN where
    is_nan), 1 for a param, 2 for a tag (value only), in any order -> each run's data as
    `run_data` shapes it, in position order, each list ordered by key (byte-wise, as SQLite
    orders text). A position, not a run id: a page of 1000 runs has 8000 rows, whose run ids
    took as long to look up as the rows to shape."""
    children = [([], [], []) for _ in range(runs)]
    for position, kind, key, value, number, timestamp, step, is_nan in rows:
        if kind:
            children[position][kind].append({"key": key, "value": value})
        else:
            value = NAN if is_nan else number
            entry = {"key": key, "value": value, "timestamp": timestamp, "step": step}
            children[position][0].append(entry)
    for lists in children:
        for entries in lists:
            if len(entries) > 1:
                entries.sort(key=_BY_KEY)
    return [run_data(*lists) for lists in children]


def run_data(metrics=None, params=None, tags=None) -> dict:
    """A run's data from its shaped metrics, params and tags (lists of wire dicts)."""
    out = {}
    if metrics:
        out["metrics"] = metrics
    if params:
        out["params"] = params
    if tags:
        out["tags"] = tags
    return out


def dataset_input(dataset_row, tags) -> dict:
    """dataset_row: (name, digest, source_type, source, schema, profile)."""
    name, digest, source_type, source, schema, profile = dataset_row
    ds = {"name": name, "digest": digest, "source_type": source_type, "source": source}
    if schema is not None:
        ds["schema"] = schema
    if profile is not None:
        ds["profile"] = profile
    out = {}
    if tags:
        out["tags"] = key_values(tags)
    out["dataset"] = ds
    return out


def run_inputs(dataset_inputs) -> dict:
    return {"dataset_inputs": dataset_inputs} if dataset_inputs else {}


# Page tokens: base64 of JSON {"offset": n}, byte-for-byte as mlflow 2.7.1 makes them.
def page_token(offset: int) -> str:
    return base64.b64encode(json.dumps({"offset": offset}).encode("utf-8")).decode("ascii")


MAX_PAGE_OFFSET = 2**62


def parse_page_token(token) -> int:
    if not token:
        return 0
    try:
        decoded = base64.b64decode(token)
    except (TypeError, ValueError):
        raise invalid("Invalid page token, could not base64-decode") from None
    try:
        parsed = json.loads(decoded)
    except ValueError:
        raise invalid(f"Invalid page token, decoded value={decoded}") from None
    offset = parsed.get("offset") if isinstance(parsed, dict) else None
    if not offset:
        raise invalid(f"Invalid page token, parsed value={parsed}")
    try:
        offset = int(offset)
    except (TypeError, ValueError):
        raise invalid(f"Invalid page token, not stringable {offset}") from None
    if offset < 0:
        raise invalid(f"Invalid page token, parsed value={parsed}")
    # Past any table, and below what a database's 64-bit OFFSET (plus a page) can hold.
    return min(offset, MAX_PAGE_OFFSET)


# The model registry.
def model_version_columns(mv) -> tuple:
    return (
        mv.name,
        mv.version,
        mv.creation_time,
        mv.last_updated_time,
        mv.description,
        mv.user_id,
        mv.current_stage,
        mv.source,
        mv.run_id,
        mv.run_link,
        mv.status,
        mv.status_message,
        mv.version_label,
    )


def model_version(row, tags=(), aliases=()) -> dict:
    """row: `model_version_columns` values. Unset fields are left out, as 2.7.1's to_proto
    does (description "" stays: it is set)."""
    name, version, created, updated, description, user_id, stage, source, run_id = row[:9]
    run_link, status, status_message, label = row[9:13]
    out = {"name": name, "version": str(version), "creation_timestamp": created}
    if updated is not None:
        out["last_updated_timestamp"] = updated
    if user_id is not None:
        out["user_id"] = user_id
    if stage is not None:
        out["current_stage"] = stage
    if description is not None:
        out["description"] = description
    if source is not None:
        out["source"] = source
    if run_id is not None:
        out["run_id"] = run_id
    if status is not None:
        out["status"] = status
    if status_message:
        out["status_message"] = status_message
    if tags:
        out["tags"] = key_values(tags)
    if run_link is not None:
        out["run_link"] = run_link
    if label is not None:  # a version label (see RegistryStore.labelled_versions) is listed first
        aliases = [label, *(aliases or ())]
    if aliases:
        out["aliases"] = list(aliases)
    return out


def registered_model(row, latest=(), tags=(), aliases=()) -> dict:
    """row: (name, creation_time, last_updated_time, description)."""
    name, created, updated, description = row
    out = {"name": name}
    if created is not None:
        out["creation_timestamp"] = created
    if updated:
        out["last_updated_timestamp"] = updated
    if description:
        out["description"] = description
    if latest:
        out["latest_versions"] = list(latest)
    if tags:
        out["tags"] = key_values(tags)
    if aliases:
        out["aliases"] = [{"alias": a, "version": str(v)} for a, v in aliases]
    return out
