"""Cross-check spec/mlflow-2.7.1.yaml against the MLflow 2.7.1 protobuf descriptors.

Run from the repository root::

    python -m tools.spec_check [--spec PATH] [--methods PATH]

The OpenAPI document is validated with openapi-spec-validator, then every HTTP binding of
every RPC in the installed ``mlflow`` wheel's descriptors (tracking, model registry and the
artifacts proxy) is looked up in it: operationId and ``x-mlflow-rpc``, every request field
(query parameter for GET, JSON body property otherwise) with its type, list-ness and
required-ness, and every response field, recursing into nested message schemas. Every
``example`` (and every ``examples`` entry's ``value``) must be valid for the schema it sits on,
without fields that schema does not declare. Every value rule the document states (``pattern``,
lengths, bounds, list sizes) must have boundary values just inside and just outside it
(tools/boundaries.py), which the differential tests replay against mlflow server 2.7.1.
Finally every operationId named in ``spec/client-methods.yaml`` must exist in the document.

Operations with no protobuf RPC are listed here explicitly: /health and /version, and the
endpoints MLflow 2.7.1's web UI calls (``UI_OPERATIONS``, read off 2.7.1's
``mlflow/server/__init__.py``), which must carry the tag ``UI`` and no ``x-mlflow-rpc``; no
other operation may carry that tag.

Exit code 0 only with full coverage and no mismatch.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tools.boundaries import uncovered_rules

DEFAULT_SPEC = Path("spec/mlflow-2.7.1.yaml")
DEFAULT_METHODS = Path("spec/client-methods.yaml")
API_PREFIX = "/api/2.0"
NONFINITE = {"NaN", "Infinity", "-Infinity"}
# Extra operations that have no protobuf RPC: (method, path) -> operationId.
PLAIN_OPERATIONS = {("get", "/health"): "health", ("get", "/version"): "version"}
# The web UI's own endpoints (2.7.1's mlflow/server/__init__.py): no RPC, tagged UI.
UI_TAG = "UI"
UI_OPERATIONS = {
    ("get", "/get-artifact"): "getArtifact",
    ("get", "/model-versions/get-artifact"): "getModelVersionArtifact",
    ("get", "/ajax-api/2.0/mlflow/metrics/get-history-bulk"): "getMetricHistoryBulk",
    ("post", "/ajax-api/2.0/mlflow/experiments/search-datasets"): "searchDatasets",
    ("get", "/ajax-api/2.0/mlflow/gateway-proxy"): "gatewayProxyGet",
    ("post", "/ajax-api/2.0/mlflow/gateway-proxy"): "gatewayProxy",
}
FORBIDDEN_KEYS = {"x-openapi-router-controller", "x-swagger-router-controller"}


@dataclass(frozen=True)
class Binding:
    """One HTTP binding of one protobuf RPC."""

    service: str  # full service name, e.g. mlflow.MlflowService
    rpc: str  # RPC name as in the descriptor, e.g. createExperiment
    method: str  # lower-case HTTP method
    path: str  # OpenAPI path, e.g. /api/2.0/mlflow/experiments/create
    operation_id: str  # expected operationId
    input: Any  # protobuf Descriptor of the request message
    output: Any  # protobuf Descriptor of the response message
    slash_params: tuple[str, ...] = ()  # path parameters bound as <path:...> (contain slashes)

    @property
    def label(self) -> str:
        return f"{self.method.upper()} {self.path}"


@dataclass
class Report:
    total: int = 0
    covered: int = 0
    mismatches: list[str] = field(default_factory=list)

    @property
    def coverage(self) -> float:
        return 100.0 * self.covered / self.total if self.total else 0.0

    @property
    def ok(self) -> bool:
        return self.total > 0 and self.covered == self.total and not self.mismatches

    def coverage_line(self) -> str:
        return f"RPC coverage: {self.covered}/{self.total} ({self.coverage:.1f}%)"

    def add(self, message: str) -> None:
        self.mismatches.append(message)


# --------------------------------------------------------------------------- descriptors


def _services() -> list[Any]:
    from mlflow.protos import mlflow_artifacts_pb2, model_registry_pb2, service_pb2

    out = []
    for module in (service_pb2, model_registry_pb2, mlflow_artifacts_pb2):
        out.extend(module.DESCRIPTOR.services_by_name.values())
    return out


def _openapi_path(proto_path: str) -> str:
    """`/mlflow-artifacts/artifacts/<path:artifact_path>` -> `/api/2.0/.../{artifact_path}`."""
    parts = []
    for part in proto_path.split("/"):
        if part.startswith("<") and part.endswith(">"):
            part = "{" + part[1:-1].split(":")[-1] + "}"
        parts.append(part)
    return API_PREFIX + "/".join(parts)


def proto_bindings() -> list[Binding]:
    """Every HTTP binding under /api/2.0 of the installed descriptors, with expected ids.

    Naming convention: operationId = RPC name; an RPC bound to several methods keeps the
    plain name for POST and gets the suffix ``Get`` for GET; an RPC name already taken by an
    earlier service (the artifacts proxy's listArtifacts) gets the suffix ``Proxy``.
    """
    from mlflow.protos import databricks_pb2

    bindings = []
    taken: set[str] = set()
    for service in _services():
        names = {}
        for method in service.methods:
            names[method.name] = method.name + "Proxy" if method.name in taken else method.name
        taken.update(m.name for m in service.methods)
        for method in service.methods:
            endpoints = [
                e
                for e in method.GetOptions().Extensions[databricks_pb2.rpc].endpoints
                # The descriptors may carry /preview duplicates; the server serves /api/2.0.
                if not e.path.startswith("/preview")
            ]
            for endpoint in endpoints:
                op_id = names[method.name]
                if len(endpoints) > 1 and endpoint.method.upper() == "GET":
                    op_id += "Get"
                bindings.append(
                    Binding(
                        service=service.full_name,
                        rpc=method.name,
                        method=endpoint.method.lower(),
                        path=_openapi_path(endpoint.path),
                        operation_id=op_id,
                        input=method.input_type,
                        output=method.output_type,
                        slash_params=tuple(
                            part[len("<path:") : -1]
                            for part in endpoint.path.split("/")
                            if part.startswith("<path:")
                        ),
                    )
                )
    return bindings


def _is_required(fd: Any) -> bool:
    from mlflow.protos import databricks_pb2

    return bool(fd.GetOptions().Extensions[databricks_pb2.validate_required])


def _expected_kind(fd: Any) -> str:
    from google.protobuf.descriptor import FieldDescriptor as F

    if fd.type == F.TYPE_MESSAGE:
        return "object"
    if fd.type == F.TYPE_ENUM:
        return "enum"
    if fd.type in (F.TYPE_STRING, F.TYPE_BYTES):
        return "string"
    if fd.type == F.TYPE_BOOL:
        return "boolean"
    if fd.type in (F.TYPE_DOUBLE, F.TYPE_FLOAT):
        return "number"
    if fd.type in (F.TYPE_INT64, F.TYPE_UINT64, F.TYPE_SINT64, F.TYPE_FIXED64, F.TYPE_SFIXED64):
        return "integer/int64"
    return "integer/int32"


def _is_repeated(fd: Any) -> bool:
    from google.protobuf.descriptor import FieldDescriptor as F

    return fd.label == F.LABEL_REPEATED


# --------------------------------------------------------------------------- spec helpers


class Spec:
    def __init__(self, doc: dict):
        self.doc = doc

    def resolve(self, schema: Any) -> Any:
        seen = 0
        while isinstance(schema, dict) and "$ref" in schema and seen < 20:
            schema = self.pointer(schema["$ref"])
            seen += 1
        return schema

    def pointer(self, ref: str) -> Any:
        if not ref.startswith("#/"):
            return None
        node: Any = self.doc
        for part in ref[2:].split("/"):
            part = part.replace("~1", "/").replace("~0", "~")
            if not isinstance(node, dict) or part not in node:
                return None
            node = node[part]
        return node

    def operations(self) -> dict[tuple[str, str], dict]:
        out = {}
        for path, item in _mapping(self.doc.get("paths")).items():
            if not isinstance(item, dict):
                continue
            for method, op in item.items():
                if method in {"get", "put", "post", "delete", "patch", "head", "options", "trace"}:
                    out[(method, path)] = op if isinstance(op, dict) else {}
        return out

    def parameters(self, path: str, op: dict) -> dict[tuple[str, str], dict]:
        params = {}
        item = _mapping(_mapping(self.doc.get("paths")).get(path))
        for p in list(item.get("parameters") or []) + list(op.get("parameters") or []):
            p = self.resolve(p)
            if isinstance(p, dict) and "name" in p:
                params[(p.get("in"), p["name"])] = p
        return params

    def json_schema(self, container: Any) -> Any:
        """The application/json schema of a requestBody or response object."""
        container = self.resolve(container)
        if not isinstance(container, dict):
            return None
        media = (container.get("content") or {}).get("application/json")
        if not isinstance(media, dict):
            return None
        return media.get("schema")


def _kind_of(spec: Spec, schema: Any) -> tuple[str, bool, Any]:
    """(kind, is_array, element schema) of a property/parameter schema."""
    resolved = spec.resolve(schema)
    if not isinstance(resolved, dict):
        return "missing", False, None
    if resolved.get("type") == "array":
        items = resolved.get("items")
        kind, _, elem = _kind_of(spec, items)
        return kind, True, elem if elem is not None else items
    branches = resolved.get("anyOf") or resolved.get("oneOf")
    if branches:
        kinds = {_kind_of(spec, b)[0] for b in branches}
        if "number" in kinds:
            return "number", False, resolved
        return "/".join(sorted(kinds)), False, resolved
    typ = resolved.get("type")
    if typ == "string" and "enum" in resolved:
        return "enum", False, resolved
    if typ == "integer":
        fmt = resolved.get("format")
        return (f"integer/{fmt}" if fmt else "integer"), False, resolved
    if typ == "object" or (typ is None and "properties" in resolved):
        return "object", False, schema
    return str(typ), False, resolved


# --------------------------------------------------------------------------- comparisons


class Checker:
    def __init__(self, spec: Spec, report: Report):
        self.spec = spec
        self.report = report
        self._seen_messages: set[tuple[str, str]] = set()

    def compare_field(self, where: str, fd: Any, schema: Any) -> None:
        expected = _expected_kind(fd)
        kind, is_array, elem = _kind_of(self.spec, schema)
        if kind != expected and not (
            expected.startswith("integer") and kind == "integer"
        ):  # integer without a format is accepted
            self.report.add(f"{where}: type is {kind}, proto says {expected}")
        if is_array != _is_repeated(fd):
            want = "an array" if _is_repeated(fd) else "a scalar"
            self.report.add(f"{where}: should be {want} (proto label)")
        if kind != expected:
            return
        if expected == "enum":
            names = [v.name for v in fd.enum_type.values]
            have = (self.spec.resolve(elem) or {}).get("enum")
            if sorted(have or []) != sorted(names):
                self.report.add(f"{where}: enum is {have}, proto says {names}")
        elif expected == "number":
            self._check_nonfinite(where, elem)
        elif expected == "object":
            ref_holder = elem if is_array else schema
            if not (isinstance(ref_holder, dict) and "$ref" in ref_holder):
                self.report.add(
                    f"{where}: nested message {fd.message_type.full_name} "
                    "should be a $ref to a component schema"
                )
            self.compare_message(where, fd.message_type, ref_holder, check_required=True)

    def _check_nonfinite(self, where: str, schema: Any) -> None:
        resolved = self.spec.resolve(schema) or {}
        strings: set[str] = set()
        for branch in resolved.get("anyOf") or resolved.get("oneOf") or []:
            branch = self.spec.resolve(branch) or {}
            if branch.get("type") == "string":
                strings.update(branch.get("enum") or [])
        if not strings >= NONFINITE:
            self.report.add(
                f"{where}: double field must also accept the strings "
                f"{sorted(NONFINITE)} (anyOf number / string enum)"
            )

    def compare_message(self, where: str, msg: Any, schema: Any, *, check_required: bool) -> None:
        """Compare a message with an object schema: fields, types, required-ness."""
        key = (msg.full_name, repr(schema))
        if key in self._seen_messages:
            return
        self._seen_messages.add(key)
        resolved = self.spec.resolve(schema)
        if not isinstance(resolved, dict):
            self.report.add(f"{where}: no schema for message {msg.full_name}")
            return
        if resolved.get("type") not in ("object", None):
            self.report.add(f"{where}: schema for {msg.full_name} is not an object")
            return
        props = _mapping(resolved.get("properties"))
        required = set(resolved.get("required") or [])
        for fd in msg.fields:
            fwhere = f"{where}.{fd.name}"
            if fd.name not in props:
                self.report.add(f"{fwhere}: field missing (proto {msg.full_name})")
                continue
            if check_required and _is_required(fd) != (fd.name in required):
                want = "required" if _is_required(fd) else "optional"
                self.report.add(f"{fwhere}: should be {want} (validate_required)")
            self.compare_field(fwhere, fd, props[fd.name])
        known = {fd.name for fd in msg.fields}
        for name in props:
            if name not in known:
                self.report.add(f"{where}.{name}: field not in proto {msg.full_name}")
        for name in required - set(props):
            self.report.add(f"{where}: required field {name} has no property")

    def check_request(self, b: Binding, op: dict) -> None:
        where = f"{b.operation_id} request"
        params = self.spec.parameters(b.path, op)
        path_params = {name for (loc, name) in params if loc == "path"}
        for name in _path_template_names(b.path):
            p = params.get(("path", name))
            if p is None:
                self.report.add(f"{where}: path parameter {name} missing")
                continue
            sch = self.spec.resolve(p.get("schema")) or {}
            if sch.get("type") != "string" or not p.get("required"):
                self.report.add(f"{where}: path parameter {name} should be a required string")
            if name in b.slash_params and sch.get("format") != "path":
                self.report.add(f"{where}: path parameter {name} needs format: path (has slashes)")
        if b.method == "get":
            query = {name: p for (loc, name), p in params.items() if loc == "query"}
            for fd in b.input.fields:
                fwhere = f"{where}.{fd.name}"
                p = query.get(fd.name)
                if p is None:
                    self.report.add(f"{fwhere}: query parameter missing")
                    continue
                if _is_required(fd) != bool(p.get("required")):
                    want = "required" if _is_required(fd) else "optional"
                    self.report.add(f"{fwhere}: should be {want} (validate_required)")
                if _is_repeated(fd) and (
                    p.get("style", "form") != "form" or not p.get("explode", True)
                ):
                    self.report.add(
                        f"{fwhere}: repeated query field needs style form, explode true"
                    )
                self.compare_field(fwhere, fd, p.get("schema"))
            known = {fd.name for fd in b.input.fields}
            for name in query:
                if name not in known:
                    self.report.add(
                        f"{where}.{name}: query parameter not in proto {b.input.full_name}"
                    )
            if op.get("requestBody") is not None:
                self.report.add(f"{where}: GET operation must not declare a request body")
            return
        body = op.get("requestBody")
        if not b.input.fields:
            # Raw-body (upload) or body-less operations: nothing to compare field-wise.
            extra = [n for (loc, n) in params if loc == "query" and n not in path_params]
            for name in extra:
                self.report.add(f"{where}.{name}: query parameter not in proto {b.input.full_name}")
            return
        schema = self.spec.json_schema(body) if body is not None else None
        if schema is None:
            self.report.add(f"{where}: no application/json request body")
            return
        self.compare_message(f"{where} body", b.input, schema, check_required=True)

    def check_response(self, b: Binding, op: dict) -> None:
        where = f"{b.operation_id} response"
        responses = _mapping(op.get("responses"))
        ok = responses.get("200", responses.get(200))
        if ok is None:
            self.report.add(f"{where}: no 200 response")
            return
        if not b.output.fields:
            return
        schema = self.spec.json_schema(ok)
        if schema is None:
            self.report.add(f"{where}: 200 has no application/json schema")
            return
        self.compare_message(where, b.output, schema, check_required=True)
        error = None
        for code, resp in responses.items():
            if str(code) == "default" or str(code)[:1] in "45":
                error = resp
                break
        if error is None:
            self.report.add(f"{where}: no error response (default or 4xx)")


def _mapping(value: Any) -> dict:
    """`value` if it is a mapping, else an empty one (broken documents must not crash us)."""
    return value if isinstance(value, dict) else {}


def _path_template_names(path: str) -> list[str]:
    return [p[1:-1] for p in path.split("/") if p.startswith("{") and p.endswith("}")]


def _walk_keys(node: Any, found: set[str]) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            if key in FORBIDDEN_KEYS:
                found.add(key)
            _walk_keys(value, found)
    elif isinstance(node, list):
        for value in node:
            _walk_keys(value, found)


def _check_links(spec: Spec, report: Report) -> None:
    """Every link targets an existing operation and only names inputs the target has."""
    by_id = {op.get("operationId"): (m, p, op) for (m, p), op in spec.operations().items()}
    for (method, path), op in spec.operations().items():
        source = op.get("operationId") or f"{method.upper()} {path}"
        for code, resp in _mapping(op.get("responses")).items():
            links = _mapping(_mapping(spec.resolve(resp)).get("links"))
            for name, link in links.items():
                link = _mapping(spec.resolve(link))
                where = f"link {source} -{code}-> {name}"
                target_id = link.get("operationId")
                if target_id not in by_id:
                    report.add(f"{where}: unknown target operationId {target_id!r}")
                    continue
                _, tpath, top = by_id[target_id]
                params = spec.parameters(tpath, top)
                for key in link.get("parameters") or {}:
                    loc, _, pname = key.rpartition(".")
                    if not any(n == pname and (not loc or loc == lo) for (lo, n) in params):
                        report.add(f"{where}: target {target_id} has no parameter {key}")
                body = link.get("requestBody")
                if isinstance(body, dict):
                    schema = spec.resolve(spec.json_schema(top.get("requestBody") or {}))
                    props = (schema or {}).get("properties") or {}
                    for key in body:
                        if key not in props:
                            report.add(f"{where}: target {target_id} body has no field {key}")


def _check_error_schema(spec: Spec, report: Report) -> None:
    from mlflow.protos import databricks_pb2

    schema = spec.resolve({"$ref": "#/components/schemas/ErrorResponse"})
    if not isinstance(schema, dict):
        report.add("components.schemas.ErrorResponse: missing")
        return
    props = schema.get("properties") or {}
    codes = (spec.resolve(props.get("error_code")) or {}).get("enum") or []
    want = list(databricks_pb2.ErrorCode.keys())
    if sorted(codes) != sorted(want):
        missing = sorted(set(want) - set(codes))
        extra = sorted(set(codes) - set(want))
        report.add(f"ErrorResponse.error_code: enum differs (missing {missing}, extra {extra})")
    if (spec.resolve(props.get("message")) or {}).get("type") != "string":
        report.add("ErrorResponse.message: should be a string")


def _closed(node: Any) -> Any:
    """A copy of a schema in which every object with declared properties admits no others."""
    if isinstance(node, list):
        return [_closed(v) for v in node]
    if not isinstance(node, dict):
        return node
    out = {k: _closed(v) for k, v in node.items() if k not in {"example", "examples"}}
    if isinstance(node.get("properties"), dict) and "additionalProperties" not in node:
        out["additionalProperties"] = False
    return out


def _iter_examples(node: Any, where: str) -> Any:
    """(location, example value, schema it must satisfy) for every example in the document."""
    if isinstance(node, list):
        for i, value in enumerate(node):
            yield from _iter_examples(value, f"{where}[{i}]")
        return
    if not isinstance(node, dict):
        return
    # A parameter or media type carries its examples beside `schema`; a schema carries its own.
    holder = "schema" in node and ("in" in node or "properties" not in node)
    schema = node.get("schema") if holder else node
    if "example" in node:
        yield f"{where}.example", node["example"], schema
    if holder and isinstance(node.get("examples"), dict):
        for name, entry in node["examples"].items():
            if isinstance(entry, dict) and "value" in entry:
                yield f"{where}.examples.{name}", entry["value"], schema
    for key, value in node.items():
        if key not in {"example", "examples"}:
            yield from _iter_examples(value, f"{where}.{key}")


def _check_examples(doc: dict, report: Report) -> None:
    """Every example is valid for its schema and names no undeclared field."""
    components = _closed(_mapping(doc.get("components")))
    for where, value, schema in _iter_examples(doc.get("paths"), "paths"):
        _check_example(where, value, schema, components, report)
    for where, value, schema in _iter_examples(doc.get("components"), "components"):
        _check_example(where, value, schema, components, report)


def _check_example(where: str, value: Any, schema: Any, components: dict, report: Report) -> None:
    import jsonschema

    if not isinstance(schema, dict):
        report.add(f"{where}: no schema to check the example against")
        return
    root = {**_closed(schema), "components": components}
    validator = jsonschema.Draft4Validator(root)
    errors = sorted(validator.iter_errors(value), key=lambda e: list(e.absolute_path))
    for error in errors[:3]:
        at = "/".join(str(p) for p in error.absolute_path)
        report.add(f"{where}: example invalid at /{at}: {error.message}")


def check_client_methods(methods_path: Path, op_ids: set[str], report: Report) -> None:
    if not methods_path.exists():
        report.add(f"client-methods: {methods_path} not found")
        return
    try:
        data = yaml.safe_load(methods_path.read_text())
    except yaml.YAMLError as exc:
        report.add(f"client-methods: {methods_path} is not valid YAML: {exc}")
        return
    rows = data.get("methods") if isinstance(data, dict) else None
    if not isinstance(rows, list):
        report.add(f"client-methods: {methods_path} has no top-level 'methods' list")
        return
    for i, row in enumerate(rows):
        if not isinstance(row, dict):
            report.add(f"client-methods: row {i} is not a mapping")
            continue
        label = row.get("method") or row.get("name") or row.get("id") or f"row {i}"
        ops = row.get("operations") or []
        if not isinstance(ops, list):
            report.add(f"client-methods: {label}: 'operations' is not a list")
            continue
        sequences = [("operations", ops)]
        variants = row.get("operations_variants") or {}
        if isinstance(variants, dict):
            sequences += [(f"operations_variants.{k}", v) for k, v in variants.items()]
        elif isinstance(variants, list):
            sequences += [(f"operations_variants[{j}]", v) for j, v in enumerate(variants)]
        for key, seq in sequences:
            for op_id in seq if isinstance(seq, list) else [seq]:
                if op_id not in op_ids:
                    report.add(f"client-methods: {label}: {key}: unknown operationId {op_id!r}")


# --------------------------------------------------------------------------- entry points


def _check_ui_operations(ops: dict[tuple[str, str], dict], report: Report) -> set:
    """UI_OPERATIONS present with their operationId, tagged UI, bound to no RPC; the UI tag on
    nothing else. Returns their (method, path) pairs."""
    for (method, path), op_id in UI_OPERATIONS.items():
        label = f"{method.upper()} {path}"
        op = ops.get((method, path))
        if op is None:
            report.add(f"{label}: UI operation missing")
            continue
        if op.get("operationId") != op_id:
            report.add(f"{label}: operationId should be {op_id!r}")
        if UI_TAG not in op.get("tags", ()):
            report.add(f"{label}: a UI operation must be tagged {UI_TAG!r}")
        if "x-mlflow-rpc" in op:
            report.add(f"{label}: a UI operation has no RPC, yet names x-mlflow-rpc")
    for (method, path), op in sorted(ops.items()):
        if UI_TAG in op.get("tags", ()) and (method, path) not in UI_OPERATIONS:
            report.add(f"{method.upper()} {path}: tagged {UI_TAG!r} but not a 2.7.1 UI endpoint")
    return set(UI_OPERATIONS)


def check(spec_path: str | Path, methods_path: str | Path = DEFAULT_METHODS) -> Report:
    """Check the spec at ``spec_path`` and the client-methods table at ``methods_path``."""
    report = Report()
    spec_path, methods_path = Path(spec_path), Path(methods_path)
    bindings = proto_bindings()
    report.total = len(bindings)
    try:
        doc = yaml.safe_load(spec_path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        report.add(f"spec: cannot read {spec_path}: {exc}")
        return report
    if not isinstance(doc, dict):
        report.add(f"spec: {spec_path} is not a mapping")
        return report

    from openapi_spec_validator import validate

    try:
        validate(doc)
    except Exception as exc:  # the validator raises several exception types
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        report.add(f"spec: not a valid OpenAPI document: {first}")

    spec = Spec(doc)
    checker = Checker(spec, report)
    ops = spec.operations()
    op_ids: dict[str, list[str]] = {}
    for (method, path), op in ops.items():
        op_id = op.get("operationId")
        if op_id:
            op_ids.setdefault(op_id, []).append(f"{method.upper()} {path}")
    for op_id, where in op_ids.items():
        if len(where) > 1:
            report.add(f"operationId {op_id} used more than once: {', '.join(where)}")

    expected_pairs = set()
    for b in bindings:
        expected_pairs.add((b.method, b.path))
        op = ops.get((b.method, b.path))
        if op is None:
            report.add(f"{b.label}: operation missing (RPC {b.service}.{b.rpc})")
            continue
        report.covered += 1
        if op.get("operationId") != b.operation_id:
            report.add(
                f"{b.label}: operationId is {op.get('operationId')!r}, expected {b.operation_id!r}"
            )
        rpc = f"{b.service}.{b.rpc}"
        if op.get("x-mlflow-rpc") != rpc:
            report.add(f"{b.label}: x-mlflow-rpc is {op.get('x-mlflow-rpc')!r}, expected {rpc!r}")
        checker.check_request(b, op)
        checker.check_response(b, op)

    for (method, path), op_id in PLAIN_OPERATIONS.items():
        expected_pairs.add((method, path))
        op = ops.get((method, path))
        if op is None:
            report.add(f"{method.upper()} {path}: operation missing")
        elif op.get("operationId") != op_id:
            report.add(f"{method.upper()} {path}: operationId should be {op_id!r}")
    expected_pairs |= _check_ui_operations(ops, report)
    for method, path in sorted(set(ops) - expected_pairs):
        report.add(f"{method.upper()} {path}: operation not served by MLflow 2.7.1")

    _check_error_schema(spec, report)
    _check_links(spec, report)
    _check_examples(doc, report)
    for line in uncovered_rules(doc):
        report.add(f"boundary: {line}")
    forbidden: set[str] = set()
    _walk_keys(doc, forbidden)
    for key in sorted(forbidden):
        report.add(f"spec: implementation-specific key {key} present")

    check_client_methods(methods_path, set(op_ids), report)
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.spec_check", description=__doc__)
    parser.add_argument("--spec", default=str(DEFAULT_SPEC), help="OpenAPI document")
    parser.add_argument("--methods", default=str(DEFAULT_METHODS), help="client-methods table")
    args = parser.parse_args(argv)
    report = check(args.spec, args.methods)
    for line in report.mismatches:
        print(f"MISMATCH {line}")
    print(report.coverage_line())
    print(f"Mismatches: {len(report.mismatches)}")
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
