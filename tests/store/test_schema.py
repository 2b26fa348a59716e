"""Schema creation and migration: versioned, idempotent, safe when processes start together;
connections pooled across threads."""

from __future__ import annotations

import multiprocessing
import threading

import pytest

from server.errors import MlflowError
from server.store import open_store
from server.store.models import MIGRATIONS, SCHEMA_VERSION


def _versions(store) -> list[int]:
    V = store.models.SchemaVersion
    with store.db.connection_context():
        return [row[0] for row in V.select(V.version).order_by(V.version).tuples()]


def test_schema_version_recorded(store):
    assert _versions(store) == list(range(1, SCHEMA_VERSION + 1))
    assert sorted(MIGRATIONS) == list(range(1, SCHEMA_VERSION + 1))


def test_open_twice_is_idempotent(db_url):
    first = open_store(db_url).for_project(0)
    exp_id = first.create_experiment("kept")
    first.close()
    second = open_store(db_url).for_project(0)
    assert second.get_experiment(exp_id)["name"] == "kept"
    assert second.get_experiment("0")["name"] == "Default"
    assert _versions(second) == list(range(1, SCHEMA_VERSION + 1))
    found, _ = second.search_experiments(view_type="ALL")
    assert sorted(e["name"] for e in found) == ["Default", "kept"]
    second.close()


def test_newer_schema_is_refused(db_url):
    store = open_store(db_url).for_project(0)
    with store.db.connection_context():
        store.models.SchemaVersion.insert(version=SCHEMA_VERSION + 1).execute()
    store.close()
    with pytest.raises(RuntimeError, match="newer than this server"):
        open_store(db_url)


def _open_in_process(db_url: str, queue) -> None:
    try:
        store = open_store(db_url).for_project(0)
        queue.put(store.get_experiment("0")["name"])
        store.close()
    except Exception as e:  # reported to the parent
        queue.put(repr(e))


def test_concurrent_opens_from_processes(db_url):
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    procs = [ctx.Process(target=_open_in_process, args=(db_url, queue)) for _ in range(4)]
    for p in procs:
        p.start()
    results = [queue.get(timeout=60) for _ in procs]
    for p in procs:
        p.join(timeout=60)
    assert results == ["Default"] * 4
    store = open_store(db_url).for_project(0)
    assert _versions(store) == list(range(1, SCHEMA_VERSION + 1))
    found, _ = store.search_experiments(view_type="ALL")
    assert [e["experiment_id"] for e in found] == ["0"]
    store.close()


def test_threads_share_the_pool(store, run_id):
    errors = []

    def work(n: int) -> None:
        try:
            for i in range(20):
                store.log_metric(run_id, "m", float(n * 100 + i), timestamp=i, step=i)
                store.set_tag(run_id, f"t{n}", str(i))
                store.get_run(run_id)
        except Exception as e:
            errors.append(e)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    history, _ = store.get_metric_history(run_id, "m")
    assert len(history) == 160
    latest = {m["key"]: m for m in store.get_run(run_id)["data"]["metrics"]}["m"]
    assert (latest["step"], latest["value"]) == (19, 719.0)


def test_failed_call_leaves_nothing_behind(store, exp_id):
    # a unique-constraint failure inside create_run rolls the whole run back
    tags = [{"key": "a", "value": "1"}, {"key": "a", "value": "2"}]
    with pytest.raises(MlflowError) as info:
        store.create_run(exp_id, tags=tags)
    assert info.value.error_code == "BAD_REQUEST"  # as 2.7.1
    assert store.search_runs([exp_id], run_view_type="ALL") == ([], None)


def test_latest_metrics_gain_their_experiment(db_url):
    """Version 4: latest_metrics rows of an older database get their run's experiment, and the
    (experiment_id, key, is_nan, value) index replaces (key, value)."""
    store = open_store(db_url).for_project(0)
    exp_id = store.create_experiment("e")
    runs = [store.create_run(exp_id, start_time=i)["info"]["run_id"] for i in range(3)]
    for i, run in enumerate(runs):
        store.log_metric(run, "m", i, 1)
    with store.db.connection_context():  # as version 3 left it
        store.db.execute_sql('UPDATE "latest_metrics" SET "experiment_id" = NULL')
        store.db.execute_sql('DROP INDEX "latestmetric_experiment_id_key_is_nan_value"')
        store.db.execute_sql(
            'CREATE INDEX "latestmetric_key_value" ON "latest_metrics" ("key", "value")'
        )
        store.models.SchemaVersion.delete().where(store.models.SchemaVersion.version == 4).execute()
    store.close()
    store = open_store(db_url).for_project(0)
    assert _versions(store) == list(range(1, SCHEMA_VERSION + 1))
    with store.db.connection_context():
        rows = store.db.execute_sql(
            'SELECT DISTINCT "experiment_id" FROM "latest_metrics"'
        ).fetchall()
        indexes = {i.name for i in store.db.get_indexes("latest_metrics")}
    assert rows == [(int(exp_id),)]
    assert "latestmetric_experiment_id_key_is_nan_value" in indexes
    assert "latestmetric_key_value" not in indexes
    found, _ = store.search_runs([exp_id], order_by=["metrics.m DESC"])
    assert [r["info"]["run_id"] for r in found] == runs[::-1]
    store.close()
