"""The server under test: a URL given with --target, or the reference server started embedded."""

from __future__ import annotations

import base64
import contextlib
import os
import secrets
import sys
from dataclasses import dataclass
from pathlib import Path

import requests
import yaml

from conformance.process import ServerProcess, free_port, start_server

GITLAB_PROJECT_PATH = "/api/v4/projects/1/ml/mlflow"


@dataclass
class Target:
    """Where the client goes, how it authenticates, and which documented column applies."""

    url: str
    dialect: str
    token: str | None = None
    username: str | None = None
    password: str | None = None
    embedded: bool = False

    def client_env(self) -> dict[str, str]:
        """The MLFLOW_TRACKING_* variables the MLflow client reads."""
        env = {"MLFLOW_TRACKING_URI": self.url}
        if self.token:
            env["MLFLOW_TRACKING_TOKEN"] = self.token
        if self.username:
            env["MLFLOW_TRACKING_USERNAME"] = self.username
        if self.password:
            env["MLFLOW_TRACKING_PASSWORD"] = self.password
        return env

    def auth_headers(self) -> dict[str, str]:
        """The Authorization header the MLflow client sends for these credentials."""
        if self.token:
            return {"Authorization": f"Bearer {self.token}"}
        if self.username and self.password:
            pair = base64.b64encode(f"{self.username}:{self.password}".encode()).decode()
            return {"Authorization": f"Basic {pair}"}
        return {}

    def server_version(self) -> str | None:
        """What the server's /version answers (stock MLflow serves it at the host root)."""
        for url in (self.url.rstrip("/") + "/version", _origin(self.url) + "/version"):
            with contextlib.suppress(requests.RequestException):
                r = requests.get(url, headers=self.auth_headers(), timeout=5)
                if r.status_code == 200 and len(r.text) < 40 and "<" not in r.text:
                    return r.text.strip()
        return None


def _origin(url: str) -> str:
    scheme, rest = url.split("://", 1)
    return f"{scheme}://{rest.split('/', 1)[0]}"


class EmbeddedServer:
    """The reference server as a child process on a free loopback port, with throwaway storage.

    Started as `python -m server serve`: the suite talks to it over HTTP like to any server.
    """

    def __init__(self, workdir: Path, dialect: str) -> None:
        self.workdir = Path(workdir)
        self.dialect = dialect
        self.port = free_port()
        self.log_path = self.workdir / "server.log"
        self.process: ServerProcess | None = None
        self.target: Target | None = None

    def start(self, timeout: float = 60) -> Target:
        self.workdir.mkdir(parents=True, exist_ok=True)
        argv = [
            sys.executable,
            "-m",
            "server",
            "serve",
            "--backend-store-uri",
            f"sqlite:///{self.workdir / 'mlflow-compat.db'}",
            "--artifacts-destination",
            str(self.workdir / "artifacts"),
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--dialect",
            self.dialect,
        ]
        root = f"http://127.0.0.1:{self.port}"
        target = Target(url=root, dialect=self.dialect, embedded=True)
        if self.dialect == "gitlab":
            # One project and an `api` token for it, as a GitLab user would set them up.
            token = "conformance-" + secrets.token_hex(8)
            config = self.workdir / "gitlab.yaml"
            config.write_text(
                yaml.safe_dump(
                    {
                        "projects": [{"id": 1, "path": "conformance/project"}],
                        "tokens": [{"token": token, "scope": "api", "projects": [1]}],
                    }
                )
            )
            argv += ["--gitlab-config", str(config)]
            target = Target(
                url=root + GITLAB_PROJECT_PATH, dialect="gitlab", token=token, embedded=True
            )
        # `server` sits next to this package, in a checkout and in an installed environment.
        pythonpath = os.pathsep.join(
            [str(Path(__file__).resolve().parent.parent), os.environ.get("PYTHONPATH", "")]
        )
        self.process = start_server(
            "the reference server",
            argv,
            root,
            self.workdir,
            self.log_path,
            env={"PYTHONPATH": pythonpath},
            timeout=timeout,
        )
        self.target = target
        return target

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.stop()
        self.process = None
