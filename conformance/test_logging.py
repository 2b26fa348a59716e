"""Params, metrics and tags, one at a time and in batches."""

from __future__ import annotations

import time

import mlflow
import pytest
from mlflow.entities import Metric, Param, RunTag


@pytest.mark.row("log_batch")
def test_log_batch(sandbox):
    """MlflowClient.log_batch(run_id, metrics, params, tags) logs all three"""
    run_id = sandbox.run()
    now = int(time.time() * 1000)
    sandbox.client.log_batch(
        run_id,
        metrics=[Metric("loss", 0.5, now, 0), Metric("loss", 0.25, now + 1, 1)],
        params=[Param("lr", "0.01"), Param("epochs", "2")],
        tags=[RunTag("stage", "train")],
    )
    data = sandbox.client.get_run(run_id).data
    assert data.metrics == {"loss": 0.25}
    assert data.params == {"lr": "0.01", "epochs": "2"}
    assert data.tags.get("stage") == "train"


@pytest.mark.row("log_metric")
def test_log_metric_fluent(sandbox):
    """mlflow.log_metric twice with one key: the run shows the latest value"""
    sandbox.experiment()
    with mlflow.start_run() as run:
        mlflow.log_metric(key="metrics_1", value=1)
        mlflow.log_metric(key="metrics_1", value=2)
    assert sandbox.client.get_run(run.info.run_id).data.metrics == {"metrics_1": 2.0}


@pytest.mark.row("log_metric")
def test_log_metric_client(sandbox):
    """MlflowClient.log_metric(run_id, key, value, step=...)"""
    run_id = sandbox.run()
    sandbox.client.log_metric(run_id, "acc", 0.75, step=3)
    assert sandbox.client.get_run(run_id).data.metrics == {"acc": 0.75}


@pytest.mark.row("log_metrics")
def test_log_metrics(sandbox):
    """mlflow.log_metrics({...}, step=...) logs every metric"""
    sandbox.experiment()
    with mlflow.start_run() as run:
        mlflow.log_metrics({"a": 1.0, "b": 2.0}, step=1)
    assert sandbox.client.get_run(run.info.run_id).data.metrics == {"a": 1.0, "b": 2.0}


@pytest.mark.row("log_param")
def test_log_param_fluent(sandbox):
    """mlflow.log_param(key, value) stores the value as a string"""
    sandbox.experiment()
    with mlflow.start_run() as run:
        mlflow.log_param(key="param_1", value=1)
    assert sandbox.client.get_run(run.info.run_id).data.params == {"param_1": "1"}


@pytest.mark.row("log_param")
def test_log_param_client(sandbox):
    """MlflowClient.log_param(run_id, key, value)"""
    run_id = sandbox.run()
    sandbox.client.log_param(run_id, "depth", 4)
    assert sandbox.client.get_run(run_id).data.params == {"depth": "4"}


@pytest.mark.row("log_params")
def test_log_params(sandbox):
    """mlflow.log_params({...}) logs every param"""
    sandbox.experiment()
    with mlflow.start_run() as run:
        mlflow.log_params({"alpha": 0.5, "solver": "lbfgs"})
    assert sandbox.client.get_run(run.info.run_id).data.params == {
        "alpha": "0.5",
        "solver": "lbfgs",
    }


@pytest.mark.row("set_tag")
def test_set_tag_fluent(sandbox):
    """mlflow.set_tag(key, value) on the active run"""
    sandbox.experiment()
    with mlflow.start_run() as run:
        mlflow.set_tag("gitlab.CI_JOB_ID", "1234")
    assert sandbox.client.get_run(run.info.run_id).data.tags.get("gitlab.CI_JOB_ID") == "1234"


@pytest.mark.row("set_tag")
def test_set_tag_client(sandbox):
    """MlflowClient.set_tag(run_id, key, value)"""
    run_id = sandbox.run()
    sandbox.client.set_tag(run_id, "owner", "conformance")
    assert sandbox.client.get_run(run_id).data.tags.get("owner") == "conformance"


@pytest.mark.row("set_tags")
def test_set_tags(sandbox):
    """mlflow.set_tags({...}) sets every tag"""
    sandbox.experiment()
    with mlflow.start_run() as run:
        mlflow.set_tags({"x": "1", "y": "2"})
    tags = sandbox.client.get_run(run.info.run_id).data.tags
    assert (tags.get("x"), tags.get("y")) == ("1", "2")
