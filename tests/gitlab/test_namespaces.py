"""Store namespaces (the projects of the GitLab dialect) on SQLite and PostgreSQL."""

from __future__ import annotations

import threading

import pytest

from server.store import open_store
from server.store.scope import in_namespace
from tests.conftest import BACKENDS, backend_store_uri


@pytest.fixture(params=BACKENDS)
def store(request, tmp_path):
    store = open_store(backend_store_uri(request.param, tmp_path, request))
    yield store
    store.close()


def test_concurrent_creates_number_experiments_without_gaps(store):
    created, errors = [], []

    def create(i: int) -> None:
        try:
            with in_namespace(5):
                created.append(store.create_experiment(f"concurrent-{i}"))
        except Exception as e:  # reported below
            errors.append(e)

    threads = [threading.Thread(target=create, args=(i,)) for i in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with in_namespace(5):
        numbers = store.experiment_numbers(created)
        assert sorted(int(n) for n in numbers.values()) == list(range(1, 13))
        assert store.experiment_id_of_number("3") in created
    with in_namespace(6):
        assert store.experiment_id_of_number("3") is None
        assert store.experiment_numbers(created) == {}
