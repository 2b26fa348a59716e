"""A fast in-process schemathesis pass over every operation, through the ASGI app itself.

No sockets and few examples: it runs with the rest of the suite and catches a broken operation
in seconds, with the same checks and settings (conformance/fuzz/schemathesis.toml) as the CLI run.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig

import conformance.fuzz.hooks  # noqa: F401  (registers the hooks the CLI run loads from the config)
from conformance.fuzz.harness import CONFIG
from server.app import App
from server.settings import Settings


@pytest.fixture(scope="module")
def asgi_schema(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("in-process")
    app = App(
        Settings(
            backend_store_uri=f"sqlite:///{workdir / 'mlflow-compat.db'}",
            artifacts_destination=str(workdir / "artifacts"),
        )
    )
    config = SchemathesisConfig.from_path(CONFIG)
    return schemathesis.openapi.from_asgi("/openapi.json", app, config=config)


schema = schemathesis.pytest.from_fixture("asgi_schema")


@schema.parametrize()
@settings(max_examples=3, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_every_operation(case):
    case.call_and_validate()
