"""The contract the server serves: the OpenAPI document, read once, and what the app needs of it.

A dialect adapts the document (a dict) before the app is built (see server.dialects), so that
routing, validation, /openapi.json and the start-up check of the handler table all see the
dialect's real contract.
"""

from __future__ import annotations

import copy
import re
import typing as t
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import yaml

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def snake_case(operation_id: str) -> str:
    """The handler name of an operationId: createExperiment -> create_experiment."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", operation_id).lower()


@dataclass(frozen=True)
class Operation:
    method: str  # upper case
    path: str  # the spec's path template
    operation_id: str


@dataclass(frozen=True, eq=False)
class Contract:
    document: dict

    @classmethod
    def load(cls, path: str | Path) -> Contract:
        with open(path, encoding="utf-8") as f:
            return cls(yaml.safe_load(f))

    def adapted(self, adapt: t.Callable[[dict], dict]) -> Contract:
        """The contract `adapt` makes of a deep copy of this one's document."""
        return Contract(adapt(copy.deepcopy(self.document)))

    @cached_property
    def operations(self) -> tuple[Operation, ...]:
        return tuple(
            Operation(method.upper(), path, operation["operationId"])
            for path, item in self.document["paths"].items()
            for method, operation in item.items()
            if method in HTTP_METHODS and "operationId" in operation
        )

    @cached_property
    def _routes(self) -> dict[tuple[str, str], str]:
        return {(op.method, op.path): op.operation_id for op in self.operations}

    def operation_id(self, method: str, path: str) -> str | None:
        """The operationId served at METHOD `path` (a path template of the spec), or None."""
        return self._routes.get((method, path))

    @cached_property
    def allowed_methods(self) -> tuple[tuple[re.Pattern, str], ...]:
        """(path pattern, `Allow` header value) for every path: all the methods served there
        (HEAD with GET). Starlette's router names only those of the first route matching a
        path, and the artifact paths have one route per method."""
        allowed = []
        for template, item in self.document["paths"].items():
            methods = {m.upper() for m in item if m in HTTP_METHODS}
            if "GET" in methods:
                methods.add("HEAD")
            pattern = re.sub(r"\\\{[^}]+\\\}", ".+", re.escape(template))
            allowed.append((re.compile(pattern + "$"), ", ".join(sorted(methods))))
        return tuple(allowed)

    def allow_header(self, path: str) -> str | None:
        return next(
            (methods for pattern, methods in self.allowed_methods if pattern.match(path)), None
        )


def without_operations(document: dict, keep: t.Callable[[str], bool]) -> dict:
    """`document` with only the operations whose operationId `keep` accepts (paths left with no
    operation go too), no response link that leads to an operation removed, and no tag that no
    operation left carries."""
    for path in list(document["paths"]):
        item = document["paths"][path]
        for method in [m for m in item if m in HTTP_METHODS]:
            if not keep(item[method].get("operationId", "")):
                del item[method]
        if not any(m in HTTP_METHODS for m in item):
            del document["paths"][path]
    for item in document["paths"].values():
        for method in (m for m in item if m in HTTP_METHODS):
            for response in item[method].get("responses", {}).values():
                links = response.get("links") if isinstance(response, dict) else None
                for name in [
                    n for n, link in (links or {}).items() if not keep(link.get("operationId", ""))
                ]:
                    del links[name]
    used = {
        tag
        for item in document["paths"].values()
        for method, operation in item.items()
        if method in HTTP_METHODS
        for tag in operation.get("tags", ())
    }
    if "tags" in document:
        document["tags"] = [tag for tag in document["tags"] if tag["name"] in used]
    return document
