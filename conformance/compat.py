"""Where the MLflow client's API changed between versions: small switches on mlflow.__version__.

The scenarios are written once; each call whose form differs between client versions goes
through a function here, which uses the form the running client documents. A method the
running client no longer has raises NotApplicable: its cell in the matrix reads
"Not applicable", not No.
"""

from __future__ import annotations

import mlflow
from packaging.version import Version

VERSION = Version(mlflow.__version__)
# MLflow 3 logs models as LoggedModel entities and names them with `name=`.
MLFLOW_3 = Version("3.0.0") <= VERSION


class NotApplicable(Exception):
    """The running client version has no such method or argument."""


def at_least(version: str) -> bool:
    """Whether the running client is `version` or newer."""
    return Version(version) <= VERSION


def method(owner, name: str):
    """`owner.name`, or NotApplicable when this client version has no such method."""
    found = getattr(owner, name, None)
    if found is None:
        raise NotApplicable(f"mlflow {mlflow.__version__} has no {name}")
    return found


def log_model_kwargs(path: str) -> dict:
    """Where log_model puts the model: `artifact_path=` (2.x) or `name=` (3.x, which keeps the
    model in a LoggedModel of its own and deprecates artifact_path)."""
    return {"name": path} if MLFLOW_3 else {"artifact_path": path}


def model_data_exchanges(sandbox) -> list:
    """The scenario's calls that send a logged model's data: runs/log-model (2.x), the
    LoggedModel API (3.x: `/api/2.0/mlflow/logged-models...`)."""
    if MLFLOW_3:
        mine = sandbox.recorder.of_scenario(sandbox.scenario, "scenario")
        return [e for e in mine if "/mlflow/logged-models" in e.path]
    return sandbox.exchanges("logModel")


def _model_location(info) -> str:
    """Where a 3.x LoggedModel's files are (`mlflow-artifacts:/<exp>/models/<id>/artifacts`)."""
    return mlflow.MlflowClient().get_logged_model(info.model_id).artifact_location.rstrip("/")


def list_model_files(info) -> set[str]:
    """The files at the root of a 3.x LoggedModel (its ModelInfo), as listed through the server."""
    import mlflow.artifacts

    listed = mlflow.artifacts.list_artifacts(artifact_uri=_model_location(info))
    return {f.path.rsplit("/", 1)[-1] for f in listed}


def read_model_file(info, name: str, workdir) -> bytes:
    """One file of a 3.x LoggedModel, downloaded through the server."""
    import tempfile
    from pathlib import Path

    import mlflow.artifacts

    dst = tempfile.mkdtemp(dir=workdir)
    uri = f"{_model_location(info)}/{name}"
    return Path(mlflow.artifacts.download_artifacts(artifact_uri=uri, dst_path=dst)).read_bytes()


def model_source(run_artifact_uri: str, info) -> str:
    """The source of a model version made of a model logged at the run's root (2.x), or of the
    LoggedModel itself (3.x)."""
    return info.model_uri if MLFLOW_3 else run_artifact_uri


def model_version_kwargs(info) -> dict:
    """3.x links a model version to its LoggedModel (`model_id=`); 2.x has no such argument."""
    return {"model_id": info.model_id} if MLFLOW_3 else {}


def clear_active_runs() -> None:
    """Empty the fluent API's stack of active runs (a thread-local object from 2.10 on)."""
    from mlflow.tracking import fluent

    stack = fluent._active_run_stack
    if hasattr(stack, "get"):  # mlflow.utils.thread_utils.ThreadLocalVariable
        stack.get().clear()
    else:
        stack.clear()


def clear_active_experiment() -> None:
    """Forget the fluent API's active experiment (a thread-local object from 2.10 on)."""
    from mlflow.tracking import fluent

    current = getattr(fluent, "_active_experiment_id", None)
    if hasattr(current, "set"):
        current.set(None)
    else:
        fluent._active_experiment_id = None
