"""Two `mlflow-compat serve` processes on different ports, one PostgreSQL database, one S3
bucket: what the 2.7.1 client writes through one it reads through the other, concurrent clients
split across both lose nothing and see no 5xx, and both may start (and migrate) at once."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import mlflow
import numpy as np
import psycopg2
import pytest
import requests
from mlflow import MlflowClient
from mlflow.entities import Metric, Param

from server.store.models import SCHEMA_VERSION
from tests.pg import admin_url, make_database
from tests.scaleout.conftest import start_together

pytestmark = pytest.mark.postgresql
PROXY = "/api/2.0/mlflow-artifacts/artifacts"


@pytest.fixture(scope="module")
def database(request):
    """A new, empty database on the shared PostgreSQL server, for this module."""
    url, drop = make_database(admin_url())
    request.addfinalizer(drop)
    return url


@pytest.fixture(scope="module")
def pair(tmp_path_factory, database, s3_service, request):
    """Two instances started at the same moment on a fresh database and one bucket."""
    bucket = s3_service.new_bucket()
    instances = start_together(
        2, tmp_path_factory, database, f"s3://{bucket}/mlartifacts", s3_service.env
    )
    for instance in instances:
        request.addfinalizer(instance.stop)
    return instances


@pytest.fixture
def no_retries(monkeypatch):
    """The client raises on the first 5xx instead of retrying it away."""
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")


@pytest.fixture
def use(monkeypatch):
    """use(url): point the fluent client (and its artifact proxy) at one instance."""

    def point(url: str) -> None:
        monkeypatch.setenv("MLFLOW_TRACKING_URI", url)
        mlflow.set_tracking_uri(url)

    yield point
    while mlflow.active_run():
        mlflow.end_run()
    mlflow.tracking.fluent._active_experiment_id = None
    mlflow.set_tracking_uri(None)


def test_both_start_at_once_on_a_fresh_database(pair, database):
    """The schema was migrated once, by one of them, and the Default experiment made once."""
    with psycopg2.connect(database) as conn, conn.cursor() as cur:
        cur.execute("SELECT version FROM schema_version ORDER BY version")
        assert [row[0] for row in cur.fetchall()] == list(range(1, SCHEMA_VERSION + 1))
        cur.execute("SELECT count(*) FROM experiments WHERE experiment_id = 0")
        assert cur.fetchone()[0] == 1
    for instance in pair:
        assert requests.get(f"{instance.url}/api/2.0/mlflow/experiments/get?experiment_id=0").ok


def test_written_through_one_read_through_the_other(pair, use, no_retries, tmp_path):
    from sklearn.linear_model import LinearRegression

    one, other = pair
    name = f"two-{uuid.uuid4().hex[:8]}"
    X = np.array([[0.0, 1.0], [1.0, 0.0], [2.0, 1.0], [3.0, 3.0]])
    model = LinearRegression().fit(X, X @ [1.0, 2.0])
    (tmp_path / "notes.txt").write_text("written through one")

    use(one.url)
    mlflow.set_experiment(name)
    with mlflow.start_run() as run:
        mlflow.log_param("alpha", "0.5")
        for step in range(5):
            mlflow.log_metric("loss", 1.0 / (step + 1), step=step)
        mlflow.log_artifact(str(tmp_path / "notes.txt"), artifact_path="docs")
        mlflow.sklearn.log_model(
            model, artifact_path="model", registered_model_name=name, pip_requirements=["sklearn"]
        )
    run_id = run.info.run_id

    use(other.url)
    client = MlflowClient()
    got = client.get_run(run_id)
    assert got.data.params == {"alpha": "0.5"}
    assert [m.value for m in client.get_metric_history(run_id, "loss")] == [
        1.0 / (s + 1) for s in range(5)
    ]
    assert got.info.status == "FINISHED"
    assert [f.path for f in client.list_artifacts(run_id)] == ["docs", "model"]
    local = mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path="docs/notes.txt")
    assert Path(local).read_text() == "written through one"
    version = client.get_latest_versions(name)[0]
    assert (version.version, version.run_id) == ("1", run_id)
    loaded = mlflow.pyfunc.load_model(f"models:/{name}/1")
    np.testing.assert_allclose(loaded.predict(X), model.predict(X))

    # And back: a change made through the second is seen by the first.
    client.update_registered_model(name, description="seen by both")
    client.set_tag(run_id, "checked", "yes")
    use(one.url)
    assert MlflowClient().get_registered_model(name).description == "seen by both"
    assert MlflowClient().get_run(run_id).data.tags["checked"] == "yes"


def test_eight_clients_across_both_lose_nothing(pair, no_retries):
    """8 clients, 4 on each instance, each with a run: metrics one by one and in batches,
    params, tags and artifacts. Any 5xx raises in the client; every write is read back
    through the other instance."""
    experiment_id = MlflowClient(pair[0].url).create_experiment(f"eight-{uuid.uuid4().hex[:8]}")

    def client_work(i: int) -> str:
        url = pair[i % 2].url
        client = MlflowClient(url)
        run_id = client.create_run(experiment_id).info.run_id
        for step in range(20):
            client.log_metric(run_id, "m", float(step), step=step)
        for b in range(5):
            client.log_batch(
                run_id,
                metrics=[Metric(f"batch{b}", float(k), 0, k) for k in range(50)],
                params=[Param(f"p{b}-{k}", str(k)) for k in range(20)],
            )
        client.set_tag(run_id, "client", str(i))
        for a in range(3):
            put = requests.put(
                f"{url}{PROXY}/{experiment_id}/{run_id}/artifacts/f{a}.txt",
                data=f"{i}-{a}".encode(),
                timeout=30,
            )
            assert put.status_code == 200, put.text
        client.set_terminated(run_id)
        return run_id

    with ThreadPoolExecutor(8) as pool:
        run_ids = list(pool.map(client_work, range(8)))

    for i, run_id in enumerate(run_ids):
        reader = pair[(i + 1) % 2].url
        client = MlflowClient(reader)
        run = client.get_run(run_id)
        assert run.data.tags["client"] == str(i)
        assert len(run.data.params) == 100
        assert len(client.get_metric_history(run_id, "m")) == 20
        for b in range(5):
            assert len(client.get_metric_history(run_id, f"batch{b}")) == 50
        for a in range(3):
            got = requests.get(f"{reader}{PROXY}/{experiment_id}/{run_id}/artifacts/f{a}.txt")
            assert got.content == f"{i}-{a}".encode()
