"""Dialects of the MLflow API: stock MLflow 2.7.1 and GitLab's (see base.Dialect)."""

from __future__ import annotations

from server.dialects.base import Dialect
from server.settings import Settings


def dialect_for(settings: Settings) -> Dialect:
    """The dialect `settings` asks for; raises ValueError on settings it cannot honour."""
    if settings.dialect == "gitlab":
        from server.dialects.gitlab import GitLabDialect

        return GitLabDialect(settings)
    if settings.dialect == "mlflow":
        from server.dialects.mlflow import MlflowDialect

        return MlflowDialect()
    raise ValueError(f"unknown dialect {settings.dialect!r}")


def prepare_settings(settings: Settings) -> Settings:
    """Settings completed once, before worker processes copy them (e.g. a generated token)."""
    if settings.dialect == "gitlab":
        from server.dialects.gitlab_config import with_quick_start_token

        return with_quick_start_token(settings)
    return settings


__all__ = ["Dialect", "dialect_for", "prepare_settings"]
