"""`mlflow-compat fuzz URL` from the package as setuptools lays it out for installation: the
settings file and hooks come with the package, and it runs from any directory."""

from __future__ import annotations

import subprocess

from tests.package import built_package, console_script, run_installed
from tools.peers import start_reference

SECRET = "Bearer not-for-the-log"


def test_fuzz_is_listed_by_help():
    top = subprocess.run(console_script("--help"), capture_output=True, text=True, check=True)
    assert "{check,fuzz,serve}" in top.stdout
    assert "fuzz a server with schemathesis and the spec" in " ".join(top.stdout.split())
    own = subprocess.run(console_script("fuzz", "--help"), capture_output=True, text=True)
    assert own.returncode == 0, own.stderr
    assert own.stdout.startswith("usage: mlflow-compat fuzz [-h]")
    for flag in ("--header", "--gitlab", "--junit", "--max-examples", "--phases"):
        assert flag in own.stdout, flag


def test_fuzz_runs_from_the_installed_package(tmp_path):
    site = built_package(tmp_path)
    package = site / "conformance" / "fuzz"
    assert {"hooks.py", "schemathesis.toml", "cli.py", "harness.py"} <= {
        p.name for p in package.iterdir()
    }
    elsewhere = tmp_path / "elsewhere"
    with start_reference(tmp_path / "server") as server:
        proc = run_installed(
            site,
            elsewhere,
            "fuzz",
            server.url,
            "--header",
            f"Authorization: {SECRET}",
            "--max-examples",
            "2",
            "--phases",
            "examples",
            "--junit",
            "junit.xml",
        )
    assert proc.returncode == 0, proc.stdout[-5000:] + proc.stderr[-3000:]
    seeded, command = proc.stdout.splitlines()[:2]
    # The server was seeded first; the settings file beside the report is the installed one
    # (which loads the installed hooks module) with the seeds' dictionaries after it; the spec is
    # the installed one, not the checkout's.
    settings = elsewhere / "junit.toml"
    assert seeded == f"seeded {server.url}; settings: {settings}"
    assert settings.read_text().startswith((package / "schemathesis.toml").read_text().rstrip())
    assert "[dictionaries.run_ids]" in settings.read_text()
    spec = site / "conformance" / "spec" / "mlflow-2.7.1.yaml"
    assert f" --config-file {settings} run {spec} " in command, command
    assert "'Authorization: <redacted>'" in command
    assert "--exclude-operation-id" not in command
    assert SECRET not in proc.stdout + proc.stderr
    summary = proc.stdout.strip().splitlines()[-1]
    assert summary.startswith(f"schemathesis {server.url}: passed, 56 operations, "), summary
    assert summary.endswith(f"JUnit: {elsewhere / 'junit.xml'}"), summary
    assert (elsewhere / "junit.xml").is_file()
