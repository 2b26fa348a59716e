"""The model registry as GitLab documents it, through the real MLflow client."""

from __future__ import annotations

import mlflow
import pytest
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException, RestException

from tests.gitlab.conftest import package_file, unique


def _labels(versions) -> list[str]:
    return [v.aliases[0] for v in versions]


def test_a_model_comes_with_its_experiment(alpha):
    client = MlflowClient()
    name = unique("model")
    client.create_registered_model(name)
    experiment = client.get_experiment_by_name(f"[model]{name}")
    assert experiment.lifecycle_stage == "active"
    with pytest.raises(RestException, match="belongs to model") as e:
        client.delete_experiment(experiment.experiment_id)
    assert e.value.error_code == "INVALID_PARAMETER_VALUE"
    client.delete_registered_model(name)
    assert client.get_experiment(experiment.experiment_id).lifecycle_stage == "deleted"
    # Created again, the model takes its experiment back.
    client.create_registered_model(name)
    assert client.get_experiment_by_name(f"[model]{name}").lifecycle_stage == "active"


def test_a_model_may_not_take_an_experiment_name(alpha):
    client = MlflowClient()
    name = unique("taken")
    client.create_experiment(name)
    with pytest.raises(RestException, match="cannot be the name of an existing experiment") as e:
        client.create_registered_model(name)
    assert e.value.error_code == "INVALID_PARAMETER_VALUE"
    assert client.search_registered_models(f"name='{name}'") == []


def test_tags_are_ignored_on_model_create(alpha):
    client = MlflowClient()
    name = unique("tagged")
    created = client.create_registered_model(name, tags={"team": "a"}, description="d")
    assert created.tags == {}
    assert client.get_registered_model(name).tags == {}


def test_ignored_tags_are_not_checked_either(alpha):
    """Tags that stock MLflow refuses (no key, a bad name, a value past 5000 characters) are
    ignored like any others: GitLab's contract takes any list there."""
    for tags in (
        [{"value": "x"}],
        [{"key": "a!", "value": "x"}],
        [{"key": "k", "value": "v" * 5001}],
    ):
        name = unique("ignored-tags")
        answer = alpha.call("POST", "registered-models/create", json={"name": name, "tags": tags})
        assert answer.status_code == 200, answer.text
        assert answer.json()["registered_model"].get("tags", []) == []


def test_versions_are_semver(alpha):
    client = MlflowClient()
    name = unique("semver")
    client.create_registered_model(name)
    first = client.create_model_version(name, source="")
    second = client.create_model_version(name, source="")
    assert (first.aliases, second.aliases) == (["1.0.0"], ["1.0.1"])
    # The version field stays a number: the client's models:/ resolution takes int(version).
    assert (first.version, second.version) == ("1", "2")
    # Chosen by tag; ordered as SemVer, not as text (1.10.0 > 1.9.0).
    client.create_model_version(name, source="", tags={"gitlab.version": "1.10.0"})
    client.create_model_version(name, source="", tags={"gitlab.version": "1.9.0"})
    assert client.create_model_version(name, source="").aliases == ["1.10.1"]
    assert _labels(client.get_latest_versions(name)) == ["1.10.1"]
    assert _labels(client.get_registered_model(name).latest_versions) == ["1.10.1"]
    assert client.get_model_version(name, "1.9.0").version == "4"


@pytest.mark.parametrize("version", ["1.0", "v1.0.0", "one", "1.0.0.0"])
def test_a_version_that_is_not_semver_is_400(alpha, version):
    client = MlflowClient()
    name = unique("bad-version")
    client.create_registered_model(name)
    with pytest.raises(RestException, match="semantic version") as e:
        client.create_model_version(name, source="", tags={"gitlab.version": version})
    assert e.value.error_code == "INVALID_PARAMETER_VALUE"
    assert client.get_latest_versions(name) == []


def test_a_duplicate_version_is_400(alpha):
    client = MlflowClient()
    name = unique("duplicate")
    client.create_registered_model(name)
    client.create_model_version(name, source="", tags={"gitlab.version": "2.0.0"})
    with pytest.raises(RestException, match="2.0.0") as e:
        client.create_model_version(name, source="", tags={"gitlab.version": "2.0.0"})
    assert e.value.error_code == "RESOURCE_ALREADY_EXISTS"
    assert _labels(client.get_latest_versions(name)) == ["2.0.0"]


def test_each_version_is_backed_by_a_run(alpha, tmp_path):
    client = MlflowClient()
    name = unique("backed")
    client.create_registered_model(name)
    version = client.create_model_version(name, source="")
    run = client.get_run(version.run_id)
    assert run.info.experiment_id == client.get_experiment_by_name(f"[model]{name}").experiment_id
    client.log_param(version.run_id, "p", "1")
    client.log_metric(version.run_id, "m", 0.5)
    local = tmp_path / "weights.txt"
    local.write_text("w")
    client.log_artifact(version.run_id, str(local), artifact_path="")
    run = client.get_run(version.run_id)
    assert (run.data.params, run.data.metrics) == ({"p": "1"}, {"m": 0.5})
    assert package_file(run, "weights.txt") == "w"
    with pytest.raises(RestException, match="backs a version") as e:
        client.delete_run(version.run_id)
    assert e.value.error_code == "INVALID_PARAMETER_VALUE"


def test_source_run_id_run_link_and_await_creation_for_are_ignored(alpha):
    client = MlflowClient()
    name = unique("ignored")
    client.create_registered_model(name)
    mlflow.set_experiment(unique("other"))
    with mlflow.start_run() as other:
        pass
    version = client.create_model_version(
        name,
        source="s3://bucket/elsewhere",
        run_id=other.info.run_id,
        run_link="https://example.invalid/run",
        await_creation_for=0,
    )
    assert version.run_id != other.info.run_id
    assert version.run_link == ""
    assert version.source == f"mlflow-artifacts:/{version.run_id}"
    assert client.get_model_version_download_uri(name, version.version) == version.source


def test_get_latest_versions_ignores_stages(alpha):
    client = MlflowClient()
    name = unique("stages")
    client.create_registered_model(name)
    client.create_model_version(name, source="", tags={"gitlab.version": "3.0.0"})
    client.create_model_version(name, source="", tags={"gitlab.version": "2.5.0"})
    for stages in (None, ["Production"], ["Staging", "Archived"]):
        assert _labels(client.get_latest_versions(name, stages=stages)) == ["3.0.0"]


def test_no_experiment_zero(alpha):
    client = MlflowClient()
    with pytest.raises(RestException) as e:
        client.get_experiment("0")
    assert e.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    # Without set_experiment the client uses experiment "0": GitLab has none.
    with pytest.raises(MlflowException, match="id=0"):
        mlflow.start_run()


def test_every_success_is_200(gitlab):
    name = unique("status")
    created = gitlab.call("POST", "registered-models/create", json={"name": name})
    version = gitlab.call("POST", "model-versions/create", json={"name": name, "source": ""})
    assert (created.status_code, version.status_code) == (200, 200)
    assert version.json()["model_version"]["aliases"] == ["1.0.0"]


def test_experiment_ids_are_numbered_per_project(gitlab, use_project):
    """Each project numbers its experiments from 1, as GitLab does; the same id in two projects
    names two experiments."""
    from tests.gitlab.conftest import BETA, TOKEN_BOTH

    fresh = {}
    for project in (1, BETA):
        use_project(gitlab, project=project, token=TOKEN_BOTH)
        fresh[project] = mlflow.create_experiment(unique(f"numbered-{project}"))
    ids = {p: int(i) for p, i in fresh.items()}
    assert all(i >= 1 for i in ids.values())
    use_project(gitlab, project=BETA, token=TOKEN_BOTH)
    client = MlflowClient()
    # Project 2's experiments are numbered 1..n without gaps, whatever project 1 holds.
    numbers = sorted(
        int(client.get_experiment(str(n)).experiment_id) for n in range(1, ids[BETA] + 1)
    )
    assert numbers == list(range(1, ids[BETA] + 1))
    run = client.create_run(fresh[BETA])
    assert run.info.experiment_id == fresh[BETA]
    assert f"/packages/generic/ml_experiment_{fresh[BETA]}/" in run.info.artifact_uri
    assert client.get_experiment("1").name != ""
    use_project(gitlab, project=1, token=TOKEN_BOTH)
    assert MlflowClient().get_experiment("1").experiment_id == "1"
