"""Request bodies no client should send: each is refused with MLflow's 4xx error, and nothing is
stored.

Bodies are read as 2.7.1 reads them (any Content-Type; a body that is not JSON counts as no
body), so a malformed body to an operation with required fields is a missing-field error.
"""

from __future__ import annotations

import json

import pytest

from server.wire import MAX_JSON_BODY_BYTES, MAX_JSON_DEPTH
from tests.hardening.conftest import assert_mlflow_error

MB = 1024 * 1024
# Reading bodies happens before any store is involved: SQLite is enough.
pytestmark = pytest.mark.parametrize("reference_server", ["sqlite"], indirect=True)


@pytest.mark.parametrize(
    "raw",
    [
        b'{"name": ',
        b"{'name': 'single quotes'}",
        b'{"name": "a",}',
        b"not json at all",
        b'{"name": "a"} trailing',
        b"\x00\x01\x02",
    ],
    ids=["truncated", "single-quotes", "trailing-comma", "text", "trailing-garbage", "binary"],
)
def test_invalid_json(api, unchanged, raw):
    def send():
        for endpoint in ("experiments/create", "registered-models/create", "runs/log-batch"):
            response = api.post(endpoint, data=raw, headers={"Content-Type": "application/json"})
            assert "Missing value" in assert_mlflow_error(response)["message"]

    unchanged(send)


def test_a_json_string_that_holds_no_json_is_refused(api, unchanged):
    # 2.7.1 decodes a JSON string body once more and fails with a 500 when it holds no JSON.
    def send():
        for endpoint in ("experiments/create", "runs/search", "registered-models/search"):
            response = api.post(endpoint, data=json.dumps("AAA"))
            assert "Malformed request body" in assert_mlflow_error(response)["message"]

    unchanged(send)


@pytest.mark.parametrize(
    "content_type",
    [
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=xyz",
        "text/plain",
        "application/xml",
        None,
        "]]] not a media type",
    ],
)
def test_wrong_and_missing_content_types_do_not_parse_forms(api, unchanged, content_type):
    """Only JSON is read, whatever the Content-Type says: a form or XML body is no body."""
    bodies = {
        "application/x-www-form-urlencoded": b"name=form-experiment",
        "multipart/form-data; boundary=xyz": (
            b'--xyz\r\nContent-Disposition: form-data; name="name"\r\n\r\nform-experiment\r\n'
            b"--xyz--\r\n"
        ),
        "application/xml": b"<name>form-experiment</name>",
    }
    raw = bodies.get(content_type, b"name=form-experiment")
    headers = {"Content-Type": content_type} if content_type else {}

    def send():
        response = api.post("experiments/create", data=raw, headers=headers)
        assert (
            "Missing value for required parameter 'name'"
            in (assert_mlflow_error(response)["message"])
        )

    unchanged(send)
    missing = api.get("experiments/get-by-name", experiment_name="form-experiment")
    assert missing.status_code == 404, missing.text


@pytest.mark.parametrize("megabytes", [30, 60])
def test_bodies_of_tens_of_megabytes(api, unchanged, megabytes):
    experiment_id, run_id = api.new_run()
    big = "x" * (megabytes * MB)

    def send():
        attempts = [
            ("experiments/create", json.dumps({"name": big}).encode()),
            ("runs/set-tag", json.dumps({"run_id": run_id, "key": "t", "value": big}).encode()),
            ("runs/search", json.dumps({"experiment_ids": [experiment_id], "filter": big})),
            ("experiments/create", b"[" * (megabytes * MB)),
        ]
        for endpoint, raw in attempts:
            body = assert_mlflow_error(api.post(endpoint, data=raw))
            assert f"exceeds the limit of {MAX_JSON_BODY_BYTES} bytes" in body["message"]

    unchanged(send)


def test_a_body_just_under_the_limit_is_read(api):
    """The limit leaves room for the largest legitimate body (a dataset profile at 2.7.1's
    16 MiB limit); such a body is validated as usual."""
    _, run_id = api.new_run()
    dataset = {"name": "d", "digest": "abc", "source_type": "local", "source": "{}"}
    profile = "p" * (16 * MB - 1)
    response = api.post(
        "runs/log-inputs",
        {"run_id": run_id, "datasets": [{"dataset": {**dataset, "profile": profile}}]},
    )
    assert response.status_code == 200, response.text[:500]


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 1000, 100_000])
def test_deeply_nested_json(api, unchanged, depth):
    _, run_id = api.new_run()

    def send():
        nested_list = "[" * depth + "]" * depth
        nested_object = '{"a":' * depth + "1" + "}" * depth
        attempts = [
            ("runs/log-batch", f'{{"run_id": "{run_id}", "tags": {nested_list}}}'),
            ("experiments/create", f'{{"name": "deep", "unknown": {nested_object}}}'),
            ("runs/search", nested_list),
        ]
        for endpoint, raw in attempts:
            body = assert_mlflow_error(api.post(endpoint, data=raw))
            assert "nested deeper than" in body["message"], body

    unchanged(send)


def test_nesting_up_to_the_limit_is_read(api):
    """An unknown field nested as deep as the limit is ignored, as 2.7.1 ignores unknown fields."""
    depth = MAX_JSON_DEPTH - 1
    name = "nested-but-fine"
    raw = f'{{"name": "{name}", "unknown": {"[" * depth + "]" * depth}}}'
    response = api.post("experiments/create", data=raw)
    assert response.status_code in (200, 400), response.text
    if response.status_code == 400:  # left over from an earlier run of the session
        assert response.json()["error_code"] == "RESOURCE_ALREADY_EXISTS"
    assert api.get("experiments/get-by-name", experiment_name=name).status_code == 200


def test_invalid_utf8(api, unchanged):
    _, run_id = api.new_run()

    def send():
        for raw in (b'{"name": "\xff\xfe"}', b'{"name": "a\xc3"}', b'{"name": "\xed\xa0\x80"}'):
            assert_mlflow_error(api.post("experiments/create", data=raw))
        raw = b'{"run_id": "%s", "key": "k", "value": "\xff"}' % run_id.encode()
        assert_mlflow_error(api.post("runs/log-parameter", data=raw))
        # Percent-encoded invalid UTF-8 in the query string finds nothing; it breaks nothing.
        response = api.get("experiments/get-by-name", experiment_name=b"\xff\xfe")
        assert response.status_code == 404, response.text
        assert response.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"

    unchanged(send)
