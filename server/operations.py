"""connexion's operation, with its decorator chain built once per operation.

connexion 3 (AsyncOperation.fn, ASGIDecorator.__call__) builds each operation's parameter and
response decorators on every request, inspecting the handler's signature each time; that was a
fifth of a small request's time. The chain depends only on the operation (the request comes in
through connexion's context), so it is built on first use and kept. Handlers that are not
coroutine functions are awaited in place rather than handed to a thread pool (see
``server.app.inline``).
"""

from __future__ import annotations

import functools
import typing as t

from connexion.apps.asynchronous import AsyncApi, AsyncOperation
from connexion.context import receive, scope
from connexion.decorators import StarletteDecorator


class _DecorateOnce(StarletteDecorator):
    def __call__(self, function: t.Callable) -> t.Callable:
        decorated = self.decorate(function)

        @functools.wraps(function)
        async def wrapper(*_args, **_kwargs):
            request = self.framework.get_request(
                uri_parser=self.uri_parser, scope=scope, receive=receive
            )
            return await decorated(request)

        return wrapper


class Operation(AsyncOperation):
    @functools.cached_property
    def fn(self) -> t.Callable:
        decorator = _DecorateOnce(pythonic_params=self.pythonic_params, jsonifier=self.jsonifier)
        return decorator(self._fn)


class Api(AsyncApi):
    """connexion's AsyncApi making `Operation`s."""

    def make_operation(self, operation) -> Operation:
        return Operation.from_operation(
            operation, pythonic_params=self.pythonic_params, jsonifier=self.jsonifier
        )
