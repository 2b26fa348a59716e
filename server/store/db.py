"""Database URLs -> pooled peewee databases, and the one-transaction-per-call decorator."""

from __future__ import annotations

import contextlib
import fcntl
import functools
import hashlib
import itertools
import os
import re
import threading
import time
import weakref
from collections import OrderedDict
from urllib.parse import parse_qsl, unquote, urlparse

import peewee as pw
from playhouse.pool import PooledPostgresqlDatabase, PooledSqliteDatabase

from server.errors import MlflowError

SQLITE_PRAGMAS = {
    "journal_mode": "wal",
    "busy_timeout": 30000,
    "synchronous": 1,  # NORMAL: durable at checkpoints, safe with WAL
    # A batch of 1000 metrics of one run touches some 700 pages of the metric history's index:
    # each commit writes them to the WAL, each checkpoint again to the database. Checkpoints
    # every 16384 pages (64 MiB of WAL, its file kept at most that size) instead of 1000 copy
    # a page rewritten meanwhile once, and 8 MiB of page cache per connection (2 before, grown
    # as used) rereads fewer: log-batch of 1000 metrics into a run of 60,000 points, 30 ms to 21.
    "wal_autocheckpoint": 16384,
    "journal_size_limit": 64 * 1024 * 1024,
    "cache_size": -8000,
    "foreign_keys": 1,
    # MLflow's LIKE is case-sensitive (ILIKE is not); SQLite's LIKE is not by default.
    "case_sensitive_like": 1,
}
# Settings of every PostgreSQL session (libpq's `options`).
_PG_SESSION = "-c max_parallel_workers_per_gather=0"


def connect(db_url: str, max_connections: int = 32) -> pw.Database:
    """A pooled database for ``sqlite:///abs/path.db`` or ``postgresql://user:pw@host:port/db``.

    Connections are handed out per thread and returned to the pool when a call ends, so the
    store can serve a thread pool of request handlers.
    """
    url = urlparse(db_url)
    scheme = url.scheme.split("+", 1)[0]
    if scheme == "sqlite":
        path = db_url.split("://", 1)[1]
        path = path[1:] if path.startswith("/") else path  # sqlite:///abs -> /abs
        path = path or ":memory:"
        return PooledSqliteDatabase(
            path,
            pragmas=SQLITE_PRAGMAS,
            check_same_thread=False,
            max_connections=max_connections,
            stale_timeout=600,
            timeout=60,
            autoconnect=False,
        )
    if scheme in ("postgresql", "postgres"):
        options = dict(parse_qsl(url.query))
        # A database that does not answer fails a request in seconds, not minutes.
        options.setdefault("connect_timeout", "3")
        # Parallel workers take longer to start than this server's queries take to run (a
        # top-100 search of 100,000 runs: 16 ms with them, 5 ms without). The URL's own
        # `options` come after, so they may turn them back on.
        options["options"] = f"{_PG_SESSION} {options.get('options', '')}".strip()
        return PostgresDatabase(
            unquote(url.path.lstrip("/")),
            user=unquote(url.username) if url.username else None,
            password=unquote(url.password) if url.password else None,
            host=url.hostname,
            port=url.port,
            max_connections=max_connections,
            stale_timeout=600,
            timeout=60,
            autoconnect=False,
            **options,
        )
    raise ValueError(f"unsupported database URL {db_url!r}: use sqlite:/// or postgresql://")


class PostgresDatabase(PooledPostgresqlDatabase):
    """A pool of PostgreSQL connections that spends fewer round trips on a request.

    - A transaction's BEGIN goes to the server with its first statement, and a statement whose
      answer nobody reads (`bulk_insert`'s, within a transaction) waits to go with the next one,
      or with the COMMIT, as one query string: a log-metric (BEGIN, a read of the run, two
      inserts, COMMIT) takes 2 round trips instead of 5. They run in the same order in the same
      transaction; the first that fails stops the rest, and its error is raised by the call that
      sent it. A transaction that sent nothing ends without a round trip. A statement waits
      with its parameters, and psycopg2 writes the values of all that go together in one pass.
    - The statements of reads (SqlCache) and small inserts (bulk_insert) are prepared once per
      connection and then only EXECUTEd: PostgreSQL plans them once. A log-metric's two inserts
      cost its CPU about 0.05 ms less that way (0.36 against 0.40 ms in all, in process).
    - peewee checks a pooled connection with `SELECT 1` each time it hands it out; here only
      one that has been idle for more than `IDLE_CHECK` seconds, which a restart or a network
      cut may have broken meanwhile. One broken by a failed statement says so itself (closed),
      and a request that meets one broken otherwise answers TEMPORARILY_UNAVAILABLE, which the
      MLflow client retries.
    """

    IDLE_CHECK = 1.0
    PREPARED_LIMIT = 256  # statements a connection keeps prepared, at most

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._queue = threading.local()  # the statements of this thread's transaction not sent
        self._returned: dict[int, float] = {}  # connection key -> when it was last handed back
        # The names of the statements prepared on each connection (a connection is used by one
        # thread at a time: its set needs no lock, the mapping does).
        self._prepared: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        self._prepared_lock = threading.Lock()

    def prepare(self, statement: Prepared) -> None:
        """Make sure `statement` is prepared on this thread's connection. PREPARE is sent as the
        last statement of its query string (with whatever waits), so that it is known prepared
        exactly when the string succeeded: PostgreSQL keeps a prepared statement whatever
        becomes of the transaction it was prepared in."""
        connection = self.connection()
        with self._prepared_lock:
            names = self._prepared.setdefault(connection, set())
        if statement.name in names:
            return
        if len(names) >= self.PREPARED_LIMIT:  # bound what a long-lived connection keeps
            self.execute_sql("DEALLOCATE ALL")
            names.clear()
        self.execute_sql(statement.prepare)
        names.add(statement.name)

    def defer_prepared(self, sql: str, params) -> None:
        """`defer_sql` as a prepared statement: planned once per connection, where an INSERT
        with ON CONFLICT took PostgreSQL longer to plan than to run. The first use on a
        connection costs a round trip (the PREPARE)."""
        statement = prepared(sql, len(params))
        self.prepare(statement)
        self.defer_sql(statement.execute, params)

    def _queued(self) -> list[tuple[str, tuple | list]]:
        queued = getattr(self._queue, "statements", None)
        if queued is None:
            queued = self._queue.statements = []
        return queued

    def _send(self, statements: list[tuple[str, tuple | list]]):
        """`statements` as one query string. peewee's statements always go with a sequence of
        parameters (`%s` for each, `%%` for a percent sign), so that joined, with their
        parameters end to end, psycopg2 writes each value where it would have alone."""
        text = "; ".join(sql for sql, _ in statements)
        return super().execute_sql(text, [value for _, params in statements for value in params])

    def execute_sql(self, sql, params=None):
        queued = self._queued()
        if not queued:
            return super().execute_sql(sql, params)
        statements = [*queued, (sql, params or ())]
        queued.clear()
        return self._send(statements)

    def defer_sql(self, sql: str, params) -> None:
        """Run `sql` with the transaction's next statement, or now outside of one."""
        if not self.in_transaction():
            self.execute_sql(sql, params)
        else:
            self._queued().append((sql, params))

    def begin(self, isolation_level=None):
        isolation_level = isolation_level or self._isolation_level
        level = self._adapter.isolation_level_str(isolation_level) if isolation_level else None
        begin = f"BEGIN TRANSACTION ISOLATION LEVEL {level}" if level else "BEGIN"
        self._queued().append((begin, ()))

    def commit(self):
        queued = self._queued()
        statements = [*queued, ("COMMIT", ())]
        queued.clear()
        if len(statements) == 2 and statements[0][0].startswith("BEGIN"):
            return  # nothing was sent: nothing to commit
        with pw.__exception_wrapper__:
            self._send(statements)

    def rollback(self):
        queued = self._queued()
        began = not (queued and queued[0][0].startswith("BEGIN"))
        queued.clear()
        if began:
            super().rollback()

    def _is_closed(self, conn):
        returned = self._returned.pop(self.conn_key(conn), None)
        if conn.closed or returned is None or time.monotonic() - returned > self.IDLE_CHECK:
            return super()._is_closed(conn)
        return self._adapter.txn_status(conn) != self._adapter.txn_idle

    def _close(self, conn, close_conn=False):
        self._queued().clear()
        if not close_conn and not conn.closed:
            self._returned[self.conn_key(conn)] = time.monotonic()
        super()._close(conn, close_conn)

    def _close_raw(self, conn):
        # Every way out of the pool (stale on check-in or check-out, closed, discarded) ends
        # here: a closed connection's idle time is not kept.
        self._returned.pop(self.conn_key(conn), None)
        return super()._close_raw(conn)


PREPARED_ROWS = 10  # bulk_insert prepares its statements of up to this many rows


def chunks(items: list, size: int):
    """`items` in slices of at most `size`: IN (...) lists and VALUES lists stay within the
    database's bound-parameter limit."""
    for i in range(0, len(items), size):
        yield items[i : i + size]


def bulk_insert(db: pw.Database, table: str, columns, rows, on_conflict: str = "") -> None:
    """INSERT many rows in few statements. Hand-written because peewee spends ~40 us a row
    compiling insert_many; this is the hot path of log_batch."""
    if not rows:
        return
    row_sql = "(" + ", ".join([db.param] * len(columns)) + ")"
    head = f'INSERT INTO "{table}" (' + ", ".join(f'"{c}"' for c in columns) + ") VALUES "
    # Well under SQLite's 32766 bound parameters a statement. No answer is read: PostgreSQL may
    # send it with the transaction's next statement, prepared when it has a few rows (the shapes
    # that recur: a log_metric's, a set_tag's), as text when it has many (a log_batch's).
    pg = isinstance(db, PostgresDatabase)
    for part in chunks(rows, max(1, 4000 // len(columns))):
        params = [value for row in part for value in row]
        sql = head + ", ".join([row_sql] * len(part)) + on_conflict
        if not pg:
            db.execute_sql(sql, params)
        elif len(part) <= PREPARED_ROWS:
            db.defer_prepared(sql, params)
        else:
            db.defer_sql(sql, params)


class SqlCache:
    """SQL text of hot read queries, compiled once per shape and reused.

    peewee builds a query's SQL afresh on every execution; for get_run that cost more than the
    database did. A query is cached under a key naming its shape (e.g. the length of an IN
    list); on first use its parameters must be exactly `params`, in order, which is checked, so
    later calls may pass new values in the same places. `compiled` keeps what is compiled for
    one exact request (a run search: its SQL with its values), built on first use.

    On PostgreSQL `execute` also prepares each query once per connection (PREPARE), so that it
    is planned once, not on every call: that took get_run's statements from 0.3-0.5 ms each to
    0.15 ms. (A pooler in front of PostgreSQL must then keep sessions, not transactions.)
    """

    def __init__(self, db: pw.Database, size: int = 256):
        self._db = db
        self._size = size
        self._sql: OrderedDict = OrderedDict()
        self._lock = threading.Lock()
        self._pg = is_postgres(db)

    def compiled(self, key, build):
        """What `build()` returns, built once per `key` (kept with the recent ones)."""
        with self._lock:
            found = self._sql.get(key)
            if found is not None:
                self._sql.move_to_end(key)
                return found
        found = build()
        with self._lock:
            self._sql[key] = found
            while len(self._sql) > self._size:
                self._sql.popitem(last=False)
        return found

    def execute(self, key, build, params: list):
        def compile_checked():
            sql, built = build().sql()
            if list(built) != list(params):
                raise AssertionError(f"query {key!r} takes {built!r}, not {params!r}")
            return prepared(sql, len(params)) if self._pg else sql

        return self._run(self.compiled(key, compile_checked), params)

    def execute_written(self, sql: str, params: list):
        """`sql` run with `params`. On PostgreSQL the values are written into the statement (as
        psycopg2 writes them anyway), which is prepared once per connection: a statement without
        parameters is planned once, with its values known, where planning a search took longer
        than running it (1.4-1.8 ms and 0.8 ms at 300 runs). A statement with parameters instead
        is planned for unknown values (a top-100 search of 100,000 runs: 600 ms) or every time."""
        if not self._pg:
            return self._db.execute_sql(sql, params)
        written = self._db.cursor().mogrify(sql, params).decode()
        found = self.compiled(written, lambda: Prepared(written.replace("%", "%%"), 0))
        return self._run(found, [])

    def _run(self, found, params: list):
        if not self._pg:
            return self._db.execute_sql(found, params)
        self._db.prepare(found)
        return self._db.execute_sql(found.execute, params)


@functools.lru_cache(maxsize=256)
def prepared(sql: str, arity: int) -> Prepared:
    return Prepared(sql, arity)


class Prepared:
    """A query as PostgreSQL's PREPARE and EXECUTE statements, named after its SQL."""

    def __init__(self, sql: str, arity: int):
        self.name = "q_" + hashlib.sha1(sql.encode()).hexdigest()[:24]
        numbers = itertools.count(1)
        # psycopg2's placeholders (%s, and %% for %) as PREPARE's $1, $2, ...; the statement's
        # own % then escaped again, for psycopg2 to send PREPARE as it is.
        body = re.sub(r"%([s%])", lambda m: f"${next(numbers)}" if m[1] == "s" else "%", sql)
        self.prepare = f"PREPARE {self.name} AS {body}".replace("%", "%%")
        arguments = " (" + ", ".join(["%s"] * arity) + ")" if arity else ""
        self.execute = f"EXECUTE {self.name}{arguments}"


class WriteLock:
    """SQLite's one writer at a time, as a queue rather than a race: the threads of this process
    take a lock, and the server's worker processes an exclusive `flock` on a file beside the
    database (`PATH-writer`). Both wake a waiter as soon as the writer is done, where SQLite's
    busy handler sleeps 1, 2, 5 ... 100 ms between tries. Writers that do not take it (another
    program on the same file) still meet SQLite's own locking. No file for an in-memory
    database, or none given (PostgreSQL)."""

    def __init__(self, database: str | None):
        self._threads = threading.Lock()
        memory = not database or database == ":memory:" or database.startswith("file::memory:")
        self._path = None if memory else f"{database}-writer"
        self._file: tuple[int, int] | None = None  # (pid, fd): each worker opens its own

    def _fd(self) -> int:
        # A file opened before the server forked its workers would be one open file, and its
        # flock one lock, for all of them.
        if self._file is None or self._file[0] != os.getpid():
            fd = os.open(self._path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
            self._file = (os.getpid(), fd)
        return self._file[1]

    def __enter__(self):
        self._threads.acquire()
        try:
            if self._path:
                fcntl.flock(self._fd(), fcntl.LOCK_EX)
        except BaseException:
            self._threads.release()
            raise
        return self

    def __exit__(self, *exc):
        try:
            if self._path:
                fcntl.flock(self._fd(), fcntl.LOCK_UN)
        finally:
            self._threads.release()


def is_postgres(db: pw.Database) -> bool:
    return isinstance(db, pw.PostgresqlDatabase)


@contextlib.contextmanager
def transaction(store, write: bool = True):
    """Calls of `store` on a pooled connection, as one transaction if they `write` (else each
    statement commits on its own); a call made inside another one joins the caller's
    transaction. Integrity errors that no check caught become BAD_REQUEST, as MLflow's session
    wrapper does."""
    db = store.db
    if not db.is_closed():
        yield
        return
    try:
        if write and not store.pg:
            # SQLite has one writer at a time: writers queue on the store's WriteLock, and the
            # write lock is then taken up front, so there are no lock upgrades and no deadlocks.
            with store.write_lock, db.connection_context(), db.atomic("IMMEDIATE"):
                yield
        elif write:
            with db.connection_context(), db.atomic():
                yield
        else:
            # A read runs in autocommit: BEGIN and COMMIT would be two more round trips to
            # PostgreSQL, whose READ COMMITTED takes each statement's snapshot anyway.
            with db.connection_context():
                yield
    except pw.IntegrityError as e:
        raise MlflowError(str(e).strip(), "BAD_REQUEST") from e
    except (pw.OperationalError, pw.InterfaceError) as e:
        if not store.pg and "locked" not in str(e):
            raise  # on SQLite these are also mistakes in SQL, not an outage
        # PostgreSQL restarting or out of reach, a connection cut, SQLite busy past its
        # timeout: nothing was committed, and the client may try again. The broken connection
        # leaves the pool (peewee drops closed ones); so do the idle ones, which the same
        # outage has most likely cut too, so that requests after it get fresh connections.
        db.close_idle()
        reason = (str(e).strip().splitlines() or [type(e).__name__])[0]
        error = MlflowError(f"The database is unavailable: {reason}", "TEMPORARILY_UNAVAILABLE")
        raise error from e


def transactional(write: bool = True):
    """Run the decorated store method in one transaction, or as a read (see `transaction`)."""

    def decorate(method):
        @functools.wraps(method)
        def wrapper(self, *args, **kwargs):
            with transaction(self, write):
                return method(self, *args, **kwargs)

        return wrapper

    return decorate
