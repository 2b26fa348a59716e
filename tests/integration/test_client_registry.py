"""The model registry through the real MLflow 2.7.1 client: MlflowClient, log_model with
registered_model_name, and models:/ URIs loaded with mlflow.pyfunc."""

from __future__ import annotations

import uuid

import mlflow
import numpy as np
import pytest
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException


def _name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def reference_server(artifact_server):
    """Every test here runs with artifacts in a local folder (SQLite, PostgreSQL) and in S3."""
    return artifact_server


@pytest.fixture
def client(tracking_uri):
    return MlflowClient()


@pytest.fixture
def trained():
    from sklearn.datasets import make_classification
    from sklearn.linear_model import LogisticRegression

    X, y = make_classification(n_samples=40, n_features=4, random_state=0)
    return LogisticRegression().fit(X, y), X


def _log_versions(name: str, trained, count: int) -> list[str]:
    """Log `count` runs' models registered under `name`; their run ids."""
    model, _ = trained
    mlflow.set_experiment(_name("registry"))
    run_ids = []
    for _ in range(count):
        with mlflow.start_run() as run:
            mlflow.sklearn.log_model(model, "model", registered_model_name=name)
        run_ids.append(run.info.run_id)
    return run_ids


def test_registered_model_lifecycle(client):
    name = _name("rm")
    created = client.create_registered_model(name, tags={"team": "ml"}, description="first")
    assert (created.name, created.description, created.tags) == (name, "first", {"team": "ml"})
    assert client.get_registered_model(name).creation_timestamp == created.creation_timestamp

    assert client.update_registered_model(name, description="second").description == "second"
    client.set_registered_model_tag(name, "stage", "beta")
    client.delete_registered_model_tag(name, "team")
    assert client.get_registered_model(name).tags == {"stage": "beta"}

    new_name = _name("rm-renamed")
    client.rename_registered_model(name, new_name)  # the 2.7.1 client returns None
    assert client.get_registered_model(new_name).tags == {"stage": "beta"}
    with pytest.raises(MlflowException) as e:
        client.get_registered_model(name)
    assert e.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    with pytest.raises(MlflowException) as e:
        client.create_registered_model(new_name)
    assert e.value.error_code == "RESOURCE_ALREADY_EXISTS"

    client.delete_registered_model(new_name)
    with pytest.raises(MlflowException) as e:
        client.get_registered_model(new_name)
    assert e.value.error_code == "RESOURCE_DOES_NOT_EXIST"


def test_versions_from_logged_models(client, trained):
    name = _name("mv")
    run_ids = _log_versions(name, trained, 3)
    versions = client.search_model_versions(f"name = '{name}'")
    assert sorted(v.version for v in versions) == ["1", "2", "3"]
    mv = client.get_model_version(name, "1")
    assert (mv.run_id, mv.status, mv.current_stage) == (run_ids[0], "READY", "None")
    assert mv.source.endswith(f"{run_ids[0]}/artifacts/model")
    assert client.get_model_version_download_uri(name, "1") == mv.source

    assert client.update_model_version(name, "1", description="best").description == "best"
    client.set_model_version_tag(name, "1", "validated", "yes")
    client.delete_model_version_tag(name, "1", "validated")
    client.set_model_version_tag(name, "2", "validated", "no")
    assert client.get_model_version(name, "2").tags == {"validated": "no"}

    client.transition_model_version_stage(name, "1", "Production")
    client.transition_model_version_stage(name, "2", "Staging")
    latest = {v.current_stage: v.version for v in client.get_latest_versions(name)}
    assert latest == {"Production": "1", "Staging": "2", "None": "3"}
    assert [v.version for v in client.get_latest_versions(name, stages=["Staging"])] == ["2"]

    moved = client.transition_model_version_stage(
        name, "3", "production", archive_existing_versions=True
    )
    assert moved.current_stage == "Production"
    assert client.get_model_version(name, "1").current_stage == "Archived"
    with pytest.raises(MlflowException) as e:
        client.transition_model_version_stage(name, "3", "Live")
    assert e.value.error_code == "INVALID_PARAMETER_VALUE"

    client.delete_model_version(name, "2")
    with pytest.raises(MlflowException) as e:
        client.get_model_version(name, "2")
    assert e.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    assert sorted(v.version for v in client.search_model_versions(f"name = '{name}'")) == [
        "1",
        "3",
    ]
    by_run = client.search_model_versions(f"run_id = '{run_ids[2]}'")
    assert [(v.name, v.version) for v in by_run] == [(name, "3")]
    client.delete_registered_model(name)
    assert client.search_model_versions(f"name = '{name}'") == []


def test_aliases(client, trained):
    name = _name("alias")
    _log_versions(name, trained, 2)
    client.set_registered_model_alias(name, "champion", "1")
    client.set_registered_model_alias(name, "challenger", "2")
    assert client.get_registered_model(name).aliases == {"champion": "1", "challenger": "2"}
    assert client.get_model_version_by_alias(name, "champion").version == "1"
    assert client.get_model_version(name, "2").aliases == ["challenger"]
    client.set_registered_model_alias(name, "champion", "2")
    assert client.get_model_version_by_alias(name, "champion").version == "2"
    client.delete_registered_model_alias(name, "challenger")
    assert client.get_registered_model(name).aliases == {"champion": "2"}
    with pytest.raises(MlflowException) as e:
        client.set_registered_model_alias(name, "latest", "1")
    assert e.value.error_code == "INVALID_PARAMETER_VALUE"


def test_load_models_uris(client, trained):
    name = _name("load")
    model, X = trained
    _log_versions(name, trained, 2)
    client.transition_model_version_stage(name, "1", "Production")
    client.set_registered_model_alias(name, "champion", "2")
    expected = model.predict(X)
    for uri in (
        f"models:/{name}/1",
        f"models:/{name}/latest",
        f"models:/{name}/Production",
        f"models:/{name}@champion",
    ):
        loaded = mlflow.pyfunc.load_model(uri)
        assert np.array_equal(loaded.predict(X), expected), uri


def test_search_with_filters_and_pages(client):
    prefix = _name("search")
    for i in range(5):
        client.create_registered_model(f"{prefix}-{i}", tags={"parity": str(i % 2)})
        client.create_model_version(f"{prefix}-{i}", f"s3://bucket/{i}", run_id=f"run{i % 2}")
    found = client.search_registered_models(f"name LIKE '{prefix}-%'", max_results=2)
    names = [m.name for m in found]
    while found.token:
        found = client.search_registered_models(
            f"name LIKE '{prefix}-%'", max_results=2, page_token=found.token
        )
        names += [m.name for m in found]
    assert names == [f"{prefix}-{i}" for i in range(5)]
    odd = client.search_registered_models(f"name LIKE '{prefix}%' AND tags.parity = '1'")
    assert [m.name for m in odd] == [f"{prefix}-1", f"{prefix}-3"]
    newest = client.search_registered_models(
        f"name LIKE '{prefix}%'", order_by=["timestamp DESC"], max_results=1
    )
    assert [m.name for m in newest] == [f"{prefix}-4"]

    versions = client.search_model_versions(
        f"name LIKE '{prefix}%' AND run_id = 'run0'", order_by=["name ASC"], max_results=2
    )
    assert [v.name for v in versions] == [f"{prefix}-0", f"{prefix}-2"] and versions.token
    rest = client.search_model_versions(
        f"name LIKE '{prefix}%' AND run_id = 'run0'",
        order_by=["name ASC"],
        max_results=2,
        page_token=versions.token,
    )
    assert [v.name for v in rest] == [f"{prefix}-4"] and not rest.token
    with pytest.raises(MlflowException) as e:
        client.search_registered_models("name > 'a'")
    assert e.value.error_code == "INVALID_PARAMETER_VALUE"
