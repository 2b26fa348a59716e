"""Request validation against the spec, worded as mlflow server 2.7.1 words it.

connexion validates every request against spec/mlflow-2.7.1.yaml through the two validators
here. Bodies are checked by a schema compiled once with fastjsonschema (fast when the body is
valid) and, when it is not, by jsonschema to find the error 2.7.1 would report first. On top of
the spec: int32/int64 ranges, the fields the 2.7.1 server requires beyond the proto (the
spec's ``x-server-required``, in 2.7.1's order, with run_uuid standing in for run_id and ""
counting as missing), and text no store can hold (NUL, lone surrogates).

The spec's value rules (``pattern``, lengths, bounds, list sizes: what 2.7.1's
``mlflow/utils/validation.py`` enforces) are left to the store, which words each refusal as 2.7.1
does; here a request is checked for its shape. tests/differential/test_boundaries.py proves that
the store refuses exactly what each stated rule refuses, as 2.7.1 does.
"""

from __future__ import annotations

import re
import typing as t

import fastjsonschema
from connexion.validators import JSONRequestBodyValidator, ParameterValidator
from jsonschema import Draft4Validator, ValidationError

from server.errors import MlflowError

# Where the wire layer (server.wire.MlflowBodyMiddleware) keeps the request JSON it has read: the
# value the body it hands on parses to. Validation and the handler's arguments take it from there
# rather than parse the body twice more; UNREAD stands for a request it did not read.
JSON_SCOPE_KEY = "mlflow_compat.json"
UNREAD = object()

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
UNSTORABLE = re.compile(rb"\\u[dD][89a-fA-F]|\\u0000|\xed[\xa0-\xbf]|\x00")


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


def _param_of(error: ValidationError) -> str:
    return ".".join(str(p) for p in error.absolute_path)


def message_for(error: ValidationError) -> str:
    """MLflow's message for a JSON-schema validation error."""
    if error.validator == "required":
        instance = error.instance if isinstance(error.instance, dict) else {}
        missing = next((r for r in error.validator_value if r not in instance), "")
        prefix = _param_of(error)
        return missing_message(f"{prefix}.{missing}" if prefix else missing)
    return invalid_message(_param_of(error), error.instance)


# String formats the spec uses: any string of the right type passes.
_OPENAPI_FORMATS = {f: (lambda _value: True) for f in ("int32", "int64", "float", "double", "path")}
_INTEGER_BOUNDS = {"int32": (-(2**31), 2**31 - 1), "int64": (-(2**63), 2**63 - 1)}
# A param or tag `value` (a plain string) may be empty: 2.7.1 asserts it is a string, not that
# it is set. A metric's `value` is another matter: "" for it is missing in 2.7.1 too.
_EMPTY_ALLOWED = frozenset({"value"})


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


# The spec's value rules, enforced (and worded as 2.7.1 words them) by the store.
RULE_KEYWORDS = frozenset(
    {"pattern", "minLength", "maxLength", "minimum", "maximum", "minItems", "maxItems"}
)


def without_rules(schema: t.Any) -> t.Any:
    """A copy of the schema without its value rules (RULE_KEYWORDS) and required alternatives:
    the shape alone."""
    if isinstance(schema, list):
        return [without_rules(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {}
    for key, value in schema.items():
        if key in RULE_KEYWORDS or _only_required(key, value):
            continue
        if key == "properties" and isinstance(value, dict):
            out[key] = {name: without_rules(v) for name, v in value.items()}
        else:
            out[key] = without_rules(value)
    return out


def _only_required(key: str, value: t.Any) -> bool:
    """Whether `key: value` is an allOf/anyOf of bare `required` lists: fields 2.7.1 requires
    beyond the proto, which the handlers (and x-server-required, here) check in 2.7.1's order
    and words."""
    return (
        key in ("allOf", "anyOf")
        and isinstance(value, list)
        and all(isinstance(v, dict) and set(v) == {"required"} for v in value)
    )


def with_server_required(schema: dict) -> dict:
    """A copy of a request schema whose `required` also holds its `x-server-required` fields
    (those the 2.7.1 server rejects when missing though the proto does not require them), in
    the order of `properties`, which is the order 2.7.1 checks them in."""
    extra = schema.get("x-server-required") or ()
    if not extra:
        return schema
    merged = [
        *schema.get("required", ()),
        *(f for f in extra if f not in schema.get("required", ())),
    ]
    order = list(schema.get("properties", {}))
    merged.sort(key=lambda f: order.index(f) if f in order else len(order))
    return {**schema, "required": merged}


def _empty_is_missing(name: str, schema: dict) -> bool:
    """Whether "" counts as missing for a required field: for one that takes a string, as
    2.7.1's _assert_required has it, save a plain-string param or tag value. (For a field that
    takes no string, "" stays a wrong type, as 2.7.1's type check words it.)"""
    if schema.get("type") == "string":
        return name not in _EMPTY_ALLOWED
    return any(s.get("type") == "string" for s in schema.get("anyOf", ()) if isinstance(s, dict))


class _Compiled(t.NamedTuple):
    schema: dict  # the spec's schema this was compiled from (kept to check the cache key)
    # fastjsonschema's: quick for the common valid case. It fills in no defaults: the body it
    # checks is the one the handler gets (JSON_SCOPE_KEY).
    fast: t.Callable
    thorough: Draft4Validator  # jsonschema's: for the messages
    # Top-level required fields in check order, each with whether "" counts as missing (as
    # 2.7.1's _assert_required has it, for fields that take a string).
    required: tuple[tuple[str, bool], ...]
    run_uuid_alias: bool  # run_id is required and run_uuid may stand in for it


_compiled: dict[int, _Compiled] = {}


def _validators_for(schema: dict) -> _Compiled:
    entry = _compiled.get(id(schema))
    if entry is None or entry.schema is not schema:
        bounded = with_integer_bounds(without_rules(with_server_required(schema)))
        props = bounded.get("properties", {})
        required = tuple(
            (name, _empty_is_missing(name, props.get(name, {})))
            for name in bounded.get("required", ())
        )
        entry = _Compiled(
            schema,
            fastjsonschema.compile(bounded, formats=_OPENAPI_FORMATS, use_default=False),
            Draft4Validator(bounded),
            required,
            any(name == "run_id" for name, _ in required),
        )
        _compiled[id(schema)] = entry
    return entry


def _check_required(compiled: _Compiled, body: dict) -> None:
    """MLflow's missing-value error for the first required field absent or empty."""
    for name, empty_is_missing in compiled.required:
        value = body.get(name)
        if value is None or (empty_is_missing and value == ""):
            raise MlflowError(missing_message(name))


class MlflowJSONBodyValidator(JSONRequestBodyValidator):
    """Validates JSON bodies against the spec; failures raise MLflow's INVALID_PARAMETER_VALUE."""

    async def _parse(self, stream: t.AsyncGenerator[bytes, None], scope: dict) -> t.Any:
        # The body stays unread in the channel, for the handler's request.
        parsed = scope.get(JSON_SCOPE_KEY, UNREAD)
        if parsed is UNREAD:
            return await super()._parse(stream, scope=scope)
        return parsed

    def _validate(self, body: t.Any) -> dict | None:
        compiled = _validators_for(self._schema)
        body = {} if body is None else body
        if isinstance(body, dict):
            if compiled.run_uuid_alias and "run_id" not in body and "run_uuid" in body:
                # 2.7.1 takes run_uuid for a missing run_id (the handlers do the same).
                body = {**body, "run_id": body["run_uuid"]}
            _check_required(compiled, body)
        try:
            compiled.fast(body)
        except fastjsonschema.JsonSchemaValueException:
            error = _first_error(compiled.thorough, body)
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


_parameter_validators: dict[int, tuple[dict, Draft4Validator]] = {}


def _parameter_validator(param: dict) -> Draft4Validator:
    """jsonschema's validator for a spec parameter, built once (the spec's objects live as long
    as the app)."""
    entry = _parameter_validators.get(id(param))
    if entry is None or entry[0] is not param:
        shape = without_rules(param.get("schema", param))
        entry = (param, Draft4Validator(with_integer_bounds(shape)))
        _parameter_validators[id(param)] = entry
    return entry[1]


class MlflowParameterValidator(ParameterValidator):
    """Query and path parameters; failures raise MLflow's INVALID_PARAMETER_VALUE."""

    @staticmethod
    def validate_parameter(parameter_type, value, param, param_name=None):
        if value is not None:
            check_text(value)
            error = _first_error(_parameter_validator(param), value)
            if error is not None:
                raise MlflowError(invalid_message(param["name"], value))
        elif param.get("required"):
            raise MlflowError(missing_message(param["name"]))
        return None
