"""What `/` and the web UI's endpoints answer over HTTP, on real server processes: the wheel's UI
or, without it, a page about the server; GitLab's pointer to its own UI; the bulk metric history
across runs; artifact previews that stream."""

from __future__ import annotations

import hashlib
import importlib.util
from pathlib import Path

import pytest
import requests

from tools.bench_artifacts import MIB, PatternReader, RssSampler, group_rss
from tools.peers import start_reference

API = "/api/2.0/mlflow/"
BULK = "/ajax-api/2.0/mlflow/metrics/get-history-bulk"
WHEEL_BUILD = (
    Path(next(iter(importlib.util.find_spec("mlflow").submodule_search_locations)))
    / "server"
    / "js"
    / "build"
)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    peer = start_reference(tmp_path_factory.mktemp("ui-pages"))
    yield peer
    peer.stop()


def new_run(url: str, name: str) -> tuple[str, str]:
    experiment = requests.post(url + API + "experiments/create", json={"name": name}).json()
    run = requests.post(
        url + API + "runs/create", json={"experiment_id": experiment["experiment_id"]}
    ).json()["run"]["info"]
    return experiment["experiment_id"], run["run_id"]


def test_root_serves_the_ui_of_the_installed_wheel(server):
    index = requests.get(server.url + "/")
    assert index.status_code == 200
    assert index.headers["content-type"].startswith("text/html")
    assert index.content == (WHEEL_BUILD / "index.html").read_bytes()
    script = next((WHEEL_BUILD / "static" / "js").glob("main.*.js"))
    static = requests.get(f"{server.url}/static-files/static/js/{script.name}")
    assert static.status_code == 200
    assert static.headers["content-type"].startswith("text/javascript")
    assert "max-age=2419200" in static.headers["cache-control"]
    assert static.content == script.read_bytes()


@pytest.mark.parametrize(
    "path",
    [
        "/static-files/no-such-file.js",
        "/static-files/%2e%2e/%2e%2e/__init__.py",
        "/static-files/static/..%2f..%2f..%2f__init__.py",
        "/static-files/",
        "/static-files/static",
    ],
)
def test_static_files_outside_the_build_are_not_found(server, path):
    got = requests.get(server.url + path)
    assert got.status_code == 404
    assert got.json()["error_code"] == "ENDPOINT_NOT_FOUND"


def home_page(workdir: Path, **server_options):
    """(the server, its `/` page) of a server started for this, which serves no UI files."""
    peer = start_reference(workdir, **server_options)
    try:
        page = requests.get(peer.url + "/")
        static = requests.get(peer.url + "/static-files/favicon.ico")
    finally:
        peer.stop()
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert static.status_code == 404
    return peer, page


def test_root_without_the_ui_is_a_page_about_the_server(tmp_path, monkeypatch):
    # An `mlflow` package without the UI's build first on the path: as without the ui extra.
    (tmp_path / "no-ui" / "mlflow").mkdir(parents=True)
    (tmp_path / "no-ui" / "mlflow" / "__init__.py").write_text("")
    monkeypatch.setenv("PYTHONPATH", str(tmp_path / "no-ui"))
    peer, page = home_page(tmp_path / "server")
    for needle in (
        "mlflow-compat 0.1.0",
        "MLflow 2.7.1 REST API",
        'href="/ui"',
        'href="/openapi.json"',
        f"export MLFLOW_TRACKING_URI={peer.url}",
        "pip install &#x27;mlflow-compat[ui]&#x27;",
    ):
        assert needle in page.text, needle


def test_gitlab_root_points_at_gitlab_and_its_tracking_uri(tmp_path):
    peer, page = home_page(
        tmp_path, dialect="gitlab", env={"MLFLOW_COMPAT_GITLAB_TOKEN": "glpat-ui-test"}
    )
    assert "GitLab has its own UI" in page.text
    assert f"export MLFLOW_TRACKING_URI={peer.url}/api/v4/projects/1/ml/mlflow" in page.text
    assert "MLFLOW_TRACKING_TOKEN" in page.text
    assert "static-files" not in page.text


def test_bulk_history_orders_by_run_then_point_and_caps_the_total(server):
    _, first = new_run(server.url, "ui-bulk-a")
    _, second = new_run(server.url, "ui-bulk-b")
    points = {first: [3.0, 2.0, 1.0], second: [30.0, 20.0]}
    for run_id, values in points.items():
        metrics = [
            {"key": "loss", "value": v, "timestamp": 10 - i, "step": i}
            for i, v in enumerate(values)
        ]
        requests.post(
            server.url + API + "runs/log-batch", json={"run_id": run_id, "metrics": metrics}
        )
    expected = [
        {"key": "loss", "value": v, "timestamp": 10 - i, "step": i, "run_id": run_id}
        for run_id in sorted(points)
        for i, v in reversed(list(enumerate(points[run_id])))  # by timestamp
    ]
    query = {"run_id": [second, first], "metric_key": "loss"}
    assert requests.get(server.url + BULK, params=query).json() == {"metrics": expected}
    capped = requests.get(server.url + BULK, params={**query, "max_results": 4}).json()
    assert capped == {"metrics": expected[:4]}
    # 2.7.1 hands a negative number to SQL as the limit (none on SQLite): capped here too.
    negative = requests.get(server.url + BULK, params={**query, "max_results": -1})
    assert negative.status_code == 200 and negative.json() == {"metrics": expected}


def test_artifact_preview_streams_a_large_file(server):
    experiment_id, run_id = new_run(server.url, "ui-preview-large")
    size, block = 96 * MIB, hashlib.sha256(b"ui").digest() * 4096
    artifact = f"/api/2.0/mlflow-artifacts/artifacts/{experiment_id}/{run_id}/artifacts/big.bin"
    body = PatternReader(size, block)
    assert requests.put(server.url + artifact, data=body, timeout=600).status_code == 200
    pgid = server.proc.pid
    requests.get(server.url + "/get-artifact", params={"path": "missing", "run_id": run_id})
    before = group_rss(pgid)
    assert before > 10 * MIB  # a real server process tree is measured
    sha, received = hashlib.sha256(), 0
    with (
        RssSampler(pgid) as sampler,
        requests.get(
            server.url + "/get-artifact",
            params={"path": "big.bin", "run_id": run_id},
            stream=True,
            timeout=600,
        ) as got,
    ):
        assert got.status_code == 200
        assert got.headers["content-disposition"] == "attachment; filename=big.bin"
        for chunk in got.iter_content(MIB):
            sha.update(chunk)
            received += len(chunk)
    assert received == size and sha.digest() == body.sha.digest()
    growth = max(0, sampler.peak - before) / MIB
    print(f"/get-artifact of {size // MIB} MiB: server peak RSS growth {growth:.1f} MiB")
    assert growth < 32, f"the preview grew the server by {growth:.1f} MiB"
