"""The full client-version matrix: the whole suite with eight client versions against
`mlflow server` 2.7.1, and two clients against a current `mlflow server` 3.17.2.

Long (each client version's virtualenv, then the whole suite per client): it runs when
MLFLOW_COMPAT_FULL_MATRIX=1, which `tox -e matrix` sets. The boundary table it finds is
printed (`python -m tools.matrix` prints it from a saved report).
"""

from __future__ import annotations

import os

import pytest

from conformance import clients
from tests.conformance.test_matrix import NEW, run_matrix
from tools import matrix as boundary
from tools.peers import start_oracle

pytestmark = pytest.mark.skipif(
    os.environ.get("MLFLOW_COMPAT_FULL_MATRIX") != "1",
    reason="the full matrix runs in `tox -e matrix` (MLFLOW_COMPAT_FULL_MATRIX=1)",
)

# Around each break: the last version before and the first after it (3.1.3: the release the
# earlier build of this matrix found the 3.0 artifact downloads fixed in).
VERSIONS = ("2.7.1", "2.8.0", "2.8.1", "2.22.5", "3.0.0", "3.1.1", "3.1.3", NEW)


def _cells(report: dict) -> dict[tuple[str, str], str]:
    return {(c["client"], c["row"]): c["observed"] for c in report["matrix"]}


@pytest.mark.oracle
def test_the_full_matrix_against_mlflow_server_2_7_1(tmp_path):
    for version in VERSIONS[1:]:  # 2.7.1 is the installed client
        clients.ensure(version)
    with start_oracle(tmp_path / "oracle", workers=2) as oracle:
        found = run_matrix(
            tmp_path / "run", "--target", oracle.url, scenarios=None, versions=VERSIONS
        )
    report, cells = found["report"], _cells(found["report"])
    print(boundary.table(report))
    rows = [r["id"] for r in report["rows"]]
    assert {r: cells[("2.7.1", r)] for r in rows} == dict.fromkeys(rows, "Yes"), found["md"]
    # mlflow #10230: 2.8.0 writes its registered-model metadata file into whatever it downloaded
    # from models:/, a single file too (NotADirectoryError); fixed in 2.8.1.
    assert cells[("2.8.0", "load_model")] == "Partial", found["md"]
    evidence = next(
        c["evidence"]
        for c in report["matrix"]
        if (c["client"], c["row"]) == ("2.8.0", "load_model")
    )
    assert {e["scenario"] for e in evidence} == {"test_load_model_file_by_version"}, evidence
    assert "NotADirectoryError" in evidence[0]["error"], evidence
    assert cells[("2.8.0", "log_model")] == "Yes", found["md"]
    # The LoggedModel API of 3.x: last passing 2.22.5, first failing 3.0.0.
    for row in ("log_model", "load_model"):
        for version in ("2.8.1", "2.22.5"):
            assert cells[(version, row)] == "Yes", (version, row, found["md"])
        for version in ("3.0.0", "3.1.1", "3.1.3", NEW):
            assert cells[(version, row)] == "No", (version, row, found["md"])
    # 3.0.0 to 3.1.1 download any run artifact through a search of logged models (404 on a
    # 2.7.1 server): every artifact row is No; 3.17.2 searches only when listing a directory.
    for row in ("log_artifact", "log_artifacts", "log_text", "log_dict", "log_figure"):
        for version in ("3.0.0", "3.1.1"):
            assert cells[(version, row)] == "No", (version, row, found["md"])
    assert cells[(NEW, "log_text")] == "Yes", found["md"]
    assert cells[(NEW, "log_artifact")] == "Yes with caveat", found["md"]


def test_a_current_mlflow_server_passes_every_client(tmp_path):
    python = clients.ensure(NEW)
    with start_oracle(tmp_path / "server", workers=2, python=python, timeout=180) as server:
        found = run_matrix(tmp_path / "run", "--target", server.url, scenarios=None)
    report = found["report"]
    assert report["server_version"] == NEW
    print(boundary.table(report))
    for (client, row), observed in _cells(report).items():
        if row == "create_model_version":
            # mlflow server 3.x refuses a version whose source lies in no run it is told of
            # (the run_id request parameter must name the run containing the source): the
            # probe of a version made without a run fails, the documented calls pass. A 3.x
            # client also refuses, by itself, to register a run that holds no logged model.
            assert observed == "Yes with caveat", found["md"]
            cell = next(c for c in report["matrix"] if (c["client"], c["row"]) == (client, row))
            caveats = {e["caveat"]: e["error"] for e in cell["evidence"]}
            expected = {"create_model_version.version_is_run"}
            if client == NEW:
                expected.add("create_model_version.from_run_unsupported")
                message = caveats["create_model_version.from_run_unsupported"]
                assert "Unable to find a logged_model" in message, message
            assert set(caveats) == expected, caveats
            message = caveats["create_model_version.version_is_run"]
            assert "must identify the resource that contains the source" in message, message
        else:
            assert observed == "Yes", (client, row, found["md"])
