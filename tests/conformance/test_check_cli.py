"""`mlflow-compat check` from the package as setuptools lays it out for installation."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tools.client_methods import REPO
from tools.peers import start_reference

EXPERIMENT_ROWS = {
    "create_experiment",
    "get_experiment",
    "get_experiment_by_name",
    "delete_experiment",
    "set_experiment",
}


def _built_package(tmp_path):
    """The files an install puts in site-packages (setuptools' build_py, as a wheel build runs
    it): the spec documents are copied into conformance/spec, not linked to the checkout."""
    build_lib, egg_base = tmp_path / "site-packages", tmp_path / "egg-info"
    egg_base.mkdir()
    subprocess.run(
        [
            sys.executable,
            "-c",
            "from setuptools import setup; setup()",
            "-q",
            "egg_info",
            "--egg-base",
            str(egg_base),
            "build_py",
            "--build-lib",
            str(build_lib),
        ],
        cwd=REPO,
        check=True,
        capture_output=True,
    )
    return build_lib


def test_check_runs_the_suite_from_the_installed_package(tmp_path):
    site = _built_package(tmp_path)
    spec = site / "conformance" / "spec"
    assert not spec.is_symlink()
    assert sorted(p.name for p in spec.iterdir()) == ["client-methods.yaml", "mlflow-2.7.1.yaml"]
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHONPATH", "PYTEST_"))}
    env["PYTHONPATH"] = str(site)
    with start_reference(tmp_path / "server") as server:
        proc = subprocess.run(
            [
                sys.executable,
                "-c",
                # What the `mlflow-compat` console script runs.
                "import sys; from server.cli import main; sys.exit(main())",
                "check",
                server.url,
                "-k",
                "experiment and not register",
                "--report-json",
                "report.json",
                "--junitxml",
                "junit.xml",
            ],
            cwd=elsewhere,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
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
