"""Every tracking example of the seed page ("MLflow client compatibility"), run with the real
MLflow 2.7.1 client against the reference server. The examples and the checks both dialects
share are in tests/seed_examples.py; the stock dialect's own checks are here."""

from __future__ import annotations

import uuid

import mlflow
import numpy as np
import pytest
from mlflow import MlflowClient

from tests import seed_examples


def _name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def test_creating_an_experiment(tracking_uri):
    name = _name("seed-exp")
    experiment_id = seed_examples.creating_an_experiment(name, _name("seed-exp-set"))
    experiment = MlflowClient().get_experiment_by_name(name)
    assert experiment.lifecycle_stage == "active"
    assert experiment.artifact_location == f"mlflow-artifacts:/{experiment_id}"


def test_creating_a_run(tracking_uri):
    seed_examples.creating_a_run(_name("seed-run"))


def test_logging_parameters_and_metrics(tracking_uri):
    run = seed_examples.logging_parameters_and_metrics(_name("seed-params"))
    history = MlflowClient().get_metric_history(run.info.run_id, "metrics_1")
    assert [m.value for m in history] == [1.0, 2.0]


def test_logging_artifacts(tracking_uri, tmp_path):
    local = tmp_path / "file.txt"
    local.write_text("some local content\n")
    run = seed_examples.logging_artifacts(_name("seed-artifacts"), str(local), "sub/dir")
    client = MlflowClient()
    run_id = run.info.run_id
    assert [(f.path, f.is_dir) for f in client.list_artifacts(run_id)] == [
        ("hello.txt", False),
        ("sub", True),
    ]
    assert [f.path for f in client.list_artifacts(run_id, "sub/dir")] == ["sub/dir/file.txt"]
    out = tmp_path / "out"
    out.mkdir()
    path = mlflow.artifacts.download_artifacts(run_id=run_id, dst_path=str(out))
    assert (out / "hello.txt").read_text() == "Hello, World!"
    assert (out / "sub" / "dir" / "file.txt").read_text() == "some local content\n"
    assert path.rstrip("/") == str(out)


def test_logging_models(tracking_uri):
    run, model, X_train = seed_examples.logging_a_model(_name("seed-model"))
    run_data = MlflowClient().get_run(run.info.run_id).data
    history = run_data.tags["mlflow.log-model.history"]
    assert '"artifact_path": "model"' in history
    assert "sklearn" in history
    loaded = mlflow.pyfunc.load_model(f"runs:/{run.info.run_id}/model")
    assert np.array_equal(loaded.predict(X_train), model.predict(X_train))


@pytest.mark.parametrize("gitlab_ci", [True, False])
def test_associating_a_run_to_a_ci_job(tracking_uri, monkeypatch, gitlab_ci):
    seed_examples.associating_a_run_to_a_ci_job(_name("seed-ci"), monkeypatch, gitlab_ci)
