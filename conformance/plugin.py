"""The pytest side of the suite: options, the target, the client sandbox, result collection.

conftest.py re-exports these hooks and fixtures, so `pytest conformance` and
`mlflow-compat check` run the same thing.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests
from mlflow.exceptions import MlflowException

from conformance import report as report_mod
from conformance import resources, verdict
from conformance.sandbox import Sandbox, clean_up, created, isolated_client, reset_client_state
from conformance.target import EmbeddedServer, Target
from conformance.wire import Recorder

HERE = Path(__file__).resolve().parent
DIALECTS = ("mlflow", "gitlab")
EXPECTED_MISS = "RESOURCE_DOES_NOT_EXIST"


@dataclass
class Outcome:
    """One scenario's result: a core scenario of a row, or the probe of one caveat."""

    nodeid: str
    name: str
    doc: str
    row: str
    caveat: str | None
    passed: bool
    evidence: dict | None = None


@dataclass
class State:
    outcomes: list[Outcome] = field(default_factory=list)
    cleanup_problems: list[str] = field(default_factory=list)
    target: Target | None = None
    recorder: Recorder | None = None
    server_version: str | None = None
    prefix: str = ""
    started: str = ""
    report: dict | None = None


STATE = pytest.StashKey[State]()
SCENARIO = pytest.StashKey[tuple]()  # (row id, caveat id or None) of a collected scenario


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("conformance", "MLflow client conformance")
    group.addoption(
        "--target",
        default=None,
        help="tracking URI of the server to judge, path prefix included "
        "(default: start the reference server on a free loopback port)",
    )
    group.addoption("--token", default=None, help="bearer token (or MLFLOW_TRACKING_TOKEN)")
    group.addoption("--username", default=None, help="basic auth (or MLFLOW_TRACKING_USERNAME)")
    group.addoption("--password", default=None, help="basic auth (or MLFLOW_TRACKING_PASSWORD)")
    group.addoption(
        "--dialect",
        choices=DIALECTS,
        default="mlflow",
        help="documented expectations to compare with: stock MLflow (every row Yes) or "
        "GitLab's documented table",
    )
    group.addoption("--report", default=None, metavar="PATH", help="write the markdown report")
    group.addoption("--report-json", default=None, metavar="PATH", help="write the JSON report")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "row(id): a core scenario of a client-methods row")
    config.addinivalue_line("markers", "probe(caveat_id): the probe of a documented caveat")
    config.stash[STATE] = State(started=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"))


def _scenario_of(item: pytest.Item) -> tuple[str, str | None]:
    """(row id, caveat id or None) of a scenario; raises for an unmarked or unknown one."""
    row_mark = item.get_closest_marker("row")
    probe_mark = item.get_closest_marker("probe")
    if bool(row_mark) == bool(probe_mark):
        raise pytest.UsageError(f"{item.nodeid}: mark it with exactly one of row(...)/probe(...)")
    if probe_mark:
        caveat = probe_mark.args[0]
        if caveat not in resources.caveats():
            raise pytest.UsageError(f"{item.nodeid}: unknown caveat {caveat!r}")
        return resources.caveats()[caveat]["row"], caveat
    row = row_mark.args[0]
    if row not in {r["id"] for r in resources.rows()}:
        raise pytest.UsageError(f"{item.nodeid}: unknown row {row!r}")
    return row, None


def _documented_failure(row: dict, caveat: str | None, dialect: str) -> str | None:
    """Why the chosen documentation expects this scenario to fail, if it does: the probe of a
    caveat it states, or a core scenario of a row it grades Partial or No. Such a scenario is
    an expected failure (xfail, not strict), so that the exit status says whether the server
    behaves as documented; the row's verdict is graded from the outcomes all the same."""
    if caveat:
        found = resources.caveats()[caveat]
        if found.get("dialect") == dialect:
            return f"documented caveat {caveat}: {found['text']}"
        return None
    status, _ = report_mod.documented(row, dialect)
    if status in (verdict.PARTIAL, verdict.NO):
        return f"documented as {status} for {row['method']}"
    return None


def pytest_collection_modifyitems(session, config, items) -> None:
    dialect = config.getoption("--dialect")
    rows = {r["id"]: r for r in resources.rows()}
    for item in items:
        if Path(str(item.path)).parent == HERE:
            row, caveat = item.stash[SCENARIO] = _scenario_of(item)
            if reason := _documented_failure(rows[row], caveat, dialect):
                item.add_marker(pytest.mark.xfail(reason=reason, strict=False))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    rep = yield
    if SCENARIO not in item.stash:
        return rep
    if rep.when == "call" or (rep.when == "setup" and not rep.passed):
        state = item.config.stash[STATE]
        row, caveat = item.stash[SCENARIO]
        doc = (item.function.__doc__ or item.name).strip().splitlines()[0]
        evidence = None
        if not rep.passed:
            evidence = _evidence(item, call, state.recorder)
        state.outcomes.append(
            Outcome(item.nodeid, item.name, doc, row, caveat, rep.passed, evidence)
        )
    return rep


def _evidence(item: pytest.Item, call: pytest.CallInfo, recorder: Recorder | None) -> dict:
    """The failing client call (the scenario's statement), the error, and the failing exchange."""
    statement = None
    error = "skipped" if call.excinfo is None else call.excinfo.exconly()
    if call.excinfo is not None:
        for entry in reversed(call.excinfo.traceback):
            if Path(str(entry.path)).parent == HERE and entry.path.name.startswith("test_"):
                with contextlib.suppress(Exception):
                    statement = " ".join(str(entry.statement).split())
                break
    lines = [line for line in error.splitlines() if line.strip()]
    if lines and lines[0].startswith("AssertionError: ") and lines[0] != "AssertionError: assert":
        lines = lines[:1]  # the scenario's own message; pytest's introspection adds noise
    error = " ".join(" ".join(lines[:3]).split())[:600]
    if call.excinfo is not None and call.excinfo.traceback:
        # Where the error was raised, when not in the scenario: e.g. inside the MLflow client.
        last = call.excinfo.traceback[-1]
        path = Path(str(last.path))
        if path.parent != HERE and "site-packages" in path.parts:
            where = "/".join(path.parts[path.parts.index("site-packages") + 1 :])
            error += f" (raised at {where}:{last.lineno + 1})"
    return {"call": statement, "error": error, "exchange": _failing_exchange(item, call, recorder)}


def _failing_exchange(item: pytest.Item, call: pytest.CallInfo, recorder: Recorder | None):
    """The answer behind the error: the scenario's last failed exchange, when the error came
    from the client (or that exchange was the scenario's last). A missing experiment before
    set_experiment creates it is the client's normal path, not a failure."""
    if recorder is None:
        return None
    exchanges = recorder.of_scenario(item.nodeid, "scenario")
    failed = [
        e
        for e in exchanges
        if not e.ok
        and not (e.operation == "getExperimentByName" and e.error_code() == EXPECTED_MISS)
    ]
    if not failed:
        return None
    from_client = call.excinfo is not None and isinstance(
        call.excinfo.value, MlflowException | requests.RequestException
    )
    return failed[-1].summary() if from_client or failed[-1] is exchanges[-1] else None


@pytest.fixture(scope="session")
def target(request: pytest.FixtureRequest, tmp_path_factory) -> Target:
    """The server under test; the embedded reference server when --target is not given."""
    config = request.config
    state = config.stash[STATE]
    dialect = config.getoption("--dialect")
    url = config.getoption("--target")
    if url:
        found = Target(
            url=url.rstrip("/"),
            dialect=dialect,
            token=config.getoption("--token") or os.environ.get("MLFLOW_TRACKING_TOKEN"),
            username=config.getoption("--username") or os.environ.get("MLFLOW_TRACKING_USERNAME"),
            password=config.getoption("--password") or os.environ.get("MLFLOW_TRACKING_PASSWORD"),
        )
    else:
        server = EmbeddedServer(tmp_path_factory.mktemp("reference-server"), dialect)
        found = server.start()
        request.addfinalizer(server.stop)
    state.target = found
    state.server_version = found.server_version()
    return found


@pytest.fixture(scope="session")
def recorder(request: pytest.FixtureRequest, target: Target):
    """Records and judges every exchange with the target for the whole session."""
    rec = Recorder(target.url, resources.openapi())
    request.config.stash[STATE].recorder = rec
    rec.install()
    yield rec
    rec.uninstall()


@pytest.fixture(scope="session")
def prefix(request: pytest.FixtureRequest) -> str:
    """The unique prefix of every name this run creates."""
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d%H%M%S")
    found = f"mlflow-compat-conformance-{stamp}-{secrets.token_hex(3)}-"
    request.config.stash[STATE].prefix = found
    return found


@pytest.fixture
def sandbox(request, target, recorder, prefix, tmp_path, monkeypatch):
    """A scenario's isolated MLflow client; deletes what the scenario created afterwards."""
    state = request.config.stash[STATE]
    recorder.scenario, recorder.phase = request.node.nodeid, "scenario"
    isolated_client(target, tmp_path / "cwd", monkeypatch)
    box = Sandbox(target, prefix, tmp_path / "cwd", recorder)
    try:
        yield box
    finally:
        recorder.phase = "cleanup"
        reset_client_state()
        import mlflow

        mlflow.set_tracking_uri(target.url)
        made = created(recorder, request.node.nodeid)
        state.cleanup_problems += [
            f"{request.node.name}: {p}" for p in clean_up(box.client, prefix, made)
        ]
        reset_client_state()
        recorder.scenario, recorder.phase = "", ""


def pytest_sessionfinish(session: pytest.Session, exitstatus) -> None:
    config = session.config
    state = config.stash[STATE]
    if state.target is None:
        return
    state.report = report_mod.build(
        outcomes=[o.__dict__ for o in state.outcomes],
        target=state.target,
        server_version=state.server_version,
        started=state.started,
        prefix=state.prefix,
        wire=state.recorder.by_operation() if state.recorder else {},
        exchanges=len(state.recorder.exchanges) if state.recorder else 0,
        cleanup_problems=state.cleanup_problems,
    )
    if path := config.getoption("--report-json"):
        Path(path).write_text(json.dumps(state.report, indent=2) + "\n", encoding="utf-8")
    if path := config.getoption("--report"):
        Path(path).write_text(report_mod.markdown(state.report), encoding="utf-8")


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    state = config.stash[STATE]
    if state.report is None:
        return
    terminalreporter.section("MLflow client conformance")
    for line in report_mod.summary_lines(state.report):
        terminalreporter.write_line(line)
