"""create_app(settings) -> a connexion AsyncApp built from spec/mlflow-2.7.1.yaml.

connexion routes and validates every request against the spec; a resolver maps each
operationId to a bound method of the handler objects; every error leaves as MLflow's
``{"error_code", "message"}`` body.
"""

from __future__ import annotations

import functools
import logging
import re
from pathlib import Path

import connexion
import yaml
from connexion.datastructures import MediaTypeDict
from connexion.exceptions import ProblemException
from connexion.jsonifier import Jsonifier
from connexion.lifecycle import ConnexionRequest, ConnexionResponse
from connexion.resolver import Resolver
from starlette.requests import ClientDisconnect

from server.dialects import Dialect, dialect_for
from server.errors import MlflowError, endpoint_not_found
from server.handlers import build_handlers
from server.request_validation import MlflowJSONBodyValidator, MlflowParameterValidator
from server.settings import DIALECTS, Settings
from server.wire import AJAX_PREFIX, API_PREFIX, MlflowBodyMiddleware, WireJSON

log = logging.getLogger("mlflow_compat")
JSON = "application/json"
_HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def check_settings(settings: Settings) -> None:
    """Reject settings the server cannot honour, before binding a port."""
    if settings.dialect not in DIALECTS:
        raise ValueError(f"unknown dialect {settings.dialect!r}; choose from {DIALECTS}")
    scheme = settings.backend_store_uri.split("://", 1)[0].split("+", 1)[0]
    if scheme not in ("sqlite", "postgresql", "postgres"):
        raise ValueError(
            f"unsupported database URL {settings.backend_store_uri!r}: "
            "use sqlite:///path.db or postgresql://user:password@host:port/database"
        )
    if not Path(settings.spec_path).is_file():
        raise ValueError(f"OpenAPI document not found at {settings.spec_path}")
    dialect_for(settings)  # a dialect refuses settings it cannot honour (a bad config file)


def _snake(operation_id: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", operation_id).lower()


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


def _allowed_methods(spec_path: str) -> list[tuple[re.Pattern, str]]:
    """(path pattern, the `Allow` value) for every path of the spec: all the methods it serves
    there. (starlette's router names only those of the first route matching the path, and the
    artifact paths have one route per method.)"""
    with open(spec_path, encoding="utf-8") as f:
        paths = yaml.safe_load(f)["paths"]
    allowed = []
    for template, item in paths.items():
        methods = {m.upper() for m in item if m in _HTTP_METHODS}
        if "GET" in methods:
            methods.add("HEAD")
        pattern = re.sub(r"\\\{[^}]+\\\}", ".+", re.escape(template))
        allowed.append((re.compile(pattern + "$"), ", ".join(sorted(methods))))
    return allowed


def _method_not_allowed_handler(spec_path: str):
    """405 with MLflow's error body and the `Allow` header RFC 9110 requires."""
    allowed = _allowed_methods(spec_path)

    def method_not_allowed(request: ConnexionRequest, _exc: Exception) -> ConnexionResponse:
        error = MlflowError(f"Method {request.method} not allowed here", "ENDPOINT_NOT_FOUND")
        response = _error_response(error)
        response.status_code = 405
        path = request.url.path
        if path.startswith(AJAX_PREFIX):
            path = API_PREFIX + path[len(AJAX_PREFIX) :]
        allow = next((methods for pattern, methods in allowed if pattern.match(path)), None)
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


def create_app(settings: Settings, dialect: Dialect | None = None) -> connexion.AsyncApp:
    check_settings(settings)
    handlers = build_handlers(settings, dialect or dialect_for(settings))

    def resolve(operation_id: str):
        return handlers[_snake(operation_id)]

    app = connexion.AsyncApp(__name__, jsonifier=Jsonifier(WireJSON))
    app.add_api(
        settings.spec_path,
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
    method_not_allowed = _method_not_allowed_handler(settings.spec_path)
    app.add_error_handler(
        ProblemException, functools.partial(_problem, method_not_allowed=method_not_allowed)
    )
    app.add_error_handler(404, _not_found)
    app.add_error_handler(405, method_not_allowed)
    app.add_error_handler(ClientDisconnect, _client_gone)
    app.add_error_handler(Exception, _unexpected)
    return app


class _App:
    """The ASGI callable served by uvicorn: MLflow's body habits in front of connexion."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.dialect = dialect_for(settings)
        self.connexion_app = create_app(settings, self.dialect)
        self._asgi = self.dialect.wrap_asgi(MlflowBodyMiddleware(self.connexion_app))

    async def __call__(self, scope, receive, send):
        await self._asgi(scope, receive, send)


def app_from_env() -> _App:
    """uvicorn factory: each worker process rebuilds the app from MLFLOW_COMPAT_* variables."""
    return _App(Settings.from_env())
