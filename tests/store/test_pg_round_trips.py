"""PostgreSQL's round trips (server.store.db.PostgresDatabase): a transaction's BEGIN and its
inserts travel with other statements, and pooled connections are checked only after idling. The
store must answer and keep exactly what it does when each statement goes alone."""

from __future__ import annotations

import time

import peewee as pw
import psycopg2
import pytest

from server.errors import MlflowError
from server.store import open_store
from tests.pg import admin_url, make_database

pytestmark = pytest.mark.postgresql


@pytest.fixture
def pg_store():
    url, drop = make_database(admin_url())
    store = open_store(url).for_project(0)
    yield store
    store.close()
    drop()


@pytest.fixture
def sent(pg_store, monkeypatch):
    """Every query string sent to the server from here on (one round trip each)."""
    texts: list[str] = []
    cursor = pg_store.db.cursor

    class Spy:
        def __init__(self, inner):
            self._inner = inner

        def execute(self, sql, params=None):
            texts.append(sql)
            return self._inner.execute(sql) if params is None else self._inner.execute(sql, params)

        def __getattr__(self, name):
            return getattr(self._inner, name)

        def __iter__(self):
            return iter(self._inner)

    monkeypatch.setattr(pg_store.db, "cursor", lambda *a, **k: Spy(cursor(*a, **k)))
    return texts


def _run(store) -> str:
    return store.create_run(store.create_experiment("e"))["info"]["run_id"]


def test_inserts_wait_for_the_commit_and_keep_their_values(pg_store, sent):
    run_id = _run(pg_store)
    awkward = ["50% of 'it'", "back\\slash $1 %s %%", "ünïcode\ttab"]
    pg_store.get_run(run_id)  # prepares the reads
    sent.clear()
    params = [{"key": f"p{i}", "value": value} for i, value in enumerate(awkward)]
    tags = [{"key": "t", "value": awkward[1]}]
    pg_store.log_batch(run_id, metrics=[], params=params, tags=tags)
    assert sent[0].startswith("BEGIN; ") and sent[-1].endswith("; COMMIT")
    data = pg_store.get_run(run_id)["data"]
    assert [p["value"] for p in data["params"]] == awkward
    assert {"key": "t", "value": awkward[1]} in data["tags"]


def test_a_failing_insert_leaves_nothing_of_its_transaction(pg_store):
    db = pg_store.db
    with db.connection_context():
        db.execute_sql("CREATE TABLE queued (k integer PRIMARY KEY)")
    with pytest.raises(pw.IntegrityError), db.connection_context(), db.atomic():
        db.defer_sql("INSERT INTO queued VALUES (%s)", [1])
        db.defer_sql("INSERT INTO queued VALUES (%s)", [2])
        db.defer_sql("INSERT INTO queued VALUES (%s)", [1])  # fails, with the COMMIT it goes with
    with db.connection_context():  # the same connection, back in the pool, serves again
        assert db.execute_sql("SELECT count(*) FROM queued").fetchone() == (0,)
        with db.atomic():
            db.defer_sql("INSERT INTO queued VALUES (%s)", [3])
            # A read sees what was queued before it: the two go together.
            assert db.execute_sql("SELECT k FROM queued").fetchall() == [(3,)]
        assert db.execute_sql("SELECT k FROM queued").fetchall() == [(3,)]


def test_prepared_inserts_survive_a_failed_transaction_and_the_limit(pg_store, monkeypatch):
    """defer_prepared: PostgreSQL keeps a statement prepared inside a transaction that fails;
    the connection's list of them says so, and the statements serve the next transactions,
    also once the list has been emptied at its limit (DEALLOCATE ALL)."""
    db = pg_store.db
    insert = "INSERT INTO kept (k, v) VALUES (%s, %s)"
    with db.connection_context():
        db.execute_sql("CREATE TABLE kept (k integer PRIMARY KEY, v text)")
    with pytest.raises(pw.IntegrityError), db.connection_context(), db.atomic():
        db.defer_prepared(insert, [1, "50% 'a'"])
        db.defer_prepared(insert, [1, "b"])  # fails, with the COMMIT it goes with
    with db.connection_context():
        assert db.execute_sql("SELECT count(*) FROM kept").fetchone() == (0,)
        with db.atomic():
            db.defer_prepared(insert, [1, "50% 'a'"])
            db.defer_prepared(insert, [2, "$1 %s"])
        monkeypatch.setattr(type(db), "PREPARED_LIMIT", 3)
        for k in range(3, 9):  # a new statement each time: the list is emptied on the way
            with db.atomic():
                db.defer_prepared(f"{insert} /* {k} */", [k, str(k)])
        with db.atomic():
            db.defer_prepared(insert, [9, "back\\slash"])
        rows = db.execute_sql("SELECT k, v FROM kept ORDER BY k").fetchall()
    assert rows == [
        (1, "50% 'a'"),
        (2, "$1 %s"),
        *((k, str(k)) for k in range(3, 9)),
        (9, "back\\slash"),
    ]


def test_a_refused_write_sends_no_commit(pg_store, sent):
    run_id = _run(pg_store)
    pg_store.delete_run(run_id)
    sent.clear()
    with pytest.raises(MlflowError, match="must be in the 'active' state"):
        pg_store.log_metric(run_id, "m", 1.0, 1)
    assert [text.split(";")[0].split(" ")[0] for text in sent] == ["BEGIN", "ROLLBACK"]


def _terminate_others(store) -> int:
    """Cut every other connection to the store's database, as a restart does; how many."""
    with psycopg2.connect(**_params(store)) as conn, conn.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return cursor.fetchone()[0]


def _params(store) -> dict:
    db = store.db
    return {"dbname": db.database, **{k: v for k, v in db.connect_params.items() if k != "options"}}


def test_an_idle_connection_is_checked_before_use(pg_store):
    run_id = _run(pg_store)
    assert _terminate_others(pg_store) >= 1  # the pool's idle connection
    time.sleep(pg_store.db.IDLE_CHECK + 0.2)
    pg_store.log_metric(run_id, "m", 1.0, 1)  # a fresh connection, no error
    assert [m["value"] for m in pg_store.get_metric_history(run_id, "m")[0]] == [1.0]


def test_a_connection_cut_while_briefly_idle_fails_one_call_promptly(pg_store):
    run_id = _run(pg_store)
    pg_store.db.IDLE_CHECK = 60.0
    assert _terminate_others(pg_store) >= 1
    with pytest.raises(MlflowError) as failed:
        pg_store.log_metric(run_id, "m", 1.0, 1)
    assert failed.value.error_code == "TEMPORARILY_UNAVAILABLE"
    pg_store.log_metric(run_id, "m", 2.0, 2)  # the broken connection left the pool
    assert [m["value"] for m in pg_store.get_metric_history(run_id, "m")[0]] == [2.0]


def test_connections_closed_by_the_pool_leave_no_idle_times_behind(pg_store):
    db = pg_store.db
    run_id = _run(pg_store)
    db._stale_timeout = 1e-6  # every connection is stale when it is handed back
    for i in range(5):
        pg_store.log_metric(run_id, "m", float(i), i)
    assert db._returned == {}
    assert len(pg_store.get_metric_history(run_id, "m")[0]) == 5
