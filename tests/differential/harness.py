"""Replay one request sequence against two servers and compare what they answer.

A scenario is data: a list of `Step`s (method, path, query or JSON body, captures). `replay`
sends the steps to one server over real HTTP, resolving `${var}` references from values that
server returned earlier in the sequence. `mask` turns a transcript into a comparable form:
ids the server chose become placeholders numbered by first appearance (<exp:1>, <run:2>),
server clocks become <time>, generated run names <run-name:1>, page tokens <page-token>.
`compare` then lines up both transcripts step by step.
"""

from __future__ import annotations

import contextlib
import json
import math
import re
from dataclasses import dataclass, field
from typing import Any

import requests

API = "/api/2.0/mlflow/"
_MISSING = object()
_VAR = re.compile(r"\$\{(\w+)\}")


@dataclass(frozen=True)
class Step:
    """One request. `path` is relative to /api/2.0/mlflow/ unless it starts with '/'."""

    name: str
    method: str
    path: str
    query: dict | None = None
    json: Any = _MISSING
    data: bytes | str | None = None
    headers: dict = field(default_factory=dict)
    capture: dict = field(default_factory=dict)

    def url_path(self) -> str:
        return self.path if self.path.startswith("/") else API + self.path


@dataclass(frozen=True)
class Scenario:
    id: str
    steps: list[Step]
    doc: str = ""

    def __post_init__(self):
        names = [s.name for s in self.steps]
        dupes = {n for n in names if names.count(n) > 1}
        if dupes:
            raise ValueError(f"scenario {self.id}: duplicate step names {sorted(dupes)}")


def get(name: str, path: str, query: dict | None = None, **kw) -> Step:
    return Step(name, "GET", path, query=query, **kw)


def post(name: str, path: str, body: Any = _MISSING, **kw) -> Step:
    return Step(name, "POST", path, json=body, **kw)


def raw(name: str, method: str, path: str, **kw) -> Step:
    return Step(name, method, path, **kw)


# ---------------------------------------------------------------------------------------------
# Replay


@dataclass
class Exchange:
    step: Step
    request: dict
    status: int
    content_type: str
    body: Any


def _var(variables: dict, name: str) -> Any:
    # A value an earlier step failed to return on this server: keep going (the comparison
    # shows the earlier difference) with a marker that cannot be a real id.
    return variables.get(name, f"unresolved-{name}")


def _resolve(value: Any, variables: dict) -> Any:
    if isinstance(value, str):
        whole = _VAR.fullmatch(value)
        if whole:
            return _var(variables, whole.group(1))
        return _VAR.sub(lambda m: str(_var(variables, m.group(1))), value)
    if isinstance(value, list):
        return [_resolve(v, variables) for v in value]
    if isinstance(value, dict):
        return {_resolve(k, variables): _resolve(v, variables) for k, v in value.items()}
    return value


def _pick(body: Any, path: str) -> Any:
    for part in path.split("."):
        body = body[int(part)] if isinstance(body, list) else body[part]
    return body


def _parse(resp: requests.Response) -> tuple[str, Any]:
    ctype = resp.headers.get("Content-Type", "").split(";")[0].strip()
    if ctype == "application/json" or resp.text[:1] in "{[":
        try:
            return ctype, resp.json()
        except ValueError:
            pass
    return ctype, resp.text


def replay(base_url: str, scenario: Scenario, token: str, session: requests.Session | None = None):
    """Send every step of `scenario` to `base_url`; returns the list of `Exchange`s."""
    session = session or requests.Session()
    variables: dict[str, Any] = {"u": token}
    out = []
    for step in scenario.steps:
        path = _resolve(step.url_path(), variables)
        query = _resolve(step.query, variables) if step.query is not None else None
        kwargs: dict[str, Any] = {"params": query, "headers": dict(step.headers)}
        request: dict[str, Any] = {"method": step.method, "path": path}
        if query is not None:
            request["query"] = query
        if step.json is not _MISSING:
            body = _resolve(step.json, variables)
            # json.dumps(allow_nan) writes NaN/Infinity literals, as Python's json would.
            kwargs["data"] = json.dumps(body)
            kwargs["headers"].setdefault("Content-Type", "application/json")
            request["json"] = body
        elif step.data is not None:
            kwargs["data"] = _resolve(step.data, variables)
            request["data"] = kwargs["data"]
        resp = session.request(step.method, base_url + path, timeout=60, **kwargs)
        ctype, parsed = _parse(resp)
        out.append(Exchange(step, request, resp.status_code, ctype, parsed))
        for var, where in step.capture.items():
            # If this server did not return it, the comparison reports that difference.
            with contextlib.suppress(KeyError, IndexError, TypeError):
                variables[var] = _pick(parsed, where)
    return out


# ---------------------------------------------------------------------------------------------
# Masking

_ID_KEYS = {"experiment_id", "experiment_ids", "run_id", "run_uuid", "run_ids"}
TIME_KEYS = {
    "creation_time",
    "last_update_time",
    "start_time",
    "end_time",
    "timestamp",
    "creation_timestamp",
    "last_updated_timestamp",
}
# Anything later than 2001-09-09 in epoch milliseconds is a server (or client) clock reading;
# scenarios use small explicit timestamps where they care about the value.
_CLOCK_MS = 10**12
_GENERATED_RUN_NAME = re.compile(r"^[a-z]+-[a-z]+-\d{1,4}$")  # 2.7.1 draws 0..1000
_EXP_ID_IN_TEXT = re.compile(
    r"(?P<pre>(?:experiment_id|[Ee]xperiment ID|[Ee]xperiment id|[Ee]xperiment|id)"
    r"(?:=| '| \"| ))(?P<id>\d+)(?P<post>['\" ,.)]|$)"
)
# Python set literals in mlflow's messages ("Valid keys are '{'name', 'tags'}'") print in an
# order that depends on the process's hash seed: sort their items.
_SET_LITERAL = re.compile(r"\{'[^'{}]*'(?:, '[^'{}]*')+\}")
_CLOCK_IN_TEXT = re.compile(r"\b1\d{12}\b")
# A run id generated inside a failed request is never returned, only quoted in the message.
_UNSEEN_UUID = re.compile(r"\b[0-9a-f]{32}\b")
_URI = re.compile(r"^(mlflow-artifacts:|file:|[a-z0-9]+://|/)")
# A server's own artifact folder, which 2.7.1 quotes in some error messages.
_LOCAL_ARTIFACT_ROOT = re.compile(r"(?<=[\s'\"])/[^\s'\"]*?/artifacts(?=[/:'\"])")


class Masker:
    """Maps the ids one server chose to placeholders named after the step that first returned
    them: <exp:create>, <run:create-r1>, and <run:search#2> for the second new run id in one
    response. Naming by step (not by a running count) keeps one difference from shifting every
    later placeholder."""

    def __init__(self):
        self.ids: dict[str, str] = {}  # value -> placeholder
        self.step = ""
        self.counts: dict[str, int] = {}

    def _register(self, kind: str, value: Any) -> None:
        if isinstance(value, str) and value and value not in self.ids:
            n = self.counts[kind] = self.counts.get(kind, 0) + 1
            self.ids[value] = f"<{kind}:{self.step}{'' if n == 1 else f'#{n}'}>"

    def learn(self, body: Any, step: str | None = None) -> None:
        """Register ids found in a response, walking keys in sorted order for determinism."""
        if step is not None:
            self.step, self.counts = step, {}
        if isinstance(body, dict):
            for key in sorted(body):
                value = body[key]
                if key == "experiment_id":
                    self._register("exp", value)
                elif key in ("run_id", "run_uuid"):
                    self._register("run", value)
                elif key == "run_name" and isinstance(value, str):
                    if _GENERATED_RUN_NAME.match(value):
                        self._register("run-name", value)
                elif key == "tags" and isinstance(value, list):
                    for tag in value:
                        if (
                            isinstance(tag, dict)
                            and tag.get("key") == "mlflow.runName"
                            and _GENERATED_RUN_NAME.match(str(tag.get("value", "")))
                        ):
                            self._register("run-name", tag["value"])
                self.learn(value)
        elif isinstance(body, list):
            for item in body:
                self.learn(item)

    def text(self, s: str, key: str | None = None) -> str:
        if key == "message":
            s = _LOCAL_ARTIFACT_ROOT.sub("<artifact-root>", s)
        # A short id ("2") is only an id where an id belongs; elsewhere it may be a tag value.
        if s in self.ids and (len(s) >= 8 or key in _ID_KEYS):
            return self.ids[s]
        for value, ph in self.ids.items():
            if len(value) >= 8 and value in s:  # run ids, generated names: safe to substitute
                s = s.replace(value, ph)
        exp_ids = {v: ph for v, ph in self.ids.items() if ph.startswith("<exp:")}
        if exp_ids and _URI.match(s):
            s = "/".join(exp_ids.get(part, part) for part in s.split("/"))
        elif exp_ids:

            def sub(m: re.Match) -> str:
                ph = exp_ids.get(m.group("id"))
                return m.group("pre") + ph + m.group("post") if ph else m.group(0)

            s = _EXP_ID_IN_TEXT.sub(sub, s)
        s = _SET_LITERAL.sub(
            lambda m: "{" + ", ".join(sorted(m.group(0)[1:-1].split(", "))) + "}", s
        )
        s = _UNSEEN_UUID.sub("<unseen-id>", s)
        return _CLOCK_IN_TEXT.sub("<time>", s)

    def apply(self, body: Any, key: str | None = None) -> Any:
        if isinstance(body, dict):
            out = {}
            for k, v in body.items():
                if k == "path" and key == "request":
                    out[k] = v
                elif k == "next_page_token" and v:
                    out[k] = "<page-token>"
                else:
                    out[k] = self.apply(v, k)
            return out
        if isinstance(body, list):
            items = [self.apply(v, key) for v in body]
            if key in ("params", "tags") or (key == "metrics" and _latest_metrics(items)):
                # Unordered collections in the protocol (run data, experiment tags).
                items.sort(key=lambda i: json.dumps(i, sort_keys=True, default=str))
            return items
        if isinstance(body, str):
            return self.text(body, key)
        if isinstance(body, float) and math.isnan(body):
            return "<NaN literal>"
        if key in TIME_KEYS and isinstance(body, int | float) and body >= _CLOCK_MS:
            return "<time>"
        return body


def _latest_metrics(items: list) -> bool:
    # run.data.metrics holds one entry per key (unordered); metrics/get-history holds a series
    # of one key, whose order the comparison keeps.
    keys = [i.get("key") for i in items if isinstance(i, dict)]
    return len(set(keys)) == len(keys) and len(keys) > 1


def mask(exchanges: list[Exchange]) -> list[dict]:
    """Masked, comparable records of a transcript: status, content type, body."""
    masker = Masker()
    records = []
    for ex in exchanges:
        masker.learn(ex.body, ex.step.name)
        records.append(
            {
                "step": ex.step.name,
                "request": masker.apply(ex.request, "request"),
                "status": ex.status,
                "content_type": ex.content_type,
                "body": masker.apply(ex.body),
            }
        )
    return records


# ---------------------------------------------------------------------------------------------
# Comparison


@dataclass
class Difference:
    scenario: str
    step: str
    kind: str  # "status", "content_type", "error_code", "message", "body"
    request: dict
    expected: dict  # the oracle's masked record
    actual: dict

    def render(self) -> str:
        req = json.dumps(self.request, default=str)
        if len(req) > 600:
            req = req[:600] + " ..."
        lines = [f"--- {self.scenario}/{self.step} [{self.kind}]", f"request: {req}"]
        changes = paths_differing(self.expected, self.actual)
        for path, e, a in changes[:12]:
            lines.append(f"  {path}: oracle={_short(e)} subject={_short(a)}")
        if len(changes) > 12:
            lines.append(f"  ... and {len(changes) - 12} more")
        return "\n".join(lines)


_ABSENT = "<absent>"


def paths_differing(e: Any, a: Any, path: str = "") -> list[tuple[str, Any, Any]]:
    """(path, oracle value, subject value) for every leaf where the two records differ."""
    if isinstance(e, dict) and isinstance(a, dict):
        out = []
        for k in [*e, *(k for k in a if k not in e)]:
            if k == "request" and not path:
                continue
            out += paths_differing(
                e.get(k, _ABSENT), a.get(k, _ABSENT), f"{path}.{k}" if path else k
            )
        return out
    if _keyed(e) and _keyed(a):  # run data, tags: compare entry by key
        return paths_differing(
            {i["key"]: i for i in e}, {i["key"]: i for i in a}, path.rstrip(".") + "[key]"
        )
    if isinstance(e, list) and isinstance(a, list) and len(e) == len(a):
        out = []
        for i, (x, y) in enumerate(zip(e, a, strict=True)):
            out += paths_differing(x, y, f"{path}[{i}]")
        return out
    return [] if e == a and type(e) is type(a) else [(path, e, a)]


def _keyed(items: Any) -> bool:
    if not isinstance(items, list) or not items:
        return False
    keys = [i.get("key") if isinstance(i, dict) else None for i in items]
    return None not in keys and len(set(keys)) == len(keys)


def _short(v: Any) -> str:
    text = json.dumps(v, default=str)
    return text if len(text) <= 300 else text[:300] + "..."


def _is_error(body: Any) -> bool:
    return isinstance(body, dict) and "error_code" in body


def classify(expected: dict, actual: dict) -> str | None:
    """The most telling kind of difference between two masked records, or None."""
    if expected["status"] != actual["status"]:
        return "status"
    e, a = expected["body"], actual["body"]
    if not paths_differing(e, a):
        return "content_type" if expected["content_type"] != actual["content_type"] else None
    if _is_error(e) and _is_error(a):
        if e["error_code"] != a["error_code"]:
            return "error_code"
        rest_e = {k: v for k, v in e.items() if k != "message"}
        rest_a = {k: v for k, v in a.items() if k != "message"}
        if rest_e == rest_a:
            return "message"
    return "body"


def compare(scenario_id: str, oracle: list[dict], subject: list[dict]) -> list[Difference]:
    diffs = []
    for e, a in zip(oracle, subject, strict=True):
        kind = classify(e, a)
        if kind:
            diffs.append(Difference(scenario_id, e["step"], kind, e["request"], e, a))
    return diffs
