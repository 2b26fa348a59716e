"""The stock dialect: MLflow 2.7.1 as `mlflow server` serves it, in one project.

The interface every dialect implements; the GitLab dialect (gitlab.py) overrides what differs.
The composition root (server/compose.py) consults a dialect at four points, so that no handler
or store function asks which dialect it serves:

- `adapt_spec(document)`: the contract (a dict) before the app is built: a dialect removes,
  requires or defaults what it serves differently, so routing, validation, /openapi.json and
  fuzzing see its real contract;
- `store_options`: keyword arguments of `open_store` (e.g. model versions named by a label);
- `handlers(store, artifacts)`: the operationId -> handler table, with the store bound to the
  project each request works in;
- `wrap_asgi(app, store, contract)`: the ASGI layer in front of the app (URL prefix, auth,
  which routes exist, what a browser gets at `/`: see server/ui.py).
"""

from __future__ import annotations

import typing as t

from server.contract import Contract
from server.handlers import handler_table
from server.ui import WebUi, mlflow_ui_build, stock_page

# The stock dialect's one project (a GitLab project id elsewhere): rows of the store belong to it.
STOCK_PROJECT = 0


class MlflowDialect:
    name = "mlflow"
    store_options: t.ClassVar[dict] = {}

    @staticmethod
    def adapt_spec(document: dict) -> dict:
        return document

    def startup_lines(self, url: str) -> list[str]:
        """What `serve` logs so that a user can point a client at the server."""
        return [f"export MLFLOW_TRACKING_URI={url}"]

    def handlers(self, store, artifacts) -> dict[str, t.Callable]:
        return handler_table(store.for_project(STOCK_PROJECT), artifacts)

    def home_page(self, url: str) -> str:
        """What `/` shows when MLflow's web UI is not installed."""
        return stock_page(self.startup_lines(url))

    def wrap_asgi(self, app, store, contract: Contract):
        # MLflow 2.7.1's web UI at `/`, from the installed mlflow wheel (the `ui` extra).
        return WebUi(app, self.home_page, mlflow_ui_build())
