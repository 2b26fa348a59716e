"""The limits GitLab's table documents, each answered with a clear MLflow error quoting the
caveat, or with the documented silent behaviour."""

from __future__ import annotations

import mlflow
import pytest
import requests
from mlflow import MlflowClient
from mlflow.exceptions import RestException

from tests.gitlab.conftest import unique

ARTIFACT_CAVEAT = "`artifact_path` must be empty. Does not support directories"


@pytest.fixture
def run(alpha):
    mlflow.set_experiment(unique("caveats"))
    with mlflow.start_run() as run:
        yield run


def test_log_artifact_needs_an_empty_artifact_path(run, tmp_path):
    local = tmp_path / "file.txt"
    local.write_text("x")
    with pytest.raises(requests.HTTPError, match=ARTIFACT_CAVEAT) as e:
        mlflow.log_artifact(str(local), artifact_path="sub")
    assert e.value.response.status_code == 400
    assert e.value.response.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    mlflow.log_artifact(str(local), artifact_path="")


def test_log_artifacts_does_not_support_directories(run, tmp_path):
    (tmp_path / "top.txt").write_text("t")
    (tmp_path / "nested").mkdir()
    (tmp_path / "nested" / "inner.txt").write_text("i")
    with pytest.raises(requests.HTTPError, match=ARTIFACT_CAVEAT):
        mlflow.log_artifacts(str(tmp_path))


@pytest.mark.parametrize("log", [mlflow.log_text, mlflow.log_dict])
def test_log_text_and_log_dict_do_not_support_directories(run, log):
    with pytest.raises(requests.HTTPError, match=ARTIFACT_CAVEAT):
        log({"a": 1} if log is mlflow.log_dict else "text", "dir/file.json")
    log({"a": 1} if log is mlflow.log_dict else "text", "file.json")


def test_log_model_saves_artifacts_not_model_data(gitlab, run):
    # The client uploads the files, then posts runs/log-model, which GitLab does not serve.
    answer = gitlab.call(
        "POST", "runs/log-model", json={"run_id": run.info.run_id, "model_json": "{}"}
    )
    assert (answer.status_code, answer.json()) == (404, {"error": "404 Not Found"})


def test_search_runs_takes_one_experiment_id(alpha):
    client = MlflowClient()
    first, second = client.create_experiment(unique("a")), client.create_experiment(unique("b"))
    run = client.create_run(first)
    client.log_metric(run.info.run_id, "m", 1.0)
    for ids in ([first, second], []):
        with pytest.raises(RestException, match="supports only a single experiment ID") as e:
            client.search_runs(ids)
        assert e.value.error_code == "INVALID_PARAMETER_VALUE"
    assert [r.info.run_id for r in client.search_runs([first], order_by=["metrics.m DESC"])] == [
        run.info.run_id
    ]
    assert len(client.search_runs([first], order_by=["attributes.start_time"])) == 1
    for order_by in (["params.p"], ["tags.t DESC"]):
        with pytest.raises(RestException, match="order by column or metric"):
            client.search_runs([first], order_by=order_by)


@pytest.mark.parametrize(
    "call",
    [
        lambda c: c.search_experiments(),
        lambda c: c.rename_registered_model("a", "b"),
        lambda c: c.transition_model_version_stage("a", "1", "Production"),
        lambda c: c.delete_model_version("a", "1"),
        lambda c: c.set_registered_model_alias("a", "champion", "1"),
        lambda c: c.get_metric_history("0" * 32, "m"),
        lambda c: c.restore_experiment("1"),
    ],
    ids=[
        "search_experiments",
        "rename_registered_model",
        "transition_model_version_stage",
        "delete_model_version",
        "set_registered_model_alias",
        "get_metric_history",
        "restore_experiment",
    ],
)
def test_methods_gitlab_does_not_support_are_404(alpha, call):
    # GitLab's 404 body has no error_code: the 2.7.1 client reports it as INTERNAL_ERROR, not
    # as ENDPOINT_NOT_FOUND (which some client paths treat as "fall back to another call").
    with pytest.raises(RestException, match="404 Not Found") as e:
        call(MlflowClient())
    assert e.value.error_code == "INTERNAL_ERROR"
