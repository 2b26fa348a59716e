"""A server as a child process: started in a session of its own on a loopback port, ready once its
/health answers 200, stopped with every process it started.

The conformance suite starts the embedded reference server with it; the project's tools start
the servers they compare (the reference server, `mlflow server` 2.7.1) with it too.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests


def free_port() -> int:
    """A TCP port free on loopback right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class ServerProcess:
    """A running server: its name, base URL (the MLFLOW_TRACKING_URI), process and log."""

    name: str
    url: str
    proc: subprocess.Popen
    workdir: Path
    log_path: Path
    env: dict = field(default_factory=dict)

    def stop(self) -> None:
        """Stop the server and every process it started (gunicorn's or uvicorn's workers):
        each server runs in a session of its own, so its process group goes as one."""
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

    def __enter__(self) -> ServerProcess:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def start_server(
    name: str,
    argv: list[str],
    url: str,
    workdir: Path,
    log_path: Path,
    env: dict[str, str] | None = None,
    timeout: float = 60,
) -> ServerProcess:
    """Run `argv` in `workdir` (output to `log_path`, `env` over this process's environment) and
    wait until `url`/health answers 200. Raises RuntimeError with the server's log when it exits
    first or is not healthy within `timeout` seconds (then it is stopped)."""
    workdir.mkdir(parents=True, exist_ok=True)
    env = env or {}
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            argv,
            cwd=workdir,
            env={**os.environ, **env},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = ServerProcess(name, url, proc, workdir, log_path, env)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{name} exited with {proc.returncode}:\n{server.log()}")
        with contextlib.suppress(requests.RequestException):
            if requests.get(url + "/health", timeout=1).status_code == 200:
                return server
        time.sleep(0.1)
    server.stop()
    raise RuntimeError(f"{name} did not become healthy in {timeout}s:\n{server.log()}")
