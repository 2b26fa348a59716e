"""Every value rule the spec states, proved against mlflow server 2.7.1 at its boundary.

tools/boundaries.py derives, from the spec alone, values just inside and just outside each rule
(`pattern`, `minLength`/`maxLength`, `minimum`/`maximum`, `maxItems`) of each request field.
Each is sent, in the operation's own example request with the one field changed, to a fresh
2.7.1 oracle on the subject's backend and to the subject. Inside a rule, both must answer alike
and neither may refuse the value with 400 INVALID_PARAMETER_VALUE, unless for a rule no schema
states that the operation's `x-mlflow-rule` names (an alias that does not exist); outside, both
must refuse it with 400 INVALID_PARAMETER_VALUE. Where 2.7.1 itself does not keep a stated
rule, the case is an entry of `BOUNDARY_DIVERGENCES` (tests/differential/divergences.py), with
the reason.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
import yaml

from conformance.fuzz.hooks import annotated_rules, refused_by
from tools.boundaries import Boundary, boundaries, operation_examples
from tools.peers import start_oracle

from .conftest import start_subject, started_on
from .divergences import boundary_divergence

pytestmark = pytest.mark.oracle

SPEC = Path(__file__).resolve().parents[2] / "spec" / "mlflow-2.7.1.yaml"
DOCUMENT = yaml.safe_load(SPEC.read_text())
EXAMPLES = operation_examples(DOCUMENT)
EXAMPLE_RUN_ID = "5f3b6a1c9d2e4f708a1b2c3d4e5f6a7b"
# Operations that write to a run get a run of their own per case (a param is written once).
RUN_WRITERS = {"logMetric", "logParam", "setTag", "logBatch", "logInputs"}
REFUSED = (400, "INVALID_PARAMETER_VALUE")


def _operation(operation_id: str) -> dict:
    method, path, _, _ = EXAMPLES[operation_id]
    return DOCUMENT["paths"][path][method]


def _other_rule(case: Boundary, answer: tuple[int, str | None, str]) -> bool:
    """Whether the answer is a refusal by a rule no schema states (the operation's
    `x-mlflow-rule`s and the document's)."""
    rules = [
        *DOCUMENT.get("x-mlflow-rule", ()),
        *annotated_rules(_operation(case.operation_id), DOCUMENT),
    ]
    return answer[0] == 400 and refused_by(rules, answer[1], answer[2])


def _cases() -> list[Boundary]:
    seen, out = set(), []
    for b in boundaries(DOCUMENT):
        key = (b.operation_id, b.location, b.field, json.dumps(b.value), b.inside)
        if key not in seen:
            seen.add(key)
            out.append(b)
    return out


CASES = _cases()


@pytest.fixture(scope="module")
def oracle(subject, tmp_path_factory) -> Iterator:
    """A fresh mlflow server 2.7.1 on the subject's backend: SQLite, or a PostgreSQL database of
    its own (2.7.1 keeps some rules on one backend only)."""
    workdir = tmp_path_factory.mktemp(f"boundary-oracle-{subject.backend}")
    with started_on(
        subject.backend, lambda uri: start_oracle(workdir, workers=1, backend_store_uri=uri)
    ) as peer:
        yield peer


@pytest.fixture(scope="module")
def fresh_subject(subject, tmp_path_factory) -> Iterator:
    """A fresh server of the subject's kind and backend: the boundary cases change what they
    touch (the Default experiment's tags, say), which the scenarios that share the session's
    subject do not expect."""
    workdir = tmp_path_factory.mktemp(f"boundary-subject-{subject.backend}")
    with started_on(subject.backend, lambda uri: start_subject(workdir, uri)) as peer:
        yield peer


class Server:
    """One server's side of the replay: the experiment, run and model version the example
    requests refer to, made once, and a fresh run or model where a case needs its own."""

    def __init__(self, url: str, token: str):
        self.url = url
        self.token = token
        self.session = requests.Session()
        self.n = 0
        self.experiment_id = self.call("POST", "experiments/create", body={"name": self.unique()})[
            "experiment_id"
        ]
        self.run_id = self.new_run()
        self.model = self.new_model()
        self.call(
            "POST",
            "model-versions/create",
            body={"name": self.model, "source": "s3://bucket/model", "run_id": self.run_id},
        )

    def unique(self) -> str:
        self.n += 1
        return f"boundary-{self.token}-{self.n}"

    def call(self, method: str, path: str, query=None, body=None) -> dict:
        response = self.send(method, f"/api/2.0/mlflow/{path}", query, body)
        assert response.status_code == 200, (path, response.text)
        return response.json()

    def send(self, method: str, path: str, query=None, body=None) -> requests.Response:
        data = None if body is None else json.dumps(body)
        headers = {} if body is None else {"Content-Type": "application/json"}
        return self.session.request(
            method.upper(), self.url + path, params=query, data=data, headers=headers, timeout=60
        )

    def new_run(self) -> str:
        body = {"experiment_id": self.experiment_id, "start_time": 0}
        return self.call("POST", "runs/create", body=body)["run"]["info"]["run_id"]

    def new_model(self) -> str:
        return self.call("POST", "registered-models/create", body={"name": self.unique()})[
            "registered_model"
        ]["name"]

    def bind(self, case: Boundary, example):
        """The example request with its ids made this server's, then the case's field set."""
        run_id = self.new_run() if case.operation_id in RUN_WRITERS else self.run_id
        model = self.new_model() if case.operation_id == "renameRegisteredModel" else self.model
        registry = "/registered-models/" in case.path or "/model-versions/" in case.path
        fresh_name = case.operation_id in ("createExperiment", "createRegisteredModel")

        def rebind(key, value):
            if isinstance(value, str) and EXAMPLE_RUN_ID in value:
                return value.replace(EXAMPLE_RUN_ID, run_id)
            if key == "experiment_id":
                return self.experiment_id
            if key == "experiment_ids":
                return [self.experiment_id]
            if key == "name" and fresh_name:
                return self.unique()
            if key == "new_name":
                return self.unique()
            if key == "name" and registry:
                return model
            if key == "version" and registry:
                return "1"
            return value

        bound = {k: rebind(k, v) for k, v in example.items()}
        return case.request(bound)

    def answer(self, case: Boundary) -> tuple[int, str | None, str]:
        method, path, query, body = EXAMPLES[case.operation_id]
        if case.location == "query":
            response = self.send(method, path, query=self.bind(case, query))
        else:
            response = self.send(method, path, query=None, body=self.bind(case, body))
        try:
            body = response.json()
            code, message = body.get("error_code"), str(body.get("message", ""))
        except (ValueError, AttributeError):
            code, message = None, ""
        return response.status_code, code, message


@pytest.fixture(scope="module")
def servers(oracle, fresh_subject) -> tuple[Server, Server]:
    token = uuid.uuid4().hex[:8]
    return Server(oracle.url, token), Server(fresh_subject.url, token)


@pytest.fixture(scope="module")
def both() -> Iterator[ThreadPoolExecutor]:
    """Asks both servers at once (each server's side is used by one thread at a time)."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        yield pool


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_boundary(case: Boundary, servers, subject, both):
    oracle_side, subject_side = servers
    asked = [both.submit(side.answer, case) for side in servers]
    oracle_answer, subject_answer = (future.result() for future in asked)
    expected, actual = oracle_answer[:2], subject_answer[:2]
    if case.inside:
        agree = expected == actual and (
            actual != REFUSED
            or (_other_rule(case, oracle_answer) and _other_rule(case, subject_answer))
        )
    else:
        agree = expected == actual == REFUSED
    if agree:
        assert boundary_divergence(case.id, subject.backend) is None, (
            f"{case.id}: registered as a divergence on {subject.backend}, but both servers "
            "now agree (remove it)"
        )
        return
    reason = boundary_divergence(case.id, subject.backend)
    assert reason is not None, (
        f"{case.rule} ({'inside' if case.inside else 'outside'}): "
        f"mlflow server 2.7.1 answered {expected}, the reference {actual}"
    )
    # Where 2.7.1 does not keep the rule, the reference still keeps the spec's.
    assert (actual == REFUSED) != case.inside, (case.id, reason, subject_answer)
