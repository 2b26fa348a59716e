"""The wire check: each exchange judged against spec/mlflow-2.7.1.yaml."""

from __future__ import annotations

import json

import pytest

from conformance import resources
from conformance.wire import Exchange, SpecChecker


@pytest.fixture(scope="module")
def checker() -> SpecChecker:
    return SpecChecker(resources.openapi())


def _exchange(method, path, status, body, content_type="application/json") -> Exchange:
    if not isinstance(body, str):
        body = json.dumps(body)
    return Exchange(method, "http://h" + path, path, "", status, content_type, body)


RUN = {
    "run": {
        "info": {
            "run_id": "a1",
            "run_uuid": "a1",
            "experiment_id": "1",
            "status": "RUNNING",
            "start_time": 1,
            "artifact_uri": "mlflow-artifacts:/1/a1/artifacts",
            "lifecycle_stage": "active",
        },
        "data": {},
    }
}


def test_a_conforming_answer_has_no_violation(checker):
    assert checker.check(_exchange("GET", "/api/2.0/mlflow/runs/get", 200, RUN)) == ("getRun", [])


def test_an_artifact_path_matches_the_proxy_operation(checker):
    path = "/api/2.0/mlflow-artifacts/artifacts/1/a1/artifacts/sub/dir/file.txt"
    assert checker.check(_exchange("PUT", path, 200, {})) == ("uploadArtifact", [])
    assert checker.check(_exchange("GET", path, 200, "bytes", "text/plain")) == (
        "downloadArtifact",
        [],
    )


def test_a_success_status_must_be_declared(checker):
    op, violations = checker.check(_exchange("GET", "/api/2.0/mlflow/runs/get", 201, RUN))
    assert violations == ["status 201 is not declared for getRun"]


def test_a_body_that_does_not_match_the_schema(checker):
    bad = {"run": {**RUN["run"], "info": {**RUN["run"]["info"], "start_time": "yesterday"}}}
    _, violations = checker.check(_exchange("GET", "/api/2.0/mlflow/runs/get", 200, bad))
    assert len(violations) == 1
    assert violations[0].startswith("200 answer does not match the schema at run/info/start_time")


def test_a_success_that_is_not_json(checker):
    _, violations = checker.check(
        _exchange("POST", "/api/2.0/mlflow/runs/create", 200, "<html>ok</html>", "text/html")
    )
    assert violations == ["200 answer is not JSON (text/html): '<html>ok</html>'"]


@pytest.mark.parametrize(
    ("status", "body", "violation"),
    [
        (404, {"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "no run"}, None),
        (
            400,
            {"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "no run"},
            "error_code RESOURCE_DOES_NOT_EXIST comes with status 400, MLflow's is 404",
        ),
        (404, {"error": "404 Not Found"}, "is not an MLflow error"),
        (404, "<h1>Not Found</h1>", "404 error body is not an MLflow error (not JSON)"),
        (400, {"error_code": "NO_SUCH_CODE", "message": "x"}, "is not an MLflow error"),
    ],
)
def test_error_bodies_must_be_mlflow_errors(checker, status, body, violation):
    ct = "application/json" if isinstance(body, dict) else "text/html"
    _, violations = checker.check(_exchange("GET", "/api/2.0/mlflow/runs/get", status, body, ct))
    if violation is None:
        assert violations == []
    else:
        assert len(violations) >= 1 and violation in violations[0], violations


def test_a_path_outside_the_spec(checker):
    assert checker.check(_exchange("GET", "/api/2.0/mlflow/nothing", 200, {})) == (
        None,
        ["GET /api/2.0/mlflow/nothing is not an operation of the spec"],
    )
