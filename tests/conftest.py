"""Shared fixtures: real servers on loopback, real SQLite files, a real PostgreSQL server."""

from __future__ import annotations

import pytest

from tests.pg import admin_url, make_database

BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)]


def backend_store_uri(backend: str, workdir, request) -> str:
    """A fresh, empty backend store of the given kind; dropped when `request` finishes."""
    if backend == "sqlite":
        return f"sqlite:///{workdir / 'mlflow-compat.db'}"
    url, drop = make_database(admin_url())
    request.addfinalizer(drop)
    return url


def start_reference_server(request, tmp_path_factory, name: str):
    """A reference server (`python -m server serve`) on a fresh store of request.param's kind."""
    from tools.peers import start_reference

    workdir = tmp_path_factory.mktemp(f"{name}-{request.param}")
    uri = backend_store_uri(request.param, workdir, request)
    peer = start_reference(workdir, backend_store_uri=uri)
    request.addfinalizer(peer.stop)
    return peer


@pytest.fixture(scope="session", params=BACKENDS)
def reference_server(request, tmp_path_factory):
    """The reference server shared by the well-behaved tests, one per backend."""
    return start_reference_server(request, tmp_path_factory, "reference")


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
