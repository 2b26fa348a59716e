"""MLflow clients other than the installed one: a virtualenv per version, made on demand.

`ensure(version)` answers the python of `<cache>/mlflow-compat/clients/<version>` (the cache is
`$XDG_CACHE_HOME`, default `~/.cache`), creating it first when it is missing or broken: with uv
when it is installed (a full mlflow client in about 20 s instead of pip's two to three minutes,
as uv fetches and unpacks in parallel), else with `python -m venv` and pip. A marker file
written last says the install finished; a virtualenv without it, or whose python cannot import
that mlflow, is made again. A lock file keeps two runs from building the same virtualenv at
once.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

MARKER = "mlflow-compat-ready.json"
# What the scenarios import besides mlflow (scikit-learn, matplotlib and numpy come with the
# full mlflow package; named anyway, as mlflow-skinny-based installs lack them).
REQUIREMENTS = (
    "pytest>=8,<10",
    "requests>=2.31,<3",
    "PyYAML>=6,<7",
    "openapi-schema-validator>=0.6,<0.10",
    "scikit-learn",
    "matplotlib",
    # mlflow 2.x imports pkg_resources, which newer setuptools no longer ship.
    "setuptools>=65,<81",
)


class ClientError(RuntimeError):
    """A client environment could not be made or used."""


def cache_home() -> Path:
    """The user's cache folder of mlflow-compat ($XDG_CACHE_HOME, else ~/.cache)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "mlflow-compat"


def cache_root() -> Path:
    """Where client virtualenvs are kept."""
    return cache_home() / "clients"


def venv_python(venv: Path) -> Path:
    return venv / "bin" / "python"


def mlflow_version(python: str | Path) -> str:
    """The version of mlflow an interpreter imports; ClientError when it imports none."""
    try:
        done = subprocess.run(
            [str(python), "-c", "import mlflow; print(mlflow.__version__)"],
            capture_output=True,
            text=True,
            timeout=300,
        )
    except (OSError, subprocess.TimeoutExpired) as e:
        raise ClientError(f"{python}: {e}") from e
    if done.returncode != 0:
        tail = " ".join(done.stderr.strip().splitlines()[-1:])
        raise ClientError(f"{python} cannot import mlflow: {tail}")
    return done.stdout.strip().splitlines()[-1]


def is_ready(venv: Path, version: str) -> bool:
    """The virtualenv finished installing (marker) and its python imports that mlflow."""
    marker = venv / MARKER
    if not marker.is_file():
        return False
    try:
        return mlflow_version(venv_python(venv)) == version
    except ClientError:
        return False


@contextlib.contextmanager
def locked(path: Path):
    """An exclusive lock on `path` (created), held for the block, released on exit."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def ensure(version: str, root: Path | None = None, log=print, installer=None) -> Path:
    """The python of a ready virtualenv with mlflow==`version` and the scenarios' needs."""
    root = root or cache_root()
    venv = root / version
    with locked(root / f"{version}.lock"):
        if is_ready(venv, version):
            return venv_python(venv)
        log(f"[{version}] preparing the client's virtualenv {venv}: install mlflow=={version}")
        (installer or install)(venv, version)
        if not is_ready(venv, version):
            raise ClientError(f"{venv}: mlflow {version} is not importable after the install")
    return venv_python(venv)


def uv_binary() -> str | None:
    """uv's executable: the one the `uv` package installed beside this python, else on PATH."""
    try:
        from uv import find_uv_bin

        return find_uv_bin()
    except (ImportError, FileNotFoundError):
        return shutil.which("uv")


def install(venv: Path, version: str, extra: tuple[str, ...] = ()) -> None:
    """Make `venv` afresh (uv if there is one, else venv and pip), then the marker last.
    `extra`: more requirements, installed with the rest."""
    shutil.rmtree(venv, ignore_errors=True)
    wanted = [f"mlflow=={version}", *REQUIREMENTS, *extra]
    uv = uv_binary()
    if uv:
        _run([uv, "venv", "-q", "--python", sys.executable, str(venv)], venv)
        _run([uv, "pip", "install", "-q", "--python", str(venv_python(venv)), *wanted], venv)
    else:
        _run([sys.executable, "-m", "venv", str(venv)], venv)
        pip = [str(venv_python(venv)), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
        _run([*pip, *wanted], venv)
    marker = {"mlflow": version, "requirements": [*REQUIREMENTS, *extra]}
    (venv / MARKER).write_text(json.dumps(marker) + "\n")


def _run(argv: list[str], venv: Path) -> None:
    done = subprocess.run(argv, capture_output=True, text=True)
    if done.returncode != 0:
        shutil.rmtree(venv, ignore_errors=True)
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-15:])
        raise ClientError(f"{' '.join(argv[:4])} ... failed ({done.returncode}):\n{tail}")
