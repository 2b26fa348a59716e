"""Models: log_model with a model flavor, and load_model from the registry as the seed does.

Core scenarios log the model at the run's artifact root (artifact_path=""), as GitLab's
caveat asks; the probe logs it under a sub-path, as stock MLflow users usually do. load_model
loads `models:/<name>/<version>` and `models:/<name>/latest`, the seed's examples.
Requirements are given explicitly: inferring them costs seconds and sends nothing different.
MLflow 3 clients name the model (`name=`, not empty) and keep its files in a LoggedModel of its
own rather than in the run's artifacts: conformance.compat says where to read them back.
"""

from __future__ import annotations

import json
from pathlib import Path

import mlflow
import pytest
import yaml

from conformance import compat

REQUIREMENTS = ["scikit-learn"]
X, Y = [[0.0], [1.0], [2.0], [3.0]], [0, 0, 1, 1]


def _model():
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression().fit(X, Y)


def _log_model(sandbox, artifact_path: str = "", check_remote: bool = True):
    """Log a fitted sklearn model in a fresh run the seed's way: (run id, the ModelInfo)."""
    sandbox.experiment()
    with mlflow.start_run() as run:
        if check_remote:
            sandbox.assert_remote_artifacts(run.info.run_id)
        info = mlflow.sklearn.log_model(
            _model(), **compat.log_model_kwargs(artifact_path), pip_requirements=REQUIREMENTS
        )
    return run.info.run_id, info


def _data_file(mlmodel: str) -> str:
    """The file the MLmodel's sklearn flavor keeps the model in (model.pkl; 3.x: model.skops)."""
    flavors = yaml.safe_load(mlmodel).get("flavors", {})
    assert "sklearn" in flavors, f"MLmodel flavors: {sorted(flavors)}"
    return flavors["sklearn"]["pickled_model"]


def _assert_model_files(sandbox, run_id: str, info, path: str) -> None:
    """The logged model's MLmodel and data file list and read back where the client put them."""
    if compat.MLFLOW_3:
        read = compat.read_model_file
        data = _data_file(read(info, "MLmodel", sandbox.workdir).decode())
        listed = compat.list_model_files(info)
        assert {"MLmodel", data} <= listed, f"the logged model's files: {listed}"
        assert read(info, data, sandbox.workdir), f"{data} is empty"
        return
    under = f"{path}/" if path else ""
    data = _data_file(sandbox.artifact_text(run_id, f"{under}MLmodel"))
    expected = {f"{under}MLmodel": False, f"{under}{data}": False}
    sandbox.assert_listed(run_id, path or None, expected, exact=False)
    assert sandbox.artifact_bytes(run_id, f"{under}{data}"), f"{under}{data} is empty"


def _history(sandbox, run_id: str) -> list[dict]:
    raw = sandbox.client.get_run(run_id).data.tags.get("mlflow.log-model.history")
    return json.loads(raw) if raw else []


@pytest.mark.row("log_model")
def test_log_model_saves_artifacts(sandbox):
    """mlflow.sklearn.log_model(model, artifact_path="") uploads the model's files"""
    run_id, info = _log_model(sandbox)
    _assert_model_files(sandbox, run_id, info, "")


@pytest.mark.row("log_model")
def test_log_model_sends_model_data(sandbox):
    """mlflow.sklearn.log_model sends the model data, and the server accepts it (runs/log-model)"""
    # Where the files went is the other scenario's business: this one is about the model data.
    run_id, _ = _log_model(sandbox, check_remote=False)
    calls = compat.model_data_exchanges(sandbox)
    assert calls, "the client sent no model data (runs/log-model; 3.x: logged-models)"
    # The client swallows a failed runs/log-model with a warning: the answer says it all.
    assert all(e.ok for e in calls), "sending the model data failed: " + calls[-1].summary()
    assert run_id


@pytest.mark.probe("log_model.no_model_data")
def test_log_model_data_on_the_run(sandbox):
    """the run's mlflow.log-model.history tag lists the logged model and its flavors"""
    run_id, info = _log_model(sandbox, check_remote=False)
    if compat.MLFLOW_3:  # the model data is a LoggedModel of the run's, not a tag
        model = sandbox.client.get_logged_model(info.model_id)
        assert model.source_run_id == run_id, f"the logged model's run: {model.source_run_id}"
        return
    history = _history(sandbox, run_id)
    assert history, "no mlflow.log-model.history tag on the run"
    assert "sklearn" in history[-1].get("flavors", {}), f"history: {history}"


@pytest.mark.probe("log_model.artifact_path_empty")
def test_log_model_with_artifact_path(sandbox):
    """mlflow.sklearn.log_model(model, artifact_path="model") puts the model under model/"""
    run_id, info = _log_model(sandbox, "model")
    _assert_model_files(sandbox, run_id, info, "model")


def _registered(sandbox) -> tuple[str, str]:
    """A model logged in a run and registered as a version of a new model: (name, version)."""
    client = sandbox.client
    run_id, info = _log_model(sandbox)
    name = sandbox.name("model")
    client.create_registered_model(name)
    source = compat.model_source(client.get_run(run_id).info.artifact_uri, info)
    version = client.create_model_version(
        name, source=source, run_id=run_id, **compat.model_version_kwargs(info)
    ).version
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
def test_load_model_file_by_version(sandbox):
    """mlflow.artifacts.download_artifacts("models:/<name>/<version>/requirements.txt") fetches
    one file of a version, as MLflow's docs advise before loading a model"""
    name, version = _registered(sandbox)
    dst = sandbox.workdir / "one-file"
    dst.mkdir()
    path = mlflow.artifacts.download_artifacts(
        f"models:/{name}/{version}/requirements.txt", dst_path=str(dst)
    )
    assert "scikit-learn" in Path(path).read_text()


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
