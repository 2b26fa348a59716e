"""Faults a deployment meets, each survived: the server keeps serving, answers what it cannot do
with MLflow's error body (503 TEMPORARILY_UNAVAILABLE, promptly), and loses nothing it
acknowledged. Real processes, a private PostgreSQL cluster stopped and started, an S3 API
taken away and brought back, a process killed with SIGKILL, a file system that fills up."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
import uuid

import pytest
import requests

from tests.pg import admin_url, make_database
from tests.s3 import FailingS3, S3Service
from tests.scaleout.conftest import start_instance, start_together

PROXY = "/api/2.0/mlflow-artifacts/artifacts"
API = "/api/2.0/mlflow"
PROMPT = 5.0  # seconds: the longest a request may take to fail during an outage


def _post(session, url: str, path: str, body: dict):
    return session.post(f"{url}{API}/{path}", json=body, timeout=30)


def _new_run(url: str) -> tuple[str, str]:
    with requests.Session() as s:
        name = f"faults-{uuid.uuid4().hex[:8]}"
        experiment_id = _post(s, url, "experiments/create", {"name": name}).json()["experiment_id"]
        run = _post(s, url, "runs/create", {"experiment_id": experiment_id}).json()["run"]
    return experiment_id, run["info"]["run_id"]


def _assert_unavailable(response, started: float, finished: float) -> None:
    assert finished - started < PROMPT, f"took {finished - started:.1f}s to fail"
    assert response.status_code == 503, (response.status_code, response.text[:300])
    body = response.json()
    assert set(body) == {"error_code", "message"}
    assert body["error_code"] == "TEMPORARILY_UNAVAILABLE"
    assert "Traceback" not in body["message"]


def _assert_storage_unavailable(*requests_made) -> None:
    """Each (method, url, body) answers 503 TEMPORARILY_UNAVAILABLE, promptly."""
    for method, target, data in requests_made:
        started = time.monotonic()
        answer = requests.request(method, target, data=data, timeout=30)
        _assert_unavailable(answer, started, time.monotonic())
        assert answer.json()["message"].startswith("Artifact storage unavailable"), method


class Load(threading.Thread):
    """Logs one metric step after another to a run, recording each answer and its timing."""

    def __init__(self, url: str, run_id: str):
        super().__init__(daemon=True)
        self.url, self.run_id = url, run_id
        self.answers: list[tuple[int, float, float, requests.Response]] = []
        self.stopping = threading.Event()

    def run(self) -> None:
        with requests.Session() as session:
            step = 0
            while not self.stopping.is_set():
                body = {"run_id": self.run_id, "key": "load", "value": step, "timestamp": step}
                started = time.monotonic()
                answer = _post(session, self.url, "runs/log-metric", {**body, "step": step})
                self.answers.append((step, started, time.monotonic(), answer))
                step += 1
                time.sleep(0.02)

    def stop(self) -> None:
        self.stopping.set()
        self.join(60)

    def acknowledged(self) -> set[int]:
        return {step for step, _, _, answer in self.answers if answer.status_code == 200}


def _metric_steps(url: str, run_id: str, key: str) -> set[int]:
    got = requests.get(
        f"{url}{API}/metrics/get-history", params={"run_id": run_id, "metric_key": key}, timeout=30
    ).json()
    return {int(m["step"]) for m in got.get("metrics", [])}


def test_postgresql_restarted_under_load(pg_cluster, tmp_path):
    server = start_instance(tmp_path / "server", pg_cluster.url, str(tmp_path / "art"), {})
    try:
        _, run_id = _new_run(server.url)
        load = Load(server.url, run_id)
        load.start()
        time.sleep(1)
        down = time.monotonic()
        pg_cluster.stop()
        time.sleep(2)
        pg_cluster.start()
        up = time.monotonic()
        time.sleep(2)
        load.stop()

        during = [a for a in load.answers if down + 0.5 < a[1] < up - 0.2]
        assert during, "no request was made while the database was down"
        for _, started, finished, answer in during:
            _assert_unavailable(answer, started, finished)
        for _, started, finished, answer in load.answers:
            assert answer.status_code in (200, 503), answer.text[:300]
            assert finished - started < PROMPT
        # Once the database is back, every request succeeds: no restart of the server needed.
        after = [a for a in load.answers if a[1] > up + 0.5]
        assert after and all(a[3].status_code == 200 for a in after)
        # Every acknowledged write is stored.
        assert load.acknowledged() <= _metric_steps(server.url, run_id, "load")
        assert "Traceback" not in server.log()
    finally:
        server.stop()


@pytest.fixture
def private_s3(s3_service):
    """An S3 API of its own to take away (the same buckets as the session's: moto keeps them in
    this process)."""
    service = S3Service().start()
    yield service
    service.stop()


def test_object_storage_unreachable(private_s3, tmp_path):
    bucket = private_s3.new_bucket()
    db = f"sqlite:///{tmp_path / 'db.sqlite'}"
    server = start_instance(tmp_path / "server", db, f"s3://{bucket}/art", private_s3.env)
    url = server.url
    try:
        experiment_id, run_id = _new_run(url)
        folder = f"{url}{PROXY}/{experiment_id}/{run_id}/artifacts"
        assert requests.put(f"{folder}/kept.txt", data=b"kept", timeout=30).status_code == 200

        private_s3.stop()
        _assert_storage_unavailable(
            ("PUT", f"{folder}/lost.txt", b"lost"),
            ("GET", f"{folder}/kept.txt", None),
            ("GET", f"{url}{PROXY}?path={experiment_id}/{run_id}/artifacts", None),
            ("DELETE", f"{folder}/kept.txt", None),
        )
        # What does not need the bucket goes on.
        assert _post(
            requests, url, "runs/log-parameter", {"run_id": run_id, "key": "k", "value": "v"}
        ).ok

        private_s3.start()
        assert requests.get(f"{folder}/kept.txt", timeout=30).content == b"kept"
        assert private_s3.objects(bucket) == {f"art/{experiment_id}/{run_id}/artifacts/kept.txt": 4}
        assert requests.put(f"{folder}/new.txt", data=b"new", timeout=30).status_code == 200
        assert requests.get(f"{folder}/new.txt", timeout=30).content == b"new"
        assert "Traceback" not in server.log()
    finally:
        server.stop()


def test_object_storage_answering_errors(tmp_path):
    """Storage that is there but fails every request (S3's 500 InternalError): uploads,
    downloads, listings and deletes answer 503 with MLflow's body, promptly; the rest serves."""
    db = f"sqlite:///{tmp_path / 'db.sqlite'}"
    with FailingS3() as failing:
        env = {**S3Service().env, "MLFLOW_S3_ENDPOINT_URL": failing.endpoint}
        server = start_instance(tmp_path / "server", db, "s3://bucket/art", env)
        try:
            experiment_id, run_id = _new_run(server.url)
            folder = f"{server.url}{PROXY}/{experiment_id}/{run_id}/artifacts"
            _assert_storage_unavailable(
                ("PUT", f"{folder}/a.txt", b"a"),
                ("PUT", f"{folder}/big.bin", b"b" * (9 * 1024 * 1024)),
                ("GET", f"{folder}/a.txt", None),
                ("GET", f"{server.url}{PROXY}?path={experiment_id}", None),
                ("DELETE", f"{folder}/a.txt", None),
            )
            assert requests.get(f"{server.url}{API}/runs/get?run_id={run_id}", timeout=30).ok
            assert "Traceback" not in server.log()
        finally:
            server.stop()


def _slow_body(chunks: int, stop: threading.Event):
    for _ in range(chunks):
        if stop.is_set():
            return
        yield b"x" * 65536
        time.sleep(0.01)


@pytest.mark.postgresql
def test_kill_9_of_one_instance_mid_write(tmp_path_factory, s3_service, request):
    """Batches go to one instance until it is killed with SIGKILL, an upload half sent: the
    other serves on; every acknowledged batch is whole, no batch is half stored, the upload left
    no object; restarted, the killed one serves the same."""
    database, drop = make_database(admin_url())
    request.addfinalizer(drop)
    bucket = s3_service.new_bucket()
    destination = f"s3://{bucket}/art"
    victim, survivor = start_together(2, tmp_path_factory, database, destination, s3_service.env)
    request.addfinalizer(victim.stop)
    request.addfinalizer(survivor.stop)
    experiment_id, run_id = _new_run(survivor.url)

    acknowledged, batches = [], 0
    stop_upload = threading.Event()
    upload = threading.Thread(
        target=lambda: _quietly(
            requests.put,
            f"{victim.url}{PROXY}/{experiment_id}/{run_id}/artifacts/half.bin",
            data=_slow_body(1000, stop_upload),
            timeout=60,
        ),
        daemon=True,
    )
    upload.start()

    def log_batches():
        nonlocal batches
        with requests.Session() as s:
            while True:
                i = batches
                batches += 1
                body = {
                    "run_id": run_id,
                    "params": [{"key": f"b{i}-{k}", "value": str(k)} for k in range(50)],
                    "metrics": [
                        {"key": f"b{i}", "value": k, "timestamp": 0, "step": k} for k in range(50)
                    ],
                }
                try:
                    answer = _post(s, victim.url, "runs/log-batch", body)
                except requests.ConnectionError:
                    return
                if answer.status_code == 200:
                    acknowledged.append(i)

    writer = threading.Thread(target=log_batches, daemon=True)
    writer.start()
    deadline = time.monotonic() + 30
    while len(acknowledged) < 20 and time.monotonic() < deadline:
        time.sleep(0.01)
    os.killpg(victim.proc.pid, signal.SIGKILL)
    writer.join(30)
    stop_upload.set()
    upload.join(30)
    assert len(acknowledged) >= 20

    def check(url: str) -> None:
        run = requests.get(f"{url}{API}/runs/get", params={"run_id": run_id}, timeout=30).json()
        params = {p["key"] for p in run["run"]["data"].get("params", [])}
        for i in range(batches):
            stored = {f"b{i}-{k}" for k in range(50)} & params
            assert len(stored) in (0, 50), f"batch {i} half stored: {len(stored)} of 50"
            if i in acknowledged:
                assert len(stored) == 50, f"acknowledged batch {i} lost"
                assert _metric_steps(url, run_id, f"b{i}") == set(range(50))

    check(survivor.url)
    assert not any(key.endswith("half.bin") for key in s3_service.objects(bucket))
    port = int(victim.url.rsplit(":", 1)[1])
    victim.proc.wait(10)
    restarted = start_instance(victim.workdir, database, destination, s3_service.env, port=port)
    request.addfinalizer(restarted.stop)
    check(restarted.url)


def _quietly(call, *args, **kwargs):
    with contextlib.suppress(requests.RequestException):
        call(*args, **kwargs)


@pytest.fixture
def small_disk(tmp_path):
    """A 2 MiB tmpfs mounted for the test (needs root)."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    folder = tmp_path / "small-disk"
    folder.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(folder)], check=True)
    yield folder
    subprocess.run(["umount", "-l", str(folder)], check=False)


def test_local_disk_full_during_an_upload(small_disk, tmp_path):
    db = f"sqlite:///{tmp_path / 'db.sqlite'}"
    server = start_instance(tmp_path / "server", db, str(small_disk / "art"), {})
    try:
        folder = f"{server.url}{PROXY}/0/run/artifacts"
        assert requests.put(f"{folder}/first.bin", data=b"1" * 500_000, timeout=30).ok
        started = time.monotonic()
        answer = requests.put(f"{folder}/big.bin", data=b"2" * 3_000_000, timeout=30)
        _assert_unavailable(answer, started, time.monotonic())
        assert "space" in answer.json()["message"]
        # No partial file, not even a temporary one; what was there is whole.
        assert sorted(os.listdir(small_disk / "art/0/run/artifacts")) == ["first.bin"]
        assert os.listdir(small_disk / "art/.mlflow-compat-uploads") == []
        assert requests.get(f"{folder}/first.bin", timeout=30).content == b"1" * 500_000
        # The server keeps serving, and once there is room again, uploads succeed.
        assert requests.delete(f"{folder}/first.bin", timeout=30).ok
        assert requests.put(f"{folder}/fits.bin", data=b"3" * 1_500_000, timeout=30).ok
        assert requests.get(f"{folder}/fits.bin", timeout=30).content == b"3" * 1_500_000
        assert "Traceback" not in server.log()
    finally:
        server.stop()
