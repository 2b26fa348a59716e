"""Shared fixtures: real servers on loopback, real SQLite files, a real PostgreSQL server, a real
S3 API (moto's server)."""

from __future__ import annotations

import pytest

from tests.pg import admin_url, make_database
from tests.s3 import S3Service

BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)]
# Where the artifact tests run: the local folder on each backend, and an S3 bucket.
ARTIFACT_DESTINATIONS = [*BACKENDS, "s3"]


def backend_store_uri(backend: str, workdir, request) -> str:
    """A fresh, empty backend store of the given kind; dropped when `request` finishes."""
    if backend == "sqlite":
        return f"sqlite:///{workdir / 'mlflow-compat.db'}"
    url, drop = make_database(admin_url())
    request.addfinalizer(drop)
    return url


@pytest.fixture(scope="session")
def s3_service():
    """moto's S3 API server on a loopback port, for the whole session."""
    service = S3Service().start()
    yield service
    service.stop()


@pytest.fixture(scope="session")
def _servers(request, tmp_path_factory):
    """Reference servers by kind, started on first use and shared by every fixture that asks
    for that kind: 'sqlite' and 'postgresql' (artifacts in a local folder), 's3' (SQLite,
    artifacts in a bucket of the session's S3 API)."""
    from tools.peers import start_reference

    started = {}

    def get(kind: str):
        if kind not in started:
            workdir = tmp_path_factory.mktemp(f"reference-{kind}")
            backend = "sqlite" if kind == "s3" else kind
            uri = backend_store_uri(backend, workdir, request)
            destination, env = None, {}
            if kind == "s3":
                s3 = request.getfixturevalue("s3_service")
                bucket = s3.new_bucket()
                destination, env = f"s3://{bucket}/artifacts", s3.env
            peer = start_reference(
                workdir, backend_store_uri=uri, artifacts_destination=destination, env=env
            )
            peer.bucket = bucket if kind == "s3" else None
            request.addfinalizer(peer.stop)
            started[kind] = peer
        return started[kind]

    return get


@pytest.fixture(scope="session", params=BACKENDS)
def reference_server(request, _servers):
    """The reference server shared by the well-behaved tests, one per backend."""
    return _servers(request.param)


@pytest.fixture(scope="session", params=ARTIFACT_DESTINATIONS)
def artifact_server(request, _servers):
    """The reference server of each backend (artifacts in a local folder) and one with its
    artifacts in S3: artifact test modules run on every one of them."""
    return _servers(request.param)


@pytest.fixture
def tracking_uri(reference_server, monkeypatch):
    """Points the MLflow client (fluent API and MlflowClient) at the reference server."""
    import mlflow

    monkeypatch.setenv("MLFLOW_TRACKING_URI", reference_server.url)
    mlflow.set_tracking_uri(reference_server.url)
    yield reference_server.url
    while mlflow.active_run():
        mlflow.end_run()
    mlflow.tracking.fluent._active_experiment_id = None
    mlflow.set_tracking_uri(None)
