"""The conformance suite run end to end: against `mlflow server` 2.7.1, the reference server,
and a deliberately crippled server. One suite run per target."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import mlflow
import pytest

from tests.conformance.crippling_proxy import CripplingProxy
from tools.client_methods import REPO, load_methods
from tools.peers import start_oracle, start_reference

ROWS = [row["id"] for row in load_methods()]
REGISTRY_ROWS = [row["id"] for row in load_methods() if row["table"] == "registry"]
ARTIFACT_ROWS = ["log_artifact", "log_artifacts", "log_figure", "log_image", "log_text", "log_dict"]


def run_suite(tmp_path, *args: str, env: dict | None = None) -> tuple[int, dict, str, str]:
    """`python -m pytest conformance ...` in a subprocess: (exit status, JSON report, markdown,
    terminal output)."""
    report_json, report_md = tmp_path / "report.json", tmp_path / "report.md"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "conformance",
            "-q",
            "--report-json",
            str(report_json),
            "--report",
            str(report_md),
            *args,
        ],
        cwd=REPO,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert report_json.exists(), f"no report written:\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
    return proc.returncode, json.loads(report_json.read_text()), report_md.read_text(), proc.stdout


def verdicts(report: dict) -> dict[str, str]:
    return {row["id"]: row["observed"] for row in report["rows"]}


def _others_data(url: str) -> tuple[str, str]:
    """Data someone else owns on the server: the suite must leave it as it is."""
    client = mlflow.MlflowClient(tracking_uri=url, registry_uri=url)
    experiment_id = client.create_experiment("someone-elses-experiment")
    client.create_run(experiment_id)
    client.create_registered_model("someone-elses-model")
    return experiment_id, "someone-elses-model"


def _assert_left_alone(url: str, experiment_id: str, model: str, prefix: str) -> None:
    client = mlflow.MlflowClient(tracking_uri=url, registry_uri=url)
    assert client.get_experiment(experiment_id).lifecycle_stage == "active"
    assert len(client.search_runs([experiment_id])) == 1
    assert client.get_registered_model(model).name == model
    ours = client.search_experiments(filter_string=f"name LIKE '{prefix}%'", view_type=1)
    assert not ours, f"experiments the suite left active: {[e.name for e in ours]}"
    models = client.search_registered_models(filter_string=f"name LIKE '{prefix}%'")
    assert not models, f"registered models the suite left: {[m.name for m in models]}"


def _prefix(report: dict) -> str:
    return report["prefix"]


@pytest.mark.oracle
def test_every_row_is_yes_against_mlflow_server_2_7_1(tmp_path):
    """The proof that the suite's expectations are right: stock MLflow passes every row."""
    with start_oracle(tmp_path / "oracle", workers=2) as oracle:
        theirs = _others_data(oracle.url)
        status, report, md, _ = run_suite(tmp_path, "--target", oracle.url, "--dialect", "mlflow")
        _assert_left_alone(oracle.url, *theirs, _prefix(report))
    assert verdicts(report) == dict.fromkeys(ROWS, "Yes"), md
    assert report["summary"]["wire_violations"] == 0, md
    assert report["cleanup_problems"] == []
    assert status == 0
    assert report["server_version"] == "2.7.1"


def test_every_row_is_yes_against_the_embedded_reference_server(tmp_path):
    """Without --target the suite starts the reference server itself; it passes every row."""
    status, report, md, out = run_suite(tmp_path, "--dialect", "mlflow")
    assert report["embedded"] is True
    assert verdicts(report) == dict.fromkeys(ROWS, "Yes"), md
    assert report["summary"]["wire_violations"] == 0, md
    assert report["cleanup_problems"] == []
    assert status == 0
    # The report: who was judged, how, when; the seed's two tables; the terminal summary.
    assert f"- Server: `{report['target']}` (answers /version: 2.7.1)" in md
    assert "- Dialect (documented column): `mlflow`\n- Client: mlflow 2.7.1\n- Date: 20" in md
    assert md.count("| Method | Documented | Observed | Comments |") == 2
    assert "| `log_model` | Yes | Yes |  |" in md
    assert "MLflow client conformance" in out
    assert "verdicts: Yes 35 · differ from documented: 0 · wire violations: 0" in out


def test_a_crippled_server_gets_no_and_partial_for_exactly_the_broken_rows(tmp_path):
    """Registry routes removed and artifact URIs made local: those rows, and only those, fail.

    The proxy also wants basic auth: the user comes from --username, the password from
    MLFLOW_TRACKING_PASSWORD."""
    with (
        start_reference(tmp_path / "reference") as upstream,
        CripplingProxy(
            upstream.url,
            block_registry=True,
            local_artifacts=True,
            basic_auth=("conformance", "s3cret"),
        ) as proxy,
    ):
        status, report, md, _ = run_suite(
            tmp_path,
            "--target",
            proxy.url,
            "--username",
            "conformance",
            env={"MLFLOW_TRACKING_PASSWORD": "s3cret"},
        )
    expected = dict.fromkeys(ROWS, "Yes")
    expected.update(dict.fromkeys(REGISTRY_ROWS + ARTIFACT_ROWS, "No"))
    expected["load_model"] = "No"  # from a run: local artifacts; from the registry: no registry
    expected["log_model"] = "Partial"  # the model data reaches the server, the files do not
    assert verdicts(report) == expected, md
    assert status != 0
    assert report["server_version"] == "2.7.1"  # /version read with the basic auth header
    rows = {row["id"]: row for row in report["rows"]}
    # Evidence: the failing call and the error it got, for every row that is not Yes.
    for row_id in [r for r, v in expected.items() if v != "Yes"]:
        failing = [c for c in rows[row_id]["core"] if not c["passed"]]
        assert failing and all(c["evidence"]["error"] for c in failing), rows[row_id]
        assert f"### `{row_id}` — {expected[row_id]}" in md
    create = next(c for c in rows["create_registered_model"]["core"] if not c["passed"])
    assert create["evidence"]["exchange"] == (
        'POST /api/2.0/mlflow/registered-models/create -> 404 {"error":"404 Not Found"}'
    )
    assert "create_registered_model" in create["evidence"]["call"]
    # The wire check: those 404s are not MLflow errors, reported per operation.
    violations = report["wire"]["createRegisteredModel"]["violations"]
    assert [v["violation"] for v in violations] == [
        "404 error body is not an MLflow error: at (root): 'error_code' is a required "
        "property; (root): 'message' is a required property"
    ]
    assert violations[0]["count"] == report["wire"]["createRegisteredModel"]["exchanges"]
    text = next(c for c in rows["log_text"]["core"] if not c["passed"])
    assert "not remotely compatible" in text["evidence"]["error"]
    assert "| `log_text` | Yes | **No** |" in md
