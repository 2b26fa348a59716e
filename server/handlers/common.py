"""Small request helpers shared by the handler areas."""

from __future__ import annotations

from server.errors import MlflowError
from server.request_validation import invalid_message, missing_message


def run_id_of(body: dict | None = None, run_id: str | None = None, run_uuid: str | None = None):
    """`run_id`, or its deprecated alias `run_uuid`, as 2.7.1 accepts either."""
    if body is not None:
        run_id, run_uuid = body.get("run_id"), body.get("run_uuid")
    found = run_id or run_uuid
    if not found:
        raise MlflowError(missing_message("run_id"))
    return found


def compact(**fields):
    """A response message with unset (None or empty) fields left out, as protobuf's JSON does."""
    return {k: v for k, v in fields.items() if v not in (None, [], {}, "")}


def metric_value(value, param: str = "value"):
    """A metric value off the wire: a number, or "NaN" / "Infinity" / "-Infinity". An integer
    beyond the double range is no double (2.7.1 fails on it with a 500)."""
    try:
        return float(value)
    except OverflowError:
        raise MlflowError(invalid_message(param, value)) from None


def entries(items) -> list[dict]:
    """Key/value entries (tags, params) with protobuf's defaults for fields left out."""
    return [{"key": e.get("key", ""), "value": e.get("value", "")} for e in items or ()]
