"""MLflow's error model: an error code name, a message, and the HTTP status MLflow gives it."""

from __future__ import annotations

# Status per error code, as mlflow 2.7.1 maps them (mlflow/exceptions.py).
STATUS_BY_CODE: dict[str, int] = {
    "INVALID_PARAMETER_VALUE": 400,
    "BAD_REQUEST": 400,
    "RESOURCE_ALREADY_EXISTS": 400,
    "INVALID_STATE": 500,
    "UNAUTHENTICATED": 401,
    "PERMISSION_DENIED": 403,
    "RESOURCE_DOES_NOT_EXIST": 404,
    "ENDPOINT_NOT_FOUND": 404,
    "ABORTED": 409,
    "ALREADY_EXISTS": 409,
    "RESOURCE_CONFLICT": 409,
    "REQUEST_LIMIT_EXCEEDED": 429,
    "INTERNAL_ERROR": 500,
    "NOT_IMPLEMENTED": 501,
    "TEMPORARILY_UNAVAILABLE": 503,
}


class MlflowError(Exception):
    """An error that reaches the client as ``{"error_code", "message"}``."""

    def __init__(self, message: str, error_code: str = "INVALID_PARAMETER_VALUE"):
        if error_code not in STATUS_BY_CODE:
            raise ValueError(f"unknown MLflow error code {error_code!r}")
        super().__init__(message)
        self.message = message
        self.error_code = error_code

    @property
    def status(self) -> int:
        return STATUS_BY_CODE[self.error_code]

    def to_dict(self) -> dict[str, str]:
        return {"error_code": self.error_code, "message": self.message}


def invalid(message: str) -> MlflowError:
    return MlflowError(message, "INVALID_PARAMETER_VALUE")


def not_found(message: str) -> MlflowError:
    return MlflowError(message, "RESOURCE_DOES_NOT_EXIST")


def already_exists(message: str) -> MlflowError:
    return MlflowError(message, "RESOURCE_ALREADY_EXISTS")


def endpoint_not_found() -> MlflowError:
    return MlflowError("Endpoint not found", "ENDPOINT_NOT_FOUND")
