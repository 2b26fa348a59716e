"""The fuzz hooks excuse exactly MLflow's body habits, and no other schema violation; and a
schema-valid request refused with 400 only where the spec's `x-mlflow-rule` names the refusal."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
import yaml

from conformance.fuzz.harness import SPEC
from conformance.fuzz.hooks import (
    NEGATIVE_DATA_ACCEPTED,
    POSITIVE_DATA_REJECTED,
    drop_null_members,
    filter_failure,
)

ROOT = yaml.safe_load(SPEC.read_text())


def _case(path: str, method: str, body):
    operation = SimpleNamespace(
        definition=SimpleNamespace(raw=ROOT["paths"][path][method]),
        schema=SimpleNamespace(raw_schema=ROOT),
    )
    return SimpleNamespace(operation=operation, body=body)


def _kept(case, code: str = NEGATIVE_DATA_ACCEPTED, response=None) -> bool:
    return filter_failure(None, SimpleNamespace(code=code), case, response)


def _refusal(status: int, error_code: str, message: str):
    body = json.dumps({"error_code": error_code, "message": message}).encode()
    return SimpleNamespace(status_code=status, content=body)


CREATE = ("/api/2.0/mlflow/experiments/create", "post")
SEARCH = ("/api/2.0/mlflow/runs/search", "post")


@pytest.mark.parametrize(
    ("operation", "body"),
    [
        (CREATE, {"name": "a", "artifact_location": None}),
        (CREATE, {"name": "a", "tags": [{"key": "k", "value": None}]}),
        (SEARCH, {"page_token": None}),
        (SEARCH, None),  # a null body is no body, and runs/search needs none
        (SEARCH, b"\x00not json"),  # so is a body that is not JSON
    ],
)
def test_what_mlflow_reads_as_left_out_is_excused(operation, body):
    assert not _kept(_case(*operation, body))


@pytest.mark.parametrize(
    ("operation", "body"),
    [
        (CREATE, {"name": None}),  # a required field left out
        (CREATE, {"name": "a", "artifact_location": None, "tags": "not a list"}),
        (CREATE, {"name": 1}),
        (CREATE, None),  # no body, but a name is required
        (CREATE, b"not json"),
        (SEARCH, {"max_results": "many"}),
        (SEARCH, [None]),
        (SEARCH, b'{"max_results": "many"}'),  # JSON, read as such
    ],
)
def test_every_other_violation_is_kept(operation, body):
    assert _kept(_case(*operation, body))


def test_other_failures_are_kept():
    assert _kept(_case(*SEARCH, {"page_token": None}), code="ST101")


def test_nulls_inside_lists_stay():
    assert drop_null_members({"a": None, "b": [None, {"c": None, "d": 1}]}) == {
        "b": [None, {"d": 1}]
    }


LOG_PARAM = ("/api/2.0/mlflow/runs/log-parameter", "post")
GET_RUN = ("/api/2.0/mlflow/runs/get", "get")
LOG_MODEL = ("/api/2.0/mlflow/runs/log-model", "post")


@pytest.mark.parametrize(
    ("operation", "response"),
    [
        # The operation's own rules: a taken name, a run no longer active, a param written once.
        (CREATE, _refusal(400, "RESOURCE_ALREADY_EXISTS", "Experiment(name=a) already exists.")),
        (
            LOG_PARAM,
            _refusal(
                400,
                "INVALID_PARAMETER_VALUE",
                "The run r must be in the 'active' state. Current state is deleted.",
            ),
        ),
        (
            LOG_PARAM,
            _refusal(
                400,
                "INVALID_PARAMETER_VALUE",
                "Changing param values is not allowed. Param with key='k' was already logged",
            ),
        ),
        # A run's model history is a tag value, at most 5000 characters.
        (
            LOG_MODEL,
            _refusal(
                400,
                "INVALID_PARAMETER_VALUE",
                "Tag value '[{}]' had length 5012, which exceeded length limit of 5000",
            ),
        ),
        # A rule no schema states across two query parameters.
        (
            GET_RUN,
            _refusal(
                400,
                "INVALID_PARAMETER_VALUE",
                "Missing value for required parameter 'run_id'. See the API docs",
            ),
        ),
        # The document's rule for every operation: text no store holds.
        (
            SEARCH,
            _refusal(
                400,
                "INVALID_PARAMETER_VALUE",
                "Invalid value 'a\\x00': text may not contain a NUL character.",
            ),
        ),
    ],
)
def test_a_refusal_by_an_annotated_rule_is_excused(operation, response):
    assert not _kept(_case(*operation, {}), POSITIVE_DATA_REJECTED, response)


@pytest.mark.parametrize(
    ("operation", "response"),
    [
        # The right code with another message: a rule the schema should state.
        (LOG_PARAM, _refusal(400, "INVALID_PARAMETER_VALUE", "Invalid parameter name: 'a!'")),
        # A message of another operation's rule.
        (GET_RUN, _refusal(400, "RESOURCE_ALREADY_EXISTS", "Experiment(name=a) already exists.")),
        (CREATE, _refusal(400, "INVALID_PARAMETER_VALUE", "Invalid experiment name")),
        # Not a 400 at all, or not MLflow's error body.
        (CREATE, _refusal(500, "RESOURCE_ALREADY_EXISTS", "already exists")),
        (CREATE, SimpleNamespace(status_code=400, content=b"<html>Bad Request</html>")),
    ],
)
def test_every_other_refusal_of_valid_data_is_kept(operation, response):
    assert _kept(_case(*operation, {}), POSITIVE_DATA_REJECTED, response)
