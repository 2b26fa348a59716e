"""The namespace a store call works in.

The stock dialect has one namespace, 0. The GitLab dialect serves each project as a namespace of
its own (its project id): experiments and registered models belong to one, runs and model
versions to their experiment's or model's. The wire layer sets the namespace of each request;
every lookup of the store is confined to it, so an id or name from another namespace is simply
not found.
"""

from __future__ import annotations

import contextlib
from contextvars import ContextVar

DEFAULT_NAMESPACE = 0
_current: ContextVar[int] = ContextVar("mlflow_compat_namespace", default=DEFAULT_NAMESPACE)


def namespace() -> int:
    return _current.get()


@contextlib.contextmanager
def in_namespace(value: int):
    """Run the enclosed calls (and the tasks and threads they start) in namespace `value`."""
    token = _current.set(int(value))
    try:
        yield
    finally:
        _current.reset(token)
