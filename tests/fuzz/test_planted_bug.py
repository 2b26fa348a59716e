"""The fuzz run catches a bug: the reference server, with one handler broken on one input, fails it.

The broken server is built here, not in the server: the production app from `create_app`, with
experiments/create crashing when the request names an `artifact_location`, served by uvicorn on
loopback. The same harness as CI's fuzz run must fail and name that operation.
"""

from __future__ import annotations

import json
import threading
import time

import pytest
import requests
import uvicorn

from conformance.fuzz.harness import Target, run_schemathesis
from server.app import App
from server.settings import Settings
from tools.peers import free_port

BROKEN_PATH = "/api/2.0/mlflow/experiments/create"


class CrashOnArtifactLocation:
    """experiments/create raises (uvicorn answers 500) when the body has an artifact_location."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["path"] != BROKEN_PATH:
            return await self.app(scope, receive, send)
        messages = []
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request" or not message.get("more_body"):
                break
        body = b"".join(m.get("body", b"") for m in messages)
        try:
            named = isinstance(json.loads(body), dict) and "artifact_location" in json.loads(body)
        except ValueError:
            named = False
        if named:
            raise RuntimeError("planted bug: experiments/create breaks on artifact_location")

        async def replay():
            return messages.pop(0) if messages else {"type": "http.disconnect"}

        return await self.app(scope, replay, send)


@pytest.fixture
def broken_server(tmp_path):
    settings = Settings(
        backend_store_uri=f"sqlite:///{tmp_path / 'mlflow-compat.db'}",
        artifacts_destination=str(tmp_path / "artifacts"),
    )
    port = free_port()
    config = uvicorn.Config(
        CrashOnArtifactLocation(App(settings)), host="127.0.0.1", port=port, log_level="critical"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "the broken server did not start"
        time.sleep(0.05)
    yield url
    server.should_exit = True
    thread.join(timeout=10)


def test_the_broken_server_answers_500_on_that_input_only(broken_server):
    good = requests.post(broken_server + BROKEN_PATH, json={"name": "fine"}, timeout=10)
    assert good.status_code == 200, good.text
    bad = requests.post(
        broken_server + BROKEN_PATH, json={"name": "boom", "artifact_location": "x"}, timeout=10
    )
    assert bad.status_code == 500


def test_fuzzing_catches_the_planted_bug(broken_server, tmp_path):
    target = Target(name="planted-bug", base_url=broken_server)
    outcome = run_schemathesis(
        target,
        tmp_path / "junit.xml",
        max_examples=10,
        phases=("examples", "coverage", "fuzzing"),
        extra=("--include-operation-id", "createExperiment"),
    )
    assert outcome.returncode != 0, outcome.output[-5000:]
    assert outcome.failed_operations == (f"POST {BROKEN_PATH}",), outcome.summary()
    assert "Server error" in outcome.output, outcome.output[-5000:]
    assert "artifact_location" in outcome.output, outcome.output[-5000:]
