"""Reads: whole runs loaded together (one query for the latest metrics, params and tags of any
number of runs, one for their inputs), reads without BEGIN/COMMIT, a metric's history checked
against the bound project, and the settings of PostgreSQL sessions."""

from __future__ import annotations

import math

import pytest

from server.errors import MlflowError
from server.store import open_store
from server.store.db import connect
from tests.pg import admin_url, make_database

MAX = 1.7976931348623157e308
# Byte-wise (as SQLite orders text): upper case, then "_", then lower case, then non-ASCII.
KEYS = ["é", "b", "_", "Z", "a", "B"]
BYTE_ORDER = ["B", "Z", "_", "a", "b", "é"]
PREPARED = "SELECT name FROM pg_prepared_statements"


class _Sent(list):
    """First words, with the whole query strings beside them."""

    def __init__(self):
        super().__init__()
        self.texts: list[str] = []


@pytest.fixture
def statements(store, monkeypatch):
    """The first word of each query string the store sends from here on, as peewee hands it to
    the driver (one round trip each: on PostgreSQL a string may hold several statements)."""
    sent = _Sent()
    texts = sent.texts
    db = store.db
    cursor = db.cursor

    class Spy:
        def __init__(self, inner):
            self._inner = inner

        def execute(self, sql, params=None):
            sent.append(sql.split(None, 1)[0].upper())
            texts.append(sql)
            return (
                self._inner.execute(sql, params) if params is not None else self._inner.execute(sql)
            )

        def __getattr__(self, name):
            return getattr(self._inner, name)

        def __iter__(self):
            return iter(self._inner)

    monkeypatch.setattr(db, "cursor", lambda *a, **k: Spy(cursor(*a, **k)))
    return sent


def _runs(store, count: int, batch) -> tuple[str, str]:
    """A new experiment of `count` runs (start_time 0, 1, ...), run i logged `batch(i)` ->
    (the experiment's id, the last run's id)."""
    exp_id = store.create_experiment("e")
    for i in range(count):
        run_id = store.create_run(exp_id, start_time=i)["info"]["run_id"]
        store.log_batch(run_id, **batch(i))
    return exp_id, run_id


@pytest.fixture
def pg_store(request):
    """A store on a fresh PostgreSQL database (whatever the test's other parameters)."""
    url, drop = make_database(admin_url())
    request.addfinalizer(drop)
    store = open_store(url).for_project(0)
    request.addfinalizer(store.close)
    return store


def _metric(key, value, step=0):
    return {"key": key, "value": value, "timestamp": 5, "step": step}


def test_a_runs_children_come_whole_and_in_key_order(store, exp_id):
    run_id = store.create_run(exp_id, run_name="whole", start_time=1)["info"]["run_id"]
    store.log_batch(
        run_id,
        metrics=[_metric(f"m{k}", float(i)) for i, k in enumerate(KEYS)]
        + [_metric("nan", float("nan")), _metric("inf", float("inf")), _metric("-inf", -math.inf)],
        params=[{"key": f"p{k}", "value": ""} for k in KEYS],
    )
    for start in (200, 100, 0):  # 100 tags a batch at most
        tags = [{"key": f"t{i:03d}", "value": str(i)} for i in range(start, start + 100)]
        store.log_batch(run_id, tags=tags)
    store.log_batch(run_id, metrics=[_metric("mB", 7.5, step=2)])  # a newer latest value
    bare = store.create_run(exp_id, run_name="bare", start_time=0)["info"]["run_id"]

    run = store.get_run(run_id)
    metrics = run["data"]["metrics"]
    assert [m["key"] for m in metrics] == ["-inf", "inf", *(f"m{k}" for k in BYTE_ORDER), "nan"]
    by_key = {m["key"]: m for m in metrics}
    assert by_key["mB"] == {"key": "mB", "value": 7.5, "timestamp": 5, "step": 2}
    assert by_key["inf"]["value"] == MAX and by_key["-inf"]["value"] == -MAX
    assert math.isnan(by_key["nan"]["value"])
    assert run["data"]["params"] == [{"key": f"p{k}", "value": ""} for k in BYTE_ORDER]
    tags = [{"key": f"t{i:03d}", "value": str(i)} for i in range(300)]
    assert run["data"]["tags"] == [{"key": "mlflow.runName", "value": "whole"}, *tags]
    assert list(run["data"]) == ["metrics", "params", "tags"]
    assert store.get_run(bare)["data"] == {"tags": [{"key": "mlflow.runName", "value": "bare"}]}
    assert store.get_run(bare)["inputs"] == {}

    # A search reads whole runs the same way.
    runs, _ = store.search_runs([exp_id])
    assert [r["info"]["run_id"] for r in runs] == [run_id, bare]
    assert runs[0]["data"]["tags"] == run["data"]["tags"]
    assert runs[0]["data"]["params"] == run["data"]["params"]
    assert [m["key"] for m in runs[0]["data"]["metrics"]] == [m["key"] for m in metrics]
    assert runs[1]["data"] == store.get_run(bare)["data"]


def test_each_run_of_a_page_gets_its_own_children(store, exp_id):
    ids = []
    for i in range(40):
        run_id = store.create_run(exp_id, run_name=f"r{i}", start_time=i)["info"]["run_id"]
        store.log_batch(
            run_id,
            metrics=[_metric("i", float(i))] * (i % 2) + [_metric("m", float(i * 10))],
            params=[{"key": "i", "value": str(i)}],
            tags=[{"key": "i", "value": str(i)}] * (i % 3 == 0),
        )
        if i % 5 == 0:
            dataset = {"name": f"d{i}", "digest": "dg", "source_type": "local", "source": "s"}
            store.log_inputs(run_id, [{"dataset": dataset}])
        ids.append(run_id)
    runs, _ = store.search_runs([exp_id], max_results=1000)
    assert [r["info"]["run_id"] for r in runs] == ids[::-1]
    for run in runs:
        i = run["info"]["start_time"]
        data = run["data"]
        assert data["metrics"] == [_metric("i", float(i))] * (i % 2) + [_metric("m", i * 10.0)]
        assert data["params"] == [{"key": "i", "value": str(i)}]
        tags = [{"key": "i", "value": str(i)}] * (i % 3 == 0)
        assert data["tags"] == tags + [{"key": "mlflow.runName", "value": f"r{i}"}]
        names = [d["dataset"]["name"] for d in run["inputs"].get("dataset_inputs", [])]
        assert names == ([f"d{i}"] if i % 5 == 0 else [])


def test_reads_take_a_fixed_number_of_statements(store, exp_id, statements):
    for i in range(30):
        run_id = store.create_run(exp_id, start_time=i)["info"]["run_id"]
        store.log_batch(run_id, metrics=[_metric("m", i)], params=[{"key": "p", "value": "v"}])
    store.get_run(run_id)  # PostgreSQL prepares the statements on first use
    statements.clear()
    store.get_run(run_id)
    # The run (with whether it has inputs), its metrics, params and tags; no BEGIN or COMMIT.
    assert statements == (["EXECUTE"] * 2 if store.pg else ["SELECT", "WITH"])
    # A run with dataset inputs: one more, for them.
    dataset = {"name": "d", "digest": "dg", "source_type": "local", "source": "s"}
    store.log_inputs(run_id, [{"dataset": dataset, "tags": [{"key": "k", "value": "v"}]}])
    store.get_run(run_id)
    statements.clear()
    inputs = store.get_run(run_id)["inputs"]["dataset_inputs"]
    assert inputs == [{"tags": [{"key": "k", "value": "v"}], "dataset": dataset}]
    assert statements == (["EXECUTE"] * 3 if store.pg else ["SELECT", "WITH", "WITH"])
    counts = []
    store.search_runs([exp_id], max_results=2)  # prepares a page's statements, as above
    for max_results in (3, 30):
        statements.clear()
        runs, _ = store.search_runs([exp_id], max_results=max_results)
        assert len(runs) == max_results
        counts.append(len(statements))
    assert counts[0] == counts[1] and "BEGIN" not in statements
    statements.clear()
    statements.texts.clear()
    store.log_metric(run_id, "m", 1.0, 1)
    texts = statements.texts
    if store.pg:
        # One round trip opens the transaction and reads the run, one sends the history's and
        # the latest value's inserts (one row each, prepared by the log_batch calls above) with
        # the COMMIT.
        assert len(texts) == 2 and texts[0].startswith("BEGIN; EXECUTE ")
        parts = texts[1].split("; ")
        names = [part.split()[1] for part in parts[:-1]]
        assert all(part.startswith("EXECUTE ") for part in parts[:-1]) and parts[-1] == "COMMIT"
        with store.db.connection_context():  # the one connection this test's calls use
            found = dict(
                store.db.execute_sql(
                    "SELECT name, statement FROM pg_prepared_statements WHERE name IN %s",
                    [tuple(names)],
                ).fetchall()
            )
        inserts = [found[name].split(" AS ", 1)[1].split(" (")[0] for name in names]
        assert inserts == ['INSERT INTO "metrics"', 'INSERT INTO "latest_metrics"']
    else:
        assert statements[0] == "BEGIN" and statements[-1] == "COMMIT"  # writes are transactions


def test_metric_history_of_another_projects_run_is_empty(db_url):
    store = open_store(db_url)
    try:
        ours, theirs = store.for_project(0), store.for_project(7)
        run_id = ours.create_run(ours.create_experiment("e"))["info"]["run_id"]
        ours.log_batch(run_id, metrics=[_metric("m", float(s), step=s) for s in range(5)])
        assert [m["step"] for m in ours.get_metric_history(run_id, "m")[0]] == list(range(5))
        assert theirs.get_metric_history(run_id, "m") == ([], None)
        with pytest.raises(MlflowError) as e:
            theirs.get_run(run_id)
        assert e.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    finally:
        store.close()


def _session_setting(db, name: str) -> str:
    with db.connection_context():
        return db.execute_sql(f"SHOW {name}").fetchone()[0]


@pytest.mark.postgresql
def test_postgresql_sessions_start_no_parallel_workers(request):
    url, drop = make_database(admin_url())
    request.addfinalizer(drop)
    db = connect(url)
    try:
        assert _session_setting(db, "max_parallel_workers_per_gather") == "0"
    finally:
        db.close_all()
    # The URL's own options apply too, and come last.
    own = "?options=-c%20random_page_cost%3D1.1%20-c%20max_parallel_workers_per_gather%3D2"
    db = connect(url + own)
    try:
        assert _session_setting(db, "random_page_cost") == "1.1"
        assert _session_setting(db, "max_parallel_workers_per_gather") == "2"
    finally:
        db.close_all()


@pytest.mark.postgresql
def test_postgresql_prepares_hot_reads_once_per_connection(pg_store):
    store = pg_store
    run_id = store.create_run(store.create_experiment("e"))["info"]["run_id"]
    store.log_batch(run_id, metrics=[_metric("m", 1.0)], params=[{"key": "p", "value": ""}])

    def prepared() -> set[str]:
        with store.db.connection_context():
            return {name for (name,) in store.db.execute_sql(PREPARED)}

    before = prepared()  # what the writes prepared (their look-up of the run)
    expected = store.get_run(run_id)
    assert len(prepared() - before) == 2  # the run; its metrics, params and tags
    assert store.get_run(run_id) == expected and len(prepared() - before) == 2
    # A new connection (the pool's were dropped) prepares them again.
    store.db.close_all()
    assert store.get_run(run_id) == expected
    assert len(store.get_metric_history(run_id, "m")[0]) == 1
    assert len(prepared()) == 3


@pytest.mark.postgresql
def test_postgresql_reads_one_runs_children_by_primary_key_without_statistics(pg_store):
    store = pg_store
    # A page of several runs is a JSON array, which PostgreSQL takes for 100 rows: on tables
    # it has no statistics for yet, scanning each whole looked cheaper than 100 look-ups.
    run_id = _runs(
        store,
        30,
        lambda i: {
            "metrics": [_metric(f"m{k}", float(k)) for k in range(20)],
            "params": [{"key": f"p{k}", "value": str(k)} for k in range(20)],
            "tags": [{"key": f"t{k}", "value": str(k)} for k in range(20)],
        },
    )[1]
    for _ in range(6):  # past the five custom plans after which PostgreSQL may keep a generic one
        assert len(store.get_run(run_id)["data"]["metrics"]) == 20
    with store.db.connection_context():  # the pool's one connection, which prepared them
        (name,) = store.db.execute_sql(
            PREPARED + " WHERE statement LIKE %s", ["%latest_metrics%"]
        ).fetchone()
        plan = "\n".join(
            line for (line,) in store.db.execute_sql(f"EXPLAIN EXECUTE {name} (%s)", [run_id])
        )
    assert "Seq Scan" not in plan, plan
    for table in ("latest_metrics", "params", "tags"):
        assert f"Index Scan using {table}_pkey" in plan, plan


def test_search_values_reach_the_database_as_given(store, exp_id):
    # On PostgreSQL they are written into the statement that is prepared (% included).
    values = ["100%s", "50%% off", "%", "$1", "back\\slash", "t\u00e9"]
    ids = {}
    for i, value in enumerate(values):
        run_id = store.create_run(exp_id, start_time=i)["info"]["run_id"]
        store.log_batch(run_id, params=[{"key": "p", "value": value}])
        ids[value] = run_id
    for _ in range(2):  # the second time through the statements the first one prepared
        for value in values:
            runs, _ = store.search_runs([exp_id], f"params.p = '{value}'")
            assert [r["info"]["run_id"] for r in runs] == [ids[value]]
        runs, _ = store.search_runs([exp_id], "params.p LIKE '%s'")
        assert [r["info"]["run_id"] for r in runs] == [ids["100%s"]]


@pytest.mark.postgresql
def test_postgresql_plans_a_search_once_per_connection(pg_store):
    store = pg_store
    exp_id = _runs(store, 3, lambda i: {"metrics": [_metric("m", float(i))]})[0]
    for _ in range(3):
        runs, _ = store.search_runs([exp_id], "metrics.m >= 1", order_by=["metrics.m DESC"])
        assert [r["data"]["metrics"][0]["value"] for r in runs] == [2.0, 1.0]
    with store.db.connection_context():
        plans = store.db.execute_sql(
            "SELECT generic_plans, custom_plans FROM pg_prepared_statements"
            " WHERE statement LIKE %s",
            ["%ORDER BY%"],
        ).fetchall()
    # The segment of runs with a number for the metric, run three times and planned once.
    assert (3, 0) in plans, plans
