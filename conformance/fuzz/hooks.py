"""schemathesis hooks for fuzzing an MLflow-speaking server with spec/mlflow-2.7.1.yaml.

Loaded through conformance/fuzz/schemathesis.toml (`hooks = "conformance.fuzz.hooks"`, imported
from wherever the package is installed). Two habits of MLflow's wire are out of OpenAPI 3.0's
reach (short of marking every field `nullable`): 2.7.1 reads request JSON with protobuf's parser,
for which a JSON null is the field left out, and a body that is not JSON at all, or is `null`, is
read as no body (Flask's `get_json(silent=True)`). A body that breaks the spec only in these ways
is therefore one the server may accept; every other schema violation must still be rejected.
"""

from __future__ import annotations

import json
import typing as t

import jsonschema_rs
import schemathesis

NEGATIVE_DATA_ACCEPTED = "ST201"


def drop_null_members(value: t.Any) -> t.Any:
    """`value` without its object members that are JSON null (nulls inside lists stay: they are
    not fields left out, and no list of the API may hold one)."""
    if isinstance(value, dict):
        return {k: drop_null_members(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [drop_null_members(v) for v in value]
    return value


def _json_body_schema(case: t.Any) -> dict | None:
    body = case.operation.definition.raw.get("requestBody") or {}
    return (body.get("content", {}).get("application/json") or {}).get("schema")


_validators: dict[int, jsonschema_rs.Draft4Validator] = {}


def _validator(case: t.Any, schema: dict) -> jsonschema_rs.Draft4Validator:
    validator = _validators.get(id(schema))
    if validator is None:
        # The spec's components beside the schema, for its `#/components/...` references.
        components = case.operation.schema.raw_schema.get("components", {})
        validator = jsonschema_rs.Draft4Validator({**schema, "components": components})
        _validators[id(schema)] = validator
    return validator


def valid_as_mlflow_reads_it(case: t.Any) -> bool:
    """Whether the case's JSON body, which breaks the spec, is valid read as MLflow reads it:
    null members left out, a body that is `null` or not JSON at all read as `{}` (Flask's
    get_json(silent=True) in 2.7.1)."""
    schema = _json_body_schema(case)
    if schema is None:
        return False
    if case.body is None:
        read = {}
    elif isinstance(case.body, bytes):
        try:
            json.loads(case.body)
        except ValueError:
            read = {}
        else:
            return False
    elif isinstance(case.body, dict):
        read = drop_null_members(case.body)
        if read == case.body:
            return False
    else:
        return False
    return _validator(case, schema).is_valid(read)


@schemathesis.hook
def filter_failure(context, failure, case, response) -> bool:
    """Keep every failure except "schema-violating request accepted" for a body whose only
    violations are ones MLflow reads as fields or a body left out."""
    return not (failure.code == NEGATIVE_DATA_ACCEPTED and valid_as_mlflow_reads_it(case))
