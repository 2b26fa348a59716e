"""Drive both servers with the real MLflow 2.7.1 client through one script; compare what it sees."""

from __future__ import annotations

import json
import math
import uuid

import mlflow
import numpy as np
import pytest
from mlflow.entities import Metric, Param, RunTag
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from .harness import Masker, paths_differing

pytestmark = [pytest.mark.oracle, pytest.mark.scenario("client-script")]


def _entity(obj) -> dict:
    return {k: v for k, v in dict(obj).items() if not k.startswith("_")}


def _run(run) -> dict:
    info = _entity(run.info)
    data = {
        "metrics": dict(sorted(run.data.metrics.items())),
        "params": dict(sorted(run.data.params.items())),
        # The client adds the source name and git commit of the process driving it: the same
        # for both servers, so they compare as they are.
        "tags": dict(sorted(run.data.tags.items())),
    }
    inputs = [
        {"dataset": _entity(d.dataset), "tags": sorted((t.key, t.value) for t in d.tags)}
        for d in run.inputs.dataset_inputs
    ]
    return {"info": info, "data": data, "inputs": inputs}


def _error(e: MlflowException) -> dict:
    return {"error_code": e.error_code}


def _nan_safe(value):
    if isinstance(value, float) and math.isnan(value):
        return "NaN"
    if isinstance(value, dict):
        return {k: _nan_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_nan_safe(v) for v in value]
    return value


def client_script(url: str, token: str, tmp_path, monkeypatch) -> list[tuple[str, object]]:
    """The same sequence of client calls against `url`; returns (label, observation) pairs."""
    # mlflow-artifacts:/ URIs resolve against the global tracking URI, even for MlflowClient.
    monkeypatch.setenv("MLFLOW_TRACKING_URI", url)
    mlflow.set_tracking_uri(url)
    try:
        return _script(url, token, tmp_path)
    finally:
        while mlflow.active_run():
            mlflow.end_run()
        mlflow.set_tracking_uri(None)
        mlflow.tracking.fluent._active_experiment_id = None
        monkeypatch.delenv("MLFLOW_TRACKING_URI")


def _script(url: str, token: str, tmp_path) -> list[tuple[str, object]]:
    seen: list[tuple[str, object]] = []
    client = MlflowClient(tracking_uri=url)
    name = f"diff-client-{token}"

    exp_id = client.create_experiment(name, tags={"team": "ml"})
    seen.append(("create_experiment", {"experiment_id": exp_id}))
    seen.append(("get_experiment", _entity(client.get_experiment(exp_id))))
    seen.append(("get_experiment_by_name", _entity(client.get_experiment_by_name(name))))
    seen.append(("get_experiment_by_name missing", client.get_experiment_by_name(name + "-no")))
    try:
        client.create_experiment(name)
        seen.append(("create duplicate", "no error"))
    except MlflowException as e:
        seen.append(("create duplicate", _error(e)))

    run = client.create_run(exp_id, run_name="client-run", tags={"k": "v"}, start_time=1000)
    run_id = run.info.run_id
    seen.append(("create_run", _run(run)))
    client.log_param(run_id, "lr", "0.01")
    client.log_metric(run_id, "loss", 0.5, timestamp=10, step=0)
    client.log_metric(run_id, "loss", 0.25, timestamp=20, step=1)
    client.log_metric(run_id, "nan", float("nan"), timestamp=10, step=0)
    client.log_metric(run_id, "inf", float("inf"), timestamp=10, step=0)
    client.set_tag(run_id, "color", "red")
    client.log_batch(
        run_id,
        metrics=[Metric(f"m{i}", i, 100 + i, i) for i in range(150)],
        params=[Param(f"p{i}", str(i)) for i in range(120)],  # the client splits at 100
        tags=[RunTag(f"t{i}", str(i)) for i in range(5)],
    )
    try:
        client.log_param(run_id, "lr", "0.02")
        seen.append(("relog param", "no error"))
    except MlflowException as e:
        seen.append(("relog param", _error(e)))
    client.delete_tag(run_id, "t0")
    client.log_text(run_id, "hello", "notes/hello.txt")
    client.log_dict(run_id, {"a": 1}, "config.json")
    seen.append(("list_artifacts root", [_entity(f) for f in client.list_artifacts(run_id)]))
    seen.append(
        ("list_artifacts dir", [_entity(f) for f in client.list_artifacts(run_id, "notes")])
    )
    tmp_path.mkdir(parents=True, exist_ok=True)
    local = client.download_artifacts(run_id, "notes/hello.txt", str(tmp_path))
    with open(local) as f:
        seen.append(("download_artifacts", f.read()))
    client.set_terminated(run_id, "FINISHED", end_time=5000)
    client.update_run(run_id, name="client-run-renamed")
    seen.append(("get_run", _run(client.get_run(run_id))))
    seen.append(
        ("get_metric_history", [_entity(m) for m in client.get_metric_history(run_id, "loss")])
    )

    # The fluent API, as a training script would use it.
    mlflow.set_experiment(name)
    with mlflow.start_run(run_name="fluent-run") as active:
        mlflow.log_params({"alpha": 0.5, "layers": 3})
        mlflow.log_metrics({"acc": 0.9, "loss": 0.1}, step=1)
        mlflow.log_metric("acc", 0.95, step=2)
        mlflow.set_tags({"stage": "dev"})
        dataset = mlflow.data.from_numpy(np.array([[1, 2], [3, 4]]), name="tiny")
        mlflow.log_input(dataset, context="training")
        fluent_id = active.info.run_id
    with mlflow.start_run(run_name="failed-run"):
        mlflow.log_metric("acc", 0.1)
        mlflow.end_run("FAILED")

    runs = client.search_runs([exp_id], order_by=["attributes.start_time ASC"])
    seen.append(("search_runs", [_run(r) for r in runs]))
    seen.append(
        (
            "search_runs filter",
            [
                r.info.run_name
                for r in client.search_runs([exp_id], "metrics.acc > 0.5 and params.alpha = '0.5'")
            ],
        )
    )
    page = client.search_runs([exp_id], max_results=2, order_by=["attributes.start_time ASC"])
    seen.append(("search_runs page 1", [r.info.run_name for r in page]))
    page2 = client.search_runs(
        [exp_id], max_results=2, order_by=["attributes.start_time ASC"], page_token=page.token
    )
    seen.append(("search_runs page 2", [r.info.run_name for r in page2]))
    seen.append(("search_runs page 2 token", page2.token))
    exps = client.search_experiments(filter_string=f"name = '{name}'")
    seen.append(("search_experiments", [_entity(e) for e in exps]))

    mlflow.delete_run(fluent_id)
    seen.append(
        ("search_runs after delete", [r.info.run_name for r in client.search_runs([exp_id])])
    )
    client.delete_run(run_id)
    seen.append(("get deleted run", _entity(client.get_run(run_id).info)))
    client.restore_run(run_id)
    client.delete_experiment(exp_id)
    seen.append(("get deleted experiment", _entity(client.get_experiment(exp_id))))
    try:
        client.create_run(exp_id)
        seen.append(("create run in deleted experiment", "no error"))
    except MlflowException as e:
        seen.append(("create run in deleted experiment", _error(e)))
    client.restore_experiment(exp_id)
    seen.append(("restored experiment", _entity(client.get_experiment(exp_id))))
    return seen


def _masked(seen: list[tuple[str, object]]) -> list[tuple[str, object]]:
    masker = Masker()
    out = []
    for label, value in seen:
        value = _nan_safe(json.loads(json.dumps(value, default=str)))
        masker.learn(value, label.replace(" ", "-"))
        out.append((label, masker.apply(value)))
    return out


def test_client_script(oracle, subject, tmp_path, monkeypatch):
    token = uuid.uuid4().hex[:10]
    expected = _masked(client_script(oracle.url, token, tmp_path / "oracle", monkeypatch))
    actual = _masked(client_script(subject.url, token, tmp_path / "subject", monkeypatch))
    problems = []
    for (label, e), (_, a) in zip(expected, actual, strict=True):
        for path, x, y in paths_differing({"v": e}, {"v": a}):
            problems.append(f"{label}: {path}: oracle={x!r} subject={y!r}")
    if problems:
        pytest.fail(
            f"the MLflow client sees {len(problems)} differences ({subject.backend}):\n"
            + "\n".join(problems[:40]),
            pytrace=False,
        )
