"""The package as setuptools lays it out for installation, for tests of the installed commands."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def built_package(tmp_path: Path) -> Path:
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


def console_script(*args: str) -> list[str]:
    """The command line of `mlflow-compat ARGS...` run with this interpreter."""
    # What the `mlflow-compat` console script runs.
    return [
        sys.executable,
        "-c",
        "import sys; from server.cli import main; sys.exit(main())",
        *args,
    ]


def run_installed(site: Path, cwd: Path, *args: str, timeout: float = 300):
    """`mlflow-compat ARGS...` run in `cwd` (made if missing) with the built package `site` as the
    only PYTHONPATH entry and no pytest variables: it imports the built package, whatever is
    installed in editable mode."""
    cwd.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHONPATH", "PYTEST_"))}
    env["PYTHONPATH"] = str(site)
    return subprocess.run(
        console_script(*args), cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )
