"""create_app(settings) -> a connexion AsyncApp built from spec/mlflow-2.7.1.yaml.

connexion routes and validates every request against the spec; a resolver maps each
operationId to a bound method of the handler objects; every error leaves as MLflow's
``{"error_code", "message"}`` body.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import connexion
from connexion.datastructures import MediaTypeDict
from connexion.exceptions import ProblemException
from connexion.jsonifier import Jsonifier
from connexion.lifecycle import ConnexionRequest, ConnexionResponse
from connexion.resolver import Resolver
from starlette.requests import ClientDisconnect

from server.errors import MlflowError, endpoint_not_found
from server.handlers import build_handlers
from server.request_validation import MlflowJSONBodyValidator, MlflowParameterValidator
from server.settings import DIALECTS, Settings
from server.wire import MlflowBodyMiddleware, WireJSON

log = logging.getLogger("mlflow_compat")
JSON = "application/json"


def check_settings(settings: Settings) -> None:
    """Reject settings the server cannot honour, before binding a port."""
    if settings.dialect not in DIALECTS:
        raise ValueError(f"unknown dialect {settings.dialect!r}; choose from {DIALECTS}")
    if settings.dialect != "mlflow":
        raise ValueError(f"the {settings.dialect!r} dialect is not implemented yet")
    scheme = settings.backend_store_uri.split("://", 1)[0].split("+", 1)[0]
    if scheme not in ("sqlite", "postgresql", "postgres"):
        raise ValueError(
            f"unsupported database URL {settings.backend_store_uri!r}: "
            "use sqlite:///path.db or postgresql://user:password@host:port/database"
        )
    if not Path(settings.spec_path).is_file():
        raise ValueError(f"OpenAPI document not found at {settings.spec_path}")


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


def _problem(_request: ConnexionRequest, exc: ProblemException) -> ConnexionResponse:
    if exc.status == 404:
        return _error_response(endpoint_not_found())
    if exc.status == 405:
        return _method_not_allowed(_request, exc)
    if exc.status < 500:
        return _error_response(MlflowError(str(exc.detail or exc.title), "BAD_REQUEST"))
    log.error("unexpected problem: %r", exc)
    return _error_response(MlflowError(str(exc.detail or exc.title), "INTERNAL_ERROR"))


def _not_found(_request: ConnexionRequest, _exc: Exception) -> ConnexionResponse:
    return _error_response(endpoint_not_found())


def _method_not_allowed(request: ConnexionRequest, _exc: Exception) -> ConnexionResponse:
    error = MlflowError(f"Method {request.method} not allowed here", "ENDPOINT_NOT_FOUND")
    response = _error_response(error)
    response.status_code = 405
    return response


def _client_gone(_request: ConnexionRequest, _exc: Exception) -> ConnexionResponse:
    # The client hung up mid-request (an upload, say); nothing was stored and nobody listens.
    return _error_response(MlflowError("Client disconnected", "BAD_REQUEST"))


def _unexpected(_request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
    log.exception("unexpected error", exc_info=exc)
    return _error_response(MlflowError(f"{type(exc).__name__}: {exc}", "INTERNAL_ERROR"))


def create_app(settings: Settings) -> connexion.AsyncApp:
    check_settings(settings)
    handlers = build_handlers(settings)

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
    app.add_error_handler(ProblemException, _problem)
    app.add_error_handler(404, _not_found)
    app.add_error_handler(405, _method_not_allowed)
    app.add_error_handler(ClientDisconnect, _client_gone)
    app.add_error_handler(Exception, _unexpected)
    return app


class _App:
    """The ASGI callable served by uvicorn: MLflow's body habits in front of connexion."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.connexion_app = create_app(settings)
        self._asgi = MlflowBodyMiddleware(self.connexion_app)

    async def __call__(self, scope, receive, send):
        await self._asgi(scope, receive, send)


def app_from_env() -> _App:
    """uvicorn factory: each worker process rebuilds the app from MLFLOW_COMPAT_* variables."""
    return _App(Settings.from_env())
