"""connexion's operations, with what depends only on the operation worked out once.

connexion 3 works out, on every request, things that depend on the operation alone: it builds
each operation's parameter and response decorators and inspects the handler's signature
(AsyncOperation.fn, ASGIDecorator.__call__), looks up and copies the request body's definition
seven times (OpenAPIOperation.body_definition matches the media type by fnmatch each time), makes
two URI parsers, and parses a JSON request's form parts and files. Together that was more of a
small request's time than its handler took. Here each of those is done once per operation (per
content type, for the body's definition) and kept: validation, arguments and responses are
connexion's own, unchanged. Handlers that are not coroutine functions are awaited in place
rather than handed to a thread pool (see ``server.app.inline``).
"""

from __future__ import annotations

import functools
import typing as t

from connexion.apps.asynchronous import AsyncApi, AsyncOperation
from connexion.context import operation, receive, scope
from connexion.decorators import StarletteDecorator
from connexion.decorators.parameter import (
    AsyncParameterDecorator,
    prep_kwargs,
    unwrap_decorators,
)
from connexion.decorators.response import AsyncResponseDecorator
from connexion.http_facts import FORM_CONTENT_TYPES
from connexion.lifecycle import ConnexionResponse
from connexion.middleware.request_validation import (
    RequestValidationAPI,
    RequestValidationMiddleware,
)
from connexion.middleware.routing import RoutingMiddleware
from connexion.middleware.routing import _scope as _routing_scope
from connexion.middleware.swagger_ui import SwaggerUIMiddleware
from connexion.operations import OpenAPIOperation
from connexion.utils import inspect_function_arguments, is_json_mimetype
from starlette.responses import Response as StarletteResponse
from starlette.routing import Mount, Route

from server.request_validation import JSON_SCOPE_KEY, UNREAD

_NO_FILES: dict = {}


class SpecOperation(OpenAPIOperation):
    """connexion's OpenAPI operation whose request body definition is worked out once per
    content type (connexion looks it up, matches media ranges and copies it on each call).
    Only the operation's own content types (and none given) are kept: a request's
    Content-Type header can be anything, and a cache of those would grow with every client."""

    def body_definition(self, content_type: str | None = None) -> dict:
        cache = self.__dict__.setdefault("_body_definitions", {})
        found = cache.get(content_type)
        if found is None:
            found = super().body_definition(content_type)
            if content_type is None or content_type in self.request_body.get("content", {}):
                cache[content_type] = found
        return found

    @functools.cached_property
    def uri_parser(self):
        """The operation's URI parser (it holds the operation's parameters and nothing of a
        request)."""
        return self._uri_parser_class(self.parameters, self.body_definition())


def _use_spec_operations(api) -> None:
    """Make `api` build its operations from the specification as `SpecOperation`s."""
    api.specification.operation_cls = SpecOperation


class _Parameters(AsyncParameterDecorator):
    """connexion's parameter step, the handler's signature inspected once, and a body read only
    for a handler that takes it (a JSON body as the wire layer read it), its form parts and files
    only for a form."""

    def __call__(self, function: t.Callable) -> t.Callable:
        arguments, has_kwargs = inspect_function_arguments(unwrap_decorators(function))
        body_name = self.sanitize_fn(operation.body_name(None))
        takes_body = has_kwargs or body_name in arguments
        sanitize = self.sanitize_fn

        @functools.wraps(function)
        async def wrapper(request) -> t.Any:
            body = None
            if takes_body:
                body = scope.get(JSON_SCOPE_KEY, UNREAD)
                if body is UNREAD:
                    body = await request.get_body()
            form = request.mimetype in FORM_CONTENT_TYPES
            kwargs = prep_kwargs(
                request,
                request_body=body,
                files=await request.files() if form else _NO_FILES,
                arguments=arguments,
                has_kwargs=has_kwargs,
                sanitize=sanitize,
            )
            return await function(**kwargs)

        return wrapper


class _Responses(AsyncResponseDecorator):
    """connexion's response step, with the short way for a handler's dict when the operation's
    responses are JSON alone: the response connexion would make of it (200, that content type,
    the jsonifier's text), without working the content type out again from the operation."""

    def __call__(self, function: t.Callable) -> t.Callable:
        produces = list(set(operation.produces))
        json_only = len(produces) == 1 and is_json_mimetype(produces[0])
        content_type = produces[0] if json_only else None
        dumps = self.jsonifier.dumps

        @functools.wraps(function)
        async def wrapper(*args, **kwargs):
            result = await function(*args, **kwargs)
            if json_only and type(result) is dict:
                headers = {"Content-Type": content_type}
                return StarletteResponse(dumps(result), media_type=content_type, headers=headers)
            if self.framework.is_framework_response(result):
                return result
            if isinstance(result, ConnexionResponse):
                return self.framework.connexion_to_framework_response(result)
            return self.build_framework_response(result)

        return wrapper


class _DecorateOnce(StarletteDecorator):
    @property
    def _parameter_decorator_cls(self):
        return _Parameters

    @property
    def _response_decorator_cls(self):
        return _Responses

    def __call__(self, function: t.Callable) -> t.Callable:
        decorated = self.decorate(function)
        uri_parser = operation.uri_parser

        @functools.wraps(function)
        async def wrapper(*_args, **_kwargs):
            request = self.framework.get_request(
                uri_parser=uri_parser, scope=scope, receive=receive
            )
            return await decorated(request)

        return wrapper


class Operation(AsyncOperation):
    """connexion's AsyncOperation, its decorator chain built on first use and kept."""

    @functools.cached_property
    def fn(self) -> t.Callable:
        decorator = _DecorateOnce(pythonic_params=self.pythonic_params, jsonifier=self.jsonifier)
        return decorator(self._fn)


class Api(AsyncApi):
    """connexion's AsyncApi making `Operation`s from `SpecOperation`s."""

    def add_paths(self, *args, **kwargs) -> None:
        _use_spec_operations(self)
        super().add_paths(*args, **kwargs)

    def make_operation(self, spec_operation) -> Operation:
        return Operation.from_operation(
            spec_operation, pythonic_params=self.pythonic_params, jsonifier=self.jsonifier
        )


class _ValidationApi(RequestValidationAPI):
    def add_paths(self, *args, **kwargs) -> None:
        _use_spec_operations(self)
        super().add_paths(*args, **kwargs)


class ValidationMiddleware(RequestValidationMiddleware):
    """connexion's request validation over `SpecOperation`s."""

    api_cls = _ValidationApi


class Routing(RoutingMiddleware):
    """connexion's routing, with a dictionary lookup first for the paths without parameters
    (nearly all of MLflow's API: starlette's router tries each route's pattern in turn). Paths
    with parameters, and a method a path does not take (405), go through connexion's router."""

    @functools.cached_property
    def _literal_routes(self) -> dict[tuple[str, str], t.Any]:
        table = {}
        for mount in self.router.routes:
            if not isinstance(mount, Mount) or mount.path:
                continue  # an API under a base path: left to the router
            for route in mount.routes:
                if isinstance(route, Route) and not route.param_convertors:
                    for method in route.methods or ():
                        table.setdefault((method, route.path), route.endpoint)
        return table

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http":
            found = self._literal_routes.get((scope["method"], scope["path"]))
            if found is not None:
                _routing_scope.set(scope.copy())
                await found(scope, receive, send)
                return
        await super().__call__(scope, receive, send)


class SwaggerUI(SwaggerUIMiddleware):
    """connexion's Swagger UI (the spec as JSON and the UI's pages), its router passed by for
    the paths it does not serve."""

    @functools.cached_property
    def _prefixes(self) -> tuple[str, ...]:
        prefixes = set()
        for mount in self.router.routes:
            for route in getattr(mount, "routes", ()):
                prefixes.add(mount.path + route.path.split("{", 1)[0])
        return tuple(prefixes)

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http" and not scope["path"].startswith(self._prefixes):
            await self.app(scope, receive, send)
            return
        await super().__call__(scope, receive, send)
