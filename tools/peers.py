"""Start the servers mlflow-compat compares: the reference server and `mlflow server` 2.7.1.

Both run as real processes on loopback, each with its own SQLite file (or database URL) and
artifact folder, so tests and benchmarks talk to them exactly as the MLflow client would.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from conformance.clients import mlflow_version
from conformance.process import ServerProcess as Peer
from conformance.process import free_port, start_server

__all__ = ["Peer", "free_port", "start_oracle", "start_reference"]

REPO = Path(__file__).resolve().parent.parent


def _bin(name: str) -> str:
    """The console script `name` from the running interpreter's environment, else from PATH."""
    candidate = Path(sys.executable).parent / name
    if candidate.exists():
        return str(candidate)
    found = shutil.which(name)
    if not found:
        raise RuntimeError(f"{name} not found next to {sys.executable} nor on PATH")
    return found


def _spawn(
    name: str,
    argv: list[str],
    workdir: Path,
    env: dict,
    port: int,
    timeout: float,
    bindir: Path | None = None,
) -> Peer:
    # gunicorn (used by `mlflow server`) is found by name on PATH.
    bindir = bindir or Path(sys.executable).parent
    path = str(bindir) + os.pathsep + {**os.environ, **env}.get("PATH", "")
    return start_server(
        name,
        argv,
        f"http://127.0.0.1:{port}",
        workdir,
        workdir / f"{name}.log",
        env={**env, "PATH": path},
        timeout=timeout,
    )


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
    python: str | Path | None = None,
) -> Peer:
    """The real `mlflow server` with a SQLite store and proxied artifacts: 2.7.1, this
    environment's, or the mlflow of another environment's `python` (e.g. a client virtualenv
    of conformance.clients, to judge a 3.x server)."""
    port = port or free_port()
    workdir = Path(workdir)
    store_uri = backend_store_uri or f"sqlite:///{workdir / 'mlflow.db'}"
    bindir = Path(python).parent if python else None
    mlflow = str(bindir / "mlflow") if bindir else _bin("mlflow")
    name = f"mlflow-server-{mlflow_version(python) if python else '2.7.1'}"
    argv = [mlflow, "server", *_serve_flags(workdir, store_uri, port, workers)]
    return _spawn(name, argv, workdir, {}, port, timeout, bindir)


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
