"""Boundary values of every value rule the spec states, derived from the spec alone.

For each rule on a request field (``pattern``, ``minLength``/``maxLength``,
``minimum``/``maximum``, ``maxItems``) this yields values just inside it and just outside it,
each within every other rule of that field, so that a server's answer to the value tells about
that one rule. A request is the operation's own example (its body's, or its query
parameters'), with the one field set to the value. tests/differential/test_boundaries.py replays
them against mlflow server 2.7.1 and the reference server; `python -m tools.spec_check` counts a
rule without both kinds of value as a mismatch.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from typing import Any

RULES = ("pattern", "minLength", "maxLength", "minimum", "maximum", "minItems", "maxItems")
# Strings a pattern is probed with: one character or one path segment off the usual shapes of
# MLflow's names, keys, ids and aliases. Each is inside or outside by the pattern itself.
PATTERN_PROBES = (
    "a",
    "a!",
    "/a",
    "a/",
    "a//b",
    ".",
    "..",
    "..a",
    "a/./b",
    "a/../b",
    "-a",
    "1",
    " 1 ",
    "+1",
    "1_0",
    "1__0",
    "1.0",
    "1a",
    "production",
    "STAGING",
    "Stagin",
    "latest",
    "LaTeSt",
    "latest1",
    "v1",
    "V12",
    "v1a",
    "runs:/a",
    "s3://b/a",
    "a.b",
    "a/b",
    "a b",
    "a_b",
    ".a",
    "é",
    "a:b",
)
# Probes kept per pattern, in the order above: enough to meet each alternative of the patterns
# the spec states, few enough for the differential to stay quick.
MAX_INSIDE_PROBES = 5
MAX_OUTSIDE_PROBES = 8
_LONGEST_PROBED = 600


@dataclass(frozen=True)
class Boundary:
    """One value for one field of one operation, and whether the spec's rule admits it."""

    operation_id: str
    method: str
    path: str
    location: str  # "query" or "body"
    field: tuple  # keys (and list indexes) from the query or body to the field
    rule: str  # e.g. "maxLength 250", "pattern ^...$"
    value: Any
    inside: bool

    @property
    def id(self) -> str:
        where = ".".join(str(p) for p in self.field)
        side = "inside" if self.inside else "outside"
        shown = repr(self.value) if not isinstance(self.value, str | list) else _short(self.value)
        return f"{self.operation_id}:{where}:{self.rule.split()[0]}:{side}:{shown}"

    def request(self, example: Any) -> Any:
        """The operation's example request (query dict or body) with this field set. A list's
        size is probed with its sibling lists empty (log-batch also limits what all of its
        lists hold together, a rule no schema states)."""
        out = copy.deepcopy(example)
        node = out
        for part in self.field[:-1]:
            node = node[part]
        if self.rule.startswith(("minItems", "maxItems")):
            for key, value in node.items():
                if isinstance(value, list):
                    node[key] = []
        node[self.field[-1]] = self.value
        return out


def _short(value: str | list) -> str:
    if isinstance(value, list):
        return f"[{len(value)} items]"
    if len(value) > 12:
        return f"{value[:4]!r}*{len(value)}"
    return repr(value)


class _Resolver:
    def __init__(self, doc: dict):
        self.doc = doc

    def __call__(self, node: Any) -> Any:
        while isinstance(node, dict) and "$ref" in node:
            target: Any = self.doc
            for part in node["$ref"][2:].split("/"):
                target = target[part]
            node = target
        return node


def _fits(schema: dict, value: Any) -> bool:
    """Whether `value` keeps every rule of `schema` (the field's own, not its type's)."""
    if isinstance(value, str):
        if "pattern" in schema and not re.search(schema["pattern"], value):
            return False
        if len(value) < schema.get("minLength", 0):
            return False
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            return False
    if isinstance(value, int | float) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            return False
        if "maximum" in schema and value > schema["maximum"]:
            return False
    if isinstance(value, list):
        return schema.get("minItems", 0) <= len(value) <= schema.get("maxItems", len(value))
    return True


def _filler(schema: dict) -> str:
    """A character every rule of the field takes anywhere in a string (else 'a')."""
    return next((c for c in "a0" if _fits({"pattern": schema.get("pattern", "")}, c * 3)), "a")


def _string_values(schema: dict, example: Any) -> list[tuple[str, str, bool]]:
    """(rule, value, inside) for the string rules of one field (whose example value is
    `example`)."""
    out: list[tuple[str, str, bool]] = []
    fill = _filler(schema)
    if not _fits({"pattern": schema.get("pattern", "")}, fill):
        fill = example if isinstance(example, str) and example else fill
    if "maxLength" in schema:
        n = schema["maxLength"]
        out += [(f"maxLength {n}", fill * n, True), (f"maxLength {n}", fill * (n + 1), False)]
    if "minLength" in schema:
        n = schema["minLength"]
        # The example where it keeps every rule of the field (a value MLflow reads, such as a
        # model's JSON), else the shortest string allowed.
        shortest = example if isinstance(example, str) and _fits(schema, example) else fill * n
        out.append((f"minLength {n}", shortest, True))
        if n > 0:
            out.append((f"minLength {n}", fill * (n - 1), False))
    pattern = schema.get("pattern")
    if pattern:
        rule = f"pattern {pattern}"
        lengths = {k: bool(re.search(pattern, fill * k)) for k in range(1, _LONGEST_PROBED)}
        longest = max((k for k, ok in lengths.items() if ok), default=0)
        if longest and longest < _LONGEST_PROBED - 1:  # the pattern itself bounds the length
            out += [(rule, fill * longest, True), (rule, fill * (longest + 1), False)]
        if "minLength" not in schema and not re.search(pattern, ""):
            # The pattern itself refuses an empty string (a version number's does, without a
            # minLength beside it: schemathesis folds one into the pattern's first quantifier,
            # `^\s*` into `^\s{1,}`, and then generates no version without leading blanks).
            out.append((rule, "", False))
        within = {k: v for k, v in schema.items() if k != "pattern"}
        kept = {True: 0, False: 0}
        limit = {True: MAX_INSIDE_PROBES, False: MAX_OUTSIDE_PROBES}
        for probe in (example, *PATTERN_PROBES) if isinstance(example, str) else PATTERN_PROBES:
            inside = bool(re.search(pattern, probe))
            if _fits(within, probe) and kept[inside] < limit[inside]:
                kept[inside] += 1
                out.append((rule, probe, inside))
    return [(r, v, inside) for r, v, inside in out if not inside or _fits(schema, v)]


def _number_values(schema: dict) -> list[tuple[str, int, bool]]:
    out = []
    if "minimum" in schema:
        m = schema["minimum"]
        out += [(f"minimum {m}", m, True), (f"minimum {m}", m - 1, False)]
    if "maximum" in schema:
        m = schema["maximum"]
        out += [(f"maximum {m}", m, True), (f"maximum {m}", m + 1, False)]
    return out


def _items(example_item: Any, n: int) -> list:
    """n items like `example_item`, each with its own `key` where it has one (batches refuse a
    key twice: an x-mlflow-rule, not this boundary)."""
    items = []
    for i in range(n):
        item = copy.deepcopy(example_item)
        if isinstance(item, dict) and isinstance(item.get("key"), str):
            item["key"] = f"{item['key']}{i}"
        items.append(item)
    return items


class _Walker:
    def __init__(self, doc: dict):
        self.resolve = _Resolver(doc)
        self.found: list[tuple[tuple, str, Any, bool]] = []
        # (id of the schema a rule sits on, its keyword, inside) for every value found
        self.covered: set[tuple[int, str, bool]] = set()

    def _add(self, schema: dict, field: tuple, rule: str, value: Any, inside: bool) -> None:
        self.found.append((field, rule, value, inside))
        self.covered.add((id(schema), rule.split()[0], inside))

    def walk(self, schema: Any, example: Any, field: tuple) -> None:
        schema = self.resolve(schema)
        if not isinstance(schema, dict):
            return
        kind = schema.get("type")
        if kind == "string":
            for rule, value, inside in _string_values(schema, example):
                self._add(schema, field, rule, value, inside)
        elif kind == "integer":
            for rule, value, inside in _number_values(schema):
                self._add(schema, field, rule, value, inside)
        elif kind == "array":
            items = schema.get("items")
            if isinstance(example, list) and example:
                if "maxItems" in schema:
                    n = schema["maxItems"]
                    rule = f"maxItems {n}"
                    self._add(schema, field, rule, _items(example[0], n), True)
                    self._add(schema, field, rule, _items(example[0], n + 1), False)
                if schema.get("minItems", 0) > 0:
                    n = schema["minItems"]
                    rule = f"minItems {n}"
                    self._add(schema, field, rule, _items(example[0], n), True)
                    self._add(schema, field, rule, _items(example[0], n - 1), False)
                self.walk(items, example[0], (*field, 0))
        elif isinstance(schema.get("properties"), dict) and isinstance(example, dict):
            for name, sub in schema["properties"].items():
                if name in example:
                    self.walk(sub, example[name], (*field, name))


def _body_example(resolve: _Resolver, operation: dict) -> tuple[Any, Any]:
    body = resolve(operation.get("requestBody") or {})
    schema = resolve(((body.get("content") or {}).get("application/json") or {}).get("schema"))
    if not isinstance(schema, dict):
        return None, None
    return schema, schema.get("example")


def query_example(resolve: _Resolver, operation: dict) -> dict:
    """The query of the operation's parameter examples."""
    out = {}
    for parameter in operation.get("parameters") or ():
        parameter = resolve(parameter)
        if parameter.get("in") == "query" and "example" in parameter:
            out[parameter["name"]] = parameter["example"]
    return out


def operation_examples(doc: dict) -> dict[str, tuple[str, str, dict, Any]]:
    """operationId -> (method, path, example query, example body) for every operation."""
    resolve = _Resolver(doc)
    out = {}
    for path, item in doc.get("paths", {}).items():
        for method, operation in item.items():
            if not isinstance(operation, dict) or "operationId" not in operation:
                continue
            _, body = _body_example(resolve, operation)
            out[operation["operationId"]] = (method, path, query_example(resolve, operation), body)
    return out


def boundaries(doc: dict) -> list[Boundary]:
    """Every boundary value of every value rule on a request field the spec states."""
    return _derive(doc)[0]


def uncovered_rules(doc: dict) -> list[str]:
    """Each rule the spec states that lacks a value inside it or one outside it: a rule on a
    field no operation's example reaches, or one no value within the field's other rules
    breaks."""
    _, covered = _derive(doc)
    missing = []
    for where, node, keyword in _stated(doc):
        for inside, side in ((True, "inside"), (False, "outside")):
            if (id(node), keyword, inside) not in covered:
                missing.append(f"{where}: {keyword} {node[keyword]}: no value {side} it")
    return missing


def _derive(doc: dict) -> tuple[list[Boundary], set]:
    resolve = _Resolver(doc)
    out: list[Boundary] = []
    covered: set = set()
    for path, item in doc.get("paths", {}).items():
        for method, operation in item.items():
            if not isinstance(operation, dict) or "operationId" not in operation:
                continue
            op_id = operation["operationId"]
            walker = _Walker(doc)
            query = query_example(resolve, operation)
            for parameter in operation.get("parameters") or ():
                parameter = resolve(parameter)
                if parameter.get("in") == "query" and parameter["name"] in query:
                    name = parameter["name"]
                    walker.walk(parameter.get("schema"), query[name], (name,))
            n_query = len(walker.found)
            schema, body = _body_example(resolve, operation)
            if schema is not None and body is not None:
                walker.walk(schema, body, ())
            for i, (field, rule, value, inside) in enumerate(walker.found):
                location = "query" if i < n_query else "body"
                out.append(Boundary(op_id, method, path, location, field, rule, value, inside))
            covered |= walker.covered
    return out, covered


def _stated(doc: dict) -> list[tuple[str, dict, str]]:
    """(where, schema, keyword) for every value rule in the document's paths and schemas."""
    found: list[tuple[str, dict, str]] = []

    def visit(node: Any, where: str) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key in RULES and not isinstance(value, dict):
                    found.append((where, node, key))
                # A rule inside a combinator holds on a condition (run_uuid when no run_id is
                # sent): the field's own rules are what its boundaries probe.
                elif key not in ("example", "examples", "anyOf", "allOf", "oneOf"):
                    visit(value, f"{where}/{key}")
        elif isinstance(node, list):
            for i, value in enumerate(node):
                visit(value, f"{where}/{i}")

    visit(doc.get("paths"), "#/paths")
    visit(doc.get("components", {}).get("schemas"), "#/components/schemas")
    return found
