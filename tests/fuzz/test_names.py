"""A schema-valid create in the stateful phase, and a rename that repeats a new name, take a name
nothing has; every other case keeps the name it was generated with."""

from __future__ import annotations

from types import SimpleNamespace

from schemathesis.generation import GenerationMode
from schemathesis.generation.meta import TestPhase

from conformance.fuzz.names import with_fresh_name


def _case(operation_id: str, phase: TestPhase, body, mode=GenerationMode.POSITIVE):
    operation = SimpleNamespace(definition=SimpleNamespace(raw={"operationId": operation_id}))
    meta = SimpleNamespace(phase=SimpleNamespace(name=phase), generation=SimpleNamespace(mode=mode))
    return SimpleNamespace(operation=operation, meta=meta, body=body)


def test_a_create_that_starts_a_chain_takes_a_name_no_request_took():
    cases = [
        _case(operation_id, TestPhase.STATEFUL, {"name": "taken", "x": 1})
        for operation_id in ("createExperiment", "createRegisteredModel")
        for _ in range(3)
    ]
    names = {with_fresh_name(case).body["name"] for case in cases}
    assert len(names) == 6 and "taken" not in names
    # The rest of the body stays as generated.
    case = with_fresh_name(_case("createExperiment", TestPhase.STATEFUL, {"name": "a", "x": 1}))
    assert case.body["x"] == 1


def test_other_cases_keep_their_generated_names():
    for case in (
        # Other phases prove the refusal of a taken name, with generated ones.
        _case("createRegisteredModel", TestPhase.FUZZING, {"name": "taken"}),
        _case("createRegisteredModel", TestPhase.COVERAGE, {"name": "taken"}),
        # Schema-violating data is left as it is.
        _case("createExperiment", TestPhase.STATEFUL, {"name": "taken"}, GenerationMode.NEGATIVE),
        _case("createExperiment", TestPhase.STATEFUL, {"name": 5}),
        # Operations that name nothing new.
        _case("setTag", TestPhase.STATEFUL, {"name": "taken"}),
        _case("getExperimentByName", TestPhase.STATEFUL, None),
    ):
        assert with_fresh_name(case).body == case.body


def test_a_rename_takes_a_new_name_only_where_it_repeats_one():
    def renamed(operation_id: str, new_name: str) -> str:
        body = {"experiment_id": "1", "new_name": new_name}
        return with_fresh_name(_case(operation_id, TestPhase.FUZZING, body)).body["new_name"]

    assert renamed("updateExperiment", "first-rename") == "first-rename"
    assert renamed("updateExperiment", "other-rename") == "other-rename"
    repeated = renamed("updateExperiment", "first-rename")
    assert repeated not in ("first-rename", "other-rename")
    # Each operation renames in its own namespace: a model may take an experiment's new name.
    assert renamed("renameRegisteredModel", "first-rename") == "first-rename"
