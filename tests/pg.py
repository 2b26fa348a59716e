"""Throwaway PostgreSQL databases for tests: one fresh database per test, dropped after."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from urllib.parse import urlparse, urlunparse

import pytest

ENV_URL = "MLFLOW_COMPAT_TEST_POSTGRES_URL"
ENV_REQUIRE = "MLFLOW_COMPAT_REQUIRE_POSTGRES"


def admin_url() -> str:
    """The PostgreSQL URL to create test databases on (MLFLOW_COMPAT_TEST_POSTGRES_URL); without
    one the test is skipped, or fails when MLFLOW_COMPAT_REQUIRE_POSTGRES=1 (as in CI)."""
    url = os.environ.get(ENV_URL)
    if url:
        return url
    if os.environ.get(ENV_REQUIRE) == "1":
        pytest.fail(f"{ENV_REQUIRE}=1 but {ENV_URL} is unset")
    pytest.skip(f"set {ENV_URL} to run the PostgreSQL tests")


def _admin_connection(admin_url: str):
    import psycopg2

    conn = psycopg2.connect(admin_url)
    conn.autocommit = True  # CREATE/DROP DATABASE cannot run inside a transaction
    return conn


def make_database(admin_url: str) -> tuple[str, Callable[[], None]]:
    """Create a database with a random name on the server of ``admin_url`` (a superuser URL).

    Returns its URL and a callable that drops it (terminating leftover connections first).
    """
    name = f"mlflow_compat_test_{uuid.uuid4().hex[:12]}"
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
