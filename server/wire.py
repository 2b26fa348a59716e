"""MLflow's wire habits that sit between HTTP and the handlers.

- Request bodies of the JSON API are read the way 2.7.1 reads them (Flask's
  ``get_json(force=True, silent=True)``): any or no Content-Type, an unparsable or empty
  body counts as ``{}``, a JSON string holding JSON is decoded once more.
- Validation failures become MLflow's own messages and error body.
- Floats that JSON cannot carry (NaN, ±Infinity) travel as the strings 2.7.1 uses.
"""

from __future__ import annotations

import json
import math
import typing as t

import fastjsonschema
from connexion.validators import JSONRequestBodyValidator, ParameterValidator
from jsonschema import Draft4Validator, ValidationError

from server.errors import MlflowError

JSON_API_PREFIXES = ("/api/2.0/mlflow/", "/ajax-api/2.0/mlflow/")
_API_DOCS = " See the API docs for more information about request parameters."


def missing_message(param: str) -> str:
    return f"Missing value for required parameter '{param}'.{_API_DOCS}"


def invalid_message(param: str, value: t.Any) -> str:
    return (
        f"Invalid value {value} for parameter '{param}' supplied."
        f" Hint: Value was of type '{type(value).__name__}'.{_API_DOCS}"
    )


def normalise_json_body(raw: bytes) -> bytes:
    """The body as 2.7.1's server understands it, re-encoded as JSON."""
    try:
        body = json.loads(raw) if raw.strip() else None
    except ValueError:
        body = None
    if isinstance(body, str):
        # Older clients double-encode: a JSON string holding the JSON object.
        try:
            body = json.loads(body)
        except ValueError:
            body = None
        return b"{}" if body is None else json.dumps(body).encode()
    return b"{}" if body is None else raw


class MlflowBodyMiddleware:
    """Rewrites JSON-API request bodies and Content-Type the way 2.7.1 reads them."""

    def __init__(self, app: t.Any):
        self.app = app

    async def __call__(self, scope, receive, send):
        if (
            scope["type"] != "http"
            or scope["method"] not in ("POST", "PATCH", "DELETE")
            or not scope["path"].startswith(JSON_API_PREFIXES)
        ):
            return await self.app(scope, receive, send)
        chunks = []
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return await self.app(scope, _replay([message]), send)
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        body = normalise_json_body(b"".join(chunks))
        headers = [
            (k, v) for k, v in scope["headers"] if k not in (b"content-type", b"content-length")
        ]
        headers += [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
        scope = {**scope, "headers": headers}
        return await self.app(scope, _replay([{"type": "http.request", "body": body}]), send)


def _replay(messages: list[dict]):
    queue = list(messages)

    async def receive():
        if queue:
            return queue.pop(0)
        return {"type": "http.disconnect"}

    return receive


def _param_of(error: ValidationError) -> str:
    return ".".join(str(p) for p in error.absolute_path)


def message_for(error: ValidationError, param: str | None = None) -> str:
    """MLflow's message for a JSON-schema validation error."""
    if error.validator == "required":
        instance = error.instance if isinstance(error.instance, dict) else {}
        missing = next((r for r in error.validator_value if r not in instance), "")
        prefix = _param_of(error)
        return missing_message(f"{prefix}.{missing}" if prefix else missing)
    return invalid_message(param or _param_of(error), error.instance)


# OpenAPI formats carry no constraint a JSON value could break once its type is right.
_OPENAPI_FORMATS = {f: (lambda _value: True) for f in ("int32", "int64", "float", "double", "path")}
_compiled: dict[int, tuple[dict, t.Callable, Draft4Validator]] = {}


def _validators_for(schema: dict) -> tuple[t.Callable, Draft4Validator]:
    """A compiled validator (fast, for the common valid case) and jsonschema's (for messages)."""
    entry = _compiled.get(id(schema))
    if entry is None or entry[0] is not schema:
        fast = fastjsonschema.compile(schema, formats=_OPENAPI_FORMATS)
        entry = (schema, fast, Draft4Validator(schema))
        _compiled[id(schema)] = entry
    return entry[1], entry[2]


class MlflowJSONBodyValidator(JSONRequestBodyValidator):
    """Validates JSON bodies against the spec; failures raise MLflow's INVALID_PARAMETER_VALUE."""

    def _validate(self, body: t.Any) -> dict | None:
        fast, thorough = _validators_for(self._schema)
        try:
            fast({} if body is None else body)
        except fastjsonschema.JsonSchemaValueException:
            error = _first_error(thorough, {} if body is None else body)
            if error is not None:
                raise MlflowError(message_for(error)) from None
        return None


def _first_error(validator: Draft4Validator, instance: t.Any) -> ValidationError | None:
    """The error MLflow would report first: a missing required field beats a bad value."""
    errors = sorted(
        validator.iter_errors(instance),
        key=lambda e: (e.validator != "required", len(e.absolute_path)),
    )
    return errors[0] if errors else None


class MlflowParameterValidator(ParameterValidator):
    """Query and path parameters; failures raise MLflow's INVALID_PARAMETER_VALUE."""

    @staticmethod
    def validate_parameter(parameter_type, value, param, param_name=None):
        if value is not None:
            schema = param.get("schema", param)
            error = _first_error(Draft4Validator(schema), value)
            if error is not None:
                raise MlflowError(invalid_message(param["name"], value))
        elif param.get("required"):
            raise MlflowError(missing_message(param["name"]))
        return None


def _wire_floats(value: t.Any) -> t.Any:
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        return value
    if isinstance(value, dict):
        return {k: _wire_floats(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_wire_floats(v) for v in value]
    return value


class WireJSON:
    """A json-like module for connexion: compact, NaN and ±Infinity sent as 2.7.1 sends them."""

    loads = staticmethod(json.loads)

    @staticmethod
    def dumps(data: t.Any, **_: t.Any) -> str:
        try:
            return json.dumps(data, allow_nan=False, separators=(",", ":"))
        except ValueError:
            return json.dumps(_wire_floats(data), separators=(",", ":"))
