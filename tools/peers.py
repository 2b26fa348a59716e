"""Start the servers mlflow-compat compares: the reference server and `mlflow server` 2.7.1.

Both run as real processes on loopback, each with its own SQLite file (or database URL) and
artifact folder, so tests and benchmarks talk to them exactly as the MLflow client would.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Peer:
    """A running server: its name, base URL (the MLFLOW_TRACKING_URI) and process."""

    name: str
    url: str
    proc: subprocess.Popen
    workdir: Path
    log_path: Path
    env: dict = field(default_factory=dict)

    def stop(self) -> None:
        """Stop the server and every process it started (gunicorn's or uvicorn's workers):
        each peer runs in a session of its own, so its process group goes as one."""
        self._signal_group(signal.SIGTERM)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self._signal_group(signal.SIGKILL)
            self.proc.wait()
        # Workers that outlive their parent (`mlflow server` does not wait for gunicorn's).
        deadline = time.monotonic() + 10
        while self._group_alive() and time.monotonic() < deadline:
            time.sleep(0.05)
        if self._group_alive():
            self._signal_group(signal.SIGKILL)

    def _signal_group(self, sig: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, sig)

    def _group_alive(self) -> bool:
        try:
            os.killpg(self.proc.pid, 0)
        except ProcessLookupError:
            return False
        return True

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def __enter__(self) -> Peer:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def _wait_healthy(peer: Peer, timeout: float) -> Peer:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if peer.proc.poll() is not None:
            raise RuntimeError(f"{peer.name} exited with {peer.proc.returncode}:\n{peer.log()}")
        try:
            if requests.get(peer.url + "/health", timeout=1).status_code == 200:
                return peer
        except requests.RequestException:
            pass
        time.sleep(0.1)
    peer.stop()
    raise RuntimeError(f"{peer.name} did not become healthy in {timeout}s:\n{peer.log()}")


def _bin(name: str) -> str:
    """The console script `name` from the running interpreter's environment, else from PATH."""
    candidate = Path(sys.executable).parent / name
    if candidate.exists():
        return str(candidate)
    found = shutil.which(name)
    if not found:
        raise RuntimeError(f"{name} not found next to {sys.executable} nor on PATH")
    return found


def _spawn(name: str, argv: list[str], workdir: Path, env: dict, port: int, timeout: float) -> Peer:
    workdir.mkdir(parents=True, exist_ok=True)
    log_path = workdir / f"{name}.log"
    full_env = {**os.environ, **env}
    # gunicorn (used by `mlflow server`) is found by name on PATH.
    full_env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + full_env.get("PATH", "")
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            argv,
            cwd=workdir,
            env=full_env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    peer = Peer(name, f"http://127.0.0.1:{port}", proc, workdir, log_path, env)
    return _wait_healthy(peer, timeout)


def _serve_flags(workdir: Path, store_uri: str, port: int, workers: int) -> list[str]:
    """The flags both servers share (the reference server follows `mlflow server`'s names)."""
    return [
        "--backend-store-uri",
        store_uri,
        "--artifacts-destination",
        str(workdir / "artifacts"),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
    ]


def start_oracle(
    workdir: Path,
    port: int | None = None,
    workers: int = 4,
    backend_store_uri: str | None = None,
    timeout: float = 60,
) -> Peer:
    """The real `mlflow server` 2.7.1 with a SQLite store and proxied artifacts."""
    port = port or free_port()
    workdir = Path(workdir)
    store_uri = backend_store_uri or f"sqlite:///{workdir / 'mlflow.db'}"
    argv = [_bin("mlflow"), "server", *_serve_flags(workdir, store_uri, port, workers)]
    return _spawn("mlflow-server-2.7.1", argv, workdir, {}, port, timeout)


def start_reference(
    workdir: Path,
    port: int | None = None,
    workers: int = 1,
    backend_store_uri: str | None = None,
    dialect: str = "mlflow",
    extra_args: list[str] | None = None,
    timeout: float = 60,
    gitlab_config: Path | str | None = None,
    env: dict[str, str] | None = None,
) -> Peer:
    """The mlflow-compat reference server (`mlflow-compat serve`).

    `gitlab_config` (the `--gitlab-config` file of the gitlab dialect), `extra_args` (more serve
    flags) and `env` (more environment variables, e.g. MLFLOW_COMPAT_GITLAB_TOKEN) pass on to
    the server."""
    port = port or free_port()
    workdir = Path(workdir)
    store_uri = backend_store_uri or f"sqlite:///{workdir / 'mlflow-compat.db'}"
    argv = [
        sys.executable,
        "-m",
        "server",
        "serve",
        *_serve_flags(workdir, store_uri, port, workers),
        "--dialect",
        dialect,
        *(["--gitlab-config", str(gitlab_config)] if gitlab_config else []),
        *(extra_args or []),
    ]
    env = {
        **(env or {}),
        "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""),
    }
    return _spawn("mlflow-compat", argv, workdir, env, port, timeout)
