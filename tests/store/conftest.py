"""Store fixtures: a real SQLite file per test, or a fresh PostgreSQL database per test."""

from __future__ import annotations

import pytest

from server.store import open_store
from tests.pg import admin_url, make_database


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)])
def db_url(request, tmp_path):
    """The URL of a fresh, empty database of each kind."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    url, drop = make_database(admin_url())
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
