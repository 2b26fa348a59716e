"""`mlflow-compat check` from the package as setuptools lays it out for installation."""

from __future__ import annotations

import json

from tests.package import built_package, run_installed
from tools.peers import start_reference

EXPERIMENT_ROWS = {
    "create_experiment",
    "get_experiment",
    "get_experiment_by_name",
    "delete_experiment",
    "set_experiment",
}


def test_check_runs_the_suite_from_the_installed_package(tmp_path):
    site = built_package(tmp_path)
    spec = site / "conformance" / "spec"
    assert not spec.is_symlink()
    assert sorted(p.name for p in spec.iterdir()) == [
        "client-methods.yaml",
        "mlflow-2.7.1-gitlab.yaml",
        "mlflow-2.7.1.yaml",
    ]
    elsewhere = tmp_path / "elsewhere"
    with start_reference(tmp_path / "server") as server:
        proc = run_installed(
            site,
            elsewhere,
            "check",
            server.url,
            "-k",
            "experiment and not register",
            "--report-json",
            "report.json",
            "--junitxml",
            "junit.xml",
        )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert str(site / "conformance") in proc.stdout  # the installed copy ran, not the checkout
    assert "MLflow client conformance" in proc.stdout
    report = json.loads((elsewhere / "report.json").read_text())
    observed = {row["id"]: row["observed"] for row in report["rows"]}
    assert {r for r, v in observed.items() if v == "Yes"} == EXPERIMENT_ROWS
    assert set(observed.values()) == {"Yes", "Not run"}
    assert report["full_run"] is False
    assert "<testsuite" in (elsewhere / "junit.xml").read_text()
