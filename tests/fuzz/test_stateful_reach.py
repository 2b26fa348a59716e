"""The stateful phase's reach is read from schemathesis' NDJSON events: a link counts once a
scenario followed it with its values, and a linked operation is reached through any of its links."""

from __future__ import annotations

import json

import yaml

from conformance.fuzz.harness import SPEC
from conformance.fuzz.stateful import linked_operations, links, stateful_reach
from conformance.resources import GITLAB_OPENAPI_PATH

PREFIX = "/api/2.0/mlflow"
CREATE_RUN = f"POST {PREFIX}/experiments/create -> [200] CreateRun -> POST {PREFIX}/runs/create"
GET_RUN = f"POST {PREFIX}/runs/create -> [200] GetRun -> GET {PREFIX}/runs/get"


def _scenario(phase: str, *transitions: tuple[str, bool]) -> dict:
    cases = {
        f"case{i}": {"value": {}, "transition": {"id": link}, "is_transition_applied": applied}
        for i, (link, applied) in enumerate(transitions)
    }
    cases["root"] = {"value": {}, "transition": None, "is_transition_applied": False}
    return {"ScenarioFinished": {"phase": phase, "recorder": {"cases": cases}}}


def test_reach_counts_only_links_followed_with_their_values(tmp_path):
    events = [
        {"PhaseStarted": {"phase": {"name": "stateful"}, "payload": {"transitions_selected": 50}}},
        _scenario("stateful", (CREATE_RUN, True), (GET_RUN, False)),
        # A link id in another phase's events (it cannot be, but the phase decides) is not reach.
        _scenario("fuzzing", (GET_RUN, True)),
        # A scenario that sent nothing records no cases at all.
        {"ScenarioFinished": {"phase": "stateful", "recorder": {"label": "Stateful tests"}}},
    ]
    report = tmp_path / "run.ndjson"
    report.write_text("".join(json.dumps(e) + "\n" for e in events))
    reach = stateful_reach(report, SPEC)
    assert reach.links_total == 50
    assert reach.links_covered == {CREATE_RUN}
    assert "POST /api/2.0/mlflow/runs/create" in reach.reached
    assert "GET /api/2.0/mlflow/runs/get" in reach.unreached
    assert "POST /api/2.0/mlflow/runs/create" not in reach.unreached
    assert reach.summary().startswith("stateful: 1/50 links covered, 1/")


def test_linked_operations_are_the_targets_of_the_specs_links():
    doc = yaml.safe_load(SPEC.read_text())
    linked = linked_operations(SPEC)
    create_run = doc["paths"]["/api/2.0/mlflow/runs/create"]["post"]["responses"]["200"]["links"]
    assert {"GetRun", "UploadArtifact", "GetArtifact"} <= set(create_run)
    assert {
        "GET /api/2.0/mlflow/runs/get",
        "PUT /api/2.0/mlflow-artifacts/artifacts/{artifact_path}",
        "GET /get-artifact",
    } <= linked
    # An operation no link leads to: a creator of what the others use.
    assert "POST /api/2.0/mlflow/experiments/create" not in linked
    # GitLab's contract keeps only the links between operations it serves.
    assert linked_operations(GITLAB_OPENAPI_PATH) < linked


def _link_sources(spec, operation_id: str) -> set[str]:
    """The operationIds whose answers some link of `spec` leads from into `operation_id`."""
    return {source for source, to in links(spec)[1] if to == operation_id}


def test_registered_models_get_is_led_to_from_more_than_a_create_in_both_contracts():
    # A registered model's create is one chain start among many, its answer feeds six links in
    # GitLab's contract, and at 100 examples a phase followed none into registered-models/get.
    # GitLab serves no registered-model tags, whose set leads there in the stock contract; an
    # update answers the model too (as 2.7.1's does), in both.
    stock = _link_sources(SPEC, "getRegisteredModel")
    assert stock == {"createRegisteredModel", "updateRegisteredModel", "setRegisteredModelTag"}
    gitlab = _link_sources(GITLAB_OPENAPI_PATH, "getRegisteredModel")
    assert gitlab == {"createRegisteredModel", "updateRegisteredModel"}
