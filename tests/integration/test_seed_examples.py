"""Every tracking example of the seed page ("MLflow client compatibility"), run with the real
MLflow 2.7.1 client against the reference server. The code inside each `# seed` block is the
page's, unchanged except that placeholders like <your_experiment> are filled in."""

from __future__ import annotations

import uuid

import mlflow
import numpy as np
import pytest
from mlflow import MlflowClient


def _name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def test_creating_an_experiment(tracking_uri):
    name = _name("seed-exp")
    # seed
    experiment_id = mlflow.create_experiment(name=name)
    mlflow.set_experiment(experiment_name=name)
    # end seed
    experiment = MlflowClient().get_experiment_by_name(name)
    assert experiment.experiment_id == experiment_id
    assert experiment.lifecycle_stage == "active"
    assert experiment.artifact_location == f"mlflow-artifacts:/{experiment_id}"

    other = _name("seed-exp-set")
    created = mlflow.set_experiment(experiment_name=other)
    assert MlflowClient().get_experiment(created.experiment_id).name == other


def test_creating_a_run(tracking_uri):
    name = _name("seed-run")
    # seed
    mlflow.set_experiment(experiment_name=name)
    with mlflow.start_run() as run:
        print(run.info.run_id)
    with mlflow.start_run():
        pass
    # end seed
    client = MlflowClient()
    experiment = client.get_experiment_by_name(name)
    runs = client.search_runs([experiment.experiment_id])
    assert len(runs) == 2
    first = client.get_run(run.info.run_id)
    assert first.info.status == "FINISHED"
    assert first.info.end_time >= first.info.start_time
    # No name given: the server chose one and recorded it as the mlflow.runName tag.
    assert first.info.run_name
    assert first.data.tags["mlflow.runName"] == first.info.run_name
    assert {r.info.run_name for r in runs} == {r.data.tags["mlflow.runName"] for r in runs}


def test_logging_parameters_and_metrics(tracking_uri):
    name = _name("seed-params")
    # seed
    mlflow.set_experiment(experiment_name=name)
    with mlflow.start_run() as run:
        mlflow.log_param(key="param_1", value=1)
        mlflow.log_metric(key="metrics_1", value=1)
        mlflow.log_metric(key="metrics_1", value=2)
    # end seed
    client = MlflowClient()
    data = client.get_run(run.info.run_id).data
    assert data.params == {"param_1": "1"}
    assert data.metrics == {"metrics_1": 2.0}
    history = client.get_metric_history(run.info.run_id, "metrics_1")
    assert [m.value for m in history] == [1.0, 2.0]


def test_logging_artifacts(tracking_uri, tmp_path):
    name = _name("seed-artifacts")
    local = tmp_path / "file.txt"
    local.write_text("some local content\n")
    # seed
    mlflow.set_experiment(experiment_name=name)
    with mlflow.start_run() as run:
        mlflow.log_text("Hello, World!", artifact_file="hello.txt")
        mlflow.log_artifact(local_path=str(local), artifact_path="sub/dir")
    # end seed
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
    from sklearn.datasets import make_classification
    from sklearn.ensemble import RandomForestClassifier

    X_train, y_train = make_classification(n_samples=60, n_features=4, random_state=0)
    name = _name("seed-model")
    # seed
    mlflow.set_experiment(experiment_name=name)
    with mlflow.start_run() as run:
        model = RandomForestClassifier(n_estimators=10, random_state=42)
        model.fit(X_train, y_train)
        mlflow.sklearn.log_model(model, artifact_path="model")
    # end seed
    run_data = MlflowClient().get_run(run.info.run_id).data
    history = run_data.tags["mlflow.log-model.history"]
    assert '"artifact_path": "model"' in history
    assert "sklearn" in history
    loaded = mlflow.pyfunc.load_model(f"runs:/{run.info.run_id}/model")
    assert np.array_equal(loaded.predict(X_train), model.predict(X_train))


@pytest.mark.parametrize("gitlab_ci", [True, False])
def test_associating_a_run_to_a_ci_job(tracking_uri, monkeypatch, gitlab_ci):
    import os

    if gitlab_ci:
        monkeypatch.setenv("GITLAB_CI", "true")
        monkeypatch.setenv("CI_JOB_ID", "4242")
    else:
        monkeypatch.delenv("GITLAB_CI", raising=False)
    index = 7
    mlflow.set_experiment(experiment_name=_name("seed-ci"))
    # seed
    with mlflow.start_run(run_name=f"Run {index}") as run:
        if os.getenv("GITLAB_CI"):
            mlflow.set_tag("gitlab.CI_JOB_ID", os.getenv("CI_JOB_ID"))
    # end seed
    fetched = MlflowClient().get_run(run.info.run_id)
    assert fetched.info.run_name == "Run 7"
    assert fetched.data.tags.get("gitlab.CI_JOB_ID") == ("4242" if gitlab_ci else None)
