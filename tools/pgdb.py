"""Throwaway PostgreSQL databases: one created with a random name on a server that a superuser
URL reaches, and a callable that drops it. The tests make one per test; the benchmarks one per
peer."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from urllib.parse import urlparse, urlunparse


def _admin_connection(admin_url: str):
    import psycopg2  # the `postgresql` extra

    conn = psycopg2.connect(admin_url)
    conn.autocommit = True  # CREATE/DROP DATABASE cannot run inside a transaction
    return conn


def make_database(
    admin_url: str, prefix: str = "mlflow_compat_test"
) -> tuple[str, Callable[[], None]]:
    """Create a database named `<prefix>_<random>` on the server of `admin_url`.

    Returns its URL and a callable that drops it (terminating leftover connections first).
    """
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    conn = _admin_connection(admin_url)
    try:
        with conn.cursor() as cur:
            cur.execute(f'CREATE DATABASE "{name}"')
    finally:
        conn.close()
    url = urlunparse(urlparse(admin_url)._replace(path=f"/{name}"))

    def drop() -> None:
        conn = _admin_connection(admin_url)
        try:
            with conn.cursor() as cur:
                cur.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = %s AND pid <> pg_backend_pid()",
                    (name,),
                )
                cur.execute(f'DROP DATABASE IF EXISTS "{name}"')
        finally:
            conn.close()

    return url, drop


def server_pid(admin_url: str) -> int | None:
    """The process id of the PostgreSQL server (its postmaster) that `admin_url` reaches, when
    it runs on this machine, else None: the parent of this connection's backend, if /proc shows
    one by that id."""
    from tools.benchlib import proc_stat  # the benchmarks' /proc reading

    conn = _admin_connection(admin_url)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT pg_backend_pid()")
            backend = cur.fetchone()[0]
        try:  # read while the backend is still there
            ppid = int(proc_stat(backend)[1])
        except (OSError, IndexError, ValueError):
            return None  # not on this machine (or its /proc is hidden)
    finally:
        conn.close()
    return ppid if ppid > 1 else None


def vacuum(url: str) -> None:
    """VACUUM and ANALYZE the database of `url`: its tables' dead rows and statistics brought up
    to date now, rather than when autovacuum comes to them."""
    conn = _admin_connection(url)  # VACUUM cannot run inside a transaction
    try:
        with conn.cursor() as cur:
            cur.execute("VACUUM (ANALYZE)")
    finally:
        conn.close()
