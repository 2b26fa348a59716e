"""schemathesis hooks for fuzzing an MLflow-speaking server with spec/mlflow-2.7.1.yaml.

Loaded through conformance/fuzz/schemathesis.toml (`hooks = "conformance.fuzz.hooks"`, imported
from wherever the package is installed). Two habits of MLflow's wire are out of OpenAPI 3.0's
reach (short of marking every field `nullable`): 2.7.1 reads request JSON with protobuf's parser,
for which a JSON null is the field left out, and a body that is not JSON at all, or is `null`, is
read as no body (Flask's `get_json(silent=True)`). A body that breaks the spec only in these ways
is therefore one the server may accept; every other schema violation must still be rejected.

The spec states every rule of 2.7.1 that a schema can state. The rest (a name already taken, a
run that is no longer active, a key written once) is an `x-mlflow-rule` annotation on the
operation or on a field of its request: the error code that rule answers with and, where the code
alone would excuse too much, a pattern of its message. A schema-valid request refused with 400 is
a failure unless the refusal is one of those annotated rules.

Importing this module also registers seeded_cases.py's hooks, which put seeded values (when the
settings file binds any) into the examples and coverage phases.
"""

from __future__ import annotations

import json
import re
import typing as t

import jsonschema_rs
import schemathesis

# Registers its hook: seeded values in the examples and coverage phases.
import conformance.fuzz.seeded_cases  # noqa: F401

NEGATIVE_DATA_ACCEPTED = "ST201"
POSITIVE_DATA_REJECTED = "ST202"
RULE_KEY = "x-mlflow-rule"


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


def annotated_rules(node: t.Any, root: dict, seen: set[str] | None = None) -> list[dict]:
    """Every `x-mlflow-rule` entry in `node`, following `$ref`s into `root` (each once)."""
    seen = set() if seen is None else seen
    found: list[dict] = []
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/") and ref not in seen:
            seen.add(ref)
            target: t.Any = root
            for part in ref[2:].split("/"):
                target = target.get(part, {}) if isinstance(target, dict) else {}
            found += annotated_rules(target, root, seen)
        for key, value in node.items():
            if key == RULE_KEY and isinstance(value, list):
                found += [entry for entry in value if isinstance(entry, dict)]
            elif key not in ("responses", "example", "examples"):
                found += annotated_rules(value, root, seen)
    elif isinstance(node, list):
        for value in node:
            found += annotated_rules(value, root, seen)
    return found


_rules_of: dict[int, list[dict]] = {}


def operation_rules(case: t.Any) -> list[dict]:
    """The `x-mlflow-rule` entries of the case's operation, of its request's fields and of the
    whole document (rules every operation keeps)."""
    raw = case.operation.definition.raw
    rules = _rules_of.get(id(raw))
    if rules is None:
        root = case.operation.schema.raw_schema
        every = [r for r in root.get(RULE_KEY) or () if isinstance(r, dict)]
        rules = _rules_of[id(raw)] = every + annotated_rules(raw, root)
    return rules


def refused_by_annotated_rule(case: t.Any, response: t.Any) -> bool:
    """Whether the response is a 400 that one of the operation's `x-mlflow-rule`s answers: its
    error code, and its message where the rule names one."""
    if response is None or response.status_code != 400:
        return False
    try:
        body = json.loads(response.content)
    except (ValueError, TypeError):
        return False
    if not isinstance(body, dict):
        return False
    return refused_by(operation_rules(case), body.get("error_code"), str(body.get("message", "")))


def refused_by(rules: list[dict], error_code: t.Any, message: str) -> bool:
    """Whether an error (its code and message) is one of `rules`' refusals."""
    return any(
        rule.get("error_code") == error_code and re.search(rule.get("message", ""), message)
        for rule in rules
    )


@schemathesis.hook
def filter_failure(context, failure, case, response) -> bool:
    """Keep every failure except "schema-violating request accepted" for a body whose only
    violations are ones MLflow reads as fields or a body left out, and "schema-valid request
    rejected" where an annotated rule refused it."""
    if failure.code == NEGATIVE_DATA_ACCEPTED:
        return not valid_as_mlflow_reads_it(case)
    if failure.code == POSITIVE_DATA_REJECTED:
        return not refused_by_annotated_rule(case, response)
    return True
