"""Every code example of the seed page ("MLflow client compatibility"), run with the real MLflow
2.7.1 client against `serve --dialect gitlab`, with only MLFLOW_TRACKING_URI and
MLFLOW_TRACKING_TOKEN set, as the page's setup section says.

The tracking examples, and the checks both dialects share, are in tests/seed_examples.py; the GitLab
dialect's own checks are here. The code inside each `# seed` block is the page's, unchanged except
that placeholders like <your_experiment> are filled in. Names a snippet uses without defining them
(metric_list, figure ...) are defined just before the block.
"""

from __future__ import annotations

import json
import os

import matplotlib
import mlflow
import numpy as np
import pytest
from mlflow import MlflowClient
from mlflow.entities import Metric, Param, RunTag

from tests import seed_examples
from tests.gitlab.conftest import package_file, unique

matplotlib.use("Agg")


def test_creating_an_experiment(alpha):
    seed_examples.creating_an_experiment(unique("seed-exp"), unique("seed-exp-set"))


def test_creating_a_run(alpha):
    seed_examples.creating_a_run(unique("seed-run"))


def test_logging_parameters_and_metrics(alpha):
    seed_examples.logging_parameters_and_metrics(unique("seed-params"))


def test_logging_artifacts(alpha, tmp_path):
    local = tmp_path / "file.txt"
    local.write_text("some local content\n")
    # The optional relative path is left empty: GitLab documents that it must be.
    run = seed_examples.logging_artifacts(unique("seed-artifacts"), str(local), "")
    assert package_file(run, "hello.txt") == "Hello, World!"
    assert package_file(run, "file.txt") == "some local content\n"


def test_logging_models(alpha, tmp_path):
    run, _model, _X_train = seed_examples.logging_a_model(unique("seed-model"))
    # Partial support, as documented: the artifacts are saved, the model data is not.
    tags = MlflowClient().get_run(run.info.run_id).data.tags
    assert "mlflow.log-model.history" not in tags
    assert "sklearn" in package_file(run, "model/MLmodel")


@pytest.mark.parametrize("gitlab_ci", [True, False])
def test_associating_a_run_to_a_ci_job(alpha, monkeypatch, gitlab_ci):
    seed_examples.associating_a_run_to_a_ci_job(unique("seed-ci"), monkeypatch, gitlab_ci)


def test_model_lifecycle(alpha):
    """Creating, fetching, updating and deleting a model."""
    name = unique("seed-model")
    # seed: creating a model
    client = MlflowClient()
    model_name = name
    description = "Model description"
    model = client.create_registered_model(model_name, description=description)
    # end seed
    assert model.name == name and model.description == "Model description"
    # seed: fetching a model
    client = MlflowClient()
    model_name = name
    model = client.get_registered_model(model_name)
    # end seed
    assert model.description == "Model description"
    # seed: updating a model
    client = MlflowClient()
    model_name = name
    description = "New description"
    client.update_registered_model(model_name, description=description)
    # end seed
    assert client.get_registered_model(name).description == "New description"
    # seed: deleting a model
    client = MlflowClient()
    model_name = name
    client.delete_registered_model(model_name)
    # end seed
    assert client.search_registered_models(f"name='{name}'") == []


def test_logging_runs_to_a_model(alpha):
    name = unique("seed-model-runs")
    MlflowClient().create_registered_model(name)
    # seed
    client = MlflowClient()
    model_name = name
    exp = client.get_experiment_by_name(f"[model]{model_name}")
    run = client.create_run(exp.experiment_id)
    # end seed
    assert client.get_run(run.info.run_id).info.experiment_id == exp.experiment_id


def test_model_versions(alpha):
    """Creating (auto-incremented, then chosen by tag), updating, fetching a model version,
    and the latest versions of the model."""
    name = unique("seed-versions")
    MlflowClient().create_registered_model(name)
    # seed: creating a model version
    client = MlflowClient()
    model_name = name
    description = "Model version description"
    model_version = client.create_model_version(model_name, source="", description=description)
    # end seed
    assert model_version.aliases == ["1.0.0"]
    # seed: setting the version with a tag
    client = MlflowClient()
    model_name = name
    version = "1.2.0"
    tags = {"gitlab.version": version}
    client.create_model_version(model_name, version, description=description, tags=tags)
    # end seed
    # seed: updating a model version
    client = MlflowClient()
    model_name = name
    version = "1.0.0"
    description = "New description"
    client.update_model_version(model_name, version, description=description)
    # end seed
    # seed: fetching a model version
    client = MlflowClient()
    model_name = name
    version = "1.0.0"
    fetched = client.get_model_version(model_name, version)
    # end seed
    assert fetched.description == "New description"
    assert fetched.run_id == model_version.run_id
    # seed: getting latest versions of a model
    client = MlflowClient()
    model_name = name
    latest = client.get_latest_versions(model_name)
    # end seed
    assert [v.aliases for v in latest] == [["1.2.0"]]


def _model_files(tmp_path):
    from sklearn.datasets import make_classification
    from sklearn.linear_model import LogisticRegression

    X, y = make_classification(n_samples=40, n_features=4, random_state=1)
    model = LogisticRegression().fit(X, y)
    path = tmp_path / "saved-model"
    # Requirements given, not inferred: inferring them runs a subprocess for seconds.
    mlflow.sklearn.save_model(model, str(path), pip_requirements=["scikit-learn"])
    return model, X, path


def test_loading_a_model_version(alpha, tmp_path):
    # The page searches with filter_string="name='{model_name}'" (not an f-string) and loads
    # `latest_version`, which it never defines: the model is named "{model_name}" so that the
    # search finds it, and latest_version holds the version as the search answers it.
    client = MlflowClient()
    client.create_registered_model("{model_name}")
    created = client.create_model_version("{model_name}", source="")
    trained, X, path = _model_files(tmp_path)
    client.log_artifacts(created.run_id, str(path), artifact_path="")
    latest_version = created.version
    # seed
    client = MlflowClient()
    model_name = "{model_name}"
    version = "1.0.0"  # e.g. '1.0.0'

    # Alternatively search the version
    version = (
        mlflow.search_registered_models(filter_string="name='{model_name}'")[0]
        .latest_versions[0]
        .version
    )

    model = mlflow.pyfunc.load_model(f"models:/{model_name}/{latest_version}")

    # Or load the latest version
    model = mlflow.pyfunc.load_model(f"models:/{model_name}/latest")
    # end seed
    assert version == latest_version
    assert np.array_equal(model.predict(X), trained.predict(X))


def test_logging_metrics_and_parameters_to_a_model_version(alpha):
    name = unique("seed-version-metrics")
    MlflowClient().create_registered_model(name)
    MlflowClient().create_model_version(name, source="")
    metric_list = [Metric("batch_metric", 0.5, 1000, 0)]
    param_list = [Param("batch_param", "x")]
    tag_list = [RunTag("batch_tag", "y")]
    # seed
    client = MlflowClient()
    model_name = name
    version = "1.0.0"
    model_version = client.get_model_version(model_name, version)
    run_id = model_version.run_id

    # Your training code

    client.log_metric(run_id, "accuracy", 0.9)
    client.log_param(run_id, "alpha", "0.1")
    client.log_batch(run_id, metric_list, param_list, tag_list)
    # end seed
    data = client.get_run(run_id).data
    assert data.metrics == {"accuracy": 0.9, "batch_metric": 0.5}
    assert data.params == {"alpha": "0.1", "batch_param": "x"}
    assert data.tags["batch_tag"] == "y"


def test_logging_artifacts_to_a_model_version(alpha, tmp_path):
    import matplotlib.pyplot as plt

    name = unique("seed-version-artifacts")
    MlflowClient().create_registered_model(name)
    MlflowClient().create_model_version(name, source="")
    local = tmp_path / "file.txt"
    local.write_text("version file\n")
    figure, axes = plt.subplots()
    axes.plot([0, 1], [1, 0])
    my_dict = {"a": 1}
    image = np.zeros((4, 4, 3), dtype=np.uint8)
    # seed
    client = MlflowClient()
    model_name = name
    version = "1.0.0"
    model_version = client.get_model_version(model_name, version)
    run_id = model_version.run_id

    # Your training code

    client.log_artifact(run_id, str(local), artifact_path="")
    client.log_figure(run_id, figure, artifact_file="my_plot.png")
    client.log_dict(run_id, my_dict, artifact_file="my_dict.json")
    client.log_image(run_id, image, artifact_file="image.png")
    # end seed
    plt.close(figure)
    # The version's files, through get-download-uri and mlflow-artifacts:/.
    out = tmp_path / "out"
    mlflow.artifacts.download_artifacts(f"models:/{name}/1", dst_path=str(out))
    assert sorted(p.name for p in out.iterdir()) == [
        "file.txt",
        "image.png",
        "my_dict.json",
        "my_plot.png",
    ]
    assert json.loads((out / "my_dict.json").read_text()) == {"a": 1}


@pytest.mark.parametrize("gitlab_ci", [True, False])
def test_linking_a_model_version_to_a_ci_job(alpha, monkeypatch, gitlab_ci):
    if gitlab_ci:
        monkeypatch.setenv("GITLAB_CI", "true")
        monkeypatch.setenv("CI_JOB_ID", "4343")
    else:
        monkeypatch.delenv("GITLAB_CI", raising=False)
    name = unique("seed-version-ci")
    MlflowClient().create_registered_model(name)
    MlflowClient().create_model_version(name, source="")
    # seed
    client = MlflowClient()
    model_name = name
    version = "1.0.0"
    model_version = client.get_model_version(model_name, version)
    run_id = model_version.run_id

    # Your training code

    if os.getenv("GITLAB_CI"):
        client.set_tag(model_version.run_id, "gitlab.CI_JOB_ID", os.getenv("CI_JOB_ID"))
    # end seed
    tags = client.get_run(run_id).data.tags
    assert tags.get("gitlab.CI_JOB_ID") == ("4343" if gitlab_ci else None)
