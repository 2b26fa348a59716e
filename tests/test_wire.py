"""The wire habits of server.wire and server.request_validation, byte for byte."""

from __future__ import annotations

import json
import math
from types import SimpleNamespace

import pytest

from server.errors import MlflowError
from server.request_validation import MlflowJSONBodyValidator, invalid_message, missing_message
from server.wire import WireJSON, read_json_body


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b'{"name": "a"}', {"name": "a"}),
        (b"", {}),
        (b"   ", {}),
        (b"{not json", {}),
        (b'{"name": "a\x00b"}', {}),  # a raw control character: not JSON, so no body
        (b"null", {}),
        (json.dumps(json.dumps({"name": "a"})).encode(), {"name": "a"}),
        ('{"name": "é"}'.encode("utf-16"), {"name": "é"}),
    ],
)
def test_bodies_read_as_mlflow_reads_them(raw, expected):
    assert json.loads(read_json_body(raw)[0]) == expected


def test_a_json_string_not_holding_json_is_refused():
    # 2.7.1 fails with a 500 on it; a client mistake is a 400 here.
    with pytest.raises(MlflowError, match="Malformed request body"):
        read_json_body(b'"not json inside"')


def test_special_floats_travel_as_strings():
    data = {"metrics": [{"value": math.nan}, {"value": math.inf}, {"value": -math.inf}, {"v": 1.5}]}
    assert json.loads(WireJSON.dumps(data)) == {
        "metrics": [{"value": "NaN"}, {"value": "Infinity"}, {"value": "-Infinity"}, {"v": 1.5}]
    }
    assert WireJSON.dumps({"a": [1, "x"]}) == '{"a":[1,"x"]}'


@pytest.mark.parametrize(
    "data",
    [
        {
            "runs": [
                {
                    "info": {"run_id": "a", "start_time": 2**62},
                    "data": {"metrics": [{"key": "m", "value": 0.1, "timestamp": 1, "step": -3}]},
                }
            ],
            "ok": True,
        },
        {"value": None, "list": [None, 1]},
        {"text": "caf\u00e9 \u2028 \U0001f600", "del": "a\x7fb", "control": '\x01\n"\\'},
        {"big": 2**64, "small": -(2**63) - 1},
        {"nan": [math.nan, 1.0]},
    ],
)
def test_responses_encode_as_the_json_module_does(data):
    # The fast encoder's output, or the json module's where the two would differ.
    expected = json.dumps(data, separators=(",", ":"))
    if "nan" not in data:
        assert WireJSON.dumps(data) == expected
    got = json.loads(WireJSON.dumps(data))
    assert got == json.loads(expected.replace("NaN", '"NaN"'))


def test_float_spellings_may_differ_but_not_values():
    values = [1e-05, 2.5e-07, 1e16, 1e22, 1 / 3, 5e-324, 1.7976931348623157e308, -0.0, 123.0]
    assert json.loads(WireJSON.dumps(values)) == values


def test_messages_are_mlflows():
    docs = " See the API docs for more information about request parameters."
    assert missing_message("run_id") == "Missing value for required parameter 'run_id'." + docs
    assert invalid_message("max_results", "x") == (
        "Invalid value x for parameter 'max_results' supplied. Hint: Value was of type 'str'."
        + docs
    )


@pytest.mark.parametrize(
    "raw",
    [
        b'{"name": "a\\ud800b"}',
        b'{"tags": [{"key": "\\udfff"}]}',
        b'{"name": "\xed\xa0\x80"}',
        b'{"name": "a\\u0000b"}',
        b'{"a\\u0000": 1}',
    ],
)
def test_unstorable_text_is_an_invalid_parameter_value(raw):
    with pytest.raises(MlflowError) as e:
        read_json_body(raw)[0]
    assert e.value.error_code == "INVALID_PARAMETER_VALUE"


def test_surrogate_pairs_are_fine():
    assert json.loads(read_json_body(b'{"name": "\\ud83d\\ude00"}')[0]) == {"name": "\U0001f600"}


def test_nulls_are_fields_left_out():
    raw = b'{"name": null, "tags": [{"key": "a", "value": null}], "n": [null], "ok": 1}'
    assert json.loads(read_json_body(raw)[0]) == {
        "tags": [{"key": "a"}],
        "n": [None],  # not a field: left for validation to refuse
        "ok": 1,
    }
    body, as_sent = read_json_body(raw)
    assert as_sent["name"] is None and as_sent["tags"] == [{"key": "a", "value": None}]
    assert read_json_body(b'{"name": "null"}') == (b'{"name": "null"}', None)


LOG_METRIC = {
    "type": "object",
    "properties": {
        "run_id": {"type": "string"},
        "run_uuid": {"type": "string"},
        "key": {"type": "string"},
        "value": {"anyOf": [{"type": "number"}, {"type": "string", "enum": ["NaN"]}]},
        "timestamp": {"type": "integer", "format": "int64"},
    },
    "required": ["key", "value", "timestamp"],
    "x-server-required": ["run_id"],
}
LOG_PARAM = {
    "type": "object",
    "properties": {
        "run_id": {"type": "string"},
        "key": {"type": "string"},
        "value": {"type": "string"},
    },
    "required": ["key", "value"],
    "x-server-required": ["run_id"],
}


def _validate(schema, body):
    MlflowJSONBodyValidator._validate(SimpleNamespace(_schema=schema), body)


@pytest.mark.parametrize(
    ("schema", "body", "missing"),
    [
        (LOG_METRIC, {}, "run_id"),  # x-server-required, checked in the order of properties
        (LOG_METRIC, {"key": "k", "value": 1, "timestamp": 1}, "run_id"),
        (LOG_METRIC, {"run_id": "", "run_uuid": "r", "key": "k", "value": 1, "timestamp": 1},
         "run_id"),
        (LOG_METRIC, {"run_id": "r", "key": "", "value": 1, "timestamp": 1}, "key"),
        (LOG_METRIC, {"run_id": "r", "key": "k", "value": "", "timestamp": 1}, "value"),
        (LOG_PARAM, {"run_id": "r", "key": "k"}, "value"),
    ],
)  # fmt: skip
def test_required_fields_are_mlflows(schema, body, missing):
    with pytest.raises(MlflowError) as e:
        _validate(schema, body)
    assert e.value.message == missing_message(missing)


def test_run_uuid_stands_in_and_a_param_value_may_be_empty():
    _validate(LOG_METRIC, {"run_uuid": "r", "key": "k", "value": 1, "timestamp": 1})
    _validate(LOG_PARAM, {"run_id": "r", "key": "k", "value": ""})
    with pytest.raises(MlflowError) as e:  # "" for an integer stays a wrong type, as in 2.7.1
        _validate(LOG_METRIC, {"run_id": "r", "key": "k", "value": 1, "timestamp": ""})
    assert e.value.message == invalid_message("timestamp", "")
