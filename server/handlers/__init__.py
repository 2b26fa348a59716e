"""Thin handlers: validated request -> store call -> response dict. One module per area.

Each area is an object bound to the store (of one project) it serves; `handler_table` flattens
them into one table keyed by the snake_case operationId that the app's resolver looks up.
"""

from __future__ import annotations

import inspect
import typing as t

from server.handlers.artifacts import ArtifactHandlers
from server.handlers.experiments import ExperimentHandlers
from server.handlers.registry import RegistryHandlers
from server.handlers.runs import RunHandlers
from server.handlers.service import ServiceHandlers
from server.handlers.ui import UiHandlers


def public_methods(obj: object) -> dict[str, t.Callable]:
    """The public methods of a handler object, by name."""
    return {
        name: method
        for name, method in inspect.getmembers(obj, inspect.ismethod)
        if not name.startswith("_")
    }


def handler_table(store, artifacts) -> dict[str, t.Callable]:
    """The stock handlers of every operation, bound to `store` (a store bound to a project)."""
    table: dict[str, t.Callable] = {}
    for area in (
        ServiceHandlers(),
        ExperimentHandlers(store),
        RunHandlers(store),
        RegistryHandlers(store),
        ArtifactHandlers(store, artifacts),
        UiHandlers(store, artifacts),
    ):
        table.update(public_methods(area))
    return table
