"""Real HTTP against the reference server: errors, wire habits, service endpoints, artifacts."""

from __future__ import annotations

import json
import sys
import uuid

import pytest
import requests

API = "/api/2.0/mlflow"
PROXY = "/api/2.0/mlflow-artifacts/artifacts"


@pytest.fixture
def url(reference_server):
    return reference_server.url


def _error(response, status, code):
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error_code", "message"}
    assert body["error_code"] == code
    return body["message"]


def test_health_version_and_openapi(url):
    for path, text in (("/health", "OK"), ("/version", "2.7.1")):
        response = requests.get(url + path)
        assert response.text == text
        # What Flask sends for a str, as 2.7.1 does.
        assert response.headers["content-type"] == "text/html; charset=utf-8"
    spec = requests.get(url + "/openapi.json").json()
    assert spec["openapi"].startswith("3.0")
    assert API + "/runs/log-batch" in spec["paths"]
    ui = requests.get(url + "/ui/")
    assert ui.status_code == 200 and "Swagger UI" in ui.text


def test_unknown_path_is_endpoint_not_found(url):
    _error(requests.get(url + API + "/no-such-thing"), 404, "ENDPOINT_NOT_FOUND")
    _error(requests.post(url + "/api/2.0/nothing", json={}), 404, "ENDPOINT_NOT_FOUND")


def test_missing_required_field_uses_mlflow_message(url):
    message = _error(
        requests.post(url + API + "/experiments/create", json={}), 400, "INVALID_PARAMETER_VALUE"
    )
    assert message == (
        "Missing value for required parameter 'name'. "
        "See the API docs for more information about request parameters."
    )


def test_wrong_type_uses_mlflow_message(url):
    message = _error(
        requests.post(url + API + "/experiments/create", json={"name": 123}),
        400,
        "INVALID_PARAMETER_VALUE",
    )
    assert message.startswith("Invalid value 123 for parameter 'name' supplied.")


def test_body_without_content_type_and_unknown_fields(url):
    name = f"no-ctype-{uuid.uuid4().hex[:8]}"
    response = requests.post(
        url + API + "/experiments/create",
        data=json.dumps({"name": name, "not_a_field": [1, 2]}),
        headers={"Content-Type": ""},
    )
    assert response.status_code == 200, response.text
    assert response.json()["experiment_id"]


def test_invalid_json_counts_as_empty_body(url):
    response = requests.post(url + API + "/experiments/create", data=b"{not json")
    assert "'name'" in _error(response, 400, "INVALID_PARAMETER_VALUE")


def test_run_uuid_alias(url):
    run = requests.post(url + API + "/runs/create", json={"experiment_id": "0"}).json()["run"]
    run_id = run["info"]["run_id"]
    body = {"run_uuid": run_id, "key": "k", "value": "v"}
    assert requests.post(url + API + "/runs/set-tag", json=body).json() == {}
    fetched = requests.get(url + API + "/runs/get", params={"run_uuid": run_id}).json()
    assert {"key": "k", "value": "v"} in fetched["run"]["data"]["tags"]


def test_nan_travels_as_a_string_and_infinities_are_clamped(url):
    run_id = requests.post(url + API + "/runs/create", json={"experiment_id": "0"}).json()["run"][
        "info"
    ]["run_id"]
    for step, value in enumerate(["NaN", "Infinity", "-Infinity"]):
        body = {"run_id": run_id, "key": "m", "value": value, "timestamp": 5, "step": step}
        assert requests.post(url + API + "/runs/log-metric", json=body).status_code == 200
    history = requests.get(
        url + API + "/metrics/get-history", params={"run_id": run_id, "metric_key": "m"}
    )
    # NaN goes back as "NaN"; infinities are clamped to the largest doubles, as 2.7.1 does.
    big = sys.float_info.max
    assert [m["value"] for m in history.json()["metrics"]] == ["NaN", big, -big]


def test_artifact_proxy_round_trip(url):
    path = f"0/{uuid.uuid4().hex}/artifacts/dir/data.bin"
    payload = bytes(range(256)) * 4096  # 1 MiB
    put = requests.put(f"{url}{PROXY}/{path}", data=payload)
    assert put.status_code == 200 and put.json() == {}
    got = requests.get(f"{url}{PROXY}/{path}")
    assert got.status_code == 200 and got.content == payload
    assert got.headers["content-disposition"] == "attachment; filename=data.bin"
    folder = path.rsplit("/", 2)[0]
    listing = requests.get(url + PROXY, params={"path": folder}).json()
    assert listing == {"files": [{"path": "dir", "is_dir": True}]}
    listing = requests.get(url + PROXY, params={"path": folder + "/dir"}).json()
    assert listing == {"files": [{"path": "data.bin", "is_dir": False, "file_size": len(payload)}]}
    assert requests.delete(f"{url}{PROXY}/{path}").json() == {}
    _error(requests.get(f"{url}{PROXY}/{path}"), 404, "RESOURCE_DOES_NOT_EXIST")
    assert requests.get(url + PROXY, params={"path": "0/no-such-run"}).json() == {}


@pytest.mark.parametrize("bad", ["../etc/passwd", "a/../../b", "a\\b"])
def test_artifact_paths_cannot_escape(url, bad):
    _error(requests.get(url + PROXY, params={"path": bad}), 400, "INVALID_PARAMETER_VALUE")
    response = requests.put(f"{url}{PROXY}/{bad}", data=b"x")
    assert response.status_code in (400, 404), response.text
    assert response.json()["error_code"] in ("INVALID_PARAMETER_VALUE", "ENDPOINT_NOT_FOUND")


def test_metric_history_pages_when_asked(url):
    run_id = requests.post(url + API + "/runs/create", json={"experiment_id": "0"}).json()["run"][
        "info"
    ]["run_id"]
    metrics = [{"key": "h", "value": i, "timestamp": i, "step": i} for i in range(25)]
    batch = requests.post(
        url + API + "/runs/log-batch", json={"run_id": run_id, "metrics": metrics}
    )
    assert batch.status_code == 200, batch.text
    steps, token, pages = [], None, 0
    while True:
        query = {"run_id": run_id, "metric_key": "h", "max_results": 10}
        if token:
            query["page_token"] = token
        page = requests.get(url + API + "/metrics/get-history", params=query).json()
        steps += [m["step"] for m in page["metrics"]]
        pages += 1
        token = page.get("next_page_token")
        if not token:
            break
    assert pages == 3 and steps == list(range(25))
    everything = requests.get(
        url + API + "/metrics/get-history", params={"run_id": run_id, "metric_key": "h"}
    ).json()
    assert "next_page_token" not in everything and len(everything["metrics"]) == 25


def _new_run(url) -> str:
    run = requests.post(url + API + "/runs/create", json={"experiment_id": "0"}).json()["run"]
    return run["info"]["run_id"]


def test_ajax_api_prefix_serves_every_endpoint(url):
    name = f"ajax-{uuid.uuid4().hex[:8]}"
    created = requests.post(url + "/ajax-api/2.0/mlflow/experiments/create", json={"name": name})
    assert created.status_code == 200, created.text
    exp_id = created.json()["experiment_id"]
    got = requests.get(
        url + "/ajax-api/2.0/mlflow/experiments/get", params={"experiment_id": exp_id}
    )
    assert got.json()["experiment"]["name"] == name
    assert requests.get(url + API + "/experiments/get-by-name", params={"experiment_name": name}).ok
    _error(requests.get(url + "/ajax-api/2.0/mlflow/nope"), 404, "ENDPOINT_NOT_FOUND")
    # The artifact proxy too.
    path = f"0/{uuid.uuid4().hex}/artifacts/a.txt"
    assert requests.put(f"{url}/ajax-api/2.0/mlflow-artifacts/artifacts/{path}", data=b"x").ok
    assert requests.get(f"{url}{PROXY}/{path}").content == b"x"


@pytest.mark.parametrize("prefix", [API, "/ajax-api/2.0/mlflow"])
def test_trailing_slash_is_an_unknown_endpoint_not_a_redirect(url, prefix):
    response = requests.get(
        url + prefix + "/experiments/get/", params={"experiment_id": "0"}, allow_redirects=False
    )
    _error(response, 404, "ENDPOINT_NOT_FOUND")
    response = requests.post(url + prefix + "/experiments/create/", json={"name": "x"})
    _error(response, 404, "ENDPOINT_NOT_FOUND")


def test_server_required_fields(url):
    exp_id = requests.post(
        url + API + "/experiments/create", json={"name": f"srv-req-{uuid.uuid4().hex[:8]}"}
    ).json()["experiment_id"]
    run_id = _new_run(url)
    cases = [
        ("/experiments/update", {"experiment_id": exp_id}, "new_name"),
        ("/experiments/update", {"experiment_id": exp_id, "new_name": ""}, "new_name"),
        ("/experiments/update", {"experiment_id": "", "new_name": ""}, "experiment_id"),
        ("/experiments/create", {"name": ""}, "name"),
        ("/experiments/create", {"name": None}, "name"),
        ("/runs/log-metric", {"key": "k", "value": 1, "timestamp": 1}, "run_id"),
        ("/runs/log-metric", {}, "run_id"),
        ("/runs/log-metric", {"run_id": run_id, "key": "", "value": 1, "timestamp": 1}, "key"),
        ("/runs/log-metric", {"run_id": run_id, "key": "k", "value": "", "timestamp": 1}, "value"),
        ("/runs/log-parameter", {"key": "k", "value": "v"}, "run_id"),
        ("/runs/set-tag", {"key": "k", "value": "v"}, "run_id"),
        ("/runs/update", {"status": "FINISHED"}, "run_id"),
        ("/runs/log-batch", {"params": []}, "run_id"),
        ("/runs/log-model", {"run_id": run_id}, "model_json"),
        ("/runs/log-inputs", {"run_id": run_id}, "datasets"),
    ]
    for path, body, field in cases:
        message = _error(requests.post(url + API + path, json=body), 400, "INVALID_PARAMETER_VALUE")
        assert message == (
            f"Missing value for required parameter '{field}'. "
            "See the API docs for more information about request parameters."
        ), (path, body)
    # run_uuid stands in for run_id; a null is a field left out; a param value may be "".
    ok = [
        ("/runs/log-metric", {"run_uuid": run_id, "key": "k", "value": 1, "timestamp": 1}),
        ("/runs/log-metric", {"run_id": None, "run_uuid": run_id, "key": "n", "value": 1,
                              "timestamp": 1, "step": None}),
        ("/runs/log-parameter", {"run_uuid": run_id, "key": "p", "value": ""}),
        ("/runs/update", {"run_uuid": run_id, "status": "FINISHED", "run_name": None}),
        ("/runs/log-inputs", {"run_id": run_id, "datasets": []}),
    ]  # fmt: skip
    for path, body in ok:
        response = requests.post(url + API + path, json=body)
        assert response.status_code == 200, (path, response.text)
    run = requests.get(url + API + "/runs/get", params={"run_id": run_id}).json()["run"]
    assert {"key": "p", "value": ""} in run["data"]["params"]
    assert run["info"]["status"] == "FINISHED"
    # LogBatch has no run_uuid: one passes the required check but names no run, as in 2.7.1.
    body = {"run_uuid": run_id, "params": [{"key": "a", "value": "b"}]}
    message = _error(requests.post(url + API + "/runs/log-batch", json=body), 400,
                     "INVALID_PARAMETER_VALUE")  # fmt: skip
    assert message == "Invalid run ID: ''"


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_search_experiments_without_max_results_is_rejected_like_2_7_1(url, method):
    kwargs = {"params": {"filter": "name = 'x'"}} if method == "GET" else {"json": {}}
    response = requests.request(method, url + API + "/experiments/search", **kwargs)
    message = _error(response, 400, "INVALID_PARAMETER_VALUE")
    assert message == "Invalid value for max_results. It must be a positive integer, but got 0"
    response = requests.request(
        method,
        url + API + "/experiments/search",
        **({"params": {"max_results": 1}} if method == "GET" else {"json": {"max_results": 1}}),
    )
    assert response.status_code == 200, response.text


def test_log_batch_entries_missing_fields_quote_the_list(url):
    run_id = _new_run(url)
    hint = (
        " Hint: Value was of type 'list'."
        " See the API docs for more information about request parameters."
    )
    cases = [
        ("metrics", [{"key": "nv", "timestamp": 1}]),
        ("metrics", [{"key": "nt", "value": 1}]),
        ("metrics", [{"key": "ok", "value": 1, "timestamp": 1}, {"value": 1, "timestamp": 1}]),
        ("metrics", [{"key": "nl", "value": None, "timestamp": 1}]),
        ("params", [{"value": "v"}]),
        ("tags", [{"key": "", "value": "v"}]),
    ]
    for field, entries in cases:
        body = {"run_id": run_id, field: entries}
        response = requests.post(url + API + "/runs/log-batch", json=body)
        message = _error(response, 400, "INVALID_PARAMETER_VALUE")
        # The list as Python prints it, nulls as None, like 2.7.1's message.
        assert message == f"Invalid value {entries!r} for parameter '{field}' supplied.{hint}"
    run = requests.get(url + API + "/runs/get", params={"run_id": run_id}).json()["run"]
    assert "metrics" not in run["data"] and "params" not in run["data"]


def test_create_run_without_experiment_id_is_a_bad_request(url):
    for body in ({}, {"experiment_id": ""}, {"experiment_id": None, "run_name": "r"}):
        _error(requests.post(url + API + "/runs/create", json=body), 400, "BAD_REQUEST")
