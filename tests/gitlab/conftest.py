"""GitLab-dialect servers on loopback, and the MLflow client pointed at one of their projects
the way the seed's setup section says: MLFLOW_TRACKING_URI and MLFLOW_TRACKING_TOKEN only."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from urllib.parse import quote

import mlflow
import pytest
import requests

from tests.conftest import backend_store_uri
from tools.peers import Peer, start_reference

ALPHA, BETA = 1, 2
ALPHA_PATH, BETA_PATH = "group/alpha", "group/beta"
TOKEN_ALPHA = "glpat-alpha-api"
TOKEN_BETA = "glpat-beta-api"
TOKEN_ALPHA_READ = "glpat-alpha-read"
TOKEN_BOTH = "glpat-both-api"
CONFIG = {
    "projects": [{"id": ALPHA, "path": ALPHA_PATH}, {"id": BETA, "path": BETA_PATH}],
    "tokens": [
        {"token": TOKEN_ALPHA, "scope": "api", "projects": [ALPHA]},
        {"token": TOKEN_BETA, "scope": "api", "projects": [BETA]},
        {"token": TOKEN_ALPHA_READ, "scope": "read_api", "projects": [ALPHA]},
        {"token": TOKEN_BOTH, "scope": "api", "projects": [ALPHA, BETA]},
    ],
}


@dataclass
class GitLab:
    """A gitlab-dialect server and how to address its projects."""

    peer: Peer

    def tracking_uri(self, project=ALPHA) -> str:
        ref = quote(project, safe="") if isinstance(project, str) else project
        return f"{self.peer.url}/api/v4/projects/{ref}/ml/mlflow"

    def api(self, path: str, project=ALPHA) -> str:
        return f"{self.tracking_uri(project)}/api/2.0/mlflow/{path}"

    def call(self, method: str, path: str, token=TOKEN_ALPHA, project=ALPHA, **kwargs):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return requests.request(
            method, self.api(path, project), headers=headers, timeout=30, **kwargs
        )


def start_gitlab(request, tmp_path_factory, backend: str) -> GitLab:
    workdir = tmp_path_factory.mktemp(f"gitlab-{backend}")
    config = workdir / "gitlab.json"
    config.write_text(json.dumps(CONFIG))
    uri = backend_store_uri(backend, workdir, request)
    peer = start_reference(workdir, backend_store_uri=uri, dialect="gitlab", gitlab_config=config)
    request.addfinalizer(peer.stop)
    return GitLab(peer)


@pytest.fixture(scope="session")
def gitlab(request, tmp_path_factory) -> GitLab:
    """One gitlab-dialect server on SQLite, shared by the gitlab tests."""
    return start_gitlab(request, tmp_path_factory, "sqlite")


@pytest.fixture
def use_project(monkeypatch):
    """use_project(server, project, token): point the MLflow client at a project with a token,
    through the two environment variables only."""

    # No tracking URI set in code: the client reads the environment, as the seed's setup asks.
    monkeypatch.setattr(mlflow.tracking._tracking_service.utils, "_tracking_uri", None)

    def use(server: GitLab, project=ALPHA, token=TOKEN_ALPHA) -> str:
        uri = server.tracking_uri(project)
        monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
        monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", token)
        return uri

    yield use
    while mlflow.active_run():
        mlflow.end_run()
    mlflow.tracking.fluent._active_experiment_id = None


@pytest.fixture
def alpha(gitlab, use_project) -> GitLab:
    """The client pointed at project 1 with an api token."""
    use_project(gitlab)
    return gitlab


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def package_file(run, path: str) -> str:
    """A file of a run, read where its artifact URI points (GitLab's generic package)."""
    import os

    token = os.environ["MLFLOW_TRACKING_TOKEN"]
    response = requests.get(
        f"{run.info.artifact_uri}/{path}", headers={"Authorization": f"Bearer {token}"}, timeout=30
    )
    response.raise_for_status()
    return response.text
