"""Every HTTP exchange the MLflow client makes, recorded and judged against the OpenAPI spec.

The recorder wraps `requests.adapters.HTTPAdapter.send` in the process that runs the client, so
it sees exactly what the 2.7.1 client sent and what came back, whatever server is on the other
end. Each exchange is matched to an operation of spec/mlflow-2.7.1.yaml and checked: the status
is one the operation declares (a success status must be declared explicitly), a JSON body
matches the operation's schema for that status, and an error is an MLflow error body whose
error_code carries MLflow's status.
"""

from __future__ import annotations

import json
import re
import threading
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit

import requests.adapters
import urllib3.util.retry
from openapi_schema_validator import OAS30Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

SPEC_URI = "urn:mlflow-compat:mlflow-2.7.1"
OUTSIDE_API = "(artifact storage outside the MLflow API: not judged)"
BODY_LIMIT = 2000

# MLflow's HTTP status for each error code (mlflow/server/handlers.py, protos/databricks.proto).
ERROR_STATUS = {
    "INVALID_PARAMETER_VALUE": 400,
    "BAD_REQUEST": 400,
    "RESOURCE_ALREADY_EXISTS": 400,
    "UNAUTHENTICATED": 401,
    "PERMISSION_DENIED": 403,
    "RESOURCE_DOES_NOT_EXIST": 404,
    "ENDPOINT_NOT_FOUND": 404,
    "ABORTED": 409,
    "ALREADY_EXISTS": 409,
    "RESOURCE_CONFLICT": 409,
    "REQUEST_LIMIT_EXCEEDED": 429,
    "INTERNAL_ERROR": 500,
    "INVALID_STATE": 500,
    "NOT_IMPLEMENTED": 501,
    "TEMPORARILY_UNAVAILABLE": 503,
}


@dataclass
class Exchange:
    """One request the client sent and the answer it got (or the transport error)."""

    method: str
    url: str
    path: str
    request_body: str
    status: int | None = None
    content_type: str = ""
    body: str = ""
    transport_error: str = ""
    scenario: str = ""
    phase: str = ""
    operation: str | None = None
    violations: list[str] = field(default_factory=list)
    # False for requests to artifact storage outside the MLflow API (an http(s) artifact_uri
    # that is not the MLflow artifacts proxy): recorded, not judged against the spec.
    in_api: bool = True

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    def error_code(self) -> str | None:
        try:
            data = json.loads(self.body)
        except ValueError:
            return None
        return data.get("error_code") if isinstance(data, dict) else None

    def summary(self) -> str:
        """`METHOD /path -> status error_code: message`, short enough for a report cell."""
        head = f"{self.method} {self.path}"
        if self.status is None:
            return f"{head} -> {self.transport_error}"
        tail = ""
        if not self.ok:
            try:
                data = json.loads(self.body)
            except ValueError:
                data = None
            if isinstance(data, dict) and "error_code" in data:
                tail = f" {data.get('error_code')}: {str(data.get('message', ''))[:200]}"
            elif self.body:
                tail = " " + " ".join(self.body.split())[:200]
        return f"{head} -> {self.status}{tail}"


class Recorder:
    """Records the exchanges with one target while installed; judges each against the spec."""

    def __init__(self, base_url: str, spec: dict) -> None:
        parts = urlsplit(base_url.rstrip("/"))
        # Exchanges with the target's host are recorded whatever the path: the client resolves
        # `mlflow-artifacts:` URIs against the host, outside the tracking URI's path prefix.
        self.origin = f"{parts.scheme}://{parts.netloc}"
        self.base_path = parts.path.rstrip("/")
        self.checker = SpecChecker(spec)
        self.exchanges: list[Exchange] = []
        self.scenario = ""
        self.phase = ""
        self._lock = threading.Lock()
        self._original = None
        self._original_increment = None
        self._given_up = threading.local()

    def install(self) -> None:
        original = requests.adapters.HTTPAdapter.send
        recorder = self

        def send(adapter, request, *args, **kwargs):
            if not request.url.startswith(recorder.origin + "/"):
                return original(adapter, request, *args, **kwargs)
            exchange = recorder._begin(request)
            recorder._given_up.answer = None
            try:
                response = original(adapter, request, *args, **kwargs)
            except Exception as e:
                exchange.transport_error = f"{type(e).__name__}: {e}"[:300]
                if recorder._given_up.answer is not None:
                    status, content_type, body = recorder._given_up.answer
                    exchange.status, exchange.content_type, exchange.body = (
                        status,
                        content_type,
                        body,
                    )
                recorder._finish(exchange)
                raise
            exchange.status = response.status_code
            exchange.content_type = response.headers.get("Content-Type", "")
            if "json" in exchange.content_type or not exchange.ok or exchange.method != "GET":
                # Reading the body caches it on the response: the client still reads it.
                exchange.body = response.content[: BODY_LIMIT * 50].decode("utf-8", "replace")
            recorder._finish(exchange)
            return response

        # When the client's retries run out on a 5xx, urllib3 drops the answer and requests
        # raises RetryError: keep the last answer's status and body for the evidence.
        original_increment = urllib3.util.retry.Retry.increment

        def increment(retry, method=None, url=None, response=None, *args, **kwargs):
            if response is not None:
                try:
                    body = response.data[: BODY_LIMIT * 50].decode("utf-8", "replace")
                except Exception:
                    body = ""
                content_type = response.headers.get("Content-Type", "")
                recorder._given_up.answer = (response.status, content_type, body)
            return original_increment(retry, method, url, response, *args, **kwargs)

        self._original, self._original_increment = original, original_increment
        requests.adapters.HTTPAdapter.send = send
        urllib3.util.retry.Retry.increment = increment

    def uninstall(self) -> None:
        if self._original is not None:
            requests.adapters.HTTPAdapter.send = self._original
            urllib3.util.retry.Retry.increment = self._original_increment
            self._original = self._original_increment = None

    def _begin(self, request) -> Exchange:
        path = unquote(urlsplit(request.url).path)
        if self.base_path and path.startswith(self.base_path + "/"):
            path = path[len(self.base_path) :]
        body = request.body
        if isinstance(body, bytes):
            body = body[:BODY_LIMIT].decode("utf-8", "replace")
        elif body is not None and not isinstance(body, str):
            body = "<stream>"
        return Exchange(
            method=request.method,
            url=request.url,
            path=path or "/",
            request_body=(body or "")[:BODY_LIMIT],
            scenario=self.scenario,
            phase=self.phase,
            in_api=path.startswith("/api/2.0/"),
        )

    def _finish(self, exchange: Exchange) -> None:
        if exchange.in_api:
            exchange.operation, exchange.violations = self.checker.check(exchange)
        with self._lock:
            self.exchanges.append(exchange)

    def of_scenario(self, scenario: str, phase: str | None = None) -> list[Exchange]:
        with self._lock:
            return [
                e
                for e in self.exchanges
                if e.scenario == scenario and (phase is None or e.phase == phase)
            ]

    def by_operation(self) -> dict[str, dict]:
        """Per operation: how many exchanges, and each distinct violation with an example."""
        ops: dict[str, dict] = defaultdict(lambda: {"exchanges": 0, "violations": {}})
        with self._lock:
            exchanges = list(self.exchanges)
        for e in exchanges:
            if not e.in_api:
                name = OUTSIDE_API
            else:
                name = e.operation or f"(no operation) {e.method} {e.path}"
            op = ops[name]
            op["exchanges"] += 1
            for v in e.violations:
                entry = op["violations"].setdefault(
                    v, {"violation": v, "count": 0, "example": e.summary(), "scenario": e.scenario}
                )
                entry["count"] += 1
        return {
            name: {"exchanges": op["exchanges"], "violations": list(op["violations"].values())}
            for name, op in sorted(ops.items())
        }


class SpecChecker:
    """Matches an exchange to its operation and checks the answer against the spec."""

    def __init__(self, spec: dict) -> None:
        self.registry = Registry().with_resource(
            SPEC_URI, Resource.from_contents(spec, default_specification=DRAFT4)
        )
        self.routes: list[tuple[str, re.Pattern, str, dict]] = []
        for path, item in spec["paths"].items():
            pattern = re.escape(path).replace(r"\{artifact_path\}", "(?P<artifact_path>.+)")
            pattern = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", pattern)
            for method, op in item.items():
                if method in ("get", "post", "put", "patch", "delete"):
                    self.routes.append(
                        (method.upper(), re.compile(pattern + "$"), op["operationId"], op)
                    )
        self.error_schema = {"$ref": f"{SPEC_URI}#/components/schemas/ErrorResponse"}
        self._validators: dict[str, OAS30Validator] = {}

    def operation(self, method: str, path: str) -> tuple[str, dict] | None:
        for route_method, pattern, op_id, op in self.routes:
            if route_method == method and pattern.match(path):
                return op_id, op
        return None

    def check(self, e: Exchange) -> tuple[str | None, list[str]]:
        found = self.operation(e.method, e.path)
        if found is None:
            return None, [f"{e.method} {e.path} is not an operation of the spec"]
        op_id, op = found
        if e.status is None:
            return op_id, [f"no answer: {e.transport_error}"]
        if e.transport_error and e.ok:
            return op_id, [f"{e.transport_error}"]
        responses = op.get("responses", {})
        declared = responses.get(str(e.status))
        violations: list[str] = []
        if declared is None:
            if e.ok or "default" not in responses:
                return op_id, [f"status {e.status} is not declared for {op_id}"]
            declared = responses["default"]
        declared = self._deref(declared)
        if not e.ok:
            violations += self._check_error(e)
            return op_id, violations
        content = declared.get("content") or {}
        json_schema = (content.get("application/json") or {}).get("schema")
        if json_schema is None:
            return op_id, violations
        try:
            data = json.loads(e.body)
        except ValueError:
            snippet = " ".join(e.body.split())[:80]
            return op_id, [f"{e.status} answer is not JSON ({e.content_type}): {snippet!r}"]
        violations += self._validate(data, json_schema, f"{e.status} answer")
        return op_id, violations

    def _check_error(self, e: Exchange) -> list[str]:
        try:
            data = json.loads(e.body)
        except ValueError:
            snippet = " ".join(e.body.split())[:80]
            return [f"{e.status} error body is not an MLflow error (not JSON): {snippet!r}"]
        problems = self._validate(data, self.error_schema, "")
        if problems:
            reasons = "; ".join(p.split(" at ", 1)[1] for p in problems)
            return [f"{e.status} error body is not an MLflow error: at {reasons}"]
        code = data["error_code"]
        if code in ERROR_STATUS and ERROR_STATUS[code] != e.status:
            mlflows = ERROR_STATUS[code]
            return [f"error_code {code} comes with status {e.status}, MLflow's is {mlflows}"]
        return []

    def _validate(self, data: Any, schema: dict, what: str) -> list[str]:
        if str(schema.get("$ref", "")).startswith("#"):
            schema = {"$ref": SPEC_URI + schema["$ref"]}
        key = json.dumps(schema, sort_keys=True)
        validator = self._validators.get(key)
        if validator is None:
            validator = self._validators[key] = OAS30Validator(schema, registry=self.registry)
        errors = sorted(validator.iter_errors(data), key=lambda err: list(err.absolute_path))
        out = []
        for err in errors[:3]:
            where = "/".join(str(p) for p in err.absolute_path) or "(root)"
            out.append(f"{what} does not match the schema at {where}: {err.message[:200]}")
        return out

    def _deref(self, node: dict) -> dict:
        while "$ref" in node:
            target: Any = self.registry.resolver().lookup(SPEC_URI + node["$ref"]).contents
            node = target
        return node
