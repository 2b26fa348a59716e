"""Throwaway PostgreSQL databases for tests: one fresh database per test, dropped after
(`make_database`, shared with the benchmarks), on the server MLFLOW_COMPAT_TEST_POSTGRES_URL
names."""

from __future__ import annotations

import os

import pytest

from tools.pgdb import make_database

__all__ = ["admin_url", "make_database"]

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
