"""The stock dialect: MLflow 2.7.1 as `mlflow server` serves it, in one implicit namespace."""

from __future__ import annotations

from server.dialects.base import Dialect


class MlflowDialect(Dialect):
    name = "mlflow"
