"""Concurrent writes to the same run, through a server with several worker processes (as a
deployment runs it) on each backend: no 5xx, every refused write is MLflow's 4xx error, and the
run holds exactly what the accepted writes wrote."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.conftest import BACKENDS, backend_store_uri
from tests.hardening.conftest import Api, assert_mlflow_error

WRITERS = 16


@pytest.fixture(scope="module", params=BACKENDS)
def workers_server(request, tmp_path_factory):
    from tools.peers import start_reference

    workdir = tmp_path_factory.mktemp(f"concurrent-{request.param}")
    uri = backend_store_uri(request.param, workdir, request)
    peer = start_reference(workdir, backend_store_uri=uri, workers=4)
    request.addfinalizer(peer.stop)
    return peer


@pytest.fixture
def run(workers_server):
    api = Api(workers_server.url)
    return api, api.new_run()[1]


def _all_at_once(send, arguments):
    with ThreadPoolExecutor(max_workers=WRITERS) as pool:
        return list(pool.map(send, arguments))


def _run_data(api: Api, run_id: str) -> dict:
    return api.get("runs/get", run_id=run_id).json()["run"]["data"]


def test_one_param_key_logged_with_different_values(run):
    api, run_id = run
    values = [f"v{i}" for i in range(WRITERS)]
    responses = _all_at_once(
        lambda v: api.post("runs/log-parameter", {"run_id": run_id, "key": "race", "value": v}),
        values,
    )
    accepted = [v for v, r in zip(values, responses, strict=True) if r.status_code == 200]
    assert len(accepted) == 1, [(r.status_code, r.text) for r in responses]
    for response in responses:
        if response.status_code != 200:
            assert "Changing param values" in assert_mlflow_error(response)["message"]
    params = {p["key"]: p["value"] for p in _run_data(api, run_id)["params"]}
    assert params["race"] == accepted[0]


def test_one_param_key_logged_in_batches_with_different_values(run):
    api, run_id = run
    values = [f"b{i}" for i in range(WRITERS)]

    def send(value):
        params = [{"key": "batched", "value": value}, {"key": f"own-{value}", "value": value}]
        return api.post("runs/log-batch", {"run_id": run_id, "params": params})

    responses = _all_at_once(send, values)
    accepted = [v for v, r in zip(values, responses, strict=True) if r.status_code == 200]
    assert len(accepted) == 1, [(r.status_code, r.text) for r in responses]
    for response in responses:
        if response.status_code != 200:
            assert "Changing param values" in assert_mlflow_error(response)["message"]
    params = {p["key"]: p["value"] for p in _run_data(api, run_id)["params"]}
    # A refused batch wrote none of its params.
    assert params["batched"] == accepted[0]
    assert [k for k in params if k.startswith("own-")] == [f"own-{accepted[0]}"]


def test_one_param_logged_with_the_same_value(run):
    api, run_id = run
    responses = _all_at_once(
        lambda _: api.post("runs/log-parameter", {"run_id": run_id, "key": "same", "value": "x"}),
        range(WRITERS),
    )
    assert [r.status_code for r in responses] == [200] * WRITERS, [r.text for r in responses]
    params = [p for p in _run_data(api, run_id)["params"] if p["key"] == "same"]
    assert params == [{"key": "same", "value": "x"}]


def test_one_tag_set_to_different_values(run):
    api, run_id = run
    values = [f"t{i}" for i in range(WRITERS)]
    responses = _all_at_once(
        lambda v: api.post("runs/set-tag", {"run_id": run_id, "key": "race", "value": v}),
        values,
    )
    assert [r.status_code for r in responses] == [200] * WRITERS, [r.text for r in responses]
    tags = [t for t in _run_data(api, run_id)["tags"] if t["key"] == "race"]
    assert len(tags) == 1 and tags[0]["value"] in values


def test_batches_of_metrics_all_land(run):
    api, run_id = run

    def send(i):
        metrics = [{"key": "shared", "value": float(i), "timestamp": i, "step": i}] + [
            {"key": f"own{i}", "value": float(j), "timestamp": j, "step": j} for j in range(50)
        ]
        return api.post("runs/log-batch", {"run_id": run_id, "metrics": metrics})

    responses = _all_at_once(send, range(WRITERS))
    assert [r.status_code for r in responses] == [200] * WRITERS, [r.text for r in responses]
    shared = api.get("metrics/get-history", run_id=run_id, metric_key="shared").json()["metrics"]
    assert sorted(m["step"] for m in shared) == list(range(WRITERS))
    for i in range(WRITERS):
        own = api.get("metrics/get-history", run_id=run_id, metric_key=f"own{i}").json()
        assert len(own["metrics"]) == 50
    latest = {m["key"]: m for m in _run_data(api, run_id)["metrics"]}
    assert latest["shared"]["step"] == WRITERS - 1


def test_writes_racing_a_delete(run):
    api, run_id = run

    def send(i):
        if i == WRITERS // 2:
            return api.post("runs/delete", {"run_id": run_id})
        return api.post(
            "runs/log-metric", {"run_id": run_id, "key": "late", "value": i, "timestamp": i}
        )

    responses = _all_at_once(send, range(WRITERS))
    assert responses[WRITERS // 2].status_code == 200, responses[WRITERS // 2].text
    for response in responses:
        if response.status_code != 200:
            assert "must be in the 'active' state" in assert_mlflow_error(response)["message"]
    accepted = sum(r.status_code == 200 for r in responses) - 1
    history = api.get("metrics/get-history", run_id=run_id, metric_key="late").json()
    assert len(history.get("metrics", [])) == accepted
    assert api.get("runs/get", run_id=run_id).json()["run"]["info"]["lifecycle_stage"] == "deleted"
