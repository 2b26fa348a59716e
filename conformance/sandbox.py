"""One scenario's MLflow client: its own environment, working directory and names, and the
clean-up of everything the scenario created.

The 2.7.1 client keeps process-global state (tracking URI, active run and experiment, env
vars). Each scenario gets a fresh copy of that state pointing at the target, a private working
directory (so a `file:` or bare-path artifact URI cannot quietly work through a shared disk),
and names under the run's unique prefix. What the server answered to the scenario's create
calls is what gets deleted afterwards, and nothing else.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import posixpath
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from conformance import compat
from conformance.target import Target
from conformance.wire import Recorder

REMOTE_ARTIFACT_SCHEMES = ("mlflow-artifacts", "http", "https", "s3", "gs", "wasbs", "abfss")
CLIENT_ENV = {
    # A 5xx is a failure for the report; the client's minute of retries would only slow it down.
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0",
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "60",
    "MPLBACKEND": "Agg",
}


# Names and download folders count up across the whole session: every name is used once.
_COUNTER = itertools.count(1)


# How to reach a server over TLS or with a request signer: kept from the caller's environment.
# Every other MLFLOW_* variable (an active experiment or run, a registry URI ...) is dropped.
CONNECTION_ENV = {
    "MLFLOW_TRACKING_INSECURE_TLS",
    "MLFLOW_TRACKING_SERVER_CERT_PATH",
    "MLFLOW_TRACKING_CLIENT_CERT_PATH",
    "MLFLOW_TRACKING_AWS_SIGV4",
}


class NotRemotelyCompatible(AssertionError):
    """The server hands out artifact locations only a process on its own disk can use."""


class Sandbox:
    """The client side of one scenario."""

    def __init__(self, target: Target, prefix: str, workdir: Path, recorder: Recorder) -> None:
        import mlflow

        self.target = target
        self.prefix = prefix
        self.workdir = workdir
        self.recorder = recorder
        self.client = mlflow.MlflowClient()
        self.scenario = recorder.scenario

    def exchanges(self, operation: str) -> list:
        """This scenario's exchanges for one operationId of the spec, in order."""
        return [e for e in self.recorder.of_scenario(self.scenario) if e.operation == operation]

    def name(self, what: str) -> str:
        """A name no one else uses: the run's prefix, what it is for, a counter."""
        return f"{self.prefix}{what}-{next(_COUNTER)}"

    def experiment(self, what: str = "exp") -> str:
        """A fresh experiment, made the active one (the seed's first step); returns its id."""
        import mlflow

        return mlflow.set_experiment(self.name(what)).experiment_id

    def run(self, what: str = "run") -> str:
        """A fresh run in a fresh experiment, created with MlflowClient; returns its id."""
        return self.client.create_run(self.experiment(what)).info.run_id

    def file(self, relpath: str, content: str = "") -> Path:
        """A local file in the scenario's private working directory."""
        path = self.workdir / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content or f"content of {relpath}\n")
        return path

    def assert_remote_artifacts(self, run_id: str) -> None:
        """Fail unless the run's artifact_uri is one a client on another machine can use."""
        uri = self.client.get_run(run_id).info.artifact_uri
        scheme = urlsplit(uri).scheme
        if scheme not in REMOTE_ARTIFACT_SCHEMES:
            raise NotRemotelyCompatible(
                f"run artifact_uri is {uri!r}: the client writes such artifacts to its own disk, "
                "so they only reach the server when both share a disk (not remotely compatible)"
            )

    def artifact_bytes(self, run_id: str, path: str) -> bytes:
        """Download one artifact the way the client does, and return its bytes."""
        import mlflow
        from mlflow.store.artifact.http_artifact_repo import HttpArtifactRepository

        uri = self.client.get_run(run_id).info.artifact_uri
        dst = self._download_dir()
        if client_can_list(uri):
            local = mlflow.artifacts.download_artifacts(
                run_id=run_id, artifact_path=path, dst_path=str(dst)
            )
        else:
            # Plain HTTP storage (e.g. GitLab's packages): the client cannot list it, but reads
            # a file back from where it put it.
            local = dst / posixpath.basename(path)
            HttpArtifactRepository(uri)._download_file(path, str(local))
        return Path(local).read_bytes()

    def artifact_text(self, run_id: str, path: str) -> str:
        return self.artifact_bytes(run_id, path).decode()

    def artifact_paths(self, run_id: str, path: str | None = None) -> dict[str, bool] | None:
        """The artifacts listed under `path` as {path: is_dir}; None when the run's artifact URI
        is plain HTTP storage, which the 2.7.1 client cannot list."""
        if not client_can_list(self.client.get_run(run_id).info.artifact_uri):
            return None
        return {f.path: f.is_dir for f in self.client.list_artifacts(run_id, path)}

    def assert_listed(
        self, run_id: str, path: str | None, expected: dict[str, bool], exact: bool = True
    ) -> None:
        """The listing under `path` is `expected` (or includes it), where the client can list."""
        listed = self.artifact_paths(run_id, path)
        if listed is None:
            return
        found = listed if exact else {k: v for k, v in listed.items() if k in expected}
        assert found == expected, f"listed under {path or 'the root'}: {listed}"

    def _download_dir(self) -> Path:
        d = self.workdir / "downloads" / str(next(_COUNTER))
        d.mkdir(parents=True)
        return d


def client_can_list(artifact_uri: str) -> bool:
    """Whether the 2.7.1 client can list artifacts under this URI: an `http(s)` one only when
    it points into an MLflow artifacts proxy (`.../mlflow-artifacts/artifacts/...`)."""
    if urlsplit(artifact_uri).scheme in ("http", "https"):
        return "/mlflow-artifacts/artifacts" in artifact_uri
    return True


def isolated_client(target: Target, workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Point the process-global MLflow client at the target, with nothing left from before."""
    import mlflow

    for key in list(os.environ):
        if key.startswith("MLFLOW_") and key not in CONNECTION_ENV:
            monkeypatch.delenv(key)
    for key, value in {**target.client_env(), **CLIENT_ENV}.items():
        monkeypatch.setenv(key, value)
    workdir.mkdir(parents=True, exist_ok=True)
    monkeypatch.chdir(workdir)
    reset_client_state()
    mlflow.set_tracking_uri(target.url)


def reset_client_state() -> None:
    """End active runs and forget the active experiment and URIs of the fluent API."""
    import mlflow
    from mlflow.tracking import _model_registry

    with contextlib.suppress(Exception):
        while mlflow.active_run():
            mlflow.end_run()
    compat.clear_active_runs()
    compat.clear_active_experiment()
    mlflow.set_tracking_uri(None)
    _model_registry.utils._registry_uri = None


def created(recorder: Recorder, scenario: str) -> dict[str, list[str]]:
    """What the server says it created during the scenario: experiment ids, run ids, models."""
    found: dict[str, list[str]] = {"experiments": [], "runs": [], "registered_models": []}
    for e in recorder.of_scenario(scenario, "scenario"):
        if not e.ok or e.operation not in (
            "createExperiment",
            "createRun",
            "createRegisteredModel",
        ):
            continue
        with contextlib.suppress(ValueError, KeyError, TypeError, AttributeError):
            data = json.loads(e.body)
            if e.operation == "createExperiment":
                found["experiments"].append(data["experiment_id"])
            elif e.operation == "createRun":
                found["runs"].append(data["run"]["info"]["run_id"])
            else:
                found["registered_models"].append(data["registered_model"]["name"])
    return found


def clean_up(client, prefix: str, made: dict[str, list[str]]) -> list[str]:
    """Delete what a scenario created (models, then runs, then experiments); returns problems.

    Deletion goes through the MLflow API, so experiments and runs end up in MLflow's `deleted`
    lifecycle stage; registered models and their versions are removed.
    """
    problems: list[str] = []

    def attempt(what: str, fn, *args) -> None:
        try:
            fn(*args)
        except Exception as e:
            if "RESOURCE_DOES_NOT_EXIST" not in str(e):
                problems.append(f"{what}: {type(e).__name__}: {str(e)[:200]}")

    experiments = list(made["experiments"])
    for name in made["registered_models"]:
        attempt(f"delete_registered_model({name!r})", client.delete_registered_model, name)
        # A server that gives each model an experiment of its own ("[model]<name>"): ours too.
        with contextlib.suppress(Exception):
            exp = client.get_experiment_by_name(f"[model]{name}")
            if exp is not None and name.startswith(prefix) and exp.lifecycle_stage == "active":
                experiments.append(exp.experiment_id)
    for run_id in made["runs"]:
        with contextlib.suppress(Exception):
            if client.get_run(run_id).info.lifecycle_stage == "deleted":
                continue
        attempt(f"delete_run({run_id!r})", client.delete_run, run_id)
    for experiment_id in dict.fromkeys(experiments):
        with contextlib.suppress(Exception):
            if client.get_experiment(experiment_id).lifecycle_stage == "deleted":
                continue
        attempt(f"delete_experiment({experiment_id!r})", client.delete_experiment, experiment_id)
    return problems
