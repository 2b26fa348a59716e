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
import re
import typing as t

import fastjsonschema
from connexion.validators import JSONRequestBodyValidator, ParameterValidator
from jsonschema import Draft4Validator, ValidationError

from server.errors import MlflowError

JSON_API_PREFIXES = ("/api/2.0/mlflow/", "/ajax-api/2.0/mlflow/")
ARTIFACT_PROXY_PREFIX = "/api/2.0/mlflow-artifacts/artifacts/"
_API_DOCS = " See the API docs for more information about request parameters."


def missing_message(param: str) -> str:
    return f"Missing value for required parameter '{param}'.{_API_DOCS}"


def invalid_message(param: str, value: t.Any) -> str:
    return (
        f"Invalid value {value} for parameter '{param}' supplied."
        f" Hint: Value was of type '{type(value).__name__}'.{_API_DOCS}"
    )


# Text no store can hold: a lone UTF-16 surrogate, or NUL (which PostgreSQL refuses), written as
# a JSON escape or as raw bytes (json.loads lets raw surrogate bytes through too).
_UNSTORABLE = re.compile(rb"\\u[dD][89a-fA-F]|\\u0000|\xed[\xa0-\xbf]|\x00")


def check_text(value: t.Any) -> None:
    """INVALID_PARAMETER_VALUE for text that is not storable Unicode, on every backend alike."""
    if isinstance(value, str):
        problem = None
        if "\x00" in value:
            problem = "a NUL character"
        else:
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                problem = "a lone UTF-16 surrogate"
        if problem:
            shown = value.encode("utf-8", "backslashreplace").decode().replace("\x00", "\\x00")
            raise MlflowError(f"Invalid value {shown!r}: text may not contain {problem}.")
    elif isinstance(value, dict):
        for k, v in value.items():
            check_text(k)
            check_text(v)
    elif isinstance(value, list):
        for v in value:
            check_text(v)


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
        raw = b"{}" if body is None else json.dumps(body).encode()
    if _UNSTORABLE.search(raw):
        check_text(body)
    return b"{}" if body is None else raw


def _with_content_type(scope: dict, content_type: bytes, length: int | None = None) -> dict:
    drop = (b"content-type", b"content-length") if length is not None else (b"content-type",)
    headers = [(k, v) for k, v in scope["headers"] if k not in drop]
    headers.append((b"content-type", content_type))
    if length is not None:
        headers.append((b"content-length", b"%d" % length))
    return {**scope, "headers": headers}


class MlflowBodyMiddleware:
    """Reads request bodies the way 2.7.1 does, before connexion sees them.

    JSON-API bodies are normalised (see `normalise_json_body`) and labelled JSON; artifact
    uploads are labelled as opaque bytes whatever the client guessed, so that they stream
    to the artifact store untouched instead of being parsed as JSON or forms.
    """

    def __init__(self, app: t.Any):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http":
            method, path = scope["method"], scope["path"]
            if method == "PUT" and path.startswith(ARTIFACT_PROXY_PREFIX):
                scope = _with_content_type(scope, b"application/octet-stream")
            elif method in ("POST", "PATCH", "DELETE") and path.startswith(JSON_API_PREFIXES):
                return await self._json_api(scope, receive, send)
        return await self.app(scope, receive, send)

    async def _json_api(self, scope, receive, send):
        chunks = []
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return await self.app(scope, _replay([message]), send)
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        try:
            body = normalise_json_body(b"".join(chunks))
        except MlflowError as error:
            return await _send_error(send, error)
        scope = _with_content_type(scope, b"application/json", len(body))
        return await self.app(scope, _replay([{"type": "http.request", "body": body}]), send)


async def _send_error(send, error: MlflowError) -> None:
    payload = WireJSON.dumps(error.to_dict()).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(payload))]
    await send({"type": "http.response.start", "status": error.status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})


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


# String formats the spec uses: any string of the right type passes.
_OPENAPI_FORMATS = {f: (lambda _value: True) for f in ("int32", "int64", "float", "double", "path")}
_INTEGER_BOUNDS = {"int32": (-(2**31), 2**31 - 1), "int64": (-(2**63), 2**63 - 1)}
_compiled: dict[int, tuple[dict, t.Callable, Draft4Validator]] = {}


def with_integer_bounds(schema: t.Any) -> t.Any:
    """A copy of the schema in which int32/int64 formats are enforced as minimum/maximum,
    so an out-of-range number is a client error rather than a database overflow."""
    if isinstance(schema, list):
        return [with_integer_bounds(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: with_integer_bounds(v) for k, v in schema.items()}
    bounds = _INTEGER_BOUNDS.get(out.get("format"))
    if bounds and out.get("type") == "integer":
        out.setdefault("minimum", bounds[0])
        out.setdefault("maximum", bounds[1])
    return out


def _validators_for(schema: dict) -> tuple[t.Callable, Draft4Validator]:
    """A compiled validator (fast, for the common valid case) and jsonschema's (for messages)."""
    entry = _compiled.get(id(schema))
    if entry is None or entry[0] is not schema:
        bounded = with_integer_bounds(schema)
        fast = fastjsonschema.compile(bounded, formats=_OPENAPI_FORMATS)
        entry = (schema, fast, Draft4Validator(bounded))
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
            check_text(value)
            schema = with_integer_bounds(param.get("schema", param))
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
