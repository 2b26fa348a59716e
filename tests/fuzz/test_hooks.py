"""The fuzz hooks excuse exactly MLflow's body habits, and no other schema violation."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import yaml

from conformance.fuzz.harness import SPEC
from conformance.fuzz.hooks import NEGATIVE_DATA_ACCEPTED, drop_null_members, filter_failure

ROOT = yaml.safe_load(SPEC.read_text())


def _case(path: str, method: str, body):
    operation = SimpleNamespace(
        definition=SimpleNamespace(raw=ROOT["paths"][path][method]),
        schema=SimpleNamespace(raw_schema=ROOT),
    )
    return SimpleNamespace(operation=operation, body=body)


def _kept(case, code: str = NEGATIVE_DATA_ACCEPTED) -> bool:
    return filter_failure(None, SimpleNamespace(code=code), case, None)


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
