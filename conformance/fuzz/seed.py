"""Seed a server before it is fuzzed, and hand what was seeded to schemathesis.

Most operations take the id of something that exists: a run to log to, a registered model and
one of its versions, an alias. A generated id names nothing, so every schema-valid request to
them would bounce off "not found" (or "run not active") and never reach what the operation does.
Before `st run`, the target gets live things over its own REST API (experiments, active runs
with a param, a metric, a tag and a logged file, registered models with versions, tags and an
alias), and their ids and names become schemathesis fuzz dictionaries bound to the parameters
that take them, each drawn with a probability so that generated values keep their share.
Operations that delete or rename take things seeded for them alone, so the others keep theirs.

Only the operations the target's contract serves are called (GitLab's has no aliases, tags on
model versions or artifact uploads); the values come from the server's own answers.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from pathlib import Path

import requests
import yaml

from conformance.fuzz.stateful import HTTP_METHODS

# Files every seeded run holds at the root of its artifacts, and a model version's source holds.
ARTIFACT_FILE = "MLmodel"
# Tags every seeded run, registered model and model version has: delete-tag takes them one by one.
TAG_KEYS = ("seeded-0", "seeded-1", "seeded-2", "seeded-3")
LIVE_ALIAS = "champion"
DOOMED_ALIAS = "challenger"


class SeedingError(RuntimeError):
    """The target refused a request that seeding needs."""


@dataclass
class Seeds:
    """What was seeded, by dictionary name: the values schemathesis may draw."""

    values: dict[str, list[str]] = field(default_factory=dict)

    def add(self, name: str, value: str) -> None:
        self.values.setdefault(name, []).append(value)


def served_operations(spec: Path) -> frozenset[str]:
    """The operationIds of a contract."""
    with open(spec, encoding="utf-8") as f:
        document = yaml.safe_load(f)
    return frozenset(
        operation.get("operationId", "")
        for item in document.get("paths", {}).values()
        for method, operation in item.items()
        if method in HTTP_METHODS
    )


class Seeder:
    """Creates live things on a target through its REST API (its tracking URI and headers)."""

    def __init__(self, base_url: str, headers: dict[str, str], served: frozenset[str]) -> None:
        self.base_url = base_url.rstrip("/")
        self.session = requests.Session()
        self.session.headers.update(headers)
        self.served = served
        # Names no earlier run on the same server took.
        self.token = secrets.token_hex(4)
        self.seeds = Seeds()

    def _call(self, method: str, path: str, **kwargs) -> dict:
        response = self.session.request(method, f"{self.base_url}{path}", timeout=30, **kwargs)
        if not response.ok:
            raise SeedingError(f"{method} {path}: {response.status_code} {response.text[:500]}")
        return response.json() if response.content else {}

    def _post(self, rpc: str, body: dict) -> dict:
        return self._call("POST", f"/api/2.0/mlflow/{rpc}", json=body)

    def name(self, what: str, index: int | str) -> str:
        return f"fuzz-seed-{self.token}-{what}-{index}"

    def experiment(self, name: str) -> str:
        return self._post("experiments/create", {"name": name})["experiment_id"]

    def run(self, experiment_id: str) -> dict:
        """An active run with a param, a metric and a tag, and a file among its artifacts."""
        info = self._post("runs/create", {"experiment_id": experiment_id})["run"]["info"]
        run_id = info["run_id"]
        self._post(
            "runs/log-batch",
            {
                "run_id": run_id,
                "params": [{"key": "seeded", "value": "yes"}],
                "metrics": [{"key": "seeded", "value": 1.0, "timestamp": 0, "step": 0}],
                "tags": [{"key": key, "value": "yes"} for key in TAG_KEYS],
            },
        )
        self._upload(info["artifact_uri"], ARTIFACT_FILE, "artifact_paths")
        self._upload(info["artifact_uri"], "to-delete.txt", "artifacts_to_delete")
        return info

    def _upload(self, artifact_uri: str, relpath: str, dictionary: str) -> None:
        """A file under a run's artifacts, through the artifact proxy where the target has one;
        its path under the proxy's root goes to `dictionary`, the run's folder to
        `artifact_folders`."""
        prefix = "mlflow-artifacts:/"
        if "uploadArtifact" not in self.served or not artifact_uri.startswith(prefix):
            return
        folder = artifact_uri[len(prefix) :].strip("/")
        self._call("PUT", f"/api/2.0/mlflow-artifacts/artifacts/{folder}/{relpath}", data=b"seeded")
        self.seeds.add(dictionary, f"{folder}/{relpath}")
        if folder not in self.seeds.values.get("artifact_folders", []):
            self.seeds.add("artifact_folders", folder)

    def registered_model(self, name: str) -> str:
        return self._post("registered-models/create", {"name": name})["registered_model"]["name"]

    def model_version(self, name: str, run: dict) -> dict:
        body = {"name": name, "source": run["artifact_uri"], "run_id": run["run_id"]}
        return self._post("model-versions/create", body)["model_version"]

    def tag_model(self, name: str, versions: list[str]) -> None:
        for key in TAG_KEYS:
            if "setRegisteredModelTag" in self.served:
                body = {"name": name, "key": key, "value": "yes"}
                self._post("registered-models/set-tag", body)
            if "setModelVersionTag" in self.served:
                for version in versions:
                    body = {"name": name, "version": version, "key": key, "value": "yes"}
                    self._post("model-versions/set-tag", body)
        if "setRegisteredModelAlias" in self.served:
            for alias, version in ((LIVE_ALIAS, versions[0]), (DOOMED_ALIAS, versions[1])):
                body = {"name": name, "alias": alias, "version": version}
                self._post("registered-models/alias", body)

    def seed(self) -> Seeds:
        """Seed the target; what was seeded, by dictionary."""
        seeds = self.seeds
        # Created first, so that on a fresh server they, not the live ones, have the small ids
        # the spec's examples and the coverage phase use.
        for i in range(2):
            seeds.add(
                "experiments_to_delete", self.experiment(self.name("experiment-to-delete", i))
            )
        for i in range(2):
            name = self.name("experiment", i)
            seeds.add("experiment_ids", self.experiment(name))
            seeds.add("experiment_names", name)
            seeds.add("experiment_filters", f"name = '{name}'")
        live = seeds.values["experiment_ids"]
        seeds.add("run_filters", "params.seeded = 'yes'")
        runs = [self.run(live[i % len(live)]) for i in range(4)]
        for run in runs:
            seeds.add("run_ids", run["run_id"])
            seeds.add("model_sources", run["artifact_uri"])
            seeds.add("model_jsons", _model_json(run["run_id"]))
        for _ in range(4):
            created = self._post("runs/create", {"experiment_id": live[0]})
            seeds.add("runs_to_delete", created["run"]["info"]["run_id"])
        seeds.add("artifact_files", ARTIFACT_FILE)
        for i in range(3):
            self.model_with_versions(self.name("model", i), runs[i:] + runs[:i])
        for i in range(4):
            seeds.add("models_to_rename", self.registered_model(self.name("model-to-rename", i)))
            seeds.add("models_to_delete", self.registered_model(self.name("model-to-delete", i)))
        # Names no model or experiment has: what renaming and creating take.
        for i in range(16):
            seeds.add("fresh_names", self.name("fresh", i))
        for key in TAG_KEYS:
            seeds.add("tag_keys", key)
        if "setRegisteredModelAlias" in self.served:
            seeds.add("aliases", LIVE_ALIAS)
            seeds.add("aliases_to_delete", DOOMED_ALIAS)
        return seeds

    def model_with_versions(self, name: str, runs: list[dict]) -> None:
        """A registered model with three versions of `runs`' artifacts, tags and aliases: the
        first two versions stay, the third is for model-versions/delete."""
        self.registered_model(name)
        created = [self.model_version(name, run) for run in runs[:3]]
        versions = [version["version"] for version in created]
        self.tag_model(name, versions)
        self.seeds.add("model_names", name)
        # A filter every registered-models/search takes (GitLab's takes only this form).
        self.seeds.add("model_filters", f"name='{name}'")
        for version in versions[:2]:
            if version not in self.seeds.values.get("model_versions", []):
                self.seeds.add("model_versions", version)
        if versions[2] not in self.seeds.values.get("versions_to_delete", []):
            self.seeds.add("versions_to_delete", versions[2])
        # GitLab's artifact proxy lists a model version's files under its run's id.
        if "uploadArtifact" not in self.served:
            for version in created:
                if version.get("run_id"):
                    self.seeds.add("artifact_folders", version["run_id"])


def _model_json(run_id: str) -> str:
    """A model's description as the 2.7.1 client logs it (the fields 2.7.1 requires)."""
    return json.dumps(
        {
            "artifact_path": "model",
            "flavors": {"python_function": {"loader_module": "mlflow.pyfunc.model"}},
            "utc_time_created": "2026-11-26 00:00:00.000000",
            "run_id": run_id,
        }
    )
