"""Several reference servers on one database and one bucket, as deployed behind a load
balancer: real processes on loopback ports, the shared PostgreSQL server (a fresh database) or a
private cluster the test may stop, and the session's S3 API."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.pg import admin_url, make_database
from tests.pg_cluster import PgCluster
from tools.peers import start_reference


def start_instance(workdir, db_url: str, destination: str, env: dict, port: int | None = None):
    """One `mlflow-compat serve` on `db_url`, artifacts at `destination`."""
    return start_reference(
        workdir,
        port=port,
        backend_store_uri=db_url,
        artifacts_destination=destination,
        env=env,
    )


def start_together(count: int, tmp_path_factory, db_url: str, destination: str, env: dict):
    """`count` instances started at the same moment on the same database (and so migrating
    its schema at the same moment)."""
    folders = [tmp_path_factory.mktemp(f"instance-{i}") for i in range(count)]
    with ThreadPoolExecutor(count) as pool:
        futures = [
            pool.submit(start_instance, folder, db_url, destination, env) for folder in folders
        ]
    return [f.result() for f in futures]


@pytest.fixture
def fresh_database(request):
    """A new, empty database on the shared PostgreSQL server; dropped afterwards."""
    url, drop = make_database(admin_url())
    request.addfinalizer(drop)
    return url


@pytest.fixture
def bucket(s3_service):
    return s3_service.new_bucket()


@pytest.fixture
def pg_cluster():
    """A private PostgreSQL cluster, started; removed afterwards."""
    cluster = PgCluster()
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.remove()
