"""Helpers for the hardening tests: a small MLflow REST client over real HTTP, and a snapshot of
everything a server stores, to show that a refused request wrote nothing."""

from __future__ import annotations

import hashlib
import sqlite3
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

API = "/api/2.0/mlflow/"


@dataclass
class Api:
    """POST/GET against one server's /api/2.0/mlflow/ endpoints, returning the raw response."""

    url: str

    def post(self, endpoint: str, json=None, **kwargs) -> requests.Response:
        return requests.post(self.url + API + endpoint, json=json, timeout=120, **kwargs)

    def get(self, endpoint: str, **params) -> requests.Response:
        return requests.get(self.url + API + endpoint, params=params, timeout=60)

    def ok(self, endpoint: str, json=None) -> dict:
        response = self.post(endpoint, json)
        assert response.status_code == 200, response.text
        return response.json()

    def new_run(self) -> tuple[str, str]:
        """(experiment id, run id) of a fresh experiment holding one run with a little data."""
        experiment_id = self.ok("experiments/create", {"name": f"hardening-{uuid.uuid4().hex}"})[
            "experiment_id"
        ]
        run_id = self.ok("runs/create", {"experiment_id": experiment_id, "start_time": 1})["run"][
            "info"
        ]["run_id"]
        self.ok(
            "runs/log-batch",
            {
                "run_id": run_id,
                "metrics": [{"key": "m", "value": 1.5, "timestamp": 1, "step": 0}],
                "params": [{"key": "p", "value": "v"}],
                "tags": [{"key": "t", "value": "v"}],
            },
        )
        return experiment_id, run_id


def assert_mlflow_error(response: requests.Response, status: int = 400) -> dict:
    """The response is MLflow's error body with the given 4xx status."""
    assert response.status_code == status, (response.status_code, response.text[:500])
    assert response.headers["content-type"].startswith("application/json"), response.headers
    body = response.json()
    assert set(body) == {"error_code", "message"}, body
    codes = {400: ("INVALID_PARAMETER_VALUE", "BAD_REQUEST"), 404: ("RESOURCE_DOES_NOT_EXIST",)}
    assert body["error_code"] in codes[status], body
    return body


class Storage:
    """What a server holds, as its API shows it and, for SQLite, row by row in the database file;
    plus the files in its artifact folder."""

    def __init__(self, server):
        self.api = Api(server.url)
        self.database = Path(server.workdir) / "mlflow-compat.db"
        self.artifacts = Path(server.workdir) / "artifacts"

    def snapshot(self) -> dict:
        experiments = self.api.ok(
            "experiments/search", {"view_type": "ALL", "max_results": 50000}
        ).get("experiments", [])
        experiment_ids = [e["experiment_id"] for e in experiments]
        runs = []
        for start in range(0, len(experiment_ids), 100):
            token = None
            while True:
                page = self.api.ok(
                    "runs/search",
                    {
                        "experiment_ids": experiment_ids[start : start + 100],
                        "run_view_type": "ALL",
                        "max_results": 50000,
                        **({"page_token": token} if token else {}),
                    },
                )
                runs += page.get("runs", [])
                token = page.get("next_page_token")
                if not token:
                    break
        models = self.api.get("registered-models/search", max_results=1000).json()
        return {
            "experiments": experiments,
            "runs": sorted(runs, key=lambda r: r["info"]["run_id"]),
            "registered_models": models.get("registered_models", []),
            "tables": self._tables(),
            "artifacts": sorted(
                (str(p.relative_to(self.artifacts)), p.stat().st_size)
                for p in self.artifacts.rglob("*")
                if p.is_file()
            )
            if self.artifacts.exists()
            else [],
        }

    def _tables(self) -> dict[str, str]:
        """A digest of every SQLite table's rows (empty for another backend)."""
        if not self.database.exists():
            return {}
        db = sqlite3.connect(f"file:{self.database}?mode=ro", uri=True, timeout=30)
        try:
            names = [
                n for (n,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            ]
            digests = {}
            for name in names:
                rows = sorted(repr(row) for row in db.execute(f'SELECT * FROM "{name}"'))
                digests[name] = hashlib.sha256("\n".join(rows).encode()).hexdigest()
            return digests
        finally:
            db.close()


@pytest.fixture
def api(reference_server) -> Api:
    return Api(reference_server.url)


@pytest.fixture
def unchanged(reference_server):
    """Call it with a function that sends refused requests: asserts nothing was stored."""
    storage = Storage(reference_server)

    def check(send) -> None:
        before = storage.snapshot()
        send()
        after = storage.snapshot()
        for part in before:
            assert after[part] == before[part], f"{part} changed"

    return check
