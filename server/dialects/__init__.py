"""Dialects of the MLflow API: stock MLflow 2.7.1 (mlflow.py) and GitLab's (gitlab.py)."""

from __future__ import annotations

from server.dialects.gitlab import GitLabDialect
from server.dialects.gitlab_config import with_quick_start_token
from server.dialects.mlflow import MlflowDialect
from server.settings import Settings


def dialect_for(settings: Settings) -> MlflowDialect:
    """The dialect `settings` asks for; raises ValueError on settings it cannot honour."""
    if settings.dialect == "gitlab":
        return GitLabDialect(settings)
    if settings.dialect == "mlflow":
        return MlflowDialect()
    raise ValueError(f"unknown dialect {settings.dialect!r}")


def prepare_settings(settings: Settings) -> Settings:
    """Settings completed once, before worker processes copy them (e.g. a generated token)."""
    if settings.dialect == "gitlab":
        return with_quick_start_token(settings)
    return settings


__all__ = ["GitLabDialect", "MlflowDialect", "dialect_for", "prepare_settings"]
