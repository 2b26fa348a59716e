"""Seeding a target before it is fuzzed: what seed.py creates exists, live, on the server, and the
settings file dictionaries.py writes binds it to the parameters that take it, as schemathesis
itself reads that file; seeded_cases.py puts it into the examples and coverage phases' cases."""

from __future__ import annotations

import pytest
import requests
import schemathesis
from schemathesis.config import SchemathesisConfig
from schemathesis.config._dictionaries import ParameterDictionaryBinding

from conformance.fuzz.dictionaries import FRESH, IDS, seeded_settings
from conformance.fuzz.harness import CONFIG, SPEC, gitlab_target
from conformance.fuzz.seed import LIVE_ALIAS, TAG_KEYS, Seeder, Seeds, served_operations
from conformance.fuzz.seeded_cases import bindings, with_seeded_values
from conformance.resources import GITLAB_OPENAPI_PATH
from tools.peers import start_reference

GITLAB_CONFIG = (
    "projects: [{id: 1, path: group/project}]\ntokens: [{token: t, scope: api, projects: [1]}]\n"
)


@pytest.fixture(scope="module")
def stock(tmp_path_factory):
    """A reference server, seeded: its API root and what was seeded."""
    with start_reference(tmp_path_factory.mktemp("seeded")) as server:
        seeds = Seeder(server.url, {}, served_operations(SPEC)).seed()
        yield f"{server.url}/api/2.0/mlflow", seeds


def test_seeded_runs_are_active_with_a_param_metric_tags_and_a_file(stock):
    api, seeds = stock
    for run_id in seeds.values["run_ids"] + seeds.values["runs_to_delete"]:
        run = requests.get(f"{api}/runs/get", params={"run_id": run_id}, timeout=10).json()["run"]
        assert run["info"]["lifecycle_stage"] == "active"
    for run_id in seeds.values["run_ids"]:
        data = requests.get(f"{api}/runs/get", params={"run_id": run_id}, timeout=10).json()
        data = data["run"]["data"]
        assert {t["key"] for t in data["tags"]} >= set(TAG_KEYS)
        assert data["params"] == [{"key": "seeded", "value": "yes"}]
        assert [m["key"] for m in data["metrics"]] == ["seeded"]
        listed = requests.get(f"{api}/artifacts/list", params={"run_id": run_id}, timeout=10).json()
        assert {f["path"] for f in listed["files"]} == {"MLmodel", "to-delete.txt"}
    root = api.replace("/api/2.0/mlflow", "/api/2.0/mlflow-artifacts/artifacts")
    for path in seeds.values["artifact_paths"] + seeds.values["artifacts_to_delete"]:
        assert requests.get(f"{root}/{path}", timeout=10).content == b"seeded"


def test_seeded_models_have_versions_tags_and_aliases(stock):
    api, seeds = stock
    versions = seeds.values["model_versions"] + seeds.values["versions_to_delete"]
    for name in seeds.values["model_names"]:
        for version in versions:
            query = {"name": name, "version": version}
            found = requests.get(f"{api}/model-versions/get", params=query, timeout=10)
            assert {t["key"] for t in found.json()["model_version"]["tags"]} == set(TAG_KEYS)
        query = {"name": name, "alias": LIVE_ALIAS}
        alias = requests.get(f"{api}/registered-models/alias", params=query, timeout=10)
        assert alias.json()["model_version"]["version"] == seeds.values["model_versions"][0]
    for name in seeds.values["models_to_rename"] + seeds.values["models_to_delete"]:
        query = {"name": name}
        assert requests.get(f"{api}/registered-models/get", params=query, timeout=10).ok
    for name in seeds.values["fresh_names"]:
        query = {"name": name}
        assert (
            requests.get(f"{api}/registered-models/get", params=query, timeout=10).status_code
            == 404
        )


def test_seeded_filters_select_seeded_things(stock):
    api, seeds = stock
    for name, experiment_id in zip(
        seeds.values["experiment_names"], seeds.values["experiment_ids"], strict=True
    ):
        query = {"experiment_name": name}
        found = requests.get(f"{api}/experiments/get-by-name", params=query, timeout=10)
        assert found.json()["experiment"]["experiment_id"] == experiment_id
    for text, experiment_id in zip(
        seeds.values["experiment_filters"], seeds.values["experiment_ids"], strict=True
    ):
        body = {"filter": text, "max_results": 10}
        found = requests.post(f"{api}/experiments/search", json=body, timeout=10)
        assert [e["experiment_id"] for e in found.json()["experiments"]] == [experiment_id]
    body = {
        "experiment_ids": seeds.values["experiment_ids"],
        "filter": seeds.values["run_filters"][0],
    }
    runs = requests.post(f"{api}/runs/search", json=body, timeout=10).json()["runs"]
    assert {r["info"]["run_id"] for r in runs} == set(seeds.values["run_ids"])
    for text in seeds.values["model_filters"]:
        query = {"filter": text}
        found = requests.get(f"{api}/registered-models/search", params=query, timeout=10).json()
        assert len(found["registered_models"]) == 1


def test_gitlab_is_seeded_with_the_operations_it_serves(tmp_path):
    config = tmp_path / "gitlab.yaml"
    config.write_text(GITLAB_CONFIG)
    with start_reference(tmp_path, dialect="gitlab", gitlab_config=config) as server:
        url = f"{server.url}/api/v4/projects/1/ml/mlflow"
        target = gitlab_target("gitlab", url, {"Authorization": "Bearer t"})
        seeds = Seeder(target.base_url, target.headers, served_operations(target.spec)).seed()
        # No aliases, version tags or artifact uploads in GitLab's contract; a model version's
        # files are listed under its run's id.
        assert "aliases" not in seeds.values and "artifact_paths" not in seeds.values
        folders = seeds.values["artifact_folders"]
        assert len(folders) == 9
        proxy = f"{url}/api/2.0/mlflow-artifacts/artifacts"
        for folder in folders:
            listed = requests.get(
                proxy, params={"path": folder}, headers=target.headers, timeout=10
            )
            assert listed.status_code == 200, listed.text
        assert {"run_ids", "model_names", "model_versions", "models_to_delete"} <= set(seeds.values)


def _schema(seeds: Seeds, spec=SPEC, tmp_path=None):
    config = tmp_path / "settings.toml"
    config.write_text(seeded_settings(CONFIG, seeds, served_operations(spec)))
    return schemathesis.openapi.from_path(spec, config=SchemathesisConfig.from_path(config))


SEEDS = Seeds(
    {
        "run_ids": ["a" * 32, "b" * 32],
        "experiment_ids": ["1"],
        "experiment_names": ["e"],
        "runs_to_delete": ["c" * 32],
        "model_names": ["m"],
        "model_versions": ["1", "2"],
        "aliases": ["champion"],
        "fresh_names": ["fresh"],
    }
)


def _operation(schema, operation_id: str):
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.definition.raw.get("operationId") == operation_id:
            return operation
    raise LookupError(operation_id)


def test_the_settings_bind_each_operation_to_its_seeds(tmp_path):
    schema = _schema(SEEDS, tmp_path=tmp_path)
    config = schema.config
    # The base settings stay (the stateful phase's among them); the seeds come after them.
    assert config.phases.stateful.max_steps == 100
    assert config.dictionaries["run_ids"].entries[1].value == "b" * 32
    # Every operation's run_id draws live runs; deleting takes its own, always, and no ids from
    # earlier answers.
    assert config.parameters["body.run_id"] == ParameterDictionaryBinding("run_ids", IDS)
    delete = config.operations.get_for_operation(_operation(schema, "deleteRun"))
    assert delete.parameters == {"body.run_id": ParameterDictionaryBinding("runs_to_delete", 1.0)}
    assert delete.phases.fuzzing.extra_data_sources.responses is False
    assert delete.phases.coverage.extra_data_sources.responses is False
    # A model version: a seeded model's name and one of its versions, in the query or the body.
    assert bindings(_operation(schema, "getModelVersion")) == {
        "body.run_id": "run_ids",
        "query.run_id": "run_ids",
        "body.name": "model_names",
        "query.name": "model_names",
        "body.version": "model_versions",
        "query.version": "model_versions",
    }
    rename = config.operations.get_for_operation(_operation(schema, "renameRegisteredModel"))
    assert rename.parameters["body.new_name"] == ParameterDictionaryBinding("fresh_names", FRESH)
    # The operations that start the stateful phase's chains read and tag seeded experiments.
    assert bindings(_operation(schema, "getExperiment"))["query.experiment_id"] == "experiment_ids"
    tag = bindings(_operation(schema, "setExperimentTag"))
    assert tag["body.experiment_id"] == "experiment_ids"
    by_name = bindings(_operation(schema, "getExperimentByName"))
    assert by_name["query.experiment_name"] == "experiment_names"
    # Nothing seeded, nothing bound.
    assert "body.experiment_id" not in bindings(_operation(schema, "deleteExperiment"))


def test_gitlabs_settings_name_only_operations_it_serves(tmp_path):
    text = seeded_settings(CONFIG, SEEDS, served_operations(GITLAB_OPENAPI_PATH))
    assert '"getModelVersionByAlias"' not in text and '"deleteModelVersion"' not in text
    assert 'include-operation-id = "getModelVersion"' in text


def test_a_seeded_case_takes_the_next_seeded_value_of_each_parameter_it_has(tmp_path):
    schema = _schema(SEEDS, tmp_path=tmp_path)
    alias = _operation(schema, "getModelVersionByAlias")
    case = with_seeded_values(alias.Case(query={"name": "fraud-detector", "alias": "0"}))
    # run_id is bound everywhere, but this operation has no such parameter: none is added.
    assert case.query == {"name": "m", "alias": "champion"}
    log = _operation(schema, "logParam")
    first = with_seeded_values(log.Case(body={"run_id": "x" * 32, "key": "k", "value": "v"}))
    second = with_seeded_values(log.Case(body={"run_id": "x" * 32, "key": "k", "value": "v"}))
    assert {first.body["run_id"], second.body["run_id"]} == {"a" * 32, "b" * 32}
    assert first.body["key"] == second.body["key"] == "fresh"
    # A body field the case leaves out stays out.
    assert "run_id" not in with_seeded_values(log.Case(body={"key": "k", "value": "v"})).body
