"""The wire habits of server.wire, byte for byte."""

from __future__ import annotations

import json
import math

import pytest

from server.errors import MlflowError
from server.wire import WireJSON, invalid_message, missing_message, normalise_json_body


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
        (b'"not json inside"', {}),
        ('{"name": "é"}'.encode("utf-16"), {"name": "é"}),
    ],
)
def test_bodies_read_as_mlflow_reads_them(raw, expected):
    assert json.loads(normalise_json_body(raw)) == expected


def test_special_floats_travel_as_strings():
    data = {"metrics": [{"value": math.nan}, {"value": math.inf}, {"value": -math.inf}, {"v": 1.5}]}
    assert json.loads(WireJSON.dumps(data)) == {
        "metrics": [{"value": "NaN"}, {"value": "Infinity"}, {"value": "-Infinity"}, {"v": 1.5}]
    }
    assert WireJSON.dumps({"a": [1, "x"]}) == '{"a":[1,"x"]}'


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
        normalise_json_body(raw)
    assert e.value.error_code == "INVALID_PARAMETER_VALUE"


def test_surrogate_pairs_are_fine():
    assert json.loads(normalise_json_body(b'{"name": "\\ud83d\\ude00"}')) == {"name": "\U0001f600"}
