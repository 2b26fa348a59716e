"""Values no client should send, on every backend: each is refused with MLflow's 4xx error and
nothing is stored (a database column that overflows would otherwise be a 5xx on PostgreSQL
only)."""

from __future__ import annotations

import pytest

from tests.hardening.conftest import assert_mlflow_error

HUGE = "9" * 40  # beyond int64 and uint64
BEYOND_DOUBLE = "9" * 400  # an integer no double can hold
LONG_KEY = "k" * 10_000


def test_huge_integers(api, unchanged):
    experiment_id, run_id = api.new_run()

    def send():
        bodies = [
            ("runs/log-metric", f'{{"run_id":"{run_id}","key":"m","value":1,"timestamp":{HUGE}}}'),
            (
                "runs/log-metric",
                f'{{"run_id":"{run_id}","key":"m","value":1,"timestamp":1,"step":-{HUGE}}}',
            ),
            (
                "runs/log-metric",
                f'{{"run_id":"{run_id}","key":"m","value":{BEYOND_DOUBLE},"timestamp":1}}',
            ),
            (
                "runs/log-batch",
                f'{{"run_id":"{run_id}","metrics":[{{"key":"m",'
                f'"value":-{BEYOND_DOUBLE},"timestamp":1}}]}}',
            ),
            ("runs/create", f'{{"experiment_id":"{experiment_id}","start_time":{HUGE}}}'),
            ("runs/update", f'{{"run_id":"{run_id}","end_time":{HUGE}}}'),
            ("runs/search", f'{{"experiment_ids":["{experiment_id}"],"max_results":{HUGE}}}'),
            ("experiments/search", f'{{"max_results":{HUGE}}}'),
        ]
        for endpoint, raw in bodies:
            assert_mlflow_error(api.post(endpoint, data=raw))
        for endpoint, params in [
            ("experiments/search", {"max_results": HUGE}),
            ("metrics/get-history", {"run_id": run_id, "metric_key": "m", "max_results": HUGE}),
            ("registered-models/search", {"max_results": HUGE}),
        ]:
            assert_mlflow_error(api.get(endpoint, **params))
        # Ids that are only digits: too large to be anyone's, so nobody's.
        for endpoint, params in [
            ("experiments/get", {"experiment_id": HUGE}),
            ("model-versions/get", {"name": "m", "version": HUGE}),
        ]:
            assert_mlflow_error(api.get(endpoint, **params), status=404)

    unchanged(send)


def test_int64_extremes_are_stored_as_sent(api):
    _, run_id = api.new_run()
    top, bottom = 2**63 - 1, -(2**63)
    api.ok(
        "runs/log-metric",
        {"run_id": run_id, "key": "edge", "value": 1, "timestamp": top, "step": bottom},
    )
    history = api.get("metrics/get-history", run_id=run_id, metric_key="edge").json()["metrics"]
    assert [(m["timestamp"], m["step"]) for m in history] == [(top, bottom)]


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_nan_where_no_nan_is_taken(api, unchanged, literal):
    """JSON's non-standard NaN/Infinity literals (and their string forms) in integer and string
    fields; only a metric's value takes them."""
    experiment_id, run_id = api.new_run()

    def send():
        for value in (literal, f'"{literal}"'):
            bodies = [
                (
                    "runs/log-metric",
                    f'{{"run_id":"{run_id}","key":"m","value":1,"timestamp":{value}}}',
                ),
                (
                    "runs/log-metric",
                    f'{{"run_id":"{run_id}","key":"m","value":1,"timestamp":1,"step":{value}}}',
                ),
                ("runs/create", f'{{"experiment_id":"{experiment_id}","start_time":{value}}}'),
                ("runs/update", f'{{"run_id":"{run_id}","end_time":{value}}}'),
                ("runs/search", f'{{"experiment_ids":["{experiment_id}"],"max_results":{value}}}'),
            ]
            if not value.startswith('"'):  # a string field takes the string "NaN" as text
                bodies += [
                    ("runs/set-tag", f'{{"run_id":"{run_id}","key":"t","value":{value}}}'),
                    ("runs/log-parameter", f'{{"run_id":"{run_id}","key":"p2","value":{value}}}'),
                    ("experiments/create", f'{{"name":{value}}}'),
                ]
            for endpoint, raw in bodies:
                assert_mlflow_error(api.post(endpoint, data=raw))
        assert_mlflow_error(
            api.get("metrics/get-history", run_id=run_id, metric_key="m", max_results=literal)
        )

    unchanged(send)


def test_nan_is_a_metric_value(api):
    _, run_id = api.new_run()
    api.ok("runs/log-metric", {"run_id": run_id, "key": "nan", "value": "NaN", "timestamp": 2})
    history = api.get("metrics/get-history", run_id=run_id, metric_key="nan").json()["metrics"]
    assert [m["value"] for m in history] == ["NaN"]


def test_ten_thousand_character_keys(api, unchanged):
    experiment_id, run_id = api.new_run()
    api.ok("registered-models/create", {"name": f"hardening-model-{run_id}"})
    model = f"hardening-model-{run_id}"

    def send():
        attempts = [
            ("runs/log-parameter", {"run_id": run_id, "key": LONG_KEY, "value": "v"}),
            ("runs/set-tag", {"run_id": run_id, "key": LONG_KEY, "value": "v"}),
            ("runs/log-metric", {"run_id": run_id, "key": LONG_KEY, "value": 1, "timestamp": 1}),
            ("runs/log-batch", {"run_id": run_id, "params": [{"key": LONG_KEY, "value": "v"}]}),
            ("runs/log-batch", {"run_id": run_id, "tags": [{"key": LONG_KEY, "value": "v"}]}),
            (
                "runs/log-batch",
                {"run_id": run_id, "metrics": [{"key": LONG_KEY, "value": 1, "timestamp": 1}]},
            ),
            (
                "experiments/set-experiment-tag",
                {"experiment_id": experiment_id, "key": LONG_KEY, "value": "v"},
            ),
            (
                "experiments/create",
                {"name": f"x-{run_id}", "tags": [{"key": LONG_KEY, "value": "v"}]},
            ),
            (
                "runs/create",
                {"experiment_id": experiment_id, "tags": [{"key": LONG_KEY, "value": "v"}]},
            ),
            ("registered-models/set-tag", {"name": model, "key": LONG_KEY, "value": "v"}),
            (
                "runs/log-inputs",
                {
                    "run_id": run_id,
                    "datasets": [
                        {
                            "dataset": {
                                "name": "d",
                                "digest": "d",
                                "source_type": "local",
                                "source": "{}",
                            },
                            "tags": [{"key": LONG_KEY, "value": "v"}],
                        }
                    ],
                },
            ),
        ]
        for endpoint, body in attempts:
            assert_mlflow_error(api.post(endpoint, body))

    unchanged(send)


def test_text_beyond_a_postgresql_column(api, unchanged):
    """A user id past 256 characters, a dataset source type past 36: refused on every backend
    (PostgreSQL's columns would overflow with a 5xx)."""
    experiment_id, run_id = api.new_run()
    dataset = {"name": "d", "digest": "d", "source_type": "s" * 37, "source": "{}"}

    def send():
        body = assert_mlflow_error(
            api.post("runs/create", {"experiment_id": experiment_id, "user_id": "u" * 257})
        )
        assert "exceeded length limit of 256" in body["message"]
        body = assert_mlflow_error(
            api.post("runs/log-inputs", {"run_id": run_id, "datasets": [{"dataset": dataset}]})
        )
        assert "source_type exceeds the maximum length of 36" in body["message"]

    unchanged(send)
    longest = api.ok("runs/create", {"experiment_id": experiment_id, "user_id": "u" * 256})
    assert longest["run"]["info"]["user_id"] == "u" * 256
