"""The GitLab dialect on the PostgreSQL store: projects isolated, versions SemVer, a model
loaded back through models:/ as the seed shows."""

from __future__ import annotations

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
