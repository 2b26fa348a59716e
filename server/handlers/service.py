"""/health and /version."""

from __future__ import annotations

MLFLOW_VERSION = "2.7.1"
TEXT = {"Content-Type": "text/plain"}


class ServiceHandlers:
    def health(self):
        return "OK", 200, TEXT

    def version(self):
        return MLFLOW_VERSION, 200, TEXT
