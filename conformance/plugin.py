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
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests
from mlflow.exceptions import MlflowException

from conformance import html_report, matrix, matrix_report, resources, verdict
from conformance import report as report_mod
from conformance.compat import NotApplicable
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
    passed: bool | None  # None: the client version has no such method (Not applicable)
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
    junitxml: str | None = None  # a matrix run writes the merged JUnit file itself
    row_sizes: dict[str, int] = field(default_factory=dict)  # scenarios selected per row
    exit_statuses: dict[str, int] = field(default_factory=dict)  # per client, matrix runs


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
    group.addoption(
        "--report-html", default=None, metavar="PATH", help="write the self-contained HTML report"
    )
    group.addoption(
        "--client",
        action="append",
        default=[],
        metavar="VERSION",
        help="an mlflow client version to judge the server with (repeatable; default: the "
        "installed mlflow, in this process); another version runs in a cached virtualenv",
    )
    group.addoption(
        "--client-python",
        action="append",
        default=[],
        metavar="PATH",
        help="a python interpreter with an mlflow client installed, as one more client",
    )
    group.addoption(
        "--progress",
        action="store_true",
        help="print a line per row as soon as its verdict is known",
    )


def _is_matrix(config: pytest.Config) -> bool:
    return matrix.is_matrix(config.getoption("--client"), config.getoption("--client-python"))


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "row(id): a core scenario of a client-methods row")
    config.addinivalue_line("markers", "probe(caveat_id): the probe of a documented caveat")
    state = State(started=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"))
    config.stash[STATE] = state
    if _is_matrix(config):
        # The clients' JUnit files are merged into this path at the end, not pytest's own.
        state.junitxml = config.option.xmlpath
        config.option.xmlpath = None


def _here(path) -> bool:
    """Whether a file is one of this package's (also when reached through a link to it, as a
    matrix run's clients reach it)."""
    return Path(str(path)).resolve().parent == HERE


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
        if _here(item.path):
            row, caveat = item.stash[SCENARIO] = _scenario_of(item)
            if reason := _documented_failure(rows[row], caveat, dialect):
                item.add_marker(pytest.mark.xfail(reason=reason, strict=False))


def pytest_collection_finish(session: pytest.Session) -> None:
    sizes = session.config.stash[STATE].row_sizes
    for item in session.items:
        if SCENARIO in item.stash:
            row = item.stash[SCENARIO][0]
            sizes[row] = sizes.get(row, 0) + 1


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    rep = yield
    if SCENARIO not in item.stash:
        return rep
    if rep.when == "call" or (rep.when == "setup" and not rep.passed):
        state = item.config.stash[STATE]
        row, caveat = item.stash[SCENARIO]
        doc = (item.function.__doc__ or item.name).strip().splitlines()[0]
        evidence, passed = None, rep.passed
        if call.excinfo is not None and isinstance(call.excinfo.value, NotApplicable):
            # Neither a pass nor a failure: this client version has no such method.
            passed = None
            rep.outcome = "skipped"
            rep.longrepr = (str(item.path), 0, f"Not applicable: {call.excinfo.value}")
        elif not rep.passed:
            evidence = _evidence(item, call, state.recorder)
        state.outcomes.append(Outcome(item.nodeid, item.name, doc, row, caveat, passed, evidence))
        if item.config.getoption("--progress"):
            _progress(item.config, row)
    return rep


def _progress(config: pytest.Config, row_id: str) -> None:
    """`[<client version>] <method> ... <verdict>` once every scenario of the row has run."""
    state = config.stash[STATE]
    mine = [o for o in state.outcomes if o.row == row_id]
    if len(mine) != state.row_sizes.get(row_id):
        return
    core = [o.passed for o in mine if o.caveat is None]
    found = verdict.verdict(core, [o.passed for o in mine if o.caveat is not None])
    method = next(r["method"] for r in resources.rows() if r["id"] == row_id)
    line = f"[{matrix.installed_version()}] {method} ... {found}"
    config.pluginmanager.get_plugin("terminalreporter").write_line(line)


def _evidence(item: pytest.Item, call: pytest.CallInfo, recorder: Recorder | None) -> dict:
    """The failing client call (the scenario's statement), the error, and the failing exchange."""
    statement = None
    error = "skipped" if call.excinfo is None else call.excinfo.exconly()
    if call.excinfo is not None:
        for entry in reversed(call.excinfo.traceback):
            if _here(entry.path) and entry.path.name.startswith("test_"):
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
        if not _here(path) and "site-packages" in path.parts:
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


def _resolve_target(config: pytest.Config, workdir_factory, finalizers: list) -> Target:
    """The server under test: --target, or the embedded reference server (its stop is added to
    `finalizers`)."""
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
        server = EmbeddedServer(workdir_factory("reference-server"), dialect)
        found = server.start()
        finalizers.append(server.stop)
    state.target = found
    state.server_version = found.server_version()
    return found


@pytest.fixture(scope="session")
def target(request: pytest.FixtureRequest, tmp_path_factory) -> Target:
    """The server under test; the embedded reference server when --target is not given."""
    finalizers: list = []
    found = _resolve_target(request.config, tmp_path_factory.mktemp, finalizers)
    for stop in finalizers:
        request.addfinalizer(stop)
    return found


@pytest.hookimpl(tryfirst=True)
def pytest_runtestloop(session: pytest.Session):
    """A matrix run: the suite once per client, each in a subprocess, instead of in here."""
    config = session.config
    if not _is_matrix(config) or session.config.option.collectonly:
        return None
    state = config.stash[STATE]
    write = config.pluginmanager.get_plugin("terminalreporter").write_line
    asked = config.getoption("--client"), config.getoption("--client-python")
    clients = matrix.resolve(*asked, write)
    finalizers: list = []
    with tempfile.TemporaryDirectory(prefix="mlflow-compat-matrix-") as tmp:

        def workdir(name: str) -> Path:
            return Path(tempfile.mkdtemp(prefix=f"{name}-", dir=tmp))

        try:
            target = _resolve_target(config, workdir, finalizers)
            reports, junits = {}, {}
            for client in clients:
                status, report, junit = matrix.run_client(
                    client,
                    target,
                    workdir(f"client-{client.version}"),
                    _passed_on(config),
                    write,
                    _selection(config),
                )
                state.exit_statuses[client.version] = status
                junits[client.version] = junit
                if report is not None:
                    reports[client.version] = report
        finally:
            for stop in finalizers:
                stop()
        if state.junitxml:
            matrix.merge_junit(junits, Path(state.junitxml))
    if reports:
        state.report = matrix_report.merge(reports)
        state.report["embedded"] = target.embedded
    if any(state.exit_statuses.values()) or len(reports) < len(clients):
        session.testsfailed = 1
    return True


def _selection(config: pytest.Config) -> list[str] | None:
    """The files and node ids of this package asked for on the command line, relative to it;
    None for all of it."""
    found = []
    for arg in config.args:
        path, sep, rest = arg.partition("::")
        resolved = Path(config.invocation_params.dir, path).resolve()
        if resolved == HERE:
            return None
        if resolved.parent == HERE:
            found.append(resolved.name + sep + rest)
    return found or None


def _passed_on(config: pytest.Config) -> list[str]:
    """The selection options a matrix run passes on to every client's run (-k, -m)."""
    out = []
    if config.option.keyword:
        out += ["-k", config.option.keyword]
    if config.option.markexpr:
        out += ["-m", config.option.markexpr]
    return out


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
    if _is_matrix(config):
        if state.report is not None:
            _write_reports(config, state.report, matrix_report.markdown)
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
    _write_reports(config, state.report, report_mod.markdown)


def _write_reports(config: pytest.Config, report: dict, markdown) -> None:
    if path := config.getoption("--report-json"):
        Path(path).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    if path := config.getoption("--report"):
        Path(path).write_text(markdown(report), encoding="utf-8")
    if path := config.getoption("--report-html"):
        page = html_report.render(matrix_report.as_matrix(report))
        Path(path).write_text(page, encoding="utf-8")


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    state = config.stash[STATE]
    if state.report is None:
        return
    terminalreporter.section("MLflow client conformance")
    summary = matrix_report.summary_lines if "clients" in state.report else report_mod.summary_lines
    for line in summary(state.report):
        terminalreporter.write_line(line)
    for version, status in state.exit_statuses.items():
        if status:
            terminalreporter.write_line(f"[{version}] the suite exited with {status}")
