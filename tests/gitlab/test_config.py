"""`serve --dialect gitlab`: the config file, the quick-start token, and refusals."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from server.compose import compose
from server.dialects.gitlab_config import ConfigError
from server.settings import Settings
from tests.gitlab.conftest import CONFIG
from tools.peers import REPO, start_reference


def _refused(tmp_path: Path, config_text: str | None) -> str:
    """Start the server with this config file (None: a path that does not exist); it must
    refuse before binding a port. Returns what it said."""
    config = tmp_path / "gitlab.yaml"
    if config_text is not None:
        config.write_text(config_text)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("MLFLOW_COMPAT_GITLAB_TOKEN", None)
    done = subprocess.run(
        [sys.executable, "-m", "server", "serve", "--dialect", "gitlab"]
        + ["--gitlab-config", str(config), "--port", "1"]
        + ["--backend-store-uri", f"sqlite:///{tmp_path / 'db.sqlite'}"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2, done.stdout + done.stderr
    return done.stderr


CONFIG_ERRORS = [
    ("projects: [", "not valid YAML"),
    ("- 1", "expected a mapping"),
    ("projects: []\ntokens: []\nusers: []", "unknown keys ['users']"),
    ("projects: [{id: 0, path: a/b}]", "'id' must be a positive integer"),
    ("projects: [{id: 1, path: nopath}]", "'path' must be a namespace/project path"),
    ("projects: [{id: 1, path: a/b}, {id: 1, path: a/c}]", "duplicate project ids"),
    ("projects: [{id: 1, path: a/b}]\ntokens: []", "needs at least one token"),
    (
        "projects: [{id: 1, path: a/b}]\ntokens: [{token: t, scope: admin, projects: [1]}]",
        "'scope' must be one of ['api', 'read_api']",
    ),
    (
        "projects: [{id: 1, path: a/b}]\ntokens: [{token: t, scope: api, projects: [2]}]",
        "project 2 is not declared",
    ),
    (
        "projects: [{id: 1, path: a/b}]\n"
        "tokens: [{token: t, projects: [1]}, {token: t, projects: [1]}]",
        "a token is listed twice",
    ),
]


@pytest.mark.parametrize(("config_text", "message"), CONFIG_ERRORS)
def test_config_errors_are_named(tmp_path, config_text, message):
    config = tmp_path / "gitlab.yaml"
    config.write_text(config_text)
    settings = Settings.defaults(tmp_path)
    settings = dataclasses.replace(settings, dialect="gitlab", gitlab_config=str(config))
    with pytest.raises(ConfigError) as e:
        compose(settings)
    assert str(e.value).startswith(f"gitlab config {config}: ") and message in str(e.value)


@pytest.mark.parametrize(
    ("config_text", "message"),
    [(None, "cannot read it"), (CONFIG_ERRORS[-3][0], CONFIG_ERRORS[-3][1])],
)
def test_a_config_with_errors_refuses_to_start(tmp_path, config_text, message):
    said = _refused(tmp_path, config_text)
    assert "gitlab config" in said and message in said


def test_json_config_and_env_token_together(tmp_path):
    # Project 2 and its token from the file; project 1 (root/mlflow) from the env token.
    config = tmp_path / "gitlab.json"
    only_beta = {
        "projects": CONFIG["projects"][1:],
        "tokens": [t for t in CONFIG["tokens"] if t["projects"] == [2]],
    }
    config.write_text(json.dumps(only_beta))
    env = {"MLFLOW_COMPAT_GITLAB_TOKEN": "glpat-quick"}
    with start_reference(tmp_path, dialect="gitlab", gitlab_config=config, env=env) as peer:
        for project, token in (("1", "glpat-quick"), ("root%2Fmlflow", "glpat-quick")):
            url = f"{peer.url}/api/v4/projects/{project}/ml/mlflow/api/2.0/mlflow/runs/search"
            answer = requests.post(
                url, json={"experiment_ids": ["1"]}, headers={"Authorization": f"Bearer {token}"}
            )
            assert answer.status_code == 200, answer.text
        url = f"{peer.url}/api/v4/projects/2/ml/mlflow/api/2.0/mlflow/experiments/create"
        quick = requests.post(
            url, json={"name": "x"}, headers={"Authorization": "Bearer glpat-quick"}
        )
        assert quick.status_code == 404
        from_file = requests.post(
            url, json={"name": "x"}, headers={"Authorization": "Bearer glpat-beta-api"}
        )
        assert from_file.status_code == 200


def test_without_config_a_token_is_generated_and_logged(tmp_path, monkeypatch):
    monkeypatch.delenv("MLFLOW_COMPAT_GITLAB_TOKEN", raising=False)
    monkeypatch.delenv("MLFLOW_COMPAT_GITLAB_CONFIG", raising=False)
    with start_reference(tmp_path, dialect="gitlab") as peer:
        log = peer.log()
        token = re.search(r"export MLFLOW_TRACKING_TOKEN=(\S+)", log).group(1)
        uri = re.search(r"export MLFLOW_TRACKING_URI=(\S+)", log).group(1)
        assert uri == f"{peer.url}/api/v4/projects/1/ml/mlflow"
        url = f"{uri}/api/2.0/mlflow/experiments/create"
        created = requests.post(
            url, json={"name": "e"}, headers={"Authorization": f"Bearer {token}"}
        )
        assert created.status_code == 200
        assert requests.post(url, json={"name": "f"}).status_code == 401
