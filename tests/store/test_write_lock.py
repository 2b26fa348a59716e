"""SQLite's writers queue on the store's WriteLock: across threads, and across the worker
processes of one server (an exclusive flock on the file beside the database)."""

from __future__ import annotations

import fcntl
import multiprocessing
import os
import queue
import sqlite3

import pytest

from server.store import open_store
from server.store.db import WriteLock


def _locked_elsewhere(path: str) -> bool:
    """Whether another open file of `path` holds its flock (probed without waiting)."""
    fd = os.open(path, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def test_a_writer_holds_the_file_beside_the_database_until_it_is_done(tmp_path):
    database = str(tmp_path / "store.db")
    lock = WriteLock(database)
    with lock:
        assert _locked_elsewhere(f"{database}-writer")
    assert not _locked_elsewhere(f"{database}-writer")


def _probe_in_child(lock: WriteLock, answer) -> None:
    # A forked worker: the parent holds the lock. With the parent's open file, flock would
    # let this process in at once; with its own, it must wait.
    try:
        fcntl.flock(lock._fd(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        answer.put("waits")
    else:
        answer.put("let in")


def test_each_forked_worker_takes_the_lock_with_its_own_open_file(tmp_path):
    lock = WriteLock(str(tmp_path / "store.db"))
    context = multiprocessing.get_context("fork")
    answer = context.Queue()
    with lock:  # opened (and held) before the fork, as a server that forks its workers
        child = context.Process(target=_probe_in_child, args=(lock, answer))
        child.start()
        outcome = answer.get(timeout=60)
        child.join(timeout=60)
    assert outcome == "waits"
    assert child.exitcode == 0


def test_a_failed_acquire_leaves_the_lock_free_for_the_next_writer(tmp_path):
    lock = WriteLock(str(tmp_path / "missing-folder" / "store.db"))
    with pytest.raises(FileNotFoundError), lock:
        pass
    assert lock._threads.acquire(blocking=False)  # the thread lock was given back


@pytest.mark.parametrize("database", [None, ":memory:", "file::memory:?cache=shared"])
def test_no_file_for_a_database_without_one(tmp_path, database, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with WriteLock(database):
        pass
    assert list(tmp_path.iterdir()) == []


def _open(url: str, answers) -> None:
    answers.put("opening")
    store = open_store(url).for_project(0)
    answers.put(store.get_experiment("0")["name"])
    store.close()


def test_a_process_opening_the_file_waits_for_the_writer_before_its_first_connection(tmp_path):
    # Its first connection turns a new file's journal to WAL, which SQLite refuses at once
    # ("database is locked") while another process writes: opening takes its turn instead.
    database = tmp_path / "store.db"
    context = multiprocessing.get_context("spawn")
    answers = context.Queue()
    with WriteLock(str(database)):  # another process, mid-write
        child = context.Process(target=_open, args=(f"sqlite:///{database}", answers))
        child.start()
        assert answers.get(timeout=120) == "opening"
        with pytest.raises(queue.Empty):
            answers.get(timeout=1)  # still waiting for its turn
        tables = sqlite3.connect(database).execute("SELECT name FROM sqlite_master").fetchall()
        assert tables == []
    assert answers.get(timeout=120) == "Default"
    child.join(timeout=60)
    assert child.exitcode == 0
