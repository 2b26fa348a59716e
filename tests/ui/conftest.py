"""One reference server with MLflow 2.7.1's web UI, data logged by the 2.7.1 client, and one
headless Chromium, shared by the browser tests of a module."""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

import pytest

from server.store import open_store
from tests.ui.browser import require_browser, start_chromium
from tools.peers import start_reference

EXPERIMENT = "ui-browser-experiment"
BIG_EXPERIMENT = "ui-browser-10k-runs"
BIG_RUNS = 10_000
MODEL = "ui-browser-model"
RUN_NAMES = ("alpha-run", "beta-run", "gamma-run")
TEXT = "hello from the artifacts pane\n"
STEPS = 12


def png(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    """A plain PNG image of one colour."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


@dataclass
class Logged:
    url: str
    experiment_id: str
    big_experiment_id: str
    run_ids: dict[str, str]  # run name -> run id


def log_with_client(url: str, workdir) -> Logged:
    """What a user of the 2.7.1 client logs: runs with params, metrics over steps, tags, a text
    file, an image and a registered model with two versions, stages and an alias."""
    import mlflow
    import numpy as np
    from mlflow import MlflowClient
    from sklearn.linear_model import LinearRegression

    mlflow.set_tracking_uri(url)
    client = MlflowClient(url)
    experiment_id = client.create_experiment(EXPERIMENT)
    run_ids = {}
    for i, name in enumerate(RUN_NAMES):
        run = client.create_run(experiment_id, run_name=name, tags={"team": f"team-{name}"})
        run_id = run.info.run_id
        client.log_param(run_id, "learning_rate", f"0.0{i + 1}")
        client.log_param(run_id, "depth", str(3 + i))
        for step in range(STEPS):
            loss = 1.0 / (step + 1 + i)
            client.log_metric(run_id, "loss", loss, timestamp=1000 + step, step=step)
        client.log_metric(run_id, "accuracy", 0.9 + i / 100)
        run_ids[name] = run_id
    first = run_ids[RUN_NAMES[0]]
    (workdir / "notes.txt").write_text(TEXT)
    (workdir / "plot.png").write_bytes(png(64, 48, (200, 30, 30)))
    client.log_artifact(first, str(workdir / "notes.txt"))
    client.log_artifact(first, str(workdir / "plot.png"), artifact_path="images")
    with mlflow.start_run(run_id=first):
        model = LinearRegression().fit(np.array([[0.0], [1.0]]), np.array([0.0, 1.0]))
        # Requirements given: the client would otherwise infer them in a subprocess (seconds).
        mlflow.sklearn.log_model(
            model, "model", registered_model_name=MODEL, pip_requirements=["scikit-learn"]
        )
    for name in RUN_NAMES:
        client.set_terminated(run_ids[name])
    source = f"{client.get_run(first).info.artifact_uri}/model"
    client.create_model_version(MODEL, source, first)
    client.transition_model_version_stage(MODEL, "1", "Production")
    client.transition_model_version_stage(MODEL, "2", "Staging")
    client.set_registered_model_alias(MODEL, "champion", "1")
    big = client.create_experiment(BIG_EXPERIMENT)
    return Logged(url, experiment_id, big, run_ids)


def create_many_runs(db_url: str, experiment_id: str, count: int) -> None:
    """`count` runs with a param and a metric each, written by the store itself (one transaction)
    rather than through `count` HTTP round trips."""
    store = open_store(db_url)
    try:
        bound = store.for_project(0)
        with bound.transaction():
            for i in range(count):
                run = bound.create_run(experiment_id, start_time=1_700_000_000_000 + i,
                                       run_name=f"bulk-{i:05d}")  # fmt: skip
                run_id = run["info"]["run_id"]
                bound.log_batch(
                    run_id,
                    metrics=[{"key": "score", "value": i / count, "timestamp": 1, "step": 0}],
                    params=[{"key": "index", "value": str(i)}],
                )
    finally:
        store.close()


@pytest.fixture(scope="session")
def ui_server(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("ui-server")
    db_url = f"sqlite:///{workdir / 'mlflow-compat.db'}"
    peer = start_reference(workdir, backend_store_uri=db_url)
    try:
        logged = log_with_client(peer.url, tmp_path_factory.mktemp("ui-client"))
        create_many_runs(db_url, logged.big_experiment_id, BIG_RUNS)
        yield logged
    finally:
        peer.stop()


@pytest.fixture(scope="session")
def browser():
    require_browser()
    chromium = start_chromium()
    yield chromium
    chromium.quit()
