"""Session servers for the differential tests: the oracle (`mlflow server` 2.7.1) and a subject.

The subject is the reference server, once per store backend: SQLite always, PostgreSQL when
MLFLOW_COMPAT_TEST_POSTGRES_URL names an admin connection (a fresh database is made for the
session; MLFLOW_COMPAT_REQUIRE_POSTGRES=1 turns a missing URL into a failure).

MLFLOW_COMPAT_DIFF_SUBJECT=oracle makes the subject a second `mlflow server` instead: two oracles
must compare equal, which proves the masking (ids, clocks, generated names) is right.
MLFLOW_COMPAT_DIFF_REPORT=path writes every difference found (accepted or not) as JSON lines.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.pg import admin_url, make_database
from tools.peers import Peer, start_oracle, start_reference

SUBJECT = os.environ.get("MLFLOW_COMPAT_DIFF_SUBJECT", "reference")
REPORT = os.environ.get("MLFLOW_COMPAT_DIFF_REPORT")


def pytest_configure(config):
    config.addinivalue_line("markers", "scenario(id): the differential scenario a test replays")


@pytest.fixture(scope="session")
def oracle(tmp_path_factory):
    peer = start_oracle(tmp_path_factory.mktemp("oracle"), workers=1)
    yield peer
    peer.stop()


@contextlib.contextmanager
def started_on(backend: str, start: Callable[[str | None], Peer]) -> Iterator[Peer]:
    """A server `start`ed on a fresh store of `backend` ("sqlite": `start(None)`, its own
    file; "postgresql": `start(url)` of a database made for it, dropped afterwards)."""
    drop = None
    uri = None
    if backend == "postgresql":
        uri, drop = make_database(admin_url())
    try:
        peer = start(uri)
    except BaseException:
        if drop:
            drop()
        raise
    try:
        yield peer
    finally:
        peer.stop()
        if drop:
            drop()


def start_subject(workdir: Path, uri: str | None) -> Peer:
    """The server under comparison (MLFLOW_COMPAT_DIFF_SUBJECT) in `workdir`, on store `uri`."""
    start = start_oracle if SUBJECT == "oracle" else start_reference
    return start(workdir, workers=1, backend_store_uri=uri)


@pytest.fixture(
    scope="session",
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)],
)
def subject(request, tmp_path_factory):
    """The server under comparison, per store backend."""
    workdir = tmp_path_factory.mktemp(f"subject-{request.param}")
    with started_on(request.param, lambda uri: start_subject(workdir, uri)) as peer:
        peer.backend = request.param
        yield peer


@pytest.fixture(scope="session")
def diff_report():
    """Appends differences to MLFLOW_COMPAT_DIFF_REPORT (JSON lines), if set."""
    path = Path(REPORT) if REPORT else None
    if path:
        path.write_text("")

    def write(entry: dict) -> None:
        if path:
            with path.open("a") as f:
                f.write(json.dumps(entry, default=str) + "\n")

    return write
