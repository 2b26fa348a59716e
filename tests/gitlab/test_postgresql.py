"""The GitLab dialect on the PostgreSQL store: projects isolated, versions SemVer, a model
loaded back through models:/ as the seed shows, write-once params and tags under concurrency."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import mlflow
import numpy as np
import pytest
from mlflow import MlflowClient
from mlflow.exceptions import RestException

from tests.gitlab.conftest import BETA, TOKEN_BETA, start_gitlab, unique


@pytest.fixture(scope="module")
def gitlab_pg(request, tmp_path_factory):
    return start_gitlab(request, tmp_path_factory, "postgresql")


@pytest.mark.postgresql
def test_gitlab_dialect_on_postgresql(gitlab_pg, use_project, tmp_path):
    from sklearn.datasets import make_classification
    from sklearn.linear_model import LogisticRegression

    name = unique("pg")
    use_project(gitlab_pg)
    alpha_experiment = mlflow.set_experiment(name)
    with mlflow.start_run() as run:
        mlflow.log_param("p", 1)
    client = MlflowClient()
    client.create_registered_model(name + "-model")
    first = client.create_model_version(name + "-model", source="")
    second = client.create_model_version(name + "-model", source="")
    assert (first.aliases, second.aliases) == (["1.0.0"], ["1.0.1"])
    X, y = make_classification(n_samples=40, n_features=4, random_state=1)
    model = LogisticRegression().fit(X, y)
    mlflow.sklearn.save_model(model, str(tmp_path / "m"), pip_requirements=["scikit-learn"])
    client.log_artifacts(second.run_id, str(tmp_path / "m"), artifact_path="")
    loaded = mlflow.pyfunc.load_model(f"models:/{name}-model/latest")
    assert np.array_equal(loaded.predict(X), model.predict(X))

    use_project(gitlab_pg, project=BETA, token=TOKEN_BETA)
    mlflow.tracking.fluent._active_experiment_id = None
    beta_experiment = mlflow.set_experiment(name)
    # Numbered per project: both projects' first experiment is experiment 1.
    assert beta_experiment.experiment_id == alpha_experiment.experiment_id == "1"
    assert MlflowClient().search_runs([beta_experiment.experiment_id]) == []
    with pytest.raises(RestException) as e:
        MlflowClient().get_run(run.info.run_id)
    assert e.value.error_code == "RESOURCE_DOES_NOT_EXIST"


@pytest.mark.postgresql
@pytest.mark.parametrize("path,field", [("runs/set-tag", "tags"), ("runs/log-parameter", "params")])
def test_write_once_holds_under_concurrent_requests(gitlab_pg, path, field):
    experiment = gitlab_pg.call("POST", "experiments/create", json={"name": unique("race")})
    run = gitlab_pg.call(
        "POST", "runs/create", json={"experiment_id": experiment.json()["experiment_id"]}
    ).json()["run"]
    run_id = run["info"]["run_id"]

    def send(i):
        body = {"run_id": run_id, "key": "k", "value": str(i)}
        return gitlab_pg.call("POST", path, json=body)

    with ThreadPoolExecutor(max_workers=12) as pool:
        answers = list(pool.map(send, range(12)))
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [200] + [400] * 11
    assert {a.json()["error_code"] for a in answers if a.status_code == 400} == {
        "INVALID_PARAMETER_VALUE"
    }
    (winner,) = [i for i, a in enumerate(answers) if a.status_code == 200]
    stored = gitlab_pg.call("GET", "runs/get", params={"run_id": run_id}).json()["run"]["data"]
    assert {e["key"]: e["value"] for e in stored[field]}["k"] == str(winner)
