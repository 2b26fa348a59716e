"""The client-version matrix, fast: clients 2.7.1 and 3.17.2, the core flows of a user's day,
against `mlflow server` 2.7.1, the reference server (stock) and its gitlab dialect; and the
parts of the matrix on their own (the client virtualenv cache, the version switches, the HTML
report)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor

import pytest

from conformance import clients, compat, html_report, matrix_report
from tools.client_methods import REPO, normalise_status, seed_path, seed_tables
from tools.peers import start_oracle

NEW = "3.17.2"
# The everyday flows, each row with all of its probes (so that a row's verdict is the
# whole row's): experiment, params, a file artifact, log_model, load_model, a registered model.
SCENARIOS = (
    "test_set_experiment_creates_then_reuses",
    "test_log_param_fluent",
    "test_log_artifact_fluent",
    "test_log_artifact_client",
    "test_log_artifact_with_artifact_path",
    "test_log_artifact_into_nested_directories",
    "test_log_model_saves_artifacts",
    "test_log_model_sends_model_data",
    "test_log_model_data_on_the_run",
    "test_log_model_with_artifact_path",
    "test_load_model_by_version",
    "test_get_registered_model",
)
ROWS = {
    "set_experiment",
    "log_param",
    "log_artifact",
    "log_model",
    "load_model",
    "get_registered_model",
}


def run_matrix(tmp_path, *args: str, scenarios=SCENARIOS, versions=("2.7.1", NEW)) -> dict:
    """`python -m pytest conformance --client 2.7.1 --client 3.17.2 -k <the flows>` in a
    subprocess (`scenarios` None: all of them); its reports and output."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    paths = {k: tmp_path / f"report.{k}" for k in ("json", "md", "html", "xml")}
    argv = [sys.executable, "-m", "pytest", "conformance", "-q"]
    argv += ["-k", " or ".join(scenarios)] if scenarios else []
    argv += [a for v in versions for a in ("--client", v)]
    argv += ["--report-json", str(paths["json"])]
    argv += ["--report", str(paths["md"]), "--report-html", str(paths["html"])]
    argv += ["--junitxml", str(paths["xml"]), *args]
    proc = subprocess.run(argv, cwd=REPO, capture_output=True, text=True, timeout=900)
    assert paths["json"].exists(), f"no report:\n{proc.stdout[-4000:]}\n{proc.stderr[-3000:]}"
    return {
        "status": proc.returncode,
        "out": proc.stdout,
        "report": json.loads(paths["json"].read_text()),
        "md": paths["md"].read_text(),
        "html": paths["html"].read_text(),
        "junit": ET.parse(paths["xml"]).getroot(),
    }


def column(report: dict, client: str) -> dict[str, str]:
    """The matrix column of one client, rows run only: {row id: verdict}."""
    return {
        c["row"]: c["observed"]
        for c in report["matrix"]
        if c["client"] == client and c["observed"] != "Not run"
    }


@pytest.fixture(scope="module")
def matrices(tmp_path_factory) -> dict[str, dict]:
    """The fast matrix against the three servers, run side by side (the client virtualenv of
    3.17.2 made first, once, in the user's cache)."""
    clients.ensure(NEW)
    tmp = tmp_path_factory.mktemp("matrix")
    with start_oracle(tmp / "oracle", workers=2) as oracle, ThreadPoolExecutor(3) as pool:
        runs = {
            "oracle": pool.submit(run_matrix, tmp / "on-oracle", "--target", oracle.url),
            "reference": pool.submit(run_matrix, tmp / "on-reference"),
            "gitlab": pool.submit(run_matrix, tmp / "on-gitlab", "--dialect", "gitlab"),
        }
        return {name: run.result() for name, run in runs.items()}


@pytest.mark.oracle
def test_against_mlflow_server_2_7_1_the_3x_client_breaks_at_logged_models(matrices):
    found = matrices["oracle"]
    report = found["report"]
    assert report["server_version"] == "2.7.1"
    assert [c["client"] for c in report["clients"]] == ["2.7.1", NEW]
    assert column(report, "2.7.1") == dict.fromkeys(ROWS, "Yes"), found["md"]
    # 3.x logs models through the LoggedModel API, which a 2.7.1 server lacks; and it lists a
    # run's artifact directory together with the logged models of that name (searching them).
    assert column(report, NEW) == {
        **dict.fromkeys(ROWS, "Yes"),
        "log_model": "No",
        "load_model": "No",
        "log_artifact": "Yes with caveat",
    }, found["md"]
    calls = {
        "log_model": "POST /api/2.0/mlflow/logged-models -> 404",
        "load_model": "POST /api/2.0/mlflow/logged-models -> 404",
        "log_artifact": "POST /api/2.0/mlflow/logged-models/search -> 404",
    }
    for cell in report["matrix"]:
        if cell["client"] == NEW and cell["row"] in calls:
            # mlflow server 2.7.1 answers the 3.x LoggedModel API with Flask's HTML 404.
            exchanges = [e["exchange"] or "" for e in cell["evidence"]]
            assert any(calls[cell["row"]] in x for x in exchanges), cell
    # Each client's terminal progress, a line per row as it is graded.
    assert f"[{NEW}] log_model ... No" in found["out"]
    assert "[2.7.1] log_model ... Yes" in found["out"]
    assert found["status"] == 1  # the 3.x client's scenarios failed


def test_the_reference_server_gets_the_same_matrix_as_mlflow_server_2_7_1(matrices):
    ours, theirs = matrices["reference"]["report"], matrices["oracle"]["report"]
    assert ours["embedded"] is True
    cells = lambda r: {(c["client"], c["row"]): c["observed"] for c in r["matrix"]}  # noqa: E731
    assert cells(ours) == cells(theirs), matrices["reference"]["md"]
    new = {c["row"]: c for c in ours["matrix"] if c["client"] == NEW}
    errors = " ".join(e["error"] for e in new["log_model"]["evidence"])
    assert "ENDPOINT_NOT_FOUND" in errors
    exchanges = " ".join(e["exchange"] or "" for e in new["log_model"]["evidence"])
    assert "POST /api/2.0/mlflow/logged-models -> 404 ENDPOINT_NOT_FOUND" in exchanges


def _seed_statuses() -> dict[str, str]:
    found: dict[str, str] = {}
    for table in seed_tables(seed_path()):
        for method, status, _version, _comments in table:
            found.setdefault(method, normalise_status(status))
    return found


def test_the_gitlab_dialect_still_reproduces_gitlabs_table_with_the_2_7_1_client(matrices):
    found = matrices["gitlab"]
    report = found["report"]
    assert report["dialect"] == "gitlab"
    seed = _seed_statuses()
    rows = {r["id"]: r for r in report["rows"]}
    for row_id, observed in column(report, "2.7.1").items():
        row = rows[row_id]
        expected = seed[row["method"]]
        if row["documented_restrictions_in_yes_row"]:
            expected = "Yes with caveat"  # the page states a restriction for a Yes row
        assert observed == expected, (row_id, found["md"])
    # A 3.x client's LoggedModel call gets GitLab's own 404 body, which the client raises as
    # INTERNAL_ERROR (it has no error_code).
    new = {c["row"]: c for c in report["matrix"] if c["client"] == NEW}
    assert new["log_model"]["observed"] == "No", found["md"]
    evidence = new["log_model"]["evidence"]
    assert any("INTERNAL_ERROR" in e["error"] for e in evidence), evidence
    assert any(
        'logged-models -> 404 {"error":"404 Not Found"}' in (e["exchange"] or "") for e in evidence
    ), evidence


def test_the_matrix_reports(matrices):
    found = matrices["oracle"]
    md, report = found["md"], found["report"]
    # Markdown: the seed's tables, one verdict column per client; evidence per client.
    assert md.count(f"| Method | Documented | 2.7.1 | {NEW} | Comments |") == 2
    assert "| `log_model` | Yes | Yes | **No** |" in md
    assert f"### `log_model` with mlflow {NEW} — No" in md
    # JSON: a one-client report's fields, plus the matrix.
    assert {"target", "rows", "summary", "wire", "cleanup_problems", "matrix"} <= set(report)
    cell = next(c for c in report["matrix"] if (c["client"], c["row"]) == (NEW, "log_model"))
    assert set(cell) >= {"client", "method", "documented", "observed", "evidence"}
    assert (cell["method"], cell["documented"], cell["observed"]) == ("log_model", "Yes", "No")
    assert all({"call", "error", "exchange"} <= set(e) for e in cell["evidence"])
    # JUnit: a testsuite per client, the client version in every test id.
    suites = found["junit"].findall("testsuite")
    assert [s.get("name") for s in suites] == ["mlflow 2.7.1", f"mlflow {NEW}"]
    for suite, version in zip(suites, ["2.7.1", NEW], strict=True):
        names = [c.get("name") for c in suite.iter("testcase")]
        assert len(names) == len(SCENARIOS)
        assert all(n.startswith(f"[{version}] test_") for n in names), names
    failed = [c.get("name") for c in suites[1].iter("testcase") if c.find("failure") is not None]
    assert f"[{NEW}] test_log_model_saves_artifacts" in failed


def test_the_html_report_is_self_contained_and_filters_by_verdict(matrices):
    page = matrices["oracle"]["html"]
    assert page.startswith("<!DOCTYPE html>")
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page), "an external asset"
    assert "<link" not in page and "@import" not in page
    for verdict in ("Yes", "Yes with caveat", "Partial", "No", "Not applicable"):
        assert f'<input type="checkbox" value="{verdict}" checked>' in page
    assert "function applyFilter()" in page
    assert page.count('<tr class="row">') == 35
    assert 'data-verdict="No">No<details>' in page  # the 3.x log_model cell, with evidence
    assert "logged-models" in page


def test_a_one_client_report_renders_as_a_one_column_matrix(matrices):
    report = matrices["reference"]["report"]["reports"]["2.7.1"]
    page = html_report.render(matrix_report.as_matrix(report))
    assert page.count("<th>2.7.1</th>") == 2 and f"<th>{NEW}</th>" not in page


# The client virtualenv cache, with a stand-in installer (the real install is what the fast matrix
# above exercised): it makes a "virtualenv" whose python runs this interpreter (mlflow 2.7.1).
def _fake_installer(calls: list, delay: float = 0.0):
    def install(venv, version):
        calls.append(version)
        time.sleep(delay)
        (venv / "bin").mkdir(parents=True, exist_ok=True)
        python = clients.venv_python(venv)
        python.write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
        python.chmod(0o755)
        (venv / clients.MARKER).write_text("{}")

    return install


def test_a_ready_client_virtualenv_is_reused(tmp_path):
    calls: list = []
    python = clients.ensure("2.7.1", tmp_path, log=lambda _: None, installer=_fake_installer(calls))
    assert clients.mlflow_version(python) == "2.7.1"
    assert clients.ensure("2.7.1", tmp_path, installer=_fake_installer(calls)) == python
    assert calls == ["2.7.1"]


def test_a_client_virtualenv_without_marker_or_working_mlflow_is_made_again(tmp_path):
    calls: list = []
    quiet = {"log": lambda _: None, "installer": _fake_installer(calls)}
    clients.ensure("2.7.1", tmp_path, **quiet)
    (tmp_path / "2.7.1" / clients.MARKER).unlink()  # an install that did not finish
    clients.ensure("2.7.1", tmp_path, **quiet)
    python = clients.venv_python(tmp_path / "2.7.1")
    python.unlink()
    python.write_text("#!/bin/sh\nexit 1\n")  # a python that no longer imports mlflow
    python.chmod(0o755)
    assert not clients.is_ready(tmp_path / "2.7.1", "2.7.1")
    clients.ensure("2.7.1", tmp_path, **quiet)
    assert calls == ["2.7.1"] * 3
    assert clients.is_ready(tmp_path / "2.7.1", "2.7.1")
    with pytest.raises(clients.ClientError, match="not importable"):
        clients.ensure("9.9.9", tmp_path, **quiet)  # the "install" gives mlflow 2.7.1


def test_two_runs_do_not_build_one_client_virtualenv_at_once(tmp_path):
    calls: list = []
    installer = _fake_installer(calls, delay=1.0)
    results = []

    def build():
        results.append(clients.ensure("2.7.1", tmp_path, log=lambda _: None, installer=installer))

    threads = [threading.Thread(target=build) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert calls == ["2.7.1"] and len(set(results)) == 1


def test_the_cache_is_under_xdg_cache_home(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert clients.cache_root() == tmp_path / "mlflow-compat" / "clients"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert clients.cache_root() == clients.Path.home() / ".cache" / "mlflow-compat" / "clients"


def _compat_in(python: str, expression: str):
    """Evaluate an expression of conformance.compat in another client's interpreter."""
    code = f"import json; from conformance import compat; print(json.dumps({expression}))"
    done = subprocess.run(
        [python, "-c", code],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        timeout=300,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_version_switches_follow_the_running_client():
    assert compat.log_model_kwargs("") == {"artifact_path": ""}
    assert compat.model_version_kwargs(None) == {}
    assert not compat.MLFLOW_3 and compat.at_least("2.7.1") and not compat.at_least("2.8.0")
    new = str(clients.ensure(NEW))
    found = _compat_in(new, "[compat.log_model_kwargs('m'), compat.MLFLOW_3, compat.at_least('3')]")
    assert found == [{"name": "m"}, True, True]


def test_a_method_the_client_lacks_is_not_applicable():
    class Client:
        def get_run(self):
            return "run"

    assert compat.method(Client(), "get_run")() == "run"
    with pytest.raises(compat.NotApplicable, match="has no list_run_infos"):
        compat.method(Client(), "list_run_infos")
