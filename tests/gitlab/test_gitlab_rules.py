"""GitLab's rules beyond the seed's table: write-once params and tags, GitLab's length limits
and search sizes, the name-only model search, and the "development" stage of model versions.
Each refusal is MLflow's error body, 400 INVALID_PARAMETER_VALUE, and changes nothing."""

from __future__ import annotations

import mlflow
import pytest
import requests
import yaml
from mlflow import MlflowClient
from mlflow.entities import Metric, Param, RunTag
from mlflow.exceptions import MlflowException

from conformance.resources import GITLAB_OPENAPI_PATH
from tests.gitlab.conftest import unique

WRITE_ONCE = "write-once"
MODEL_SEARCH_CAVEAT = "supports only the filter name='<text>'"


def refused(excinfo, text: str) -> None:
    assert excinfo.value.error_code == "INVALID_PARAMETER_VALUE"
    assert excinfo.value.get_http_status_code() == 400
    assert text in excinfo.value.message


def assert_400(answer: requests.Response, text: str) -> None:
    assert answer.status_code == 400, answer.text
    body = answer.json()
    assert body["error_code"] == "INVALID_PARAMETER_VALUE"
    assert text in body["message"]


@pytest.fixture
def run(alpha):
    mlflow.set_experiment(unique("rules"))
    with mlflow.start_run() as run:
        yield run


def data_of(run_id: str):
    return MlflowClient().get_run(run_id).data


# ---- write-once params and tags ------------------------------------------------------------


def test_a_tag_is_set_once(run):
    run_id = run.info.run_id
    mlflow.set_tag("team", "a")
    with pytest.raises(MlflowException) as e:
        mlflow.set_tag("team", "b")
    refused(e, f"{WRITE_ONCE}: tag 'team' was already logged")
    with pytest.raises(MlflowException) as e:
        mlflow.set_tag("team", "a")  # even with the same value
    refused(e, WRITE_ONCE)
    assert data_of(run_id).tags["team"] == "a"


def test_a_param_is_logged_once(run):
    run_id = run.info.run_id
    mlflow.log_param("lr", "0.1")
    for value in ("0.2", "0.1"):
        with pytest.raises(MlflowException) as e:
            mlflow.log_param("lr", value)
        refused(e, f"{WRITE_ONCE}: param 'lr' was already logged")
    assert data_of(run_id).params == {"lr": "0.1"}


def test_log_batch_refuses_a_key_the_run_has_and_writes_nothing(run):
    run_id = run.info.run_id
    client = MlflowClient()
    client.log_batch(run_id, params=[Param("p", "1")], tags=[RunTag("t", "1")])
    before = data_of(run_id)
    for params, tags, text in (
        ([Param("new", "1"), Param("p", "2")], [RunTag("fresh", "x")], "param 'p'"),
        ([Param("new", "1")], [RunTag("fresh", "x"), RunTag("t", "2")], "tag 't'"),
    ):
        with pytest.raises(MlflowException) as e:
            client.log_batch(run_id, metrics=[Metric("m", 1.0, 1, 0)], params=params, tags=tags)
        refused(e, text)
    after = data_of(run_id)
    assert (after.params, after.tags, after.metrics) == (before.params, before.tags, {})
    # mlflow.set_tags and mlflow.log_params go through log-batch too.
    with pytest.raises(MlflowException) as e:
        mlflow.set_tags({"t": "3"})
    refused(e, WRITE_ONCE)
    with pytest.raises(MlflowException) as e:
        mlflow.log_params({"p": "3"})
    refused(e, WRITE_ONCE)
    mlflow.log_params({"q": "1"})
    assert data_of(run_id).params == {"p": "1", "q": "1"}


def test_log_batch_refuses_a_key_sent_twice(gitlab, run):
    run_id = run.info.run_id
    for body, text in (
        ({"params": [{"key": "k", "value": "1"}, {"key": "k", "value": "1"}]}, "param 'k'"),
        ({"tags": [{"key": "k", "value": "1"}, {"key": "k", "value": "2"}]}, "tag 'k'"),
    ):
        answer = gitlab.call("POST", "runs/log-batch", json={"run_id": run_id, **body})
        assert_400(answer, f"{text} appears more than once in the batch")
    data = data_of(run_id)
    assert "k" not in data.params and "k" not in data.tags


def test_the_clients_run_lifecycle_still_works(alpha):
    """What the client sends by itself in normal use sets no key twice: start_run's tags (with
    mlflow.runName when named), nested runs, resuming a run, renaming it, ending it."""
    client = MlflowClient()
    mlflow.set_experiment(unique("lifecycle"))
    with mlflow.start_run(run_name="first", tags={"kind": "train"}, description="d") as run:
        run_id = run.info.run_id
        mlflow.log_param("p", 1)
        mlflow.set_tag("gitlab.CI_JOB_ID", "42")
        mlflow.log_metric("m", 1)
        mlflow.log_metric("m", 2)
        with mlflow.start_run(run_name="child", nested=True) as child:
            mlflow.log_param("p", 2)
    with mlflow.start_run(run_id=run_id):
        mlflow.log_param("q", 3)
    client.update_run(run_id, name="renamed")
    client.set_terminated(run_id, status="FINISHED")
    done = client.get_run(run_id)
    assert done.info.run_name == "renamed"
    assert done.info.status == "FINISHED"
    assert done.data.params == {"p": "1", "q": "3"}
    assert done.data.tags["mlflow.runName"] == "renamed"
    assert done.data.tags["kind"] == "train"
    assert done.data.tags["mlflow.note.content"] == "d"
    assert client.get_run(child.info.run_id).data.tags["mlflow.parentRunId"] == run_id


def test_the_run_name_is_no_write_once_tag(run):
    """In GitLab the run's name is a column: mlflow.runName sets it, as often as asked."""
    run_id = run.info.run_id
    mlflow.set_tag("mlflow.runName", "one")
    mlflow.set_tag("mlflow.runName", "two")
    MlflowClient().log_batch(run_id, tags=[RunTag("mlflow.runName", "three")])
    got = MlflowClient().get_run(run_id)
    assert (got.info.run_name, got.data.tags["mlflow.runName"]) == ("three", "three")


def test_a_model_versions_run_is_write_once_too(alpha):
    client = MlflowClient()
    name = unique("write-once-model")
    client.create_registered_model(name)
    version = client.create_model_version(name, source="")
    client.set_tag(version.run_id, "gitlab.CI_JOB_ID", "1")
    client.log_param(version.run_id, "p", "1")
    with pytest.raises(MlflowException) as e:
        client.set_tag(version.run_id, "gitlab.CI_JOB_ID", "2")
    refused(e, WRITE_ONCE)
    with pytest.raises(MlflowException) as e:
        client.log_param(version.run_id, "p", "2")
    refused(e, WRITE_ONCE)
    data = data_of(version.run_id)
    assert (data.tags["gitlab.CI_JOB_ID"], data.params) == ("1", {"p": "1"})


# ---- limits --------------------------------------------------------------------------------


def test_param_values_are_limited_to_250_characters(run):
    run_id = run.info.run_id
    mlflow.log_param("ok", "v" * 250)
    with pytest.raises(MlflowException) as e:
        mlflow.log_param("long", "v" * 251)
    refused(e, "GitLab's length limit of 250 (MLflow allows 500)")
    with pytest.raises(MlflowException) as e:
        mlflow.log_params({"other": "1", "long": "v" * 251})
    refused(e, "GitLab's length limit of 250")
    assert data_of(run_id).params == {"ok": "v" * 250}


@pytest.mark.parametrize(
    "log",
    [
        lambda: mlflow.log_param("k" * 251, "1"),
        lambda: mlflow.log_metric("k" * 251, 1.0),
        lambda: mlflow.log_metrics({"k" * 251: 1.0}),
        lambda: mlflow.set_tag("k" * 251, "1"),
        lambda: mlflow.set_tag("k", "v" * 5001),
        lambda: mlflow.set_tags({"k": "v" * 5001}),
    ],
    ids=["param-key", "metric-key", "batch-metric-key", "tag-key", "tag-value", "batch-tag-value"],
)
def test_names_and_tags_are_limited(run, log):
    with pytest.raises(MlflowException) as e:
        log()
    refused(e, "exceeded length limit")
    data = data_of(run.info.run_id)
    assert (data.params, data.metrics) == ({}, {})
    assert "k" not in data.tags and "k" * 251 not in data.tags


def test_names_and_tags_at_the_limits_are_accepted(run):
    mlflow.log_param("p" * 250, "1")
    mlflow.log_metric("m" * 250, 1.0)
    mlflow.set_tag("t" * 250, "v" * 5000)
    data = data_of(run.info.run_id)
    assert data.tags["t" * 250] == "v" * 5000
    assert ("p" * 250 in data.params, "m" * 250 in data.metrics) == (True, True)


def test_model_descriptions_are_limited_to_10000_characters(alpha):
    client = MlflowClient()
    name = unique("described")
    with pytest.raises(MlflowException) as e:
        client.create_registered_model(name, description="d" * 10001)
    refused(e, "exceeded GitLab's length limit of 10000")
    assert [m.name for m in client.search_registered_models(f"name='{name}'")] == []
    assert client.get_experiment_by_name(f"[model]{name}") is None
    client.create_registered_model(name, description="d" * 10000)
    with pytest.raises(MlflowException) as e:
        client.update_registered_model(name, description="e" * 10001)
    refused(e, "length limit of 10000")
    assert client.get_registered_model(name).description == "d" * 10000


@pytest.fixture(scope="module")
def crowded(gitlab):
    """An experiment with 1001 runs."""
    session = requests.Session()
    session.headers["Authorization"] = "Bearer glpat-alpha-api"
    answer = session.post(
        gitlab.api("experiments/create"), json={"name": unique("crowded")}, timeout=30
    )
    experiment_id = answer.json()["experiment_id"]
    for _ in range(1001):
        answer = session.post(
            gitlab.api("runs/create"), json={"experiment_id": experiment_id}, timeout=30
        )
        answer.raise_for_status()
    return experiment_id


def test_search_runs_answers_200_by_default_and_at_most_1000(gitlab, crowded):
    def search(**body):
        answer = gitlab.call("POST", "runs/search", json={"experiment_ids": [crowded], **body})
        assert answer.status_code == 200, answer.text
        return answer.json()

    default = search()
    assert (len(default["runs"]), "next_page_token" in default) == (200, True)
    assert len(search(max_results=7)["runs"]) == 7
    # Over the cap (even over MLflow's own limit of 50000): capped, not refused.
    for asked in (1001, 100000):
        capped = search(max_results=asked)
        assert (len(capped["runs"]), "next_page_token" in capped) == (1000, True)
        rest = search(max_results=asked, page_token=capped["next_page_token"])
        assert (len(rest["runs"]), "next_page_token" in rest) == (1, False)


def test_the_client_pages_through_the_cap(alpha, crowded):
    assert len(mlflow.search_runs([crowded], output_format="list")) == 1001
    assert len(MlflowClient().search_runs([crowded], max_results=1001)) == 1000


def test_search_registered_models_answers_200_by_default(gitlab, alpha):
    client = MlflowClient()
    prefix = unique("many")
    for i in range(201):
        client.create_registered_model(f"{prefix}-{i:03}")

    def search(**params):
        answer = gitlab.call(
            "GET", "registered-models/search", params={"filter": f"name='{prefix}'", **params}
        )
        assert answer.status_code == 200, answer.text
        return answer.json()

    default = search()
    assert (len(default["registered_models"]), "next_page_token" in default) == (200, True)
    assert len(search(max_results=3)["registered_models"]) == 3
    over = search(max_results=5000)  # MLflow refuses more than 1000; GitLab caps
    assert (len(over["registered_models"]), "next_page_token" in over) == (201, False)
    assert len(mlflow.search_registered_models(filter_string=f"name='{prefix}'")) == 201


# ---- search_registered_models: name='x' only ------------------------------------------------


def test_search_registered_models_matches_names_containing_the_text(alpha):
    client = MlflowClient()
    marker = unique("sub")
    names = [f"a-{marker}-b", f"{marker}", f"X{marker}%_"]
    for name in names:
        client.create_registered_model(name)
    found = mlflow.search_registered_models(filter_string=f"name='{marker}'")
    assert sorted(m.name for m in found) == sorted(names)
    assert [m.name for m in client.search_registered_models(f"name='{marker}%_'")] == [names[2]]
    # Case-sensitive, and wildcards are plain characters.
    assert client.search_registered_models(f"name='{marker.upper()}'") == []
    assert client.search_registered_models(f"name='{marker}%b'") == []
    everything = [m.name for m in client.search_registered_models(max_results=1000)]
    assert set(names) <= set(everything)


@pytest.mark.parametrize(
    "filter_string",
    [
        "name LIKE 'a%'",
        "name ILIKE 'a%'",
        "name != 'a'",
        'name="a"',
        "name = 'a'",
        "tags.team = 'a'",
        "name='a' AND tags.team='b'",
        "name='a' OR name='b'",
        "description='a'",
    ],
)
def test_search_registered_models_refuses_other_filters(gitlab, alpha, filter_string):
    answer = gitlab.call("GET", "registered-models/search", params={"filter": filter_string})
    assert_400(answer, MODEL_SEARCH_CAVEAT)
    assert repr(filter_string) in answer.json()["message"]
    with pytest.raises(MlflowException) as e:
        mlflow.search_registered_models(filter_string=filter_string)
    refused(e, MODEL_SEARCH_CAVEAT)


# ---- model versions are in stage "development" ---------------------------------------------


def test_model_versions_are_in_development(gitlab, alpha, tmp_path):
    client = MlflowClient()
    name = unique("staged")
    client.create_registered_model(name)
    created = client.create_model_version(name, source="")
    assert created.current_stage == "development"
    assert client.get_model_version(name, created.version).current_stage == "development"
    updated = client.update_model_version(name, created.version, description="x")
    assert updated.current_stage == "development"
    (latest,) = client.get_latest_versions(name, stages=["Production"])  # stages are ignored
    assert (latest.version, latest.current_stage) == (created.version, "development")
    (model,) = client.search_registered_models(f"name='{name}'")
    assert [v.current_stage for v in model.latest_versions] == ["development"]
    answer = gitlab.call("GET", "registered-models/get", params={"name": name})
    assert answer.json()["registered_model"]["latest_versions"][0]["current_stage"] == (
        "development"
    )


def test_a_version_is_any_label_but_an_empty_one(gitlab, alpha):
    # SemVer labels and numbers alike name versions; an update's empty one is refused, as the
    # dialect's contract states (it said nothing of it, and fuzzing sent {"version": ""}); a read
    # of an empty one finds nothing.
    schemas = yaml.safe_load(GITLAB_OPENAPI_PATH.read_text())["components"]["schemas"]
    assert schemas["UpdateModelVersionRequest"]["properties"]["version"] == {
        "type": "string",
        "minLength": 1,
    }
    name = unique("labels")
    MlflowClient().create_registered_model(name)
    version = gitlab.call("POST", "model-versions/create", json={"name": name, "source": ""})
    label = version.json()["model_version"]["version"]
    for sent in (label, "1", " "):
        answer = gitlab.call("PATCH", "model-versions/update", json={"name": name, "version": sent})
        assert answer.status_code == (200 if sent == label else 404), answer.text
    empty = gitlab.call("PATCH", "model-versions/update", json={"name": name, "version": ""})
    assert_400(empty, "version")
    found = gitlab.call("GET", "model-versions/get", params={"name": name, "version": ""})
    assert found.status_code == 404, found.text
    assert found.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"


def test_latest_loads_a_version_in_development(alpha, tmp_path):
    class Doubler(mlflow.pyfunc.PythonModel):
        def predict(self, context, model_input):
            return [2 * x for x in model_input]

    client = MlflowClient()
    name = unique("loadable")
    client.create_registered_model(name)
    version = client.create_model_version(name, source="")
    mlflow.pyfunc.save_model(str(tmp_path / "model"), python_model=Doubler())
    for path in sorted((tmp_path / "model").iterdir()):
        if path.is_file():
            client.log_artifact(version.run_id, str(path), artifact_path="")
    model = mlflow.pyfunc.load_model(f"models:/{name}/latest")
    assert list(model.predict([1, 2])) == [2, 4]
