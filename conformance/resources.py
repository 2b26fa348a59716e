"""The spec files the suite judges against, from a repository checkout or an installed package.

`conformance/spec` links to the repository's `spec/` directory; building the package copies
the documents into the wheel at that same place, so one path serves both layouts.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import yaml

SPEC_DIR = Path(__file__).resolve().parent / "spec"
OPENAPI_PATH = SPEC_DIR / "mlflow-2.7.1.yaml"
# The GitLab dialect's contract: the operations a GitLab project's MLflow prefix serves.
GITLAB_OPENAPI_PATH = SPEC_DIR / "mlflow-2.7.1-gitlab.yaml"
CLIENT_METHODS_PATH = SPEC_DIR / "client-methods.yaml"
STATUSES = ("Yes", "Yes with caveat", "Partial", "No")


@cache
def openapi() -> dict:
    """spec/mlflow-2.7.1.yaml, parsed."""
    with open(OPENAPI_PATH, encoding="utf-8") as f:
        return yaml.safe_load(f)


@cache
def client_methods() -> dict:
    """spec/client-methods.yaml, parsed."""
    with open(CLIENT_METHODS_PATH, encoding="utf-8") as f:
        return yaml.safe_load(f)


def rows() -> list[dict]:
    """The client-methods rows, in document order."""
    return client_methods()["methods"]


def caveats() -> dict[str, dict]:
    """Every documented caveat by id, with the id of its row under `row`."""
    return {c["id"]: {**c, "row": r["id"]} for r in rows() for c in r.get("caveats", [])}
