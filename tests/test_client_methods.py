"""spec/client-methods.yaml against the seed page it came from and the installed 2.7.1 client."""

from __future__ import annotations

import importlib
import re
from collections import Counter
from pathlib import Path

import pytest

from tools.client_methods import (
    REPO,
    load_document,
    load_methods,
    normalise_status,
    seed_path,
    seed_rows,
    seed_tables,
)

DOC = load_document()
METHODS = load_methods()
BY_ID = {row["id"]: row for row in METHODS}
NOTES_SECTIONS = {
    "create_registered_model": "Creating a model",
    "create_model_version": "Creating a model version",
    "get_latest_versions": "Getting latest versions of a model",
}


def _squash(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture(scope="module")
def seed() -> Path:
    path = seed_path()
    assert path.is_file(), f"the seed page is not at {path}"
    return path


@pytest.fixture(scope="module")
def rows(seed) -> list[tuple[str, str, str, str]]:
    return seed_rows(seed)


@pytest.fixture(scope="module")
def first_listing(rows) -> dict[str, tuple[str, str, str, str]]:
    first: dict[str, tuple[str, str, str, str]] = {}
    for row in rows:
        first.setdefault(row[0], row)
    return first


def _section(seed: Path, heading: str) -> str:
    """The body of a markdown section of the seed, up to the next heading of any level."""
    text = seed.read_text(encoding="utf-8")
    match = re.search(rf"^#+ {re.escape(heading)}\n(.*?)(?=^#+ )", text, re.M | re.S)
    assert match, f"heading {heading!r} not in the seed"
    return match.group(1)


def _notes_bullets(seed: Path, heading: str) -> list[str]:
    notes = _section(seed, heading).split("**Notes**", 1)[1]
    return [line[2:].strip() for line in notes.splitlines() if line.startswith("- ")]


def test_seed_tables_have_the_known_shape(seed, rows):
    tables = seed_tables(seed)
    assert [len(t) for t in tables] == [27, 10]
    assert len(rows) == 37
    assert len({r[0] for r in rows}) == 35
    counts = Counter(r[0] for r in rows)
    assert {m: n for m, n in counts.items() if n > 1} == {"create_registered_model": 3}


def test_one_row_per_distinct_seed_method_in_seed_order(rows):
    seed_order = list(dict.fromkeys(r[0] for r in rows))
    assert [row["method"] for row in METHODS] == seed_order
    assert len(METHODS) == 35
    assert [row["id"] for row in METHODS] == [row["method"] for row in METHODS]


def test_rows_sit_in_the_table_the_seed_lists_them_in(seed):
    tracking, registry = seed_tables(seed)
    assert [r["method"] for r in METHODS if r["table"] == "tracking"] == [t[0] for t in tracking]
    assert [r["method"] for r in METHODS if r["table"] == "registry"] == list(
        dict.fromkeys(t[0] for t in registry)
    )


def test_status_version_and_comments_match_the_first_listing(first_listing):
    assert DOC["statuses"] == ["Yes", "Yes with caveat", "Partial", "No"]
    for row in METHODS:
        method, status, version, comments = first_listing[row["method"]]
        gitlab = row["documented"]["gitlab"]
        assert gitlab["status"] == normalise_status(status), method
        assert gitlab["status"] in DOC["statuses"], method
        assert gitlab["status_verbatim"] == status, method
        assert gitlab["since"] == version, method
        assert gitlab["comments"] == comments, method


def test_documented_status_and_version_counts():
    statuses = Counter(r["documented"]["gitlab"]["status"] for r in METHODS)
    assert statuses == {"Yes": 27, "Yes with caveat": 7, "Partial": 1}
    since = Counter(r["documented"]["gitlab"]["since"] for r in METHODS)
    assert since == {"15.11": 24, "17.5": 3, "16.8": 8}


def test_repeated_listing_is_recorded(rows):
    listed = [r for r in rows if r[0] == "create_registered_model"]
    gitlab = BY_ID["create_registered_model"]["documented"]["gitlab"]
    assert gitlab["listed"] == len(listed) == 3
    assert [(x["status_verbatim"], x["since"], x["comments"]) for x in gitlab["listings"]] == [
        r[1:] for r in listed
    ]
    assert [x["status_verbatim"] for x in gitlab["listings"]] == ["Yes with caveats", "Yes", "Yes"]
    for row in METHODS:
        if row["id"] != "create_registered_model":
            assert "listed" not in row["documented"]["gitlab"], row["id"]


def _known_operation_ids() -> set[str]:
    """operationIds by the project convention, from the 2.7.1 client's protobuf descriptors."""
    from mlflow.protos import mlflow_artifacts_pb2, model_registry_pb2, service_pb2

    ids: set[str] = set()
    for module, service in [
        (service_pb2, "MlflowService"),
        (model_registry_pb2, "ModelRegistryService"),
        (mlflow_artifacts_pb2, "MlflowArtifactsService"),
    ]:
        for rpc in module.DESCRIPTOR.services_by_name[service].methods:
            name = rpc.name
            if service == "MlflowArtifactsService" and name == "listArtifacts":
                name = "listArtifactsProxy"
            ids.add(name)
    return ids | {"searchExperimentsGet", "getLatestVersionsGet"}


def _all_operations(row: dict) -> list[str]:
    ops = list(row["operations"])
    for variant in (row.get("operations_variants") or {}).values():
        ops.extend(variant)
    return ops


def test_every_row_has_operations_named_by_the_convention():
    known = _known_operation_ids()
    assert {"logParam", "uploadArtifact", "listArtifactsProxy", "getLatestVersions"} <= known
    for row in METHODS:
        assert row["operations"], f"{row['id']} has no operations"
        for op in _all_operations(row):
            assert re.fullmatch(r"[a-z][A-Za-z]+", op), (row["id"], op)
            assert op in known, (row["id"], op)


def test_operations_of_key_rows():
    ops = {row["id"]: row["operations"] for row in METHODS}
    assert ops["set_experiment"] == ["getExperimentByName", "createExperiment", "getExperiment"]
    assert ops["log_param"] == ["logParam"]
    assert ops["log_params"] == ops["log_metrics"] == ops["set_tags"] == ["logBatch"]
    assert ops["log_artifact"] == ["getRun", "uploadArtifact"]
    assert ops["log_model"] == ["getRun", "uploadArtifact", "logModel"]
    assert ops["load_model"] == ["getRun", "listArtifactsProxy", "downloadArtifact"]
    assert ops["get_latest_versions"] == ["getLatestVersions"]


def test_operations_exist_in_the_openapi_document():
    spec_path = REPO / "spec" / "mlflow-2.7.1.yaml"
    import yaml

    spec = yaml.safe_load(spec_path.read_text(encoding="utf-8"))
    defined = {
        op["operationId"]
        for item in spec.get("paths", {}).values()
        for op in item.values()
        if isinstance(op, dict) and "operationId" in op
    }
    missing = {(r["id"], op) for r in METHODS for op in _all_operations(r) if op not in defined}
    assert not missing, f"operationIds not in {spec_path.name}: {sorted(missing)}"


def test_apis_match_the_installed_client():
    import mlflow
    from mlflow import MlflowClient

    assert set(DOC["apis"]) == {"fluent", "client", "flavor"}
    for row in METHODS:
        method, apis = row["method"], set(row["apis"])
        assert apis and apis <= set(DOC["apis"]), method
        assert ("fluent" in apis) == hasattr(mlflow, method), method
        assert ("client" in apis) == hasattr(MlflowClient, method), method
        if "flavor" in apis:
            assert row["entry_points"], method
            for dotted in row["entry_points"]:
                module, _, attr = dotted.rpartition(".")
                try:
                    obj = importlib.import_module(module)
                except ImportError:  # mlflow.models.Model.log: a class attribute
                    module, _, cls = module.rpartition(".")
                    obj = getattr(importlib.import_module(module), cls)
                assert callable(getattr(obj, attr)), dotted
        if "client_counterpart" in row:
            assert hasattr(MlflowClient, row["client_counterpart"]), method


def _caveats() -> list[tuple[dict, dict]]:
    return [(row, caveat) for row in METHODS for caveat in row["caveats"]]


def test_caveats_are_well_formed_unique_and_quoted_from_the_seed(seed):
    seed_text = _squash(seed.read_text(encoding="utf-8"))
    ids = [c["id"] for _, c in _caveats()] + [k["id"] for k in DOC["known_issues"]]
    assert len(ids) == len(set(ids)), [i for i, n in Counter(ids).items() if n > 1]
    for row, caveat in _caveats():
        assert re.fullmatch(rf"{row['method']}\.[a-z0-9]+(_[a-z0-9]+)*", caveat["id"]), caveat
        assert caveat["dialect"] == "gitlab", caveat["id"]
        assert re.fullmatch(r"\d+\.\d+", caveat["since"]), caveat["id"]
        assert caveat["kind"] in DOC["caveat_kinds"], caveat["id"]
        assert caveat["text"] and _squash(caveat["text"]) in seed_text, caveat["id"]
    assert len(ids) == 25 + 3


def test_caveat_counts():
    per_row = {row["id"]: len(row["caveats"]) for row in METHODS if row["caveats"]}
    assert per_row == {
        "start_run": 1,
        "search_runs": 1,
        "log_artifact": 2,
        "log_artifacts": 2,
        "log_text": 1,
        "log_dict": 1,
        "log_model": 2,
        "create_registered_model": 4,
        "create_model_version": 9,
        "get_latest_versions": 2,
    }
    assert sum(per_row.values()) == 25


def test_every_seed_comment_becomes_caveats(first_listing):
    with_comment = {m for m, (_, _, _, comments) in first_listing.items() if comments}
    assert len(with_comment) == 10
    assert {row["id"] for row in METHODS if row["caveats"]} == with_comment
    for row in METHODS:
        comments = row["documented"]["gitlab"]["comments"]
        if comments.startswith("[See notes]"):
            continue
        table_caveats = [c for c in row["caveats"] if c["from"] == "table"]
        if not comments:
            assert not table_caveats, row["id"]
            continue
        # "(16.4) text..." -> every caveat carries the version and together they are the text.
        version, text = re.fullmatch(r"\((\d+\.\d+)\) (.+)", comments).groups()
        assert {c["since"] for c in table_caveats} == {version}, row["id"]
        assert " ".join(c["text"] for c in table_caveats) == text, row["id"]


def test_notes_sections_are_caveats_of_their_rows(seed, first_listing):
    for method, heading in NOTES_SECTIONS.items():
        anchor = "#" + heading.lower().replace(" ", "-")
        assert first_listing[method][3] == f"[See notes]({anchor})", method
        bullets = _notes_bullets(seed, heading)
        noted = [c["text"] for c in BY_ID[method]["caveats"] if c["from"] == f"notes:{heading}"]
        assert " ".join(noted) == " ".join(bullets), method
    assert len(_notes_bullets(seed, "Creating a model")) == 3
    assert len(_notes_bullets(seed, "Creating a model version")) == 4
    assert len(_notes_bullets(seed, "Getting latest versions of a model")) == 2


def test_named_notes_caveats_are_present():
    expected = {
        "create_registered_model": {
            "tags_ignored",
            "name_unique_in_project",
            "name_not_experiment_name",
        },
        "create_model_version": {
            "run_id_ignored",
            "version_is_run",
            "source_ignored",
            "run_link_ignored",
            "await_creation_for_ignored",
            "version_auto_increment",
            "version_from_tag",
            "version_semver",
        },
        "get_latest_versions": {"stages_ignored", "ordered_by_semver"},
    }
    for method, slugs in expected.items():
        ids = {c["id"] for c in BY_ID[method]["caveats"]}
        assert {f"{method}.{s}" for s in slugs} <= ids, method
    tag = next(c for c in BY_ID["create_model_version"]["caveats"] if "tag" in c)
    assert tag["tag"] == "gitlab.version"


def test_known_issues_are_the_seed_bullets(seed):
    text = seed.read_text(encoding="utf-8")
    bullets = [
        line[2:].strip()
        for line in text.split("## Known issues", 1)[1].splitlines()
        if line.startswith("- ")
    ]
    assert [k["text"] for k in DOC["known_issues"]] == bullets
    assert len(bullets) == 3
    for issue in DOC["known_issues"]:
        assert re.fullmatch(r"known_issues\.[a-z0-9_]+", issue["id"]), issue
        assert issue["dialect"] == "gitlab"
