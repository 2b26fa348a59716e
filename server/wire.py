"""MLflow's wire habits that sit between HTTP and the handlers.

- Request bodies of the JSON API are read the way 2.7.1 reads them (Flask's
  ``get_json(force=True, silent=True)``): any or no Content-Type, an unparsable or empty
  body counts as ``{}``, a JSON string holding JSON is decoded once more (one holding anything
  else is refused).
- A JSON null counts as a field left out, as protobuf's JSON parser reads it.
- A body larger than MAX_JSON_BODY_BYTES, or nested deeper than MAX_JSON_DEPTH, is refused
  (INVALID_PARAMETER_VALUE) before it is parsed further.
- Every API path is served under /ajax-api/2.0/ too (the MLflow UI's prefix), except the paths
  the contract declares there itself (the UI's own endpoints, served there only); a trailing
  slash on an API path is an unknown endpoint, not a redirect.
- Text no store can hold is refused before anything else (see server.request_validation, which
  also words validation failures MLflow's way).
- Floats that JSON cannot carry (NaN, ±Infinity) travel as the strings 2.7.1 uses.
"""

from __future__ import annotations

import json
import math
import typing as t

import orjson

from server.errors import MlflowError, endpoint_not_found
from server.request_validation import JSON_SCOPE_KEY, UNSTORABLE, check_text

JSON_API_PREFIXES = ("/api/2.0/mlflow/", "/ajax-api/2.0/mlflow/")
ARTIFACT_PROXY_PREFIX = "/api/2.0/mlflow-artifacts/artifacts/"
API_PREFIX = "/api/2.0/"
AJAX_PREFIX = "/ajax-api/2.0/"
# Where the request JSON as sent (nulls included) is kept when dropping nulls changed it, for
# the messages 2.7.1 words with the raw request JSON (log-batch's field checks).
RAW_JSON_SCOPE_KEY = "mlflow_compat.raw_json"
# Protobuf's JSON parser, which 2.7.1 reads requests with, refuses messages nested deeper than
# 100; the API's own messages nest 5 deep. Deeper JSON would exhaust Python's recursion later.
MAX_JSON_DEPTH = 100
# The largest JSON-API request body read. The largest legitimate one, a dataset with a profile
# at 2.7.1's 16 MiB limit (log-inputs), stays below it; artifact uploads stream and have none.
MAX_JSON_BODY_BYTES = 20 * 1024 * 1024


def drop_nulls(value: t.Any) -> t.Any:
    """`value` without the object members that are JSON null: protobuf's JSON parser (which
    2.7.1 reads every request with) takes a null as the field left out. Nulls inside lists
    stay (they are not fields, and no list may hold one)."""
    if isinstance(value, dict):
        return {k: drop_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [drop_nulls(v) for v in value]
    return value


def nesting_depth(value: t.Any) -> int:
    """How deep objects and lists nest in `value` (a scalar is 0), counted without recursion."""
    deepest, pending = 0, [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, depth)
        pending.extend((child, depth + 1) for child in children)
    return deepest


def _too_deep() -> MlflowError:
    return MlflowError(f"Malformed request body: JSON nested deeper than {MAX_JSON_DEPTH} levels.")


def read_json_body(raw: bytes) -> tuple[bytes, t.Any]:
    """(the body as 2.7.1's server understands it, re-encoded as JSON; the body as sent, nulls
    kept, when dropping its nulls changed it, else None)."""
    return _read_json_body(raw)[:2]


def _read_json_body(raw: bytes) -> tuple[bytes, t.Any, t.Any]:
    """`read_json_body`'s pair, and the value its JSON parses to."""
    try:
        body = json.loads(raw) if raw.strip() else None
    except ValueError:
        body = None
    except RecursionError:
        raise _too_deep() from None
    if isinstance(body, str):
        # Older clients double-encode: a JSON string holding the JSON object. A string holding
        # anything else is a client mistake (2.7.1 fails on it with a 500).
        try:
            body = json.loads(body)
        except ValueError:
            raise MlflowError(
                "Malformed request body: a JSON string that does not hold JSON."
            ) from None
        except RecursionError:
            raise _too_deep() from None
        raw = b"{}" if body is None else json.dumps(body).encode()
    # Only a body with that many brackets can nest that deep (counting them is cheap).
    if raw.count(b"[") + raw.count(b"{") > MAX_JSON_DEPTH and nesting_depth(body) > MAX_JSON_DEPTH:
        raise _too_deep()
    if UNSTORABLE.search(raw):
        check_text(body)
    if body is None:
        return b"{}", None, {}
    if b"null" in raw and isinstance(body, dict):
        stripped = drop_nulls(body)
        if stripped != body:
            return json.dumps(stripped).encode(), body, stripped
    return raw, None, body


def header(scope: dict, name: bytes) -> str | None:
    """The first value of request header `name` (lower case), or None."""
    for key, value in scope["headers"]:
        if key == name:
            return value.decode("latin-1")
    return None


def base_url(scope: dict) -> str:
    """The server's URL as the client addressed it (scheme and Host), for URLs in answers."""
    host = header(scope, b"host")
    if not host:
        server = scope.get("server") or ("127.0.0.1", 80)
        host = f"{server[0]}:{server[1]}"
    return f"{scope.get('scheme', 'http')}://{host}"


def with_content_type(scope: dict, content_type: bytes, length: int | None = None) -> dict:
    drop = (b"content-type", b"content-length") if length is not None else (b"content-type",)
    headers = [(k, v) for k, v in scope["headers"] if k not in drop]
    headers.append((b"content-type", content_type))
    if length is not None:
        headers.append((b"content-length", b"%d" % length))
    return {**scope, "headers": headers}


class MlflowBodyMiddleware:
    """Reads request paths and bodies the way 2.7.1 does, before connexion sees them.

    /ajax-api/2.0/... is served as /api/2.0/... (2.7.1 binds every route under both), but for
    the `ajax_only` paths the contract declares under /ajax-api/2.0/ itself; an API
    path with a trailing slash is ENDPOINT_NOT_FOUND (Flask has no such route; starlette would
    redirect). JSON-API bodies are normalised (see `read_json_body`) and labelled JSON;
    artifact uploads are labelled as opaque bytes whatever the client guessed, so that they
    stream to the artifact store untouched instead of being parsed as JSON or forms.
    """

    def __init__(self, app: t.Any, ajax_only: t.Iterable[str] = ()):
        self.app = app
        self.ajax_only = frozenset(ajax_only)

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http":
            path = scope["path"]
            if path.startswith(AJAX_PREFIX) and path not in self.ajax_only:
                scope = _with_path(scope, API_PREFIX + path[len(AJAX_PREFIX) :])
                path = scope["path"]
            if path.endswith("/") and path.startswith(JSON_API_PREFIXES):
                return await send_error(send, endpoint_not_found())
            method = scope["method"]
            if method == "PUT" and path.startswith(ARTIFACT_PROXY_PREFIX):
                scope = with_content_type(scope, b"application/octet-stream")
            elif method in ("POST", "PATCH", "DELETE") and path.startswith(JSON_API_PREFIXES):
                return await self._json_api(scope, receive, send)
        return await self.app(scope, receive, send)

    async def _json_api(self, scope, receive, send):
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return await self.app(scope, replay([message]), send)
            chunk = message.get("body", b"")
            size += len(chunk)
            if size <= MAX_JSON_BODY_BYTES:
                chunks.append(chunk)
            else:
                # Read on to the end (so the client gets the answer), keeping nothing.
                chunks = []
            if not message.get("more_body"):
                break
        if size > MAX_JSON_BODY_BYTES:
            return await send_error(send, _too_large(size))
        try:
            body, raw_json, parsed = _read_json_body(b"".join(chunks))
        except MlflowError as error:
            return await send_error(send, error)
        scope = with_content_type(scope, b"application/json", len(body))
        scope[JSON_SCOPE_KEY] = parsed
        if raw_json is not None:
            scope[RAW_JSON_SCOPE_KEY] = raw_json
        return await self.app(scope, replay([{"type": "http.request", "body": body}]), send)


def _too_large(size: int) -> MlflowError:
    return MlflowError(
        f"Request body of {size} bytes exceeds the limit of {MAX_JSON_BODY_BYTES} bytes."
    )


def _with_path(scope: dict, path: str) -> dict:
    raw_path = scope.get("raw_path")
    if raw_path is not None and raw_path.startswith(AJAX_PREFIX.encode()):
        raw_path = API_PREFIX.encode() + raw_path[len(AJAX_PREFIX) :]
    return {**scope, "path": path, "raw_path": raw_path}


async def send_json(send, status: int, body: dict) -> None:
    """A whole JSON response, sent before (or instead of) the app."""
    payload = WireJSON.dumps(body).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(payload))]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})


async def send_error(send, error: MlflowError) -> None:
    """MLflow's error body for `error`, sent before (or instead of) the app."""
    await send_json(send, error.status, error.to_dict())


def replay(messages: list[dict]):
    """An ASGI `receive` that hands out `messages`, then a disconnect."""
    queue = list(messages)

    async def receive():
        if queue:
            return queue.pop(0)
        return {"type": "http.disconnect"}

    return receive


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


def _fast_dumps(data: t.Any) -> bytes | None:
    """`data` as orjson encodes it (ten times faster than the json module on a page of runs), or
    None where that would differ from the json module's compact form by more than a float's
    spelling (orjson writes 1e-05 as 0.00001, the same number): where it would write NaN or
    ±Infinity as null (so any null goes the slow way), leave text beyond ASCII or DEL
    unescaped, or cannot encode at all (an integer past 64 bits)."""
    try:
        out = orjson.dumps(data)
    except orjson.JSONEncodeError:
        return None
    if b"null" in out or b"\x7f" in out or not out.isascii():
        return None
    return out


class WireJSON:
    """A json-like module for connexion: compact, NaN and ±Infinity sent as 2.7.1 sends them,
    text beyond ASCII escaped."""

    loads = staticmethod(json.loads)

    @staticmethod
    def dumps(data: t.Any, **_: t.Any) -> str:
        out = _fast_dumps(data)
        if out is not None:
            return out.decode("ascii")
        try:
            return json.dumps(data, allow_nan=False, separators=(",", ":"))
        except ValueError:
            return json.dumps(_wire_floats(data), separators=(",", ":"))
