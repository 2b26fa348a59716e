"""The tracking API through the real MLflow 2.7.1 client (MlflowClient and fluent API)."""

from __future__ import annotations

import math
import sys
import time
import uuid

import mlflow
import pandas as pd
import pytest
from mlflow import MlflowClient
from mlflow.entities import Metric, Param, RunTag, ViewType
from mlflow.exceptions import MlflowException


def _name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def client(tracking_uri):
    return MlflowClient()


def _error_code(excinfo) -> str:
    return excinfo.value.error_code


def test_default_experiment_exists(client):
    default = client.get_experiment("0")
    assert default.name == "Default"
    assert default.lifecycle_stage == "active"


def test_experiment_lifecycle(client):
    name = _name("exp")
    exp_id = client.create_experiment(name, tags={"team": "a", "owner": "b"})
    exp = client.get_experiment(exp_id)
    assert exp.name == name
    assert exp.tags == {"team": "a", "owner": "b"}
    assert exp.creation_time <= exp.last_update_time

    client.set_experiment_tag(exp_id, "team", "c")
    assert client.get_experiment(exp_id).tags["team"] == "c"

    client.rename_experiment(exp_id, name + "-renamed")
    assert client.get_experiment_by_name(name) is None
    assert client.get_experiment_by_name(name + "-renamed").experiment_id == exp_id

    client.delete_experiment(exp_id)
    assert client.get_experiment(exp_id).lifecycle_stage == "deleted"
    deleted = client.search_experiments(view_type=ViewType.DELETED_ONLY)
    assert exp_id in {e.experiment_id for e in deleted}
    client.restore_experiment(exp_id)
    assert client.get_experiment(exp_id).lifecycle_stage == "active"


def test_experiment_errors(client):
    name = _name("dup")
    client.create_experiment(name)
    with pytest.raises(MlflowException) as e:
        client.create_experiment(name)
    assert _error_code(e) == "RESOURCE_ALREADY_EXISTS"
    with pytest.raises(MlflowException) as e:
        client.get_experiment("987654321")
    assert _error_code(e) == "RESOURCE_DOES_NOT_EXIST"
    with pytest.raises(MlflowException) as e:
        client.create_experiment("")
    assert _error_code(e) == "INVALID_PARAMETER_VALUE"


def test_set_experiment_refuses_deleted(tracking_uri):
    name = _name("deleted")
    exp_id = mlflow.create_experiment(name)
    MlflowClient().delete_experiment(exp_id)
    with pytest.raises(MlflowException):
        mlflow.set_experiment(name)


def test_search_experiments_filter_order_and_pages(client):
    prefix = _name("search")
    ids = [client.create_experiment(f"{prefix}-{i}", tags={"i": str(i)}) for i in range(5)]
    found = client.search_experiments(
        filter_string=f"name LIKE '{prefix}-%'", order_by=["name DESC"]
    )
    assert [e.experiment_id for e in found] == ids[::-1]
    tagged = client.search_experiments(filter_string=f"name LIKE '{prefix}%' AND tags.i = '3'")
    assert [e.experiment_id for e in tagged] == [ids[3]]
    page1 = client.search_experiments(
        max_results=2, filter_string=f"name LIKE '{prefix}%'", order_by=["name ASC"]
    )
    assert [e.experiment_id for e in page1] == ids[:2] and page1.token
    page2 = client.search_experiments(
        max_results=2,
        filter_string=f"name LIKE '{prefix}%'",
        order_by=["name ASC"],
        page_token=page1.token,
    )
    assert [e.experiment_id for e in page2] == ids[2:4]


def test_run_lifecycle(client):
    exp_id = client.create_experiment(_name("runs"))
    run = client.create_run(exp_id, tags={"a": "b"}, run_name="my-run")
    assert run.info.run_name == "my-run"
    assert run.info.status == "RUNNING"
    assert run.info.artifact_uri == f"mlflow-artifacts:/{exp_id}/{run.info.run_id}/artifacts"
    assert run.data.tags["a"] == "b"
    assert run.data.tags["mlflow.runName"] == "my-run"

    client.update_run(run.info.run_id, status="KILLED", name="renamed")
    fetched = client.get_run(run.info.run_id)
    assert (fetched.info.status, fetched.info.run_name) == ("KILLED", "renamed")
    assert fetched.data.tags["mlflow.runName"] == "renamed"

    client.set_terminated(run.info.run_id, status="FINISHED", end_time=1234)
    fetched = client.get_run(run.info.run_id)
    assert (fetched.info.status, fetched.info.end_time) == ("FINISHED", 1234)

    client.delete_run(run.info.run_id)
    assert client.get_run(run.info.run_id).info.lifecycle_stage == "deleted"
    assert client.search_runs([exp_id]) == []
    assert len(client.search_runs([exp_id], run_view_type=ViewType.DELETED_ONLY)) == 1
    with pytest.raises(MlflowException) as e:
        client.log_param(run.info.run_id, "p", "v")
    assert _error_code(e) == "INVALID_PARAMETER_VALUE"
    client.restore_run(run.info.run_id)
    client.log_param(run.info.run_id, "p", "v")
    assert client.get_run(run.info.run_id).data.params == {"p": "v"}


def test_tags_overwrite_and_delete(client):
    run = client.create_run("0")
    client.set_tag(run.info.run_id, "k", "1")
    client.set_tag(run.info.run_id, "k", "2")
    assert client.get_run(run.info.run_id).data.tags["k"] == "2"
    client.delete_tag(run.info.run_id, "k")
    assert "k" not in client.get_run(run.info.run_id).data.tags
    with pytest.raises(MlflowException) as e:
        client.delete_tag(run.info.run_id, "k")
    assert _error_code(e) == "RESOURCE_DOES_NOT_EXIST"


def test_params_are_write_once(client):
    run = client.create_run("0")
    client.log_param(run.info.run_id, "lr", "0.1")
    client.log_param(run.info.run_id, "lr", "0.1")
    with pytest.raises(MlflowException) as e:
        client.log_param(run.info.run_id, "lr", "0.2")
    assert _error_code(e) == "INVALID_PARAMETER_VALUE"
    assert client.get_run(run.info.run_id).data.params == {"lr": "0.1"}


def test_special_metric_values_round_trip(client):
    run_id = client.create_run("0").info.run_id
    values = [float("nan"), float("inf"), float("-inf"), -0.5, 1e300]
    for step, value in enumerate(values):
        client.log_metric(run_id, "m", value, timestamp=1000 + step, step=step)
    history = client.get_metric_history(run_id, "m")
    got = [m.value for m in history]
    # As mlflow server 2.7.1's SQL store does, infinities are clamped to the largest doubles.
    big = sys.float_info.max
    assert math.isnan(got[0]) and got[1:] == [big, -big, -0.5, 1e300]
    assert [m.step for m in history] == list(range(5))
    assert client.get_run(run_id).data.metrics["m"] == 1e300


def test_log_batch_fluent_and_client(client, tracking_uri):
    mlflow.set_experiment(_name("batch"))
    with mlflow.start_run() as run:
        mlflow.log_params({f"p{i}": i for i in range(150)})  # two requests: 100 + 50
        mlflow.log_metrics({f"m{i}": i / 2 for i in range(1500)})
        mlflow.set_tags({"t1": "a", "t2": "b"})
    data = client.get_run(run.info.run_id).data
    assert len(data.params) == 150 and data.params["p149"] == "149"
    assert len(data.metrics) == 1500 and data.metrics["m1499"] == 749.5
    assert data.tags["t1"] == "a"

    ts = int(time.time() * 1000)
    client.log_batch(
        run.info.run_id,
        metrics=[Metric("x", float(i), ts + i, i) for i in range(1000)],
        params=[Param("extra", "1")],
        tags=[RunTag("t3", "c")],
    )
    assert len(client.get_metric_history(run.info.run_id, "x")) == 1000


def test_log_batch_is_atomic(client):
    run_id = client.create_run("0").info.run_id
    client.log_param(run_id, "fixed", "1")
    with pytest.raises(MlflowException) as e:
        client.log_batch(
            run_id,
            metrics=[Metric("good", 1.0, 1, 0)],
            params=[Param("new", "x"), Param("fixed", "2")],
        )
    assert _error_code(e) == "INVALID_PARAMETER_VALUE"
    data = client.get_run(run_id).data
    assert data.metrics == {} and data.params == {"fixed": "1"}


def test_log_input_dataset(tracking_uri, client):
    df = pd.DataFrame({"a": [1, 2, 3], "b": [4.0, 5.0, 6.0]})
    dataset = mlflow.data.from_pandas(df, name="train-set")
    mlflow.set_experiment(_name("inputs"))
    with mlflow.start_run() as run:
        mlflow.log_input(dataset, context="training")
    inputs = client.get_run(run.info.run_id).inputs.dataset_inputs
    assert len(inputs) == 1
    assert inputs[0].dataset.name == "train-set"
    assert inputs[0].dataset.digest == dataset.digest
    assert [(t.key, t.value) for t in inputs[0].tags] == [("mlflow.data.context", "training")]


def test_search_runs_filter_and_order(client):
    exp_id = client.create_experiment(_name("search-runs"))
    run_ids = []
    for i in range(12):
        run = client.create_run(exp_id, run_name=f"r{i:02d}", tags={"parity": str(i % 2)})
        client.log_metric(run.info.run_id, "loss", 1.0 / (i + 1), timestamp=1, step=0)
        client.log_param(run.info.run_id, "i", str(i))
        run_ids.append(run.info.run_id)
    runs = client.search_runs(
        [exp_id], "metrics.loss < 0.2 and tags.parity = '1'", order_by=["metrics.loss ASC"]
    )
    assert [r.info.run_name for r in runs] == ["r11", "r09", "r07", "r05"]
    runs = client.search_runs([exp_id], "params.i LIKE '1%'", order_by=["attributes.run_name DESC"])
    assert [r.info.run_name for r in runs] == ["r11", "r10", "r01"]
    page = client.search_runs([exp_id], max_results=5, order_by=["params.i ASC"])
    rest = client.search_runs(
        [exp_id], max_results=50, order_by=["params.i ASC"], page_token=page.token
    )
    assert len(page) == 5 and len(rest) == 7 and rest.token is None
    quoted = client.search_runs([exp_id], f"attributes.run_id IN ('{run_ids[0]}', '{run_ids[3]}')")
    assert {r.info.run_id for r in quoted} == {run_ids[0], run_ids[3]}
    with pytest.raises(MlflowException) as e:
        client.search_runs([exp_id], "metrics.loss ~ 1")
    assert _error_code(e) == "INVALID_PARAMETER_VALUE"


def test_fluent_search_runs_dataframe(tracking_uri):
    mlflow.set_experiment(_name("fluent-search"))
    for i in range(3):
        with mlflow.start_run(run_name=f"n{i}"):
            mlflow.log_metric("acc", i)
    frame = mlflow.search_runs(order_by=["metrics.acc DESC"])
    assert list(frame["tags.mlflow.runName"]) == ["n2", "n1", "n0"]
    assert list(frame["metrics.acc"]) == [2.0, 1.0, 0.0]


def test_missing_run(client):
    with pytest.raises(MlflowException) as e:
        client.get_run(uuid.uuid4().hex)
    assert _error_code(e) == "RESOURCE_DOES_NOT_EXIST"


def test_resume_run(tracking_uri, client):
    mlflow.set_experiment(_name("resume"))
    with mlflow.start_run() as run:
        mlflow.log_metric("a", 1)
    with mlflow.start_run(run_id=run.info.run_id):
        mlflow.log_metric("a", 2)
    fetched = client.get_run(run.info.run_id)
    assert fetched.info.status == "FINISHED"
    assert fetched.data.metrics["a"] == 2
