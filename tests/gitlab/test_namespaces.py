"""Store namespaces (the projects of the GitLab dialect) on SQLite and PostgreSQL."""

from __future__ import annotations

import threading

import pytest

from server.store import open_store
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
            created.append(store.for_project(5).create_experiment(f"concurrent-{i}"))
        except Exception as e:  # reported below
            errors.append(e)

    threads = [threading.Thread(target=create, args=(i,)) for i in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    five, six = store.for_project(5), store.for_project(6)
    numbers = five.experiment_numbers(created)
    assert sorted(int(n) for n in numbers.values()) == list(range(1, 13))
    assert five.experiment_id_of_number("3") in created
    assert six.experiment_id_of_number("3") is None
    assert six.experiment_numbers(created) == {}


def test_an_unbound_store_refuses_every_call(store):
    # A store call with no project is a programming error, never a silent default project.
    with pytest.raises(RuntimeError, match="without a project"):
        store.create_experiment("nowhere")
    with pytest.raises(RuntimeError, match="without a project"):
        store.get_experiment("0")
