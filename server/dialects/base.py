"""The dialect interface: every rule where a dialect of the MLflow API differs from stock MLflow.

The app consults its dialect at three points, so that no handler or store function asks which
dialect it serves:

- `attach(store, artifacts)` once, when the store is open: a dialect may set store options
  (e.g. model versions named by a version label instead of a number);
- `adapt_handlers(table)`: the operationId -> handler table, where a dialect replaces the
  handlers whose semantics differ (naming, version numbering, ignored arguments, caveats,
  artifact URIs);
- `wrap_asgi(app)`: the ASGI layer in front of the app, where a dialect serves its URL prefix,
  resolves the project (the store namespace of the request), authenticates, and decides which
  operations exist.
"""

from __future__ import annotations

import typing as t


class Dialect:
    """The stock dialect's behaviour; subclasses override what differs."""

    name = "mlflow"

    def startup_lines(self, url: str) -> list[str]:
        """What `serve` logs so that a user can point a client at the server."""
        return [f"export MLFLOW_TRACKING_URI={url}"]

    def attach(self, store: t.Any, artifacts: t.Any) -> None:
        self.store = store
        self.artifacts = artifacts

    def adapt_handlers(self, table: dict) -> dict:
        return table

    def wrap_asgi(self, app: t.Any) -> t.Any:
        return app
