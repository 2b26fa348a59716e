"""Experiments: create, read, find by name, delete, set active."""

from __future__ import annotations

import mlflow
import pytest


@pytest.mark.row("create_experiment")
def test_create_experiment_fluent(sandbox):
    """mlflow.create_experiment(name) creates an experiment readable by id"""
    name = sandbox.name("create")
    experiment_id = mlflow.create_experiment(name=name)
    experiment = mlflow.get_experiment(experiment_id)
    assert experiment.name == name, f"created {name!r}, read back {experiment.name!r}"
    assert experiment.lifecycle_stage == "active"


@pytest.mark.row("create_experiment")
def test_create_experiment_client(sandbox):
    """MlflowClient.create_experiment(name, tags) creates an experiment with its tags"""
    name = sandbox.name("create")
    experiment_id = sandbox.client.create_experiment(name, tags={"team": "conformance"})
    experiment = sandbox.client.get_experiment(experiment_id)
    assert experiment.name == name
    assert experiment.tags.get("team") == "conformance", f"tags read back: {experiment.tags}"


@pytest.mark.row("get_experiment")
def test_get_experiment_fluent(sandbox):
    """mlflow.get_experiment(id) returns the experiment's id, name and stage"""
    name = sandbox.name("get")
    experiment_id = mlflow.create_experiment(name)
    experiment = mlflow.get_experiment(experiment_id)
    assert (experiment.experiment_id, experiment.name) == (experiment_id, name)
    assert experiment.lifecycle_stage == "active"


@pytest.mark.row("get_experiment")
def test_get_experiment_client(sandbox):
    """MlflowClient.get_experiment(id) returns the experiment"""
    experiment_id = sandbox.client.create_experiment(sandbox.name("get"))
    assert sandbox.client.get_experiment(experiment_id).experiment_id == experiment_id


@pytest.mark.row("get_experiment_by_name")
def test_get_experiment_by_name_fluent(sandbox):
    """mlflow.get_experiment_by_name finds an experiment, and answers None for an unknown name"""
    name = sandbox.name("by-name")
    experiment_id = mlflow.create_experiment(name)
    found = mlflow.get_experiment_by_name(name)
    assert found is not None and found.experiment_id == experiment_id
    assert mlflow.get_experiment_by_name(sandbox.name("never-created")) is None


@pytest.mark.row("get_experiment_by_name")
def test_get_experiment_by_name_client(sandbox):
    """MlflowClient.get_experiment_by_name finds an experiment"""
    name = sandbox.name("by-name")
    experiment_id = sandbox.client.create_experiment(name)
    assert sandbox.client.get_experiment_by_name(name).experiment_id == experiment_id


def _gone_or_deleted(client, experiment_id: str) -> bool:
    try:
        return client.get_experiment(experiment_id).lifecycle_stage == "deleted"
    except mlflow.exceptions.MlflowException as e:
        return e.error_code == "RESOURCE_DOES_NOT_EXIST"


@pytest.mark.row("delete_experiment")
def test_delete_experiment_fluent(sandbox):
    """mlflow.delete_experiment(id) deletes the experiment"""
    experiment_id = mlflow.create_experiment(sandbox.name("delete"))
    mlflow.delete_experiment(experiment_id)
    assert _gone_or_deleted(sandbox.client, experiment_id), "experiment still active"


@pytest.mark.row("delete_experiment")
def test_delete_experiment_client(sandbox):
    """MlflowClient.delete_experiment(id) deletes an experiment that has runs"""
    experiment_id = sandbox.client.create_experiment(sandbox.name("delete"))
    sandbox.client.create_run(experiment_id)
    sandbox.client.delete_experiment(experiment_id)
    assert _gone_or_deleted(sandbox.client, experiment_id), "experiment still active"


@pytest.mark.row("set_experiment")
def test_set_experiment_creates_then_reuses(sandbox):
    """mlflow.set_experiment(experiment_name=...) creates a new experiment, then reuses it"""
    name = sandbox.name("set")
    first = mlflow.set_experiment(experiment_name=name)
    assert first.name == name
    again = mlflow.set_experiment(experiment_name=name)
    assert again.experiment_id == first.experiment_id
    with mlflow.start_run() as run:
        assert run.info.experiment_id == first.experiment_id


@pytest.mark.row("set_experiment")
def test_set_experiment_by_id(sandbox):
    """mlflow.set_experiment(experiment_id=...) activates an existing experiment"""
    experiment_id = sandbox.client.create_experiment(sandbox.name("set"))
    assert mlflow.set_experiment(experiment_id=experiment_id).experiment_id == experiment_id
