"""server/operations.py: what connexion works out per operation is kept once, and no more.

The app is driven in process through starlette's test client (real ASGI, real SQLite file); the
operations' caches are then read off the SpecOperation objects the app made.
"""

from __future__ import annotations

import gc
import warnings

import pytest

from server.app import App
from server.operations import SpecOperation
from server.settings import Settings

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient


@pytest.fixture
def client(tmp_path):
    app = App(
        Settings(
            backend_store_uri=f"sqlite:///{tmp_path / 'store.db'}",
            artifacts_destination=str(tmp_path / "artifacts"),
        )
    )
    with TestClient(app) as client:
        yield client


def _kept_content_types() -> dict[str, tuple[set, set]]:
    """operationId -> (content types kept, content types the operation declares)."""
    kept: dict[str, tuple[set, set]] = {}
    for obj in gc.get_objects():
        if isinstance(obj, SpecOperation):
            types, declared = kept.setdefault(obj.operation_id, (set(), set()))
            types.update(obj.__dict__.get("_body_definitions", {}))
            declared.update(obj.request_body.get("content", {}))
    return kept


def test_body_definitions_are_kept_for_the_operations_own_content_types_only(client):
    api = "/api/2.0/mlflow"
    experiment = client.post(f"{api}/experiments/create", json={"name": "e"}).json()
    run = client.post(f"{api}/runs/create", json=experiment).json()["run"]["info"]["run_id"]
    for i in range(50):
        # Whatever Content-Type a client sends, on operations with and without a body.
        headers = {"Content-Type": f"application/x-made-up-{i}"}
        got = client.get(f"{api}/runs/get", params={"run_id": run}, headers=headers)
        assert got.status_code == 200, got.text
        put = client.put(
            "/api/2.0/mlflow-artifacts/artifacts/0/f.txt", content=b"x", headers=headers
        )
        assert put.status_code == 200, put.text
        logged = client.post(
            f"{api}/runs/log-metric",
            json={"run_id": run, "key": "m", "value": i, "timestamp": i},
            headers=headers,
        )
        assert logged.status_code == 200, logged.text
    kept = _kept_content_types()
    assert {"getRun", "logMetric", "uploadArtifact"} <= set(kept)
    # The JSON operation's definition was kept for its content type, and was reused.
    assert "application/json" in kept["logMetric"][0]
    for operation_id, (types, declared) in kept.items():
        assert types <= declared | {None}, (operation_id, types)
