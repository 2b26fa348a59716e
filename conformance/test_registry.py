"""Model registry: registered models and model versions with MlflowClient, as the seed uses it."""

from __future__ import annotations

import pytest
from mlflow.exceptions import MlflowException

from conformance import compat


def _source(sandbox, run_id: str) -> str:
    """A remote model location for a version, inside the artifacts of the version's run (the
    server stores it; nothing is read from it). mlflow server 3.x refuses a source that the run
    named with it does not contain."""
    return sandbox.client.get_run(run_id).info.artifact_uri.rstrip("/") + "/model"


def _loose_source(name: str) -> str:
    """A remote model location that belongs to no run."""
    return f"mlflow-artifacts:/{name}/model"


def _model(sandbox, **kwargs) -> str:
    name = sandbox.name("model")
    sandbox.client.create_registered_model(name, **kwargs)
    return name


def _version(sandbox, name: str, **kwargs):
    """A new version of model `name`: of a fresh run's model location, unless told otherwise."""
    if "source" not in kwargs:
        kwargs.setdefault("run_id", sandbox.run())
        kwargs["source"] = _source(sandbox, kwargs["run_id"])
    return sandbox.client.create_model_version(name, **kwargs)


@pytest.mark.row("create_registered_model")
def test_create_registered_model(sandbox):
    """MlflowClient.create_registered_model(name, description=...)"""
    name = sandbox.name("model")
    model = sandbox.client.create_registered_model(name, description="Model description")
    assert model.name == name
    assert sandbox.client.get_registered_model(name).description == "Model description"


@pytest.mark.probe("create_registered_model.tags_ignored")
def test_create_registered_model_with_tags(sandbox):
    """create_registered_model(name, tags={...}): the tags are on the model"""
    name = _model(sandbox, tags={"task": "classification"})
    tags = sandbox.client.get_registered_model(name).tags
    assert tags == {"task": "classification"}, f"tags read back: {tags}"


@pytest.mark.probe("create_registered_model.name_unique_in_project")
def test_create_registered_model_twice(sandbox):
    """creating a registered model with a taken name is RESOURCE_ALREADY_EXISTS"""
    name = _model(sandbox)
    with pytest.raises(MlflowException) as raised:
        sandbox.client.create_registered_model(name)
    assert raised.value.error_code == "RESOURCE_ALREADY_EXISTS", raised.value.error_code


@pytest.mark.probe("create_registered_model.name_not_experiment_name")
def test_create_registered_model_named_like_an_experiment(sandbox):
    """a registered model may take the name of an existing experiment"""
    name = sandbox.name("shared-name")
    sandbox.client.create_experiment(name)
    assert sandbox.client.create_registered_model(name).name == name


@pytest.mark.probe("create_registered_model.model_experiment")
def test_create_registered_model_leaves_experiments_alone(sandbox):
    """creating a registered model creates no experiment ("[model]<name>")"""
    name = _model(sandbox)
    found = sandbox.client.get_experiment_by_name(f"[model]{name}")
    assert found is None, f"an experiment {found.name!r} appeared with the model"


@pytest.mark.row("get_registered_model")
def test_get_registered_model(sandbox):
    """MlflowClient.get_registered_model(name) returns the model"""
    name = _model(sandbox, description="d")
    model = sandbox.client.get_registered_model(name)
    assert (model.name, model.description) == (name, "d")


@pytest.mark.row("delete_registered_model")
def test_delete_registered_model(sandbox):
    """MlflowClient.delete_registered_model(name): the model is gone"""
    name = _model(sandbox)
    sandbox.client.delete_registered_model(name)
    with pytest.raises(MlflowException) as raised:
        sandbox.client.get_registered_model(name)
    assert raised.value.error_code == "RESOURCE_DOES_NOT_EXIST", raised.value.error_code


@pytest.mark.row("update_registered_model")
def test_update_registered_model(sandbox):
    """MlflowClient.update_registered_model(name, description=...)"""
    name = _model(sandbox, description="old")
    sandbox.client.update_registered_model(name, description="New description")
    assert sandbox.client.get_registered_model(name).description == "New description"


@pytest.mark.row("create_model_version")
def test_create_model_version(sandbox):
    """MlflowClient.create_model_version(name, source, description=...)"""
    name = _model(sandbox)
    version = _version(sandbox, name, description="Model version description")
    assert version.name == name and version.version
    got = sandbox.client.get_model_version(name, version.version)
    assert got.description == "Model version description"


@pytest.mark.probe("create_model_version.run_id_ignored")
def test_create_model_version_with_run_id(sandbox):
    """create_model_version(..., run_id=...): the version names that run"""
    run_id = sandbox.run()
    name = _model(sandbox)
    version = _version(sandbox, name, run_id=run_id)
    assert sandbox.client.get_model_version(name, version.version).run_id == run_id


@pytest.mark.probe("create_model_version.version_is_run")
def test_create_model_version_without_run(sandbox):
    """a version created without run_id has no run"""
    name = _model(sandbox)
    version = _version(sandbox, name, source=_loose_source(name))
    run_id = sandbox.client.get_model_version(name, version.version).run_id
    assert not run_id, f"the version has run {run_id!r}"


@pytest.mark.probe("create_model_version.from_run_unsupported")
def test_register_model_from_run(sandbox):
    """mlflow.register_model("runs:/<run_id>/", name) makes a version of that run's files"""
    import mlflow

    run_id = sandbox.run()
    name = _model(sandbox)
    version = mlflow.register_model(f"runs:/{run_id}/", name)
    got = sandbox.client.get_model_version(name, version.version)
    assert got.run_id == run_id, f"version's run_id: {got.run_id!r}"
    artifact_uri = sandbox.client.get_run(run_id).info.artifact_uri
    assert got.source.rstrip("/") == artifact_uri.rstrip("/"), f"source: {got.source!r}"


@pytest.mark.probe("create_model_version.source_ignored")
def test_create_model_version_source_kept(sandbox):
    """create_model_version(name, source): the version's source is that source"""
    name = _model(sandbox)
    run_id = sandbox.run()
    version = _version(sandbox, name, run_id=run_id, source=_source(sandbox, run_id))
    got = sandbox.client.get_model_version(name, version.version)
    assert got.source == _source(sandbox, run_id), f"source: {got.source!r}"


@pytest.mark.probe("create_model_version.run_link_ignored")
def test_create_model_version_run_link_kept(sandbox):
    """create_model_version(..., run_link=...): the version keeps the link"""
    name = _model(sandbox)
    link = "https://ci.example/jobs/1"
    version = _version(sandbox, name, run_link=link)
    got = sandbox.client.get_model_version(name, version.version)
    assert got.run_link == link, f"run_link: {got.run_link!r}"


@pytest.mark.probe("create_model_version.await_creation_for_ignored")
def test_create_model_version_awaited(sandbox):
    """create_model_version(..., await_creation_for=10) returns a READY version"""
    name = _model(sandbox)
    version = _version(sandbox, name, await_creation_for=10)
    assert version.status == "READY", f"status: {version.status}"


@pytest.mark.probe("create_model_version.version_auto_increment")
def test_create_model_version_numbers_by_one(sandbox):
    """two versions without a version: the second's number is the first's plus one"""
    name = _model(sandbox)
    first, second = _version(sandbox, name).version, _version(sandbox, name).version
    assert (first, second) == ("1", "2"), f"versions: {first!r}, {second!r}"


@pytest.mark.probe("create_model_version.version_from_tag")
def test_create_model_version_gitlab_version_tag_is_a_tag(sandbox):
    """create_model_version(..., tags={"gitlab.version": "2.0.0"}) stores a tag, version 1"""
    name = _model(sandbox)
    version = _version(sandbox, name, tags={"gitlab.version": "2.0.0"})
    got = sandbox.client.get_model_version(name, version.version)
    assert (got.version, got.tags) == ("1", {"gitlab.version": "2.0.0"}), (got.version, got.tags)


@pytest.mark.probe("create_model_version.version_semver")
def test_create_model_version_integer_versions(sandbox):
    """model versions are numbered with integers"""
    name = _model(sandbox)
    version = _version(sandbox, name).version
    assert str(version).isdigit(), f"version {version!r}"


@pytest.mark.row("get_model_version")
def test_get_model_version(sandbox):
    """MlflowClient.get_model_version(name, version)"""
    name = _model(sandbox)
    version = _version(sandbox, name, description="v")
    got = sandbox.client.get_model_version(name, version.version)
    assert (got.name, got.version, got.description) == (name, version.version, "v")


@pytest.mark.row("get_latest_versions")
def test_get_latest_versions(sandbox):
    """MlflowClient.get_latest_versions(name) answers the latest version"""
    name = _model(sandbox)
    _version(sandbox, name)
    latest = _version(sandbox, name).version
    found = compat.method(sandbox.client, "get_latest_versions")(name)
    assert [v.version for v in found] == [latest]


@pytest.mark.probe("get_latest_versions.stages_ignored")
def test_get_latest_versions_by_stage(sandbox):
    """get_latest_versions(name, stages=["Staging"]) answers the latest version in Staging"""
    name = _model(sandbox)
    staged = _version(sandbox, name).version
    _version(sandbox, name)
    # Stages are deprecated from 2.9 on: a client that no longer has them is Not applicable.
    compat.method(sandbox.client, "transition_model_version_stage")(name, staged, "Staging")
    found = compat.method(sandbox.client, "get_latest_versions")(name, stages=["Staging"])
    assert [v.version for v in found] == [staged], [v.version for v in found]


@pytest.mark.probe("get_latest_versions.ordered_by_semver")
def test_get_latest_versions_is_the_newest(sandbox):
    """get_latest_versions answers the newest version, whatever gitlab.version tags say"""
    name = _model(sandbox)
    _version(sandbox, name, tags={"gitlab.version": "2.0.0"})
    newest = _version(sandbox, name, tags={"gitlab.version": "1.0.0"})
    found = [v.version for v in compat.method(sandbox.client, "get_latest_versions")(name)]
    assert found == [newest.version], f"answered {found}, newest is {newest.version!r}"


@pytest.mark.row("update_model_version")
def test_update_model_version(sandbox):
    """MlflowClient.update_model_version(name, version, description=...)"""
    name = _model(sandbox)
    version = _version(sandbox, name).version
    sandbox.client.update_model_version(name, version, description="New description")
    assert sandbox.client.get_model_version(name, version).description == "New description"
