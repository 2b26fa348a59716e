"""The GitLab dialect's projects and access tokens, from `--gitlab-config FILE` and/or
MLFLOW_COMPAT_GITLAB_TOKEN.

FILE is YAML (JSON is YAML too)::

    projects:
      - id: 1
        path: group/project      # reachable as /api/v4/projects/1/... and .../group%2Fproject/...
    tokens:
      - token: glpat-example
        scope: api               # api (read and write) | read_api (GET only)
        projects: [1]

A token from MLFLOW_COMPAT_GITLAB_TOKEN has scope api and reaches project 1 (`root/mlflow`,
added when the file does not declare it). With neither, `serve` generates a token and logs it.
"""

from __future__ import annotations

import dataclasses
import logging
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

import yaml

from server.settings import ENV_PREFIX, Settings

log = logging.getLogger("mlflow_compat")

SCOPES = ("api", "read_api")
QUICK_START_PROJECT = (1, "root/mlflow")
_PATH = re.compile(r"^[\w.\-]+(/[\w.\-]+)+$")


@dataclass(frozen=True)
class Project:
    id: int
    path: str


@dataclass(frozen=True)
class Token:
    token: str
    scope: str
    projects: frozenset[int]

    @property
    def read_only(self) -> bool:
        return self.scope == "read_api"


@dataclass(frozen=True)
class GitLabConfig:
    projects: tuple[Project, ...]
    tokens: dict[str, Token]

    def project(self, ref: str) -> Project | None:
        """The project a URL names: its numeric id, or its path (GitLab matches paths without
        regard to case)."""
        for project in self.projects:
            if ref == str(project.id) or ref.lower() == project.path.lower():
                return project
        return None

    def token(self, value: str | None) -> Token | None:
        return self.tokens.get(value) if value else None


class ConfigError(ValueError):
    pass


def with_quick_start_token(settings: Settings) -> Settings:
    """With neither a config file nor a token: generate a token (logged by `serve`)."""
    if settings.gitlab_config or settings.gitlab_token:
        return settings
    token = "glpat-" + secrets.token_urlsafe(15)
    log.info("no --gitlab-config nor %sGITLAB_TOKEN given: generated a token", ENV_PREFIX)
    log.info("export MLFLOW_TRACKING_TOKEN=%s", token)
    return dataclasses.replace(settings, gitlab_token=token)


def load_config(settings: Settings) -> GitLabConfig:
    """Projects and tokens from the settings; ConfigError says what is wrong with them."""
    projects: list[Project] = []
    tokens: list[Token] = []
    if settings.gitlab_config:
        projects, tokens = _read_file(Path(settings.gitlab_config))
    if settings.gitlab_token:
        pid, path = QUICK_START_PROJECT
        if not any(p.id == pid for p in projects):
            if any(p.path.lower() == path for p in projects):
                raise ConfigError(f"project path {path!r} is taken by a project other than {pid}")
            projects.append(Project(pid, path))
        if any(t.token == settings.gitlab_token for t in tokens):
            raise ConfigError(f"{ENV_PREFIX}GITLAB_TOKEN is also listed in the config file")
        tokens.append(Token(settings.gitlab_token, "api", frozenset({pid})))
    if not tokens:
        where = f"gitlab config {settings.gitlab_config}: " if settings.gitlab_config else ""
        raise ConfigError(
            f"{where}no token, and {ENV_PREFIX}GITLAB_TOKEN is unset: the gitlab dialect needs "
            "at least one token"
        )
    return GitLabConfig(tuple(projects), {t.token: t for t in tokens})


def _read_file(path: Path) -> tuple[list[Project], list[Token]]:
    where = f"gitlab config {path}"
    try:
        data = yaml.safe_load(path.read_text())
    except OSError as e:
        raise ConfigError(f"{where}: cannot read it ({e.strerror})") from None
    except yaml.YAMLError as e:
        raise ConfigError(f"{where}: not valid YAML: {e}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: expected a mapping with 'projects' and 'tokens'")
    unknown = set(data) - {"projects", "tokens"}
    if unknown:
        raise ConfigError(f"{where}: unknown keys {sorted(unknown)}")
    projects = [_project(where, i, p) for i, p in enumerate(_list(where, data, "projects"))]
    ids = [p.id for p in projects]
    paths = [p.path.lower() for p in projects]
    for label, values in (("id", ids), ("path", paths)):
        duplicates = sorted({str(v) for v in values if values.count(v) > 1})
        if duplicates:
            raise ConfigError(f"{where}: duplicate project {label}s {duplicates}")
    tokens = [_token(where, i, t, set(ids)) for i, t in enumerate(_list(where, data, "tokens"))]
    values = [t.token for t in tokens]
    if len(set(values)) != len(values):
        raise ConfigError(f"{where}: a token is listed twice")
    return projects, tokens


def _list(where: str, data: dict, key: str) -> list:
    value = data.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise ConfigError(f"{where}: '{key}' must be a list")
    return value


def _project(where: str, i: int, entry) -> Project:
    at = f"{where}: projects[{i}]"
    if not isinstance(entry, dict) or set(entry) - {"id", "path"}:
        raise ConfigError(f"{at}: expected a mapping with 'id' and 'path'")
    pid, path = entry.get("id"), entry.get("path")
    if isinstance(pid, bool) or not isinstance(pid, int) or pid < 1:
        raise ConfigError(f"{at}: 'id' must be a positive integer, not {pid!r}")
    if not isinstance(path, str) or not _PATH.match(path):
        raise ConfigError(
            f"{at}: 'path' must be a namespace/project path like group/project, not {path!r}"
        )
    return Project(pid, path)


def _token(where: str, i: int, entry, known: set[int]) -> Token:
    at = f"{where}: tokens[{i}]"
    if not isinstance(entry, dict) or set(entry) - {"token", "scope", "projects"}:
        raise ConfigError(f"{at}: expected a mapping with 'token', 'scope' and 'projects'")
    value, scope, projects = entry.get("token"), entry.get("scope", "api"), entry.get("projects")
    if not isinstance(value, str) or not value.strip() or value != value.strip():
        raise ConfigError(f"{at}: 'token' must be a non-empty string without surrounding spaces")
    if scope not in SCOPES:
        raise ConfigError(f"{at}: 'scope' must be one of {list(SCOPES)}, not {scope!r}")
    if not isinstance(projects, list) or not projects:
        raise ConfigError(f"{at}: 'projects' must be a non-empty list of project ids")
    for pid in projects:
        if isinstance(pid, bool) or not isinstance(pid, int) or pid not in known:
            raise ConfigError(f"{at}: project {pid!r} is not declared under 'projects'")
    return Token(value, scope, frozenset(projects))
