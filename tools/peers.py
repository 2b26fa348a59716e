"""Start the servers mlflow-compat compares: the reference server, `mlflow server` 2.7.1 and
FastTrackML (the Go peer, `pip install fasttrackml`).

Each runs as a real process on loopback, with its own SQLite file (or database URL) and
artifact folder, so tests and benchmarks talk to them exactly as the MLflow client would.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from conformance.clients import cache_home, mlflow_version
from conformance.process import ServerProcess as Peer
from conformance.process import free_port, start_server

__all__ = ["Peer", "free_port", "start_fasttrackml", "start_oracle", "start_reference"]

REPO = Path(__file__).resolve().parent.parent
FASTTRACKML_VERSION = "0.6.0"


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


def _serve_flags(
    workdir: Path, store_uri: str, port: int, workers: int, destination: str | None = None
) -> list[str]:
    """The flags both servers share (the reference server follows `mlflow server`'s names);
    artifacts go to `destination` (a folder or s3://bucket/prefix), by default a folder in
    `workdir`."""
    return [
        "--backend-store-uri",
        store_uri,
        "--artifacts-destination",
        destination or str(workdir / "artifacts"),
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
    artifacts_destination: str | None = None,
    env: dict[str, str] | None = None,
    python: str | Path | None = None,
) -> Peer:
    """The real `mlflow server` with a SQLite store and proxied artifacts: 2.7.1, this
    environment's, or the mlflow of another environment's `python` (e.g. a client virtualenv
    of conformance.clients, to judge a 3.x server). `env`: more environment variables, e.g.
    MLFLOW_S3_ENDPOINT_URL for an s3:// destination."""
    port = port or free_port()
    workdir = Path(workdir)
    store_uri = backend_store_uri or f"sqlite:///{workdir / 'mlflow.db'}"
    bindir = Path(python).parent if python else None
    mlflow = str(bindir / "mlflow") if bindir else _bin("mlflow")
    name = f"mlflow-server-{mlflow_version(python) if python else '2.7.1'}"
    flags = _serve_flags(workdir, store_uri, port, workers, artifacts_destination)
    argv = [mlflow, "server", *flags]
    return _spawn(name, argv, workdir, env or {}, port, timeout, bindir)


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
    artifacts_destination: str | None = None,
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
        *_serve_flags(workdir, store_uri, port, workers, artifacts_destination),
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


def start_fasttrackml(
    workdir: Path,
    port: int | None = None,
    database_uri: str | None = None,
    timeout: float = 60,
) -> Peer:
    """FastTrackML (`fml server`) with a SQLite file, or `database_uri` (`postgres://...`).

    FastTrackML has no worker processes: one Go process serves every request concurrently."""
    port = port or free_port()
    workdir = Path(workdir)
    # FastTrackML's SQLite URL is `sqlite://` followed by an absolute path.
    database_uri = database_uri or f"sqlite://{(workdir / 'fasttrackml.db').resolve()}"
    argv = [
        fasttrackml_binary(),
        "server",
        "-a",
        f"127.0.0.1:{port}",
        "-d",
        database_uri,
        "--default-artifact-root",
        str(workdir / "artifacts"),
    ]
    return _spawn("fasttrackml", argv, workdir, {}, port, timeout)


def fasttrackml_binary() -> str:
    """FastTrackML's `fml`: from PATH if there, else from the `fasttrackml` wheel, installed on
    first use into the user's cache (~/.cache/mlflow-compat/peers). It is installed without its
    dependencies: they are those of its Python client, which wants mlflow >= 2.8, and the server
    is the Go binary alone."""
    found = shutil.which("fml")
    if found:
        return found
    home = cache_home() / "peers" / f"fasttrackml-{FASTTRACKML_VERSION}"
    fml = home / "bin" / "fml"
    if not fml.exists():
        home.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".fasttrackml-", dir=home.parent))
        subprocess.run(
            [
                *[sys.executable, "-m", "pip", "install", "--quiet", "--no-deps"],
                *["--target", str(staging), f"fasttrackml=={FASTTRACKML_VERSION}"],
            ],
            check=True,
        )
        try:
            staging.rename(home)  # whole or not at all; a concurrent install may have won
        except OSError:
            shutil.rmtree(staging, ignore_errors=True)
    return str(fml)
