"""Thin handlers: validated request -> store call -> response dict. One module per area.

Each area is an object bound to the store it serves; `build_handlers` flattens them into
one table keyed by the snake_case operationId that the app's resolver looks up.
"""

from __future__ import annotations

import inspect

from server.artifacts import FileArtifactStore
from server.dialects import Dialect
from server.errors import MlflowError
from server.handlers.artifacts import ArtifactHandlers
from server.handlers.experiments import ExperimentHandlers
from server.handlers.registry import RegistryHandlers
from server.handlers.runs import RunHandlers
from server.handlers.service import ServiceHandlers
from server.settings import Settings
from server.store import open_store

ARTIFACT_ROOT = "mlflow-artifacts:"


class _Unimplemented(dict):
    """Operations the spec declares that this server does not serve yet answer 501."""

    def __missing__(self, operation: str):
        def not_implemented(**_kwargs):
            raise MlflowError(f"{operation} is not implemented by this server", "NOT_IMPLEMENTED")

        return not_implemented


def build_handlers(settings: Settings, dialect: Dialect) -> dict:
    """The handler table, with the dialect's differences applied (see server.dialects)."""
    store = open_store(settings.backend_store_uri, artifact_root=ARTIFACT_ROOT)
    table = _Unimplemented()
    artifacts = FileArtifactStore(settings.artifacts_destination)
    dialect.attach(store, artifacts)
    areas = (
        ServiceHandlers(),
        ExperimentHandlers(store),
        RunHandlers(store),
        RegistryHandlers(store),
        ArtifactHandlers(store, artifacts),
    )
    for area in areas:
        for name, method in inspect.getmembers(area, inspect.ismethod):
            if not name.startswith("_"):
                table[name] = method
    return dialect.adapt_handlers(table)
