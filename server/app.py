"""The ASGI app: connexion routes and validates every request against the dialect's contract,
a resolver maps each operationId to its handler (see server.compose), and every error leaves as
MLflow's ``{"error_code", "message"}`` body.
"""

from __future__ import annotations

import functools
import inspect
import logging

import connexion
from connexion.datastructures import MediaTypeDict
from connexion.exceptions import ProblemException
from connexion.jsonifier import Jsonifier
from connexion.lifecycle import ConnexionRequest, ConnexionResponse
from connexion.middleware.context import ContextMiddleware
from connexion.middleware.exceptions import ExceptionMiddleware
from connexion.middleware.server_error import ServerErrorMiddleware
from connexion.resolver import Resolver
from starlette.requests import ClientDisconnect

from server.compose import Server, compose
from server.contract import Contract, snake_case
from server.errors import MlflowError, endpoint_not_found
from server.operations import Api, Routing, SwaggerUI, ValidationMiddleware
from server.request_validation import MlflowJSONBodyValidator, MlflowParameterValidator
from server.settings import Settings
from server.wire import AJAX_PREFIX, API_PREFIX, MlflowBodyMiddleware, WireJSON

log = logging.getLogger("mlflow_compat")
# connexion's default stack less what this server does not use: security (the contract declares
# no security schemes; the GitLab dialect checks tokens in front of connexion), response
# validation (off) and lifespan handlers (none). Request validation is connexion's, over
# operations that work out what depends on the operation alone once (server.operations).
MIDDLEWARES = [
    ServerErrorMiddleware,
    ExceptionMiddleware,
    SwaggerUI,
    Routing,
    ValidationMiddleware,
    ContextMiddleware,
]
JSON = "application/json"


def _error_response(error: MlflowError) -> ConnexionResponse:
    return ConnexionResponse(
        status_code=error.status,
        mimetype=JSON,
        body=WireJSON.dumps(error.to_dict()),
    )


def _mlflow_error(_request: ConnexionRequest, exc: MlflowError) -> ConnexionResponse:
    return _error_response(exc)


def _problem(
    request: ConnexionRequest, exc: ProblemException, method_not_allowed=None
) -> ConnexionResponse:
    if exc.status == 404:
        return _error_response(endpoint_not_found())
    if exc.status == 405 and method_not_allowed is not None:
        return method_not_allowed(request, exc)
    if exc.status < 500:
        return _error_response(MlflowError(str(exc.detail or exc.title), "BAD_REQUEST"))
    log.error("unexpected problem: %r", exc)
    return _error_response(MlflowError(str(exc.detail or exc.title), "INTERNAL_ERROR"))


def _not_found(_request: ConnexionRequest, _exc: Exception) -> ConnexionResponse:
    return _error_response(endpoint_not_found())


def _method_not_allowed_handler(contract: Contract):
    """405 with MLflow's error body and the `Allow` header RFC 9110 requires."""

    def method_not_allowed(request: ConnexionRequest, _exc: Exception) -> ConnexionResponse:
        error = MlflowError(f"Method {request.method} not allowed here", "ENDPOINT_NOT_FOUND")
        response = _error_response(error)
        response.status_code = 405
        path = request.url.path
        allow = contract.allow_header(path)
        if not allow and path.startswith(AJAX_PREFIX):
            allow = contract.allow_header(API_PREFIX + path[len(AJAX_PREFIX) :])
        if allow:
            response.headers["Allow"] = allow
        return response

    return method_not_allowed


def _client_gone(_request: ConnexionRequest, _exc: Exception) -> ConnexionResponse:
    # The client hung up mid-request (an upload, say); nothing was stored and nobody listens.
    return _error_response(MlflowError("Client disconnected", "BAD_REQUEST"))


def _unexpected(_request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
    log.exception("unexpected error", exc_info=exc)
    return _error_response(MlflowError(f"{type(exc).__name__}: {exc}", "INTERNAL_ERROR"))


def inline(handler):
    """`handler` as a coroutine function, so that connexion calls it on the event loop instead
    of handing it to a thread pool. The handlers' work is short (one transaction; streams are
    async), and a worker then serves one request at a time, as `mlflow server`'s gunicorn
    workers do: the hop to a thread and back cost more than most requests."""
    if inspect.iscoroutinefunction(handler):
        return handler

    @functools.wraps(handler)
    async def call(*args, **kwargs):
        return handler(*args, **kwargs)

    return call


def create_app(server: Server) -> connexion.AsyncApp:
    """The connexion app serving `server`'s contract with its handler table."""

    def resolve(operation_id: str):
        return inline(server.handlers[snake_case(operation_id)])

    app = connexion.AsyncApp(__name__, jsonifier=Jsonifier(WireJSON), middlewares=MIDDLEWARES)
    # The routed app (connexion has no option for it) makes operations that decorate once.
    app._middleware_app.api_cls = Api
    app.add_api(
        server.contract.document,
        resolver=Resolver(function_resolver=resolve),
        strict_validation=False,
        validate_responses=False,
        validator_map={
            "parameter": MlflowParameterValidator,
            "body": MediaTypeDict({"*/*json": MlflowJSONBodyValidator}),
        },
        swagger_ui_options=connexion.options.SwaggerUIOptions(swagger_ui_path="/ui"),
    )
    app.add_error_handler(MlflowError, _mlflow_error)
    method_not_allowed = _method_not_allowed_handler(server.contract)
    app.add_error_handler(
        ProblemException, functools.partial(_problem, method_not_allowed=method_not_allowed)
    )
    app.add_error_handler(404, _not_found)
    app.add_error_handler(405, method_not_allowed)
    app.add_error_handler(ClientDisconnect, _client_gone)
    app.add_error_handler(Exception, _unexpected)
    return app


class App:
    """The ASGI callable served by uvicorn: the dialect's layer, then MLflow's body habits,
    then connexion."""

    def __init__(self, settings: Settings):
        self.server = compose(settings)
        self.connexion_app = create_app(self.server)
        contract = self.server.contract
        ajax_only = [path for path in contract.document["paths"] if path.startswith(AJAX_PREFIX)]
        self._asgi = self.server.dialect.wrap_asgi(
            MlflowBodyMiddleware(self.connexion_app, ajax_only), self.server.store, contract
        )

    async def __call__(self, scope, receive, send):
        await self._asgi(scope, receive, send)


def app_from_env() -> App:
    """uvicorn factory: each worker process rebuilds the app from MLFLOW_COMPAT_* variables."""
    return App(Settings.from_env())
