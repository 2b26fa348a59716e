"""Runs: start, read, search, finish, update, delete."""

from __future__ import annotations

import time

import mlflow
import pytest


@pytest.mark.row("start_run")
def test_start_run_context_manager(sandbox):
    """with mlflow.start_run(run_name=...) runs RUNNING inside and FINISHED after"""
    sandbox.experiment()
    name = sandbox.name("run")
    with mlflow.start_run(run_name=name) as run:
        assert run.info.run_id
        assert mlflow.get_run(run.info.run_id).info.status == "RUNNING"
    finished = mlflow.get_run(run.info.run_id)
    assert finished.info.run_name == name, f"run_name read back: {finished.info.run_name!r}"
    assert finished.info.status == "FINISHED", f"status after the block: {finished.info.status}"


@pytest.mark.row("start_run")
def test_create_run_client(sandbox):
    """MlflowClient.create_run(experiment_id) creates a run in that experiment"""
    experiment_id = sandbox.experiment()
    run = sandbox.client.create_run(experiment_id, tags={"k": "v"})
    assert run.info.experiment_id == experiment_id
    assert sandbox.client.get_run(run.info.run_id).data.tags.get("k") == "v"


@pytest.mark.probe("start_run.random_run_name")
def test_start_run_without_name_gets_one(sandbox):
    """start_run() without a name: the run gets a generated name"""
    sandbox.experiment()
    with mlflow.start_run() as run:
        pass
    assert mlflow.get_run(run.info.run_id).info.run_name, "the run has no name"


@pytest.mark.row("get_run")
def test_get_run_fluent(sandbox):
    """mlflow.get_run(run_id) returns the run with its params, metrics and tags"""
    sandbox.experiment()
    with mlflow.start_run() as run:
        mlflow.log_param("p", "1")
        mlflow.log_metric("m", 2.5)
        mlflow.set_tag("t", "x")
    got = mlflow.get_run(run.info.run_id)
    assert got.info.run_id == run.info.run_id
    assert got.data.params == {"p": "1"}
    assert got.data.metrics == {"m": 2.5}
    assert got.data.tags.get("t") == "x"


@pytest.mark.row("get_run")
def test_get_run_client(sandbox):
    """MlflowClient.get_run(run_id) returns the run's info"""
    run_id = sandbox.run()
    got = sandbox.client.get_run(run_id)
    assert got.info.run_id == run_id
    assert got.info.lifecycle_stage == "active"


def _gone_or_deleted(client, run_id: str) -> bool:
    try:
        return client.get_run(run_id).info.lifecycle_stage == "deleted"
    except mlflow.exceptions.MlflowException as e:
        return e.error_code == "RESOURCE_DOES_NOT_EXIST"


@pytest.mark.row("delete_run")
def test_delete_run_fluent(sandbox):
    """mlflow.delete_run(run_id) deletes the run"""
    sandbox.experiment()
    with mlflow.start_run() as run:
        pass
    mlflow.delete_run(run.info.run_id)
    assert _gone_or_deleted(sandbox.client, run.info.run_id), "run still active"


@pytest.mark.row("delete_run")
def test_delete_run_client(sandbox):
    """MlflowClient.delete_run(run_id) deletes the run"""
    run_id = sandbox.run()
    sandbox.client.delete_run(run_id)
    assert _gone_or_deleted(sandbox.client, run_id), "run still active"


def _runs_with_metric(experiment_id: str, values: list[float]) -> list[str]:
    mlflow.set_experiment(experiment_id=experiment_id)
    ids = []
    for value in values:
        with mlflow.start_run() as run:
            mlflow.log_metric("score", value)
        ids.append(run.info.run_id)
        time.sleep(0.01)  # distinct start times, so ordering by start_time is deterministic
    return ids


@pytest.mark.row("search_runs")
def test_search_runs_fluent(sandbox):
    """mlflow.search_runs over one experiment, ordered by a metric"""
    experiment_id = sandbox.experiment()
    ids = _runs_with_metric(experiment_id, [1.0, 3.0, 2.0])
    runs = mlflow.search_runs(
        experiment_ids=[experiment_id], order_by=["metrics.score DESC"], output_format="list"
    )
    assert [r.info.run_id for r in runs] == [ids[1], ids[2], ids[0]]


@pytest.mark.row("search_runs")
def test_search_runs_client(sandbox):
    """MlflowClient.search_runs over one experiment ordered by a column, and with a filter"""
    experiment_id = sandbox.experiment()
    ids = _runs_with_metric(experiment_id, [1.0, 3.0])
    runs = sandbox.client.search_runs([experiment_id], order_by=["attributes.start_time ASC"])
    assert [r.info.run_id for r in runs] == ids
    found = sandbox.client.search_runs([experiment_id], filter_string="metrics.score > 2")
    assert [r.info.run_id for r in found] == [ids[1]]


@pytest.mark.probe("search_runs.single_experiment_id_with_order_by")
def test_search_runs_two_experiments(sandbox):
    """search_runs over two experiment ids, ordered by a metric"""
    first, second = sandbox.experiment(), sandbox.experiment()
    low = _runs_with_metric(first, [1.0])
    high = _runs_with_metric(second, [5.0])
    runs = mlflow.search_runs(
        experiment_ids=[first, second], order_by=["metrics.score DESC"], output_format="list"
    )
    assert [r.info.run_id for r in runs] == high + low


@pytest.mark.row("set_terminated")
def test_set_terminated(sandbox):
    """MlflowClient.set_terminated(run_id, status) ends the run with that status"""
    run_id = sandbox.run()
    sandbox.client.set_terminated(run_id, status="FAILED")
    info = sandbox.client.get_run(run_id).info
    assert info.status == "FAILED"
    assert info.end_time, "no end_time"


@pytest.mark.row("end_run")
def test_end_run(sandbox):
    """mlflow.end_run() finishes the active run"""
    sandbox.experiment()
    run = mlflow.start_run()
    mlflow.end_run()
    assert mlflow.active_run() is None
    info = mlflow.get_run(run.info.run_id).info
    assert info.status == "FINISHED" and info.end_time


@pytest.mark.row("end_run")
def test_end_run_with_status(sandbox):
    """mlflow.end_run(status="KILLED") ends the run with that status"""
    sandbox.experiment()
    run = mlflow.start_run()
    mlflow.end_run(status="KILLED")
    assert mlflow.get_run(run.info.run_id).info.status == "KILLED"


@pytest.mark.row("update_run")
def test_update_run(sandbox):
    """MlflowClient.update_run(run_id, status, name) changes the status and the name"""
    run_id = sandbox.run()
    name = sandbox.name("renamed")
    sandbox.client.update_run(run_id, status="FINISHED", name=name)
    info = sandbox.client.get_run(run_id).info
    assert (info.status, info.run_name) == ("FINISHED", name)
