"""Store fixtures: a real SQLite file per test, or a fresh PostgreSQL database per test."""

from __future__ import annotations

import os

import pytest

from server.store import open_store
from tests.pg import ENV_REQUIRE, ENV_URL, make_database

SKIP_REASON = f"set {ENV_URL} to run the PostgreSQL store tests"


def _admin_url() -> str:
    url = os.environ.get(ENV_URL)
    if url:
        return url
    if os.environ.get(ENV_REQUIRE) == "1":
        pytest.fail(f"{ENV_REQUIRE}=1 but {ENV_URL} is unset")
    pytest.skip(SKIP_REASON)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)])
def db_url(request, tmp_path):
    """The URL of a fresh, empty database of each kind."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    url, drop = make_database(_admin_url())
    request.addfinalizer(drop)
    return url


@pytest.fixture
def store(db_url):
    s = open_store(db_url).for_project(0)
    yield s
    s.close()


@pytest.fixture
def exp_id(store):
    return store.create_experiment("exp")


@pytest.fixture
def run_id(store, exp_id):
    return store.create_run(exp_id, user_id="alice", start_time=1000)["info"]["run_id"]
