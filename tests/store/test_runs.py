"""Runs: create/get/update/delete/restore, logging, batches, limits, NaN/inf, inputs, models."""

from __future__ import annotations

import json
import math
import re

import pytest

from server.errors import MlflowError

MAX = 1.7976931348623157e308


def error(call, *args, **kwargs) -> MlflowError:
    with pytest.raises(MlflowError) as info:
        call(*args, **kwargs)
    return info.value


def metrics_of(store, run_id) -> dict:
    return {m["key"]: m for m in store.get_run(run_id)["data"].get("metrics", [])}


def test_create_run_shape(store, exp_id):
    run = store.create_run(exp_id, user_id="bob", start_time=123)
    info = run["info"]
    assert list(run) == ["info", "data"]  # runs/create carries no "inputs" in 2.7.1
    assert list(info) == [
        "run_uuid",
        "experiment_id",
        "run_name",
        "user_id",
        "status",
        "start_time",
        "artifact_uri",
        "lifecycle_stage",
        "run_id",
    ]
    assert re.fullmatch(r"[0-9a-f]{32}", info["run_id"]) and info["run_uuid"] == info["run_id"]
    assert info["experiment_id"] == exp_id and info["status"] == "RUNNING"
    assert info["artifact_uri"] == f"mlflow-artifacts:/{exp_id}/{info['run_id']}/artifacts"
    assert re.fullmatch(r"[a-z]+-[a-z]+-\d{1,4}", info["run_name"])
    assert run["data"] == {"tags": [{"key": "mlflow.runName", "value": info["run_name"]}]}


def test_create_run_defaults_like_the_wire(store, exp_id):
    info = store.create_run(exp_id)["info"]
    assert info["user_id"] == "" and info["start_time"] == 0 and "end_time" not in info


def test_run_name_and_tag_agree(store, exp_id):
    run = store.create_run(exp_id, run_name="n1")
    assert run["info"]["run_name"] == "n1"
    assert run["data"]["tags"] == [{"key": "mlflow.runName", "value": "n1"}]
    run = store.create_run(exp_id, tags=[{"key": "mlflow.runName", "value": "n2"}])
    assert run["info"]["run_name"] == "n2"
    e = error(
        store.create_run, exp_id, run_name="n1", tags=[{"key": "mlflow.runName", "value": "n2"}]
    )
    assert e.message == (
        "Both 'run_name' argument and 'mlflow.runName' tag are specified, but with different "
        "values (run_name='n1', mlflow.runName='n2')."
    )


def test_create_run_errors(store):
    assert error(store.create_run, "12345").message == "No Experiment with id=12345 exists"
    assert error(store.create_run, "").error_code == "BAD_REQUEST"


def test_get_run(store, run_id):
    run = store.get_run(run_id)
    assert list(run) == ["info", "data", "inputs"] and run["inputs"] == {}
    assert run["info"]["user_id"] == "alice" and run["info"]["start_time"] == 1000
    e = error(store.get_run, "0000")
    assert (e.error_code, e.message) == ("RESOURCE_DOES_NOT_EXIST", "Run with id=0000 not found")


def test_update_run_info(store, run_id):
    info = store.update_run_info(run_id, status="FINISHED", end_time=2000)
    assert info["status"] == "FINISHED" and info["end_time"] == 2000
    info = store.update_run_info(run_id, run_name="renamed")
    assert info["run_name"] == "renamed" and info["end_time"] == 2000
    tags = store.get_run(run_id)["data"]["tags"]
    assert {"key": "mlflow.runName", "value": "renamed"} in tags
    assert error(store.update_run_info, run_id, status="BOGUS").error_code == (
        "INVALID_PARAMETER_VALUE"
    )


def test_delete_restore_and_writes_to_deleted_run(store, run_id):
    store.delete_run(run_id)
    assert store.get_run(run_id)["info"]["lifecycle_stage"] == "deleted"
    message = f"The run {run_id} must be in the 'active' state. Current state is deleted."
    for call, args in [
        (store.log_metric, ("m", 1.0, 1)),
        (store.log_param, ("p", "v")),
        (store.set_tag, ("t", "v")),
        (store.delete_tag, ("t",)),
        (store.log_batch, ([{"key": "m", "value": 1, "timestamp": 1}],)),
        (store.update_run_info, ("FINISHED",)),
    ]:
        e = error(call, run_id, *args)
        assert (e.error_code, e.message) == ("INVALID_PARAMETER_VALUE", message)
    store.restore_run(run_id)
    assert store.get_run(run_id)["info"]["lifecycle_stage"] == "active"
    assert error(store.delete_run, "nope").error_code == "RESOURCE_DOES_NOT_EXIST"


def test_log_metric_latest_is_max_step_timestamp_value(store, run_id):
    store.log_metric(run_id, "m", 5.0, timestamp=10, step=1)
    store.log_metric(run_id, "m", 9.0, timestamp=5, step=0)  # older step: not latest
    store.log_metric(run_id, "m", 3.0, timestamp=10, step=1)  # same step+ts, lower value
    assert metrics_of(store, run_id)["m"] == {"key": "m", "value": 5.0, "timestamp": 10, "step": 1}
    store.log_metric(run_id, "m", 1.0, timestamp=11, step=1)
    assert metrics_of(store, run_id)["m"]["value"] == 1.0
    history, token = store.get_metric_history(run_id, "m")
    assert token is None and len(history) == 4


def test_nan_and_infinity_round_trip(store, run_id):
    store.log_metric(run_id, "nan", float("nan"), 1)
    store.log_metric(run_id, "inf", float("inf"), 1)
    store.log_metric(run_id, "ninf", float("-inf"), 1, step=3)
    latest = metrics_of(store, run_id)
    assert math.isnan(latest["nan"]["value"])
    # as 2.7.1: infinities are stored and returned as the largest finite doubles
    assert latest["inf"]["value"] == MAX and latest["ninf"]["value"] == -MAX
    history, _ = store.get_metric_history(run_id, "nan")
    assert math.isnan(history[0]["value"])


def test_metric_validation(store, run_id):
    e = error(store.log_metric, run_id, "m", "1.0", 1)
    assert e.message.startswith("Got invalid value 1.0 for metric 'm' (timestamp=1).")
    assert error(store.log_metric, run_id, "m", True, 1).error_code == "INVALID_PARAMETER_VALUE"
    assert "Got invalid timestamp -1" in error(store.log_metric, run_id, "m", 1.0, -1).message
    assert (
        "Invalid metric name: 'a/../b'" in error(store.log_metric, run_id, "a/../b", 1, 1).message
    )
    assert "Invalid metric name: 'a!'" in error(store.log_metric, run_id, "a!", 1, 1).message
    assert error(store.log_metric, "nope", "m", 1, 1).error_code == "RESOURCE_DOES_NOT_EXIST"


def test_metric_history_pages_and_missing_runs(store, run_id):
    for start in (0, 1000):
        points = range(start, start + 1000)
        store.log_batch(
            run_id, metrics=[{"key": "h", "value": i, "timestamp": i, "step": i} for i in points]
        )
    history, token = store.get_metric_history(run_id, "h")
    assert token is None and [m["step"] for m in history] == list(range(2000))
    steps, token, pages = [], None, 0
    while True:
        page, token = store.get_metric_history(run_id, "h", max_results=700, page_token=token)
        steps += [m["step"] for m in page]
        pages += 1
        if token is None:
            break
    assert pages == 3 and steps == list(range(2000))
    exact, token = store.get_metric_history(run_id, "h", max_results=2000)
    assert len(exact) == 2000 and token is None
    with pytest.raises(MlflowError) as e:
        store.get_metric_history(run_id, "h", max_results=5, page_token="x")
    assert e.value.error_code == "INVALID_PARAMETER_VALUE"
    assert store.get_metric_history("nonexistent", "h") == ([], None)


def test_params(store, run_id):
    store.log_param(run_id, "p", "1")
    store.log_param(run_id, "p", "1")  # same value again is fine
    e = error(store.log_param, run_id, "p", "2")
    assert e.message == (
        "Changing param values is not allowed. Param with key='p' was already logged with "
        f"value='1' for run ID='{run_id}'. Attempted logging new value '2'."
    )
    assert "Param value 'xxx" in error(store.log_param, run_id, "q", "x" * 501).message
    assert "Param key" in error(store.log_param, run_id, "k" * 251, "v").message


def test_tags(store, run_id):
    store.set_tag(run_id, "t", "1")
    store.set_tag(run_id, "t", "2")
    store.set_tag(run_id, "mlflow.runName", "via-tag")
    run = store.get_run(run_id)
    assert {"key": "t", "value": "2"} in run["data"]["tags"]
    assert run["info"]["run_name"] == "via-tag"
    store.delete_tag(run_id, "t")
    assert {"key": "t", "value": "2"} not in store.get_run(run_id)["data"]["tags"]
    e = error(store.delete_tag, run_id, "t")
    assert (e.error_code, e.message) == (
        "RESOURCE_DOES_NOT_EXIST",
        f"No tag with name: t in run with id {run_id}",
    )
    assert "Tag value" in error(store.set_tag, run_id, "t", "x" * 5001).message


def test_log_batch(store, run_id):
    store.log_param(run_id, "old", "1")
    store.log_batch(
        run_id,
        metrics=[{"key": f"m{i}", "value": i, "timestamp": 1, "step": 0} for i in range(900)],
        params=[{"key": "old", "value": "1"}, {"key": "new", "value": "2"}],
        tags=[{"key": "t", "value": "a"}, {"key": "t", "value": "b"}],
    )
    run = store.get_run(run_id)
    assert len(run["data"]["metrics"]) == 900
    assert {p["key"]: p["value"] for p in run["data"]["params"]} == {"old": "1", "new": "2"}
    assert {"key": "t", "value": "b"} in run["data"]["tags"]


def test_log_batch_is_atomic(store, run_id):
    store.log_param(run_id, "p", "1")
    e = error(
        store.log_batch,
        run_id,
        metrics=[{"key": "m", "value": 1.0, "timestamp": 1}],
        params=[{"key": "q", "value": "new"}, {"key": "p", "value": "2"}],
        tags=[{"key": "t", "value": "v"}],
    )
    assert e.message == (
        "Changing param values is not allowed. Params were already logged="
        f"'[{{'key': 'p', 'old_value': '1', 'new_value': '2'}}]' for run ID='{run_id}'."
    )
    run = store.get_run(run_id)
    assert "metrics" not in run["data"]
    assert run["data"]["params"] == [{"key": "p", "value": "1"}]
    assert [t["key"] for t in run["data"]["tags"]] == ["mlflow.runName"]


@pytest.mark.parametrize(
    "batch, message",
    [
        (
            {"metrics": [{"key": "m", "value": 1, "timestamp": i} for i in range(1001)]},
            "A batch logging request can contain at most 1000 metrics. Got 1001 metrics.",
        ),
        (
            {"params": [{"key": f"p{i}", "value": "v"} for i in range(101)]},
            "A batch logging request can contain at most 100 params. Got 101 params.",
        ),
        (
            {"tags": [{"key": f"t{i}", "value": "v"} for i in range(101)]},
            "A batch logging request can contain at most 100 tags. Got 101 tags.",
        ),
        (
            {
                "metrics": [{"key": "m", "value": 1, "timestamp": i} for i in range(950)],
                "params": [{"key": f"p{i}", "value": "v"} for i in range(51)],
            },
            "A batch logging request can contain at most 1000 metrics, params, and tags.",
        ),
        (
            {"params": [{"key": "q", "value": "3"}, {"key": "q", "value": "3"}]},
            "Duplicate parameter keys have been submitted: ['q']. Please ensure the request "
            "contains only one param value per param key.",
        ),
        (
            {"metrics": [{"key": "m", "value": "x", "timestamp": 1}]},
            "Got invalid value x for metric 'm'",
        ),
    ],
)
def test_log_batch_limits(store, run_id, batch, message):
    e = error(store.log_batch, run_id, **batch)
    assert e.error_code == "INVALID_PARAMETER_VALUE"
    assert e.message.startswith(message), e.message


def test_log_batch_checks_run_id(store):
    assert error(store.log_batch, "bad id!").message == "Invalid run ID: 'bad id!'"
    assert error(store.log_batch, "abc").error_code == "RESOURCE_DOES_NOT_EXIST"


def _dataset(name="d", digest="dg", **extra):
    return {"name": name, "digest": digest, "source_type": "local", "source": "{}", **extra}


def test_log_inputs(store, exp_id, run_id):
    context = {"key": "mlflow.data.context", "value": "train"}
    store.log_inputs(
        run_id,
        [
            {"dataset": _dataset(schema="s"), "tags": [context]},
            {"dataset": _dataset(), "tags": []},  # same name+digest: first one wins
            {"dataset": _dataset("e", "dg2")},
        ],
    )
    store.log_inputs(run_id, [{"dataset": _dataset(), "tags": [context]}])  # already linked
    inputs = store.get_run(run_id)["inputs"]["dataset_inputs"]
    assert inputs == [
        {"tags": [context], "dataset": _dataset(schema="s")},
        {"dataset": _dataset("e", "dg2")},
    ]
    other = store.create_run(exp_id)["info"]["run_id"]
    store.log_inputs(other, [{"dataset": _dataset(schema="ignored")}])
    # the experiment's dataset (name, digest) is shared: the stored schema is kept
    assert store.get_run(other)["inputs"]["dataset_inputs"] == [{"dataset": _dataset(schema="s")}]
    assert error(store.log_inputs, run_id, [{"dataset": _dataset(digest="x" * 37)}]).message == (
        "Dataset digest exceeds the maximum length of 36"
    )


def test_log_model_appends_history(store, run_id):
    model = {"artifact_path": "m", "flavors": {}, "utc_time_created": "2020", "run_id": run_id}
    store.log_model(run_id, json.dumps({**model, "extra": 1}))
    store.log_model(run_id, json.dumps(model))
    tags = {t["key"]: t["value"] for t in store.get_run(run_id)["data"]["tags"]}
    history = json.loads(tags["mlflow.log-model.history"])
    # the exact value 2.7.1 stores for the first model
    assert json.dumps(history[0]) == (
        f'{{"run_id": "{run_id}", "artifact_path": "m", "utc_time_created": "2020", '
        '"flavors": {}, "model_uuid": null, "extra": 1}'
    )
    assert len(history) == 2
    e = error(store.log_model, run_id, json.dumps({"artifact_path": "m"}))
    assert e.message.startswith("Model json is missing mandatory fields: {")
    assert "is not a valid JSON" in error(store.log_model, run_id, "{nope").message


def test_model_dict_matches_mlflow():
    from mlflow.models import Model

    from server.store.tracking import _model_dict

    for d in [
        {
            "artifact_path": "m",
            "flavors": {"x": {}},
            "utc_time_created": "t",
            "run_id": "r",
            "z": 1,
        },
        {
            "artifact_path": "m",
            "flavors": {},
            "utc_time_created": "t",
            "run_id": "r",
            "mlflow_version": "2.7.1",
            "model_uuid": "u",
            "metadata": {"a": 1},
            "saved_input_example_info": {"b": 2},
            "signature": {"inputs": '[{"type": "double"}]', "outputs": None},
        },
        {"artifact_path": "m", "flavors": {}, "utc_time_created": "t", "run_id": ""},
    ]:
        assert json.dumps(_model_dict(d)) == json.dumps(Model.from_dict(d).to_dict())


def test_random_run_names_span_mlflows_range(monkeypatch):
    """2.7.1 draws the number from 0..1000 inclusive and keeps names to 20 characters;
    the differential harness must recognise the four-digit ones too."""
    from server.store import names
    from tests.differential.harness import _GENERATED_RUN_NAME

    monkeypatch.setattr(names.random, "randint", lambda a, b: b)
    name = names.random_run_name()
    assert name.endswith("-1000") and len(name) <= 20
    assert _GENERATED_RUN_NAME.match(name)
    # a name the oracle once drew, which the harness failed to mask
    assert _GENERATED_RUN_NAME.match("learned-cat-1000")

    monkeypatch.setattr(names.random, "choice", lambda seq: max(seq, key=len))
    assert len(names.random_run_name()) <= 20
