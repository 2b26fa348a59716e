"""HTTP-level answers a fuzzer probes: an undeclared method is 405 with MLflow's error body and
the `Allow` header RFC 9110 requires, naming every method the path serves."""

from __future__ import annotations

import pytest
import requests

pytestmark = pytest.mark.parametrize("reference_server", ["sqlite"], indirect=True)


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("TRACE", "/health", "GET, HEAD"),
        ("PUT", "/api/2.0/mlflow/runs/get", "GET, HEAD"),
        ("GET", "/api/2.0/mlflow/runs/create", "POST"),
        ("TRACE", "/api/2.0/mlflow/experiments/search", "GET, HEAD, POST"),
        ("PUT", "/api/2.0/mlflow/registered-models/alias", "DELETE, GET, HEAD, POST"),
        ("PATCH", "/ajax-api/2.0/mlflow/registered-models/alias", "DELETE, GET, HEAD, POST"),
        ("POST", "/api/2.0/mlflow-artifacts/artifacts/0/a/b.txt", "DELETE, GET, HEAD, PUT"),
        ("TRACE", "/api/2.0/mlflow-artifacts/artifacts", "GET, HEAD"),
    ],
)
def test_method_not_allowed_names_the_allowed_methods(reference_server, method, path, allow):
    response = requests.request(method, reference_server.url + path, timeout=30)
    assert response.status_code == 405, response.text
    assert response.headers.get("Allow") == allow
    assert response.json()["error_code"] == "ENDPOINT_NOT_FOUND"
