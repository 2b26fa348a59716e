"""runs/search: the 2.7.1 filter grammar compiled to SQL, ordering, paging and view types."""

from __future__ import annotations

import pytest

from server.errors import MlflowError
from server.store.search_grammar import parse_filter


@pytest.fixture
def runs(store, exp_id):
    """Five runs r0..r4 (start_time i). acc: r0=0.0 r1=0.1 r3=0.3 r4=NaN, r2 has none.
    p: str(i) except r1. t: 'ab' on even runs, 'Ab' on odd ones. r0 has a dataset."""
    ids = {}
    for i in range(5):
        run_id = store.create_run(exp_id, user_id=f"u{i % 2}", start_time=i, run_name=f"r{i}")[
            "info"
        ]["run_id"]
        ids[f"r{i}"] = run_id
        metrics = [] if i == 2 else [{"key": "acc", "value": i / 10, "timestamp": 1}]
        if i == 4:
            metrics = [{"key": "acc", "value": float("nan"), "timestamp": 1}]
        store.log_batch(
            run_id,
            metrics=metrics + [{"key": "my metric", "value": i, "timestamp": 1}],
            params=[] if i == 1 else [{"key": "p", "value": str(i)}],
            tags=[{"key": "t", "value": "Ab" if i % 2 else "ab"}],
        )
    store.log_inputs(
        ids["r0"],
        [
            {
                "dataset": {"name": "d", "digest": "dg", "source_type": "local", "source": "{}"},
                "tags": [{"key": "mlflow.data.context", "value": "train"}],
            }
        ],
    )
    store.update_run_info(ids["r3"], status="FINISHED", end_time=100)
    return ids


def names(store, exp_id, filter_string=None, order_by=(), **kwargs):
    found, _ = store.search_runs([exp_id], filter_string, order_by=order_by, **kwargs)
    return [r["info"]["run_name"] for r in found]


# Results below were read off a real mlflow server 2.7.1 given the same runs.
@pytest.mark.parametrize(
    "filter_string, expected",
    [
        (None, ["r4", "r3", "r2", "r1", "r0"]),
        ("metrics.acc > 0.05", ["r3", "r1"]),
        ("metric.acc >= 0.1", ["r3", "r1"]),
        ("metrics.acc < 0.1", ["r4", "r0"]),  # NaN is stored as 0, as 2.7.1 does
        ("metrics.acc <= 0", ["r4", "r0"]),
        ("metrics.acc = 0", ["r4", "r0"]),
        ("metrics.acc != 0", ["r3", "r1"]),
        ("metrics.`my metric` = 3", ["r3"]),
        ('metrics."my metric" > 2.5', ["r4", "r3"]),
        ("params.p = '3'", ["r3"]),
        ("param.p != '3'", ["r4", "r2", "r0"]),
        ("parameters.p LIKE '%3'", ["r3"]),
        ('params.p = "4"', ["r4"]),
        ("tags.t = 'ab'", ["r4", "r2", "r0"]),
        ("tags.t LIKE 'a%'", ["r4", "r2", "r0"]),
        ("tags.t like 'A%'", ["r3", "r1"]),
        ("tags.t ILIKE 'a%'", ["r4", "r3", "r2", "r1", "r0"]),
        ("tag.t != 'ab'", ["r3", "r1"]),
        ("attributes.run_name = 'r1'", ["r1"]),
        ("attributes.`Run name` LIKE 'r%' AND run_name != 'r1'", ["r4", "r3", "r2", "r0"]),
        ("run.status = 'FINISHED'", ["r3"]),
        ("attr.status != 'FINISHED'", ["r4", "r2", "r1", "r0"]),
        ("user_id = 'u1'", ["r3", "r1"]),
        ("attributes.start_time >= 3", ["r4", "r3"]),
        ("created < 1", ["r0"]),
        ("end_time > 50", ["r3"]),
        ("artifact_uri LIKE '%artifacts'", ["r4", "r3", "r2", "r1", "r0"]),
        ("artifact_uri ILIKE 'MLFLOW-ARTIFACTS:%'", ["r4", "r3", "r2", "r1", "r0"]),
        ("datasets.name = 'd'", ["r0"]),
        ("dataset.digest IN ('dg', 'other')", ["r0"]),
        ("datasets.context = 'train'", ["r0"]),
        ("datasets.name != 'd'", []),
        ("metrics.acc > 0 and params.p = '3' AND tags.t = 'Ab'", ["r3"]),
    ],
)
def test_filters(store, exp_id, runs, filter_string, expected):
    assert names(store, exp_id, filter_string) == expected


def test_run_id_in_and_not_in(store, exp_id, runs):
    flt = f"attributes.run_id IN ('{runs['r1']}', '{runs['r3']}')"
    assert names(store, exp_id, flt) == ["r3", "r1"]
    flt = f"run_id NOT IN ('{runs['r1']}')"
    assert names(store, exp_id, flt) == ["r4", "r3", "r2", "r0"]
    # as 2.7.1: ids that are not all lower case are dropped from the list
    assert names(store, exp_id, f"run_id IN ('{runs['r1'].upper()}')") == []
    assert names(store, exp_id, f"run_id = '{runs['r2']}'") == ["r2"]


@pytest.mark.parametrize(
    "order_by, expected",
    [
        (["metrics.acc DESC"], ["r3", "r1", "r0", "r4", "r2"]),  # NaN, then missing, last
        (["metrics.acc"], ["r0", "r1", "r3", "r4", "r2"]),
        (["params.p DESC"], ["r4", "r3", "r2", "r0", "r1"]),  # missing last both ways
        (["params.p ASC"], ["r0", "r2", "r3", "r4", "r1"]),
        (["tags.t", "start_time"], ["r1", "r3", "r0", "r2", "r4"]),
        (["attributes.end_time DESC"], ["r3", "r4", "r2", "r1", "r0"]),
        (["run_name"], ["r0", "r1", "r2", "r3", "r4"]),
        (["created"], ["r0", "r1", "r2", "r3", "r4"]),
        (["metrics.`my metric` DESC"], ["r4", "r3", "r2", "r1", "r0"]),
        (["user_id", "metrics.acc DESC"], ["r0", "r4", "r2", "r3", "r1"]),
    ],
)
def test_order_by(store, exp_id, runs, order_by, expected):
    assert names(store, exp_id, order_by=order_by) == expected


def test_ties_break_on_start_time_desc_then_run_id(store, exp_id):
    ids = [store.create_run(exp_id, start_time=5)["info"]["run_id"] for _ in range(4)]
    found, _ = store.search_runs([exp_id], order_by=["tags.missing"])
    assert [r["info"]["run_id"] for r in found] == sorted(ids)


def test_paging(store, exp_id, runs):
    page, token = store.search_runs([exp_id], max_results=2)
    assert [r["info"]["run_name"] for r in page] == ["r4", "r3"]
    assert token == "eyJvZmZzZXQiOiAyfQ=="
    page, token = store.search_runs([exp_id], max_results=2, page_token=token)
    assert [r["info"]["run_name"] for r in page] == ["r2", "r1"]
    page, token = store.search_runs([exp_id], max_results=2, page_token=token)
    assert [r["info"]["run_name"] for r in page] == ["r0"] and token is None
    # as 2.7.1: a full page carries a token even when nothing follows
    page, token = store.search_runs([exp_id], max_results=5)
    assert len(page) == 5 and token == "eyJvZmZzZXQiOiA1fQ=="


def test_view_types_and_experiments(store, exp_id, runs):
    store.delete_run(runs["r2"])
    assert "r2" not in names(store, exp_id)
    assert names(store, exp_id, run_view_type="DELETED_ONLY") == ["r2"]
    assert len(names(store, exp_id, run_view_type="ALL")) == 5
    other = store.create_experiment("other")
    store.create_run(other, run_name="x")
    found, _ = store.search_runs([exp_id, other, "nonexistent"])
    assert len(found) == 5
    assert store.search_runs([], None) == ([], None)


def test_search_returns_full_runs(store, exp_id, runs):
    found, _ = store.search_runs([exp_id], "attributes.run_name = 'r0'")
    assert found == [store.get_run(runs["r0"])]
    assert found[0]["inputs"]["dataset_inputs"][0]["dataset"]["name"] == "d"


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (
            {"filter_string": "metrics.acc > 'x'"},
            "Expected numeric value type for metric. Found 'x'",
        ),
        ({"filter_string": "params.p > '1'"}, "Invalid comparator '>' not one of "),
        (
            {"filter_string": "foo.bar = 1"},
            "Invalid entity type 'foo'. Valid values are "
            "['metric', 'parameter', 'tag', 'attribute', 'dataset']",
        ),
        ({"filter_string": "attributes.foo = 'x'"}, "Invalid attribute key 'foo' specified."),
        (
            {"filter_string": "run_name IN ('a')"},
            "Only the 'run_id' attribute supports comparison with a list of quoted string values.",
        ),
        (
            {"filter_string": "params.p = 1"},
            "Expected a quoted string value for parameter (e.g. 'my-value'). Got value 1",
        ),
        (
            {"filter_string": "params.p = abc"},
            "Parameter value is either not quoted or unidentified quote types used for string "
            "value abc. Use either single or double quotes.",
        ),
        ({"filter_string": "tags.t = 'a' OR tags.t = 'b'"}, "Invalid clause(s) in filter string"),
        ({"filter_string": "metrics.acc"}, "Invalid clause(s) in filter string: 'metrics.acc'"),
        ({"filter_string": "run_id IN ()"}, "While parsing a list in the query, expected a "),
        ({"filter_string": "start_time > 'x'"}, "Expected numeric value type for numeric attr"),
        ({"filter_string": "datasets.size = 'x'"}, "Invalid dataset key 'size' specified."),
        ({"order_by": ["foo"]}, "Invalid attribute key 'foo' specified."),
        ({"order_by": ["metrics.acc sideways"]}, "Invalid ordering key in order_by clause"),
        ({"order_by": ["metrics.acc", "metrics.acc DESC"]}, "`order_by` contains duplicate"),
        ({"order_by": ["datasets.name"]}, "Invalid identifier type 'dataset'"),
        ({"page_token": "zzz"}, "Invalid page token, could not base64-decode"),
        ({"page_token": "eyJhIjogMX0="}, "Invalid page token, parsed value={'a': 1}"),
        ({"max_results": 50001}, "Invalid value 50001 for parameter 'max_results' supplied."),
    ],
)
def test_search_errors(store, exp_id, kwargs, message):
    with pytest.raises(MlflowError) as info:
        store.search_runs([exp_id], **kwargs)
    assert info.value.error_code == "INVALID_PARAMETER_VALUE"
    assert info.value.message.startswith(message), info.value.message


@pytest.mark.parametrize(
    "filter_string",
    [
        "metrics.acc > 0.5",
        "metrics.`a b` >= -1 AND params.p = 'x'",
        'params."a.b" != "y"',
        "tags.`mlflow.runName` LIKE '%x%'",
        "attributes.run_id IN ('abc', 'def')",
        "run_id NOT IN ('abc')",
        "status ILIKE 'run%' and start_time < 5",
        "attr.`Run name` = 'x'",
        "datasets.context = 'train'",
        "metrics.m = 1e3",
        "params.p = 'it''s'",
    ],
)
def test_parser_agrees_with_mlflow(filter_string):
    from mlflow.utils.search_utils import SearchUtils

    theirs = SearchUtils.parse_search_filter(filter_string)
    for clause in theirs:
        clause["comparator"] = clause["comparator"].upper()
    assert parse_filter(filter_string) == theirs


def _log_m_values(store, exp_id):
    """Runs r0..r8 (start_time 10 * i, metric "other" = i) whose metric "m" is a number, NaN
    or missing."""
    values = [2.0, float("nan"), None, 2.0, -1.0, float("nan"), None, 5.0, float("inf")]
    for i, value in enumerate(values):
        run = store.create_run(exp_id, start_time=10 * i, run_name=f"r{i}")["info"]["run_id"]
        store.log_metric(run, "other", i, 1)
        if value is not None:
            store.log_metric(run, "m", value, 1)


def test_metric_order_pages_through_numbers_nan_and_missing(store, exp_id):
    """A search ordered by a metric reads three segments (numbers, NaN, missing); every page
    size and offset gives the same order as one page, and runs of another experiment that have
    the metric stay out."""
    other = store.create_experiment("other")
    for i in range(3):
        run = store.create_run(other, start_time=i)["info"]["run_id"]
        store.log_metric(run, "m", 100 + i, 1)
    _log_m_values(store, exp_id)
    for direction, numbers in (
        ("DESC", ["r8", "r7", "r3", "r0", "r4"]),
        ("ASC", ["r4", "r3", "r0", "r7", "r8"]),
    ):
        whole = names(store, exp_id, order_by=[f"metrics.m {direction}"])
        # ties (r0 and r3 at 2.0, the NaNs, the missing) by start_time DESC
        assert whole == [*numbers, "r5", "r1", "r6", "r2"], (direction, whole)
        for size in range(1, len(whole) + 1):
            paged, token = [], None
            while True:
                page, token = store.search_runs(
                    [exp_id],
                    order_by=[f"metrics.m {direction}"],
                    max_results=size,
                    page_token=token,
                )
                paged += [r["info"]["run_name"] for r in page]
                if token is None or not page:
                    break
            assert paged == whole, (direction, size, paged)


def test_metric_order_with_a_filter_and_two_experiments(store, exp_id):
    other = store.create_experiment("other")
    for exp, offset in ((exp_id, 0), (other, 10)):
        for i in range(6):
            run = store.create_run(exp, start_time=i, run_name=f"e{offset + i}")["info"]["run_id"]
            store.log_batch(
                run,
                metrics=[{"key": "score", "value": offset + i, "timestamp": 1}],
                params=[{"key": "parity", "value": "even" if i % 2 == 0 else "odd"}],
            )
    found, _ = store.search_runs(
        [exp_id, other], "params.parity = 'even'", order_by=["metrics.score DESC"], max_results=4
    )
    assert [r["info"]["run_name"] for r in found] == ["e14", "e12", "e10", "e4"]


def test_a_filter_on_the_ordering_metric(store, exp_id):
    """A filter on the metric a search is ordered by narrows the numbers read along the index;
    NaN (stored as 0, so `< 3` holds for it, as in 2.7.1) and missing values keep their
    segments."""
    _log_m_values(store, exp_id)
    for filter_string, direction, expected in (
        ("metrics.m < 3", "DESC", ["r3", "r0", "r4", "r5", "r1"]),
        ("metrics.m < 3", "ASC", ["r4", "r3", "r0", "r5", "r1"]),
        ("metrics.m >= 2 AND metrics.other >= 3", "DESC", ["r8", "r7", "r3"]),
        ("metrics.m != 2", "ASC", ["r4", "r7", "r8", "r5", "r1"]),
    ):
        got = names(store, exp_id, filter_string, order_by=[f"metrics.m {direction}"])
        assert got == expected, (filter_string, direction, got)
