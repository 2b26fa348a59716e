"""Models: log_model with a model flavor, and load_model from the registry as the seed does.

Core scenarios log the model at the run's artifact root (artifact_path=""), as GitLab's
caveat asks; the probe logs it under a sub-path, as stock MLflow users usually do. load_model
loads `models:/<name>/<version>` and `models:/<name>/latest`, the seed's examples.
Requirements are given explicitly: inferring them costs seconds and sends nothing different.
"""

from __future__ import annotations

import json

import mlflow
import pytest

REQUIREMENTS = ["scikit-learn"]
X, Y = [[0.0], [1.0], [2.0], [3.0]], [0, 0, 1, 1]


def _model():
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression().fit(X, Y)


def _log_model(sandbox, artifact_path: str = "", check_remote: bool = True) -> str:
    """Log a fitted sklearn model in a fresh run the seed's way; returns the run id."""
    sandbox.experiment()
    with mlflow.start_run() as run:
        if check_remote:
            sandbox.assert_remote_artifacts(run.info.run_id)
        mlflow.sklearn.log_model(
            _model(), artifact_path=artifact_path, pip_requirements=REQUIREMENTS
        )
    return run.info.run_id


def _history(sandbox, run_id: str) -> list[dict]:
    raw = sandbox.client.get_run(run_id).data.tags.get("mlflow.log-model.history")
    return json.loads(raw) if raw else []


@pytest.mark.row("log_model")
def test_log_model_saves_artifacts(sandbox):
    """mlflow.sklearn.log_model(model, artifact_path="") uploads the model's files"""
    run_id = _log_model(sandbox)
    sandbox.assert_listed(run_id, None, {"MLmodel": False, "model.pkl": False}, exact=False)
    assert "sklearn:" in sandbox.artifact_text(run_id, "MLmodel")
    assert sandbox.artifact_bytes(run_id, "model.pkl"), "model.pkl is empty"


@pytest.mark.row("log_model")
def test_log_model_sends_model_data(sandbox):
    """mlflow.sklearn.log_model sends the model data, and the server accepts it (runs/log-model)"""
    # Where the files went is the other scenario's business: this one is about the model data.
    run_id = _log_model(sandbox, check_remote=False)
    calls = sandbox.exchanges("logModel")
    assert calls, "the client sent no runs/log-model"
    # The client swallows a failed runs/log-model with a warning: the answer says it all.
    assert all(e.ok for e in calls), "runs/log-model failed: " + calls[-1].summary()
    assert run_id


@pytest.mark.probe("log_model.no_model_data")
def test_log_model_data_on_the_run(sandbox):
    """the run's mlflow.log-model.history tag lists the logged model and its flavors"""
    run_id = _log_model(sandbox, check_remote=False)
    history = _history(sandbox, run_id)
    assert history, "no mlflow.log-model.history tag on the run"
    assert "sklearn" in history[-1].get("flavors", {}), f"history: {history}"


@pytest.mark.probe("log_model.artifact_path_empty")
def test_log_model_with_artifact_path(sandbox):
    """mlflow.sklearn.log_model(model, artifact_path="model") puts the model under model/"""
    run_id = _log_model(sandbox, "model")
    expected = {"model/MLmodel": False, "model/model.pkl": False}
    sandbox.assert_listed(run_id, "model", expected, exact=False)
    assert "sklearn:" in sandbox.artifact_text(run_id, "model/MLmodel")
    assert sandbox.artifact_bytes(run_id, "model/model.pkl"), "model/model.pkl is empty"


def _registered(sandbox) -> tuple[str, str]:
    """A model logged in a run and registered as a version of a new model: (name, version)."""
    client = sandbox.client
    run_id = _log_model(sandbox)
    name = sandbox.name("model")
    client.create_registered_model(name)
    source = client.get_run(run_id).info.artifact_uri
    version = client.create_model_version(name, source=source, run_id=run_id).version
    backing = client.get_model_version(name, version).run_id
    if backing and backing != run_id:
        # The server backs each version with a run of its own (GitLab: "Every model version
        # behaves as a run") and reads the version's files from there: log them there, as its
        # documentation does.
        sandbox.assert_remote_artifacts(backing)
        saved = sandbox.workdir / "saved-model"
        mlflow.sklearn.save_model(_model(), str(saved), pip_requirements=REQUIREMENTS)
        client.log_artifacts(backing, str(saved))
    return name, version


@pytest.mark.row("load_model")
def test_load_model_by_version(sandbox):
    """mlflow.pyfunc.load_model("models:/<name>/<version>") predicts"""
    name, version = _registered(sandbox)
    loaded = mlflow.pyfunc.load_model(f"models:/{name}/{version}")
    assert list(loaded.predict([[3.0]])) == [1]


@pytest.mark.row("load_model")
def test_load_model_latest(sandbox):
    """mlflow.pyfunc.load_model("models:/<name>/latest") predicts"""
    name, _ = _registered(sandbox)
    loaded = mlflow.pyfunc.load_model(f"models:/{name}/latest")
    assert list(loaded.predict([[3.0]])) == [1]


@pytest.mark.row("load_model")
def test_load_model_sklearn_flavor(sandbox):
    """mlflow.sklearn.load_model("models:/<name>/<version>") returns the estimator"""
    name, version = _registered(sandbox)
    assert list(mlflow.sklearn.load_model(f"models:/{name}/{version}").predict([[3.0]])) == [1]
