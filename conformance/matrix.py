"""The client-version matrix: the suite run once per MLflow client version, against one server.

Each client runs the same scenarios in a subprocess, with its own interpreter (the running one
for the installed mlflow, a cached virtualenv for another version, or one the user prepared):
`python -m pytest` on this package, put on PYTHONPATH through a directory of its own, so that
nothing else of the parent's environment leaks into the client's. Each writes its JSON report
and JUnit file; `merge` makes one matrix of them.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import re
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from conformance import clients
from conformance.target import Target

HERE = Path(__file__).resolve().parent
# A child's progress line, `[<version>] <method> ... <verdict>` (after pytest's dots, maybe).
PROGRESS = re.compile(r"\[[^\]\s]+\] \S+ \.\.\. .*")


@dataclass
class Client:
    """One column of the matrix: an mlflow version and the interpreter that imports it."""

    version: str
    python: str


def installed_version() -> str:
    return importlib.metadata.version("mlflow")


def resolve(versions: list[str], pythons: list[str], log=print) -> list[Client]:
    """The clients asked for, in order; virtualenvs of other versions are made if needed."""
    found: list[Client] = []
    for version in versions:
        if version == installed_version():
            found.append(Client(version, sys.executable))
        else:
            found.append(Client(version, str(clients.ensure(version, log=log))))
    for python in pythons:
        found.append(Client(clients.mlflow_version(python), python))
    return found


def is_matrix(versions: list[str], pythons: list[str]) -> bool:
    """Whether the clients asked for are anything but the installed mlflow alone (in-process)."""
    return bool(pythons) or any(v != installed_version() for v in versions) or len(versions) > 1


def suite_args(target: Target, report_json: Path, junit: Path) -> list[str]:
    """The child's pytest options for this target, its reports and progress lines."""
    args = ["--target", target.url, "--dialect", target.dialect, "--progress"]
    for flag, value in (
        ("--token", target.token),
        ("--username", target.username),
        ("--password", target.password),
    ):
        if value:
            args += [flag, value]
    return [*args, "--report-json", str(report_json), "--junitxml", str(junit)]


def run_client(
    client: Client,
    target: Target,
    workdir: Path,
    extra: list[str],
    log=print,
    selection: list[str] | None = None,
) -> tuple[int, dict | None, Path]:
    """Run the suite with one client: (exit status, its JSON report or None, its JUnit file).
    `selection`: test files or node ids relative to this package (default: all of it)."""
    workdir.mkdir(parents=True, exist_ok=True)
    report_json, junit = workdir / "report.json", workdir / "junit.xml"
    # This package alone on the child's path: a link to it in an otherwise empty directory.
    shim = Path(tempfile.mkdtemp(prefix="path-", dir=workdir))
    (shim / "conformance").symlink_to(HERE, target_is_directory=True)
    package = shim / "conformance"
    argv = [client.python, "-m", "pytest", *[str(package / s) for s in selection or ["."]]]
    argv += ["-c", str(HERE / "pytest.ini"), "--rootdir", str(package), "-q"]
    argv += [*suite_args(target, report_json, junit), *extra]
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env.update(PYTHONPATH=str(shim), PYTHONUNBUFFERED="1")
    log(f"[{client.version}] running the suite with {client.python}")
    with open(workdir / "output.txt", "w") as out:
        proc = subprocess.Popen(
            argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, cwd=workdir
        )
        for line in proc.stdout:
            out.write(line)
            if found := PROGRESS.search(line):
                log(found.group(0).rstrip())
        status = proc.wait()
    report = None
    if report_json.exists():
        report = json.loads(report_json.read_text())
    else:
        tail = "".join((workdir / "output.txt").read_text().splitlines(True)[-20:])
        log(f"[{client.version}] the suite wrote no report (exit {status}):\n{tail}")
    return status, report, junit


def merge_junit(junits: dict[str, Path], path: Path) -> None:
    """One JUnit file of every client's: one testsuite per client, each test's name prefixed
    with the client version ("[3.17.2] test_log_model_saves_artifacts")."""
    root = ET.Element("testsuites", name="mlflow client conformance")
    for version, junit in junits.items():
        if not junit.exists():
            continue
        for suite in ET.parse(junit).getroot().iter("testsuite"):
            suite.set("name", f"mlflow {version}")
            for case in suite.iter("testcase"):
                case.set("name", f"[{version}] {case.get('name', '')}")
            root.append(suite)
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)
