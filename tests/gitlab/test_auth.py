"""Tokens, scopes, project addressing and isolation: with raw HTTP and with the MLflow client."""

from __future__ import annotations

import mlflow
import pytest
import requests
from mlflow import MlflowClient
from mlflow.exceptions import RestException

from tests.gitlab.conftest import (
    ALPHA,
    ALPHA_PATH,
    BETA,
    BETA_PATH,
    TOKEN_ALPHA,
    TOKEN_ALPHA_READ,
    TOKEN_BETA,
    TOKEN_BOTH,
    unique,
)


def _error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error_code"] == code
    return body


# ---- raw HTTP -------------------------------------------------------------------------------


@pytest.mark.parametrize("token", [None, "glpat-wrong", ""])
def test_no_or_bad_token_is_401(gitlab, token):
    for method, path in (("GET", "experiments/get?experiment_id=1"), ("POST", "runs/create")):
        _error(gitlab.call(method, path, token=token, json={}), 401, "UNAUTHENTICATED")


def test_other_authorization_schemes_are_401(gitlab):
    url = gitlab.api("experiments/get-by-name") + "?experiment_name=x"
    for header in (f"Basic {TOKEN_ALPHA}", TOKEN_ALPHA):
        response = requests.get(url, headers={"Authorization": header}, timeout=30)
        _error(response, 401, "UNAUTHENTICATED")


def test_private_token_header_is_accepted(gitlab):
    url = gitlab.api("experiments/get-by-name") + "?experiment_name=absent"
    response = requests.get(url, headers={"PRIVATE-TOKEN": TOKEN_ALPHA}, timeout=30)
    _error(response, 404, "RESOURCE_DOES_NOT_EXIST")


def test_read_api_token_reads_but_does_not_write(gitlab):
    name = unique("read-api")
    created = gitlab.call("POST", "experiments/create", json={"name": name})
    experiment_id = created.json()["experiment_id"]
    read = gitlab.call(
        "GET", f"experiments/get?experiment_id={experiment_id}", token=TOKEN_ALPHA_READ
    )
    assert read.status_code == 200 and read.json()["experiment"]["name"] == name
    for method, path, body in (
        ("POST", "experiments/create", {"name": unique("nope")}),
        ("POST", "runs/create", {"experiment_id": experiment_id}),
        ("PATCH", "registered-models/update", {"name": "x"}),
        ("DELETE", "registered-models/delete", {"name": "x"}),
    ):
        response = gitlab.call(method, path, token=TOKEN_ALPHA_READ, json=body)
        _error(response, 403, "PERMISSION_DENIED")
    answer = gitlab.call("POST", "runs/search", json={"experiment_ids": [experiment_id]})
    assert answer.json() == {}


def test_a_project_the_token_cannot_reach_is_404(gitlab):
    for project in (BETA, BETA_PATH, 99, "group%2Fnone"):
        response = gitlab.call("GET", "experiments/get?experiment_id=1", project=project)
        body = _error(response, 404, "RESOURCE_DOES_NOT_EXIST")
        assert body["message"] == "404 Project Not Found"


def test_projects_by_id_and_by_url_encoded_path(gitlab):
    name = unique("addressed")
    created = gitlab.call("POST", "experiments/create", json={"name": name}, project=ALPHA_PATH)
    assert created.status_code == 200
    for project in (ALPHA, ALPHA_PATH, ALPHA_PATH.upper()):
        response = gitlab.call(
            "GET", f"experiments/get-by-name?experiment_name={name}", project=project
        )
        assert response.json()["experiment"]["experiment_id"] == created.json()["experiment_id"]


def test_only_the_project_prefix_is_served(gitlab):
    url = gitlab.peer.url
    headers = {"Authorization": f"Bearer {TOKEN_ALPHA}"}
    for path in ("/api/2.0/mlflow/experiments/get?experiment_id=1", "/ajax-api/2.0/mlflow/x"):
        response = requests.get(url + path, headers=headers, timeout=30)
        _error(response, 404, "ENDPOINT_NOT_FOUND")
    for path in ("/health", "/version"):
        assert requests.get(url + path, timeout=30).status_code == 200
    response = requests.get(f"{url}/api/v4/projects/1/issues", headers=headers, timeout=30)
    _not_routed(response)


def _not_routed(response) -> None:
    """GitLab's own answer for what its API does not route (its Grape catch-all)."""
    assert response.status_code == 404, response.text
    assert response.headers["Content-Type"] == "application/json"
    assert response.json() == {"error": "404 Not Found"}


@pytest.mark.parametrize("token", [TOKEN_ALPHA, None])
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/ml/mlflow/api/2.0/mlflow/experiments/search"),  # an MLflow RPC GitLab lacks
        ("GET", "/ml/mlflow/api/2.0/mlflow/logged-models/search"),  # not in MLflow 2.7.1 either
        ("GET", "/ml/mlflow/api/2.0/mlflow/runs/create"),  # a route's path, another method
        ("DELETE", "/ml/mlflow/api/2.0/mlflow-artifacts/artifacts/x/y"),
        ("POST", "/packages/generic/ml_experiment_1/0123/file.txt"),
        ("GET", "/ml/mlflow/api/2.0/unknown"),
    ],
)
def test_what_gitlab_does_not_route_answers_its_404_before_auth(gitlab, method, path, token):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = requests.request(
        method, f"{gitlab.peer.url}/api/v4/projects/{ALPHA}{path}", headers=headers, timeout=30
    )
    _not_routed(response)


def test_objects_of_another_project_are_out_of_reach(gitlab, tmp_path):
    """A token that reaches both projects, used on project 2's URL, never reaches project 1's
    experiments, runs, models, versions or files, by id or by name."""

    def beta(method, path, **kwargs):
        return gitlab.call(method, path, token=TOKEN_BOTH, project=BETA, **kwargs)

    # Experiment ids are numbered per project: project 1's experiment gets a number that
    # project 2 has not reached, so that it names nothing there.
    beta_top = int(
        beta("POST", "experiments/create", json={"name": unique("top")}).json()["experiment_id"]
    )
    while True:
        name = unique("alpha-only")
        created = gitlab.call("POST", "experiments/create", json={"name": name})
        experiment_id = created.json()["experiment_id"]
        if int(experiment_id) > beta_top:
            break
    run = gitlab.call("POST", "runs/create", json={"experiment_id": experiment_id}).json()["run"]
    run_id = run["info"]["run_id"]
    model = unique("alpha-model")
    gitlab.call("POST", "registered-models/create", json={"name": model})
    version = gitlab.call("POST", "model-versions/create", json={"name": model, "source": ""})
    version_run = version.json()["model_version"]["run_id"]
    upload = requests.put(
        f"{run['info']['artifact_uri']}/kept.txt",
        data=b"alpha",
        headers={"Authorization": f"Bearer {TOKEN_ALPHA}"},
        timeout=30,
    )
    assert upload.status_code == 200
    missing = "RESOURCE_DOES_NOT_EXIST"
    _error(beta("GET", f"experiments/get?experiment_id={experiment_id}"), 404, missing)
    _error(beta("GET", f"experiments/get-by-name?experiment_name={name}"), 404, missing)
    _error(beta("POST", "experiments/delete", json={"experiment_id": experiment_id}), 404, missing)
    _error(beta("GET", f"runs/get?run_id={run_id}"), 404, missing)
    _error(beta("POST", "runs/create", json={"experiment_id": experiment_id}), 404, missing)
    for path, body in (
        ("runs/log-metric", {"run_id": run_id, "key": "m", "value": 1, "timestamp": 1}),
        ("runs/log-parameter", {"run_id": run_id, "key": "p", "value": "1"}),
        ("runs/set-tag", {"run_id": run_id, "key": "t", "value": "1"}),
        ("runs/log-batch", {"run_id": run_id, "params": [{"key": "q", "value": "1"}]}),
        ("runs/update", {"run_id": run_id, "status": "FAILED"}),
        ("runs/delete", {"run_id": run_id}),
    ):
        _error(beta("POST", path, json=body), 404, missing)
    searched = beta("POST", "runs/search", json={"experiment_ids": [experiment_id]})
    assert searched.status_code == 200 and searched.json() == {}
    _error(beta("GET", f"registered-models/get?name={model}"), 404, missing)
    _error(beta("PATCH", "registered-models/update", json={"name": model}), 404, missing)
    _error(beta("DELETE", "registered-models/delete", json={"name": model}), 404, missing)
    _error(beta("POST", "model-versions/create", json={"name": model, "source": ""}), 404, missing)
    _error(beta("GET", f"model-versions/get?name={model}&version=1.0.0"), 404, missing)
    _error(
        beta("PATCH", "model-versions/update", json={"name": model, "version": "1"}), 404, missing
    )
    _error(beta("GET", f"model-versions/get-download-uri?name={model}&version=1"), 404, missing)
    _error(
        beta("POST", "registered-models/get-latest-versions", json={"name": model}), 404, missing
    )
    searched = beta("GET", f"registered-models/search?filter=name%3D%27{model}%27")
    assert searched.status_code == 200 and searched.json() == {}
    # Files: the run's generic package and the version's mlflow-artifacts:/ root.
    headers = {"Authorization": f"Bearer {TOKEN_BOTH}"}
    package = run["info"]["artifact_uri"].replace(f"/projects/{ALPHA}/", f"/projects/{BETA}/")
    for method in ("GET", "PUT"):
        response = requests.request(
            method, f"{package}/kept.txt", data=b"beta", headers=headers, timeout=30
        )
        _error(response, 404, missing)
    proxy = gitlab.tracking_uri(BETA) + "/api/2.0/mlflow-artifacts/artifacts"
    _error(requests.get(f"{proxy}/{version_run}/x", headers=headers, timeout=30), 404, missing)
    head = requests.head(f"{proxy}/{version_run}/x", headers=headers, timeout=30)
    assert head.status_code == 404
    listing = requests.get(proxy, params={"path": version_run}, headers=headers, timeout=30)
    _error(listing, 404, missing)
    # Nothing changed in project 1.
    run_now = gitlab.call("GET", f"runs/get?run_id={run_id}").json()["run"]
    assert run_now["info"]["status"] == "RUNNING" and "metrics" not in run_now["data"]
    kept = requests.get(
        f"{run['info']['artifact_uri']}/kept.txt",
        headers={"Authorization": f"Bearer {TOKEN_ALPHA}"},
        timeout=30,
    )
    assert kept.content == b"alpha"


# ---- the MLflow client ----------------------------------------------------------------------


def test_client_without_a_valid_token(gitlab, use_project):
    use_project(gitlab, token="glpat-wrong")
    with pytest.raises(RestException) as e:
        mlflow.create_experiment(unique("x"))
    assert e.value.error_code == "UNAUTHENTICATED"


def test_client_with_a_read_api_token(gitlab, use_project):
    use_project(gitlab, token=TOKEN_ALPHA)
    name = unique("readable")
    experiment_id = mlflow.create_experiment(name)
    use_project(gitlab, token=TOKEN_ALPHA_READ)
    assert MlflowClient().get_experiment(experiment_id).name == name
    with pytest.raises(RestException) as e:
        mlflow.set_experiment(unique("new"))
    assert e.value.error_code == "PERMISSION_DENIED"
    with pytest.raises(RestException) as e:
        MlflowClient().create_run(experiment_id)
    assert e.value.error_code == "PERMISSION_DENIED"


def test_client_with_a_token_for_another_project(gitlab, use_project):
    use_project(gitlab, project=BETA, token=TOKEN_ALPHA)
    with pytest.raises(RestException) as e:
        mlflow.create_experiment(unique("x"))
    assert e.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    with pytest.raises(RestException):
        MlflowClient().create_registered_model(unique("x"))


def test_client_projects_are_isolated(gitlab, use_project):
    """The same names in two projects are two objects; one project's ids are unknown in the
    other, whatever the token reaches."""
    name = unique("shared-name")
    use_project(gitlab, project=ALPHA, token=TOKEN_ALPHA)
    alpha_experiment = mlflow.set_experiment(name)
    with mlflow.start_run() as alpha_run:
        mlflow.log_param("project", "alpha")
    model = unique("alpha-model")
    MlflowClient().create_registered_model(model)
    alpha_version = MlflowClient().create_model_version(model, source="")

    use_project(gitlab, project=BETA, token=TOKEN_BETA)
    mlflow.tracking.fluent._active_experiment_id = None
    beta_experiment = mlflow.set_experiment(name)
    with mlflow.start_run() as beta_run:
        mlflow.log_param("project", "beta")
    client = MlflowClient()
    assert [r.info.run_id for r in client.search_runs([beta_experiment.experiment_id])] == [
        beta_run.info.run_id
    ]
    # Project 1's experiment id, on project 2, names project 2's experiment of that number.
    searched = client.search_runs([alpha_experiment.experiment_id])
    assert alpha_run.info.run_id not in {r.info.run_id for r in searched}
    for call in (
        lambda: client.get_run(alpha_run.info.run_id),
        lambda: client.log_metric(alpha_run.info.run_id, "m", 1.0),
        lambda: client.set_tag(alpha_version.run_id, "t", "v"),
        lambda: client.get_registered_model(model),
        lambda: client.get_model_version(model, "1.0.0"),
        lambda: client.update_registered_model(model, description="taken over"),
        lambda: client.delete_registered_model(model),
    ):
        with pytest.raises(RestException) as e:
            call()
        assert e.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    assert client.get_experiment_by_name(f"[model]{model}") is None
    # The same model name in project 2 is a model of its own, with versions of its own.
    client.create_registered_model(model, description="beta's")
    assert client.create_model_version(model, source="").aliases == ["1.0.0"]
    assert client.create_model_version(model, source="").aliases == ["1.0.1"]

    use_project(gitlab, project=ALPHA, token=TOKEN_ALPHA)
    client = MlflowClient()
    assert client.get_run(alpha_run.info.run_id).data.params == {"project": "alpha"}
    assert client.get_run(alpha_version.run_id).data.tags.get("t") is None
    assert client.get_registered_model(model).description in (None, "")
    assert [v.aliases for v in client.get_latest_versions(model)] == [["1.0.0"]]
