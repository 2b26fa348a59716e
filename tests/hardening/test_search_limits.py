"""Searches no store can run: too many filter clauses or order_by keys are refused with MLflow's
4xx error, before SQLite's parser overflows (a 5xx) or SQLite 3.40 crashes the server process
(31 order_by keys of runs/search did)."""

from __future__ import annotations

import pytest

from server.store.validation import MAX_FILTER_CLAUSES, MAX_ORDER_BY_KEYS
from tests.hardening.conftest import assert_mlflow_error


def _and(clauses: list[str]) -> str:
    return " and ".join(clauses)


@pytest.fixture
def run_with_data(api):
    experiment_id, run_id = api.new_run()
    api.ok(
        "runs/log-batch",
        {
            "run_id": run_id,
            "metrics": [{"key": f"m{i}", "value": i, "timestamp": 1} for i in range(60)],
            "params": [{"key": f"p{i}", "value": "v"} for i in range(60)],
            "tags": [{"key": f"t{i}", "value": "v"} for i in range(60)],
        },
    )
    return experiment_id, run_id


@pytest.mark.parametrize("count", [MAX_FILTER_CLAUSES + 1, 100, 2000])
def test_too_many_filter_clauses(api, run_with_data, count):
    experiment_id, _ = run_with_data
    searches = [
        api.post(
            "runs/search",
            {
                "experiment_ids": [experiment_id],
                "filter": _and([f"metrics.m{i % 60} >= 0" for i in range(count)]),
            },
        ),
        api.get(
            "experiments/search",
            max_results=10,
            filter=_and([f"tags.t{i} = 'v'" for i in range(count)]),
        ),
        api.get("registered-models/search", filter=_and(["name = 'a'"] * count)),
        api.get("model-versions/search", filter=_and(["name = 'a'"] * count)),
    ]
    for response in searches:
        assert "Too many filter clauses" in assert_mlflow_error(response)["message"]


@pytest.mark.parametrize("count", [MAX_ORDER_BY_KEYS + 1, 31, 80])
def test_too_many_order_by_keys(api, reference_server, run_with_data, count):
    experiment_id, _ = run_with_data
    searches = [
        api.post(
            "runs/search",
            {
                "experiment_ids": [experiment_id],
                "order_by": [f"metrics.m{i}" for i in range(count)],
            },
        ),
        api.post(
            "runs/search",
            {"experiment_ids": [experiment_id], "order_by": [f"tags.t{i}" for i in range(count)]},
        ),
        api.get("experiments/search", max_results=10, order_by=["name"] * count),
        api.get("registered-models/search", order_by=["name"] * count),
        api.get("model-versions/search", order_by=["name"] * count),
    ]
    for response in searches:
        assert "Too many order_by keys" in assert_mlflow_error(response)["message"]
    assert reference_server.proc.poll() is None, "the server process died"


def test_the_most_a_search_takes(api, reference_server, run_with_data):
    """As many filter clauses and order_by keys as allowed, together, over a run that has them."""
    experiment_id, run_id = run_with_data
    third = MAX_FILTER_CLAUSES // 3
    clauses = (
        [f"metrics.m{i} >= 0" for i in range(third)]
        + [f"params.p{i} = 'v'" for i in range(third)]
        + [f"tags.t{i} = 'v'" for i in range(MAX_FILTER_CLAUSES - 2 * third)]
    )
    half = MAX_ORDER_BY_KEYS // 2
    order_by = [f"metrics.m{i}" for i in range(half)] + [
        f"params.p{i} DESC" for i in range(MAX_ORDER_BY_KEYS - half)
    ]
    found = api.ok(
        "runs/search",
        {"experiment_ids": [experiment_id], "filter": _and(clauses), "order_by": order_by},
    )
    assert [r["info"]["run_id"] for r in found["runs"]] == [run_id]
    assert reference_server.proc.poll() is None
