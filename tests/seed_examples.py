"""The tracking examples of the seed page (spec/gitlab-mlflow-client-compatibility.md), one
function each, with the checks every dialect shares. tests/integration/test_seed_examples.py runs
them against the stock dialect, tests/gitlab/test_seed_examples.py against the GitLab dialect,
each adding the checks of its own dialect.

The code inside each `# seed` block is the page's, unchanged except that placeholders like
<your_experiment> are filled in. Names a snippet uses without defining them (X_train, index)
are defined just before the block.
"""

from __future__ import annotations

import os

import mlflow
from mlflow import MlflowClient


def creating_an_experiment(name: str, other: str) -> str:
    """Creates experiment `name` and sets it active, then sets `other`, which does not exist yet,
    active: that creates it. Returns the id of `name`."""
    # seed
    experiment_id = mlflow.create_experiment(name=name)
    mlflow.set_experiment(experiment_name=name)
    # end seed
    client = MlflowClient()
    assert client.get_experiment_by_name(name).experiment_id == experiment_id
    created = mlflow.set_experiment(experiment_name=other)
    assert client.get_experiment(created.experiment_id).name == other
    assert client.get_experiment_by_name(other).lifecycle_stage == "active"
    return experiment_id


def creating_a_run(name: str) -> None:
    """Two runs, with and without a context manager, in experiment `name`."""
    # seed
    mlflow.set_experiment(experiment_name=name)
    with mlflow.start_run() as run:
        print(run.info.run_id)
    with mlflow.start_run():
        pass
    # end seed
    client = MlflowClient()
    experiment = client.get_experiment_by_name(name)
    runs = client.search_runs([experiment.experiment_id])
    assert len(runs) == 2
    first = client.get_run(run.info.run_id)
    assert first.info.status == "FINISHED"
    assert first.info.end_time >= first.info.start_time
    # No name given: the server chose one and recorded it as the mlflow.runName tag.
    assert all(r.info.run_name and r.data.tags["mlflow.runName"] == r.info.run_name for r in runs)


def logging_parameters_and_metrics(name: str):
    """A param, and a metric logged twice, in a run of experiment `name`; returns the run."""
    # seed
    mlflow.set_experiment(experiment_name=name)
    with mlflow.start_run() as run:
        # Parameter keys need to be unique in the scope of the run
        mlflow.log_param(key="param_1", value=1)
        # Metrics can be updated throughout the run
        mlflow.log_metric(key="metrics_1", value=1)
        mlflow.log_metric(key="metrics_1", value=2)
    # end seed
    data = MlflowClient().get_run(run.info.run_id).data
    assert data.params == {"param_1": "1"}
    assert data.metrics == {"metrics_1": 2.0}
    return run


def logging_artifacts(name: str, local_path: str, artifact_path: str):
    """A text and the file `local_path` (at `artifact_path`) logged in a run of experiment `name`;
    returns the run."""
    # seed
    mlflow.set_experiment(experiment_name=name)
    with mlflow.start_run() as run:
        mlflow.log_text("Hello, World!", artifact_file="hello.txt")
        mlflow.log_artifact(local_path=local_path, artifact_path=artifact_path)
    # end seed
    return run


def logging_a_model(name: str):
    """A scikit-learn model trained and logged in a run of experiment `name`; returns the run, the
    model and its training inputs."""
    from sklearn.datasets import make_classification
    from sklearn.ensemble import RandomForestClassifier

    X_train, y_train = make_classification(n_samples=60, n_features=4, random_state=0)
    # seed
    mlflow.set_experiment(experiment_name=name)
    with mlflow.start_run() as run:
        model = RandomForestClassifier(n_estimators=10, random_state=42)
        model.fit(X_train, y_train)
        mlflow.sklearn.log_model(model, artifact_path="model")
    # end seed
    return run, model, X_train


def associating_a_run_to_a_ci_job(name: str, monkeypatch, gitlab_ci: bool) -> None:
    """A run of experiment `name` named "Run 7", tagged with the CI job's id when GITLAB_CI is set
    (as in a GitLab CI job, `gitlab_ci`) and not otherwise."""
    if gitlab_ci:
        monkeypatch.setenv("GITLAB_CI", "true")
        monkeypatch.setenv("CI_JOB_ID", "4242")
    else:
        monkeypatch.delenv("GITLAB_CI", raising=False)
    mlflow.set_experiment(experiment_name=name)
    index = 7
    # seed
    with mlflow.start_run(run_name=f"Run {index}") as run:
        # Your training code

        # Start of snippet to be included
        if os.getenv("GITLAB_CI"):
            mlflow.set_tag("gitlab.CI_JOB_ID", os.getenv("CI_JOB_ID"))
        # End of snippet to be included
    # end seed
    fetched = MlflowClient().get_run(run.info.run_id)
    assert fetched.info.run_name == "Run 7"
    assert fetched.data.tags.get("gitlab.CI_JOB_ID") == ("4242" if gitlab_ci else None)
