"""`mlflow-compat serve`: flags, their MLFLOW_COMPAT_* variables, defaults, refusals."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import requests

from server.settings import Settings
from tools.peers import free_port

REPO = Path(__file__).resolve().parent.parent


def _serve(args, env, cwd):
    full_env = {**os.environ, "PYTHONPATH": str(REPO), **env}
    return subprocess.Popen(
        [sys.executable, "-m", "server", "serve", *args],
        cwd=cwd,
        env=full_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _wait_healthy(url, proc, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.stdout.read()
        try:
            if requests.get(url + "/health", timeout=1).status_code == 200:
                return
        except requests.RequestException:
            time.sleep(0.1)
    raise AssertionError("server did not start")


def test_defaults_are_a_sqlite_file_and_a_folder_in_the_working_directory(tmp_path):
    settings = Settings.defaults(tmp_path)
    assert settings.backend_store_uri == f"sqlite:///{tmp_path / 'mlflow-compat.db'}"
    assert settings.artifacts_destination == str(tmp_path / "mlartifacts")
    assert (settings.host, settings.port, settings.workers, settings.dialect) == (
        "127.0.0.1",
        5000,
        1,
        "mlflow",
    )


def test_environment_variables_round_trip():
    settings = Settings(
        backend_store_uri="sqlite:////x/y.db",
        artifacts_destination="/x/art",
        port=5123,
        workers=3,
    )
    assert Settings.from_env(settings.to_env()) == settings


def test_serve_from_environment_variables(tmp_path):
    port = free_port()
    store = tmp_path / "store" / "elsewhere.db"
    store.parent.mkdir()
    env = {
        "MLFLOW_COMPAT_BACKEND_STORE_URI": f"sqlite:///{store}",
        "MLFLOW_COMPAT_ARTIFACTS_DESTINATION": str(tmp_path / "art"),
        "MLFLOW_COMPAT_PORT": str(port),
        "MLFLOW_COMPAT_WORKERS": "2",
    }
    proc = _serve([], env, tmp_path)
    try:
        url = f"http://127.0.0.1:{port}"
        _wait_healthy(url, proc)
        ids = {
            requests.post(
                url + "/api/2.0/mlflow/experiments/create", json={"name": f"e{i}"}
            ).json()["experiment_id"]
            for i in range(6)
        }
        assert len(ids) == 6  # two worker processes, one store
        assert store.exists() and (tmp_path / "art").is_dir()
        assert not (tmp_path / "mlflow-compat.db").exists()
    finally:
        proc.terminate()
        output = proc.communicate(timeout=30)[0]
    assert f"export MLFLOW_TRACKING_URI=http://127.0.0.1:{port}" in output
    assert f"backend store: sqlite:///{store}" in output


def test_flags_beat_environment_variables(tmp_path):
    port = free_port()
    env = {
        "MLFLOW_COMPAT_PORT": "1",
        "MLFLOW_COMPAT_BACKEND_STORE_URI": "sqlite:////nonexistent/x.db",
    }
    proc = _serve(
        ["--port", str(port), "--backend-store-uri", f"sqlite:///{tmp_path / 'flag.db'}"],
        env,
        tmp_path,
    )
    try:
        _wait_healthy(f"http://127.0.0.1:{port}", proc)
        assert (tmp_path / "flag.db").exists()
    finally:
        proc.terminate()
        proc.communicate(timeout=30)


def test_gitlab_config_from_env_is_read_and_checked(tmp_path):
    # MLFLOW_COMPAT_GITLAB_CONFIG stands for --gitlab-config; a file with errors is refused.
    config = tmp_path / "gitlab.yaml"
    config.write_text("projects: [{id: 1, path: a/b}]\ntokens: [{token: t, projects: [3]}]\n")
    env = {"MLFLOW_COMPAT_GITLAB_CONFIG": str(config), "MLFLOW_COMPAT_GITLAB_TOKEN": ""}
    proc = _serve(["--dialect", "gitlab", "--port", str(free_port())], env, tmp_path)
    output = proc.communicate(timeout=60)[0]
    assert proc.returncode == 2
    assert f"mlflow-compat: gitlab config {config}: tokens[0]: project 3 is not declared" in output


def test_unknown_database_scheme_is_refused(tmp_path):
    proc = _serve(["--backend-store-uri", "mysql://x/y", "--port", str(free_port())], {}, tmp_path)
    output = proc.communicate(timeout=60)[0]
    assert proc.returncode == 2
    assert "mlflow-compat: unsupported database URL 'mysql://x/y'" in output
