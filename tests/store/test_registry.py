"""The model registry store: semantics of mlflow 2.7.1's registry, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from server.errors import MlflowError
from server.store import open_store
from server.store.db import connect
from server.store.models import MIGRATIONS, SCHEMA_VERSION, bind_models


def _code(excinfo) -> str:
    return excinfo.value.error_code


def _versions(store, name, count, **kw):
    return [store.create_model_version(name, f"s3://b/{name}/{i}", **kw) for i in range(count)]


def test_create_and_get(store):
    created = store.create_registered_model(
        "m", tags=[{"key": "a", "value": "1"}, {"key": "a", "value": "2"}], description="d"
    )
    assert created["tags"] == [{"key": "a", "value": "2"}]  # the last value of a key wins
    got = store.get_registered_model("m")
    assert got == created
    assert got["creation_timestamp"] == got["last_updated_timestamp"]
    with pytest.raises(MlflowError) as e:
        store.create_registered_model("m")
    assert _code(e) == "RESOURCE_ALREADY_EXISTS"
    with pytest.raises(MlflowError) as e:
        store.get_registered_model("nope")
    assert _code(e) == "RESOURCE_DOES_NOT_EXIST"
    with pytest.raises(MlflowError, match="cannot be empty"):
        store.get_registered_model("")


def test_empty_description_is_left_out(store):
    assert "description" not in store.create_registered_model("m", description="")
    assert "description" not in store.update_registered_model("m", "")


def test_model_version_shape(store, run_id):
    store.create_registered_model("m")
    mv = store.create_model_version(
        "m",
        "s3://b/x",
        run_id=run_id,
        run_link="",
        description="",
        tags=[{"key": "t", "value": ""}],
    )
    assert mv == {
        "name": "m",
        "version": "1",
        "creation_timestamp": mv["creation_timestamp"],
        "last_updated_timestamp": mv["creation_timestamp"],
        "current_stage": "None",
        "description": "",
        "source": "s3://b/x",
        "run_id": run_id,
        "status": "READY",
        "tags": [{"key": "t", "value": ""}],
        "run_link": "",
    }
    assert store.get_model_version("m", "1") == mv
    # Left out of the update, the description is cleared (2.7.1 reads it only when set).
    assert "description" not in store.update_model_version("m", "1")


def test_latest_versions_one_per_stage_in_2_7_1_order(store):
    store.create_registered_model("m")
    _versions(store, "m", 5)
    store.transition_model_version_stage("m", "2", "production")
    store.transition_model_version_stage("m", "3", "Staging")
    store.transition_model_version_stage("m", "4", "Production")
    latest = store.get_registered_model("m")["latest_versions"]
    # Stages in the order of the lowest version holding them; the highest version of each.
    assert [(v["current_stage"], v["version"]) for v in latest] == [
        ("None", "5"),
        ("Production", "4"),
        ("Staging", "3"),
    ]
    assert [v["version"] for v in store.get_latest_versions("m", ["staging", "None"])] == [
        "5",
        "3",
    ]
    with pytest.raises(MlflowError, match="Invalid Model Version stage: Live"):
        store.get_latest_versions("m", ["Live"])


def test_archive_existing_versions(store):
    store.create_registered_model("m")
    _versions(store, "m", 3)
    store.transition_model_version_stage("m", "1", "Production")
    store.transition_model_version_stage("m", "2", "Production")
    mv = store.transition_model_version_stage("m", "3", "Production", True)
    assert mv["current_stage"] == "Production"
    stages = [store.get_model_version("m", v)["current_stage"] for v in "12"]
    assert stages == ["Archived", "Archived"]
    with pytest.raises(MlflowError) as e:
        store.transition_model_version_stage("m", "3", "Archived", True)
    assert _code(e) == "INVALID_PARAMETER_VALUE"  # 2.7.1: a 500


def test_deleted_versions_keep_their_numbers(store):
    store.create_registered_model("m")
    _versions(store, "m", 2)
    store.set_registered_model_alias("m", "champ", "2")
    store.delete_model_version("m", "2")
    with pytest.raises(MlflowError) as e:
        store.get_model_version("m", "2")
    assert _code(e) == "RESOURCE_DOES_NOT_EXIST"
    assert store.create_model_version("m", "s3://b/3")["version"] == "3"
    # As 2.7.1: the alias stays, and reading it finds no version.
    assert store.get_registered_model("m")["aliases"] == [{"alias": "champ", "version": "2"}]
    with pytest.raises(MlflowError) as e:
        store.get_model_version_by_alias("m", "champ")
    assert _code(e) == "RESOURCE_DOES_NOT_EXIST"


def test_rename_carries_versions_tags_and_aliases(store):
    store.create_registered_model("a", tags=[{"key": "k", "value": "v"}])
    store.create_model_version("a", "s3://b/x", tags=[{"key": "t", "value": "1"}])
    store.set_registered_model_alias("a", "champ", "1")
    store.create_registered_model("taken")
    with pytest.raises(MlflowError) as e:
        store.rename_registered_model("a", "taken")
    assert _code(e) == "RESOURCE_ALREADY_EXISTS"
    renamed = store.rename_registered_model("a", "b")
    assert renamed["name"] == "b" and renamed["tags"] == [{"key": "k", "value": "v"}]
    mv = store.get_model_version("b", "1")
    assert mv["tags"] == [{"key": "t", "value": "1"}] and mv["aliases"] == ["champ"]
    assert mv["last_updated_timestamp"] == renamed["last_updated_timestamp"]
    with pytest.raises(MlflowError):
        store.get_registered_model("a")


def test_delete_model_takes_everything(store):
    store.create_registered_model("m", tags=[{"key": "k", "value": "v"}])
    store.create_model_version("m", "s3://b/x", tags=[{"key": "t", "value": "1"}])
    store.set_registered_model_alias("m", "champ", "1")
    store.delete_registered_model("m")
    store.create_registered_model("m")
    got = store.get_registered_model("m")
    assert "tags" not in got and "aliases" not in got and "latest_versions" not in got
    assert store.create_model_version("m", "s3://b/y")["version"] == "1"


def test_tags_and_aliases(store):
    store.create_registered_model("m")
    _versions(store, "m", 2)
    store.set_registered_model_tag("m", "k", "v")
    store.set_registered_model_tag("m", "k", "w")
    store.delete_registered_model_tag("m", "absent")  # no error, as 2.7.1
    store.set_model_version_tag("m", "1", "t", "x")
    store.delete_model_version_tag("m", "1", "absent")
    for alias, version in (("zeta", "1"), ("Alpha", "2"), ("mid", "1")):
        store.set_registered_model_alias("m", alias, version)
    got = store.get_registered_model("m")
    assert got["tags"] == [{"key": "k", "value": "w"}]
    assert got["aliases"] == [
        {"alias": "Alpha", "version": "2"},
        {"alias": "mid", "version": "1"},
        {"alias": "zeta", "version": "1"},
    ]
    assert store.get_model_version_by_alias("m", "mid")["aliases"] == ["mid", "zeta"]
    store.delete_registered_model_alias("m", "mid")
    assert store.get_model_version("m", "1")["aliases"] == ["zeta"]
    for bad, message in (
        ("latest", "reserved"),
        ("V3", "reserved"),
        ("a b", "Invalid alias name"),
        ("", "cannot be empty"),
    ):
        with pytest.raises(MlflowError, match=message):
            store.set_registered_model_alias("m", bad, "1")
    with pytest.raises(MlflowError, match="alias nope not found") as e:
        store.get_model_version_by_alias("m", "nope")
    assert _code(e) == "INVALID_PARAMETER_VALUE"
    with pytest.raises(MlflowError, match="must be an integer"):
        store.set_model_version_tag("m", "x", "t", "v")
    with pytest.raises(MlflowError, match="had length 5001"):
        store.set_registered_model_tag("m", "k", "v" * 5001)


@pytest.mark.parametrize(
    "source, run, message",
    [
        ("/tmp/model", False, "To use a local path"),
        ("file:///tmp/model", True, "To use a local path"),
        ("file://host/model", False, "doesn't allow using a file URI"),
        ("s3://b/a/../../etc", False, "without relative path references"),
        ("http://h/a/%2E%2E/%2E%2E/etc", False, "without relative path references"),
    ],
)
def test_unsafe_sources_are_refused(store, run_id, source, run, message):
    store.create_registered_model("m")
    with pytest.raises(MlflowError, match=message):
        store.create_model_version("m", source, run_id=run_id if run else None)


def test_local_source_inside_the_runs_artifacts(store, tmp_path):
    exp = store.create_experiment("local", artifact_location=str(tmp_path))
    run = store.create_run(exp)["info"]
    store.create_registered_model("m")
    source = f"{run['artifact_uri']}/model"
    assert store.create_model_version("m", source, run_id=run["run_id"])["source"] == source


def test_search_registered_models(store):
    for name, group in (("b", "red"), ("a", "blue"), ("C", "red"), ("d", "Red")):
        store.create_registered_model(name, tags=[{"key": "group", "value": group}])
        store.create_model_version(name, f"s3://b/{name}")
    names = [m["name"] for m in store.search_registered_models()[0]]
    assert names == ["C", "a", "b", "d"]  # byte order on both backends
    found, _ = store.search_registered_models("tags.group = 'red'")
    assert [m["name"] for m in found] == ["C", "b"]
    found, _ = store.search_registered_models("tags.group ILIKE 'RED' AND name != 'b'")
    assert [m["name"] for m in found] == ["C", "d"]
    found, _ = store.search_registered_models("name LIKE 'c%'")
    assert found == []
    assert found == store.search_registered_models("name = 'zz'")[0]
    assert store.search_registered_models("name ILIKE 'c%'")[0][0]["latest_versions"][0]["source"]
    page, token = store.search_registered_models(max_results=3, order_by=["name DESC"])
    assert [m["name"] for m in page] == ["d", "b", "a"] and token
    page, token = store.search_registered_models(
        max_results=3, order_by=["name DESC"], page_token=token
    )
    assert [m["name"] for m in page] == ["C"] and token is None
    for bad in ("name > 'a'", "tags.group > 'a'", "creation_timestamp > 1", "metrics.x > 1"):
        with pytest.raises(MlflowError):
            store.search_registered_models(bad)
    with pytest.raises(MlflowError, match="at most 1000"):
        store.search_registered_models(max_results=1001)
    with pytest.raises(MlflowError, match="duplicate") as e:
        store.search_registered_models(order_by=["timestamp", "last_updated_timestamp"])
    assert _code(e) == "INVALID_PARAMETER_VALUE"


def test_search_model_versions(store):
    store.create_registered_model("m")
    store.create_registered_model("n")
    store.create_model_version("m", "s3://a/1", run_id="r1", tags=[{"key": "t", "value": "x"}])
    store.create_model_version("m", "s3://b/2", run_id="r2")
    store.create_model_version("n", "s3://a/3", run_id="r1")
    store.delete_model_version("m", "2")

    def search(filter_string=None, **kw):
        found, token = store.search_model_versions(filter_string, **kw)
        return [(v["name"], v["version"]) for v in found], token

    assert search("run_id = 'r1'")[0] == [("n", "1"), ("m", "1")]  # newest first
    assert search("run_id IN ('r1', 'R2')")[0] == [("n", "1"), ("m", "1")]
    assert search("source_path LIKE 's3://a/%' AND name = 'm'")[0] == [("m", "1")]
    assert search("tags.t = 'x'")[0] == [("m", "1")]
    assert search("version_number >= 1", order_by=["name", "version_number"])[0] == [
        ("m", "1"),
        ("n", "1"),
    ]
    assert search("version_number = 'one'")[0] == []
    assert search(max_results=1, order_by=["name DESC"]) == (
        [("n", "1")],
        "eyJvZmZzZXQiOiAxfQ==",
    )
    assert "aliases" not in store.search_model_versions()[0][0]
    for bad in ("name > 'a'", "version_number LIKE '1'", "name IN ('m')", "name = 5"):
        with pytest.raises(MlflowError):
            store.search_model_versions(bad)
    with pytest.raises(MlflowError, match="positive integer"):
        store.search_model_versions(max_results=0)


def test_version_numbers_off_the_wire(store):
    store.create_registered_model("m")
    store.create_model_version("m", "s3://b/x")
    assert store.get_model_version("m", " 01")["version"] == "1"
    with pytest.raises(MlflowError) as e:
        store.get_model_version("m", str(2**40))  # an integer, but no version can have it
    assert _code(e) == "RESOURCE_DOES_NOT_EXIST"
    with pytest.raises(MlflowError, match="got '1.0'"):
        store.get_model_version("m", "1.0")


def test_search_reads_in_bulk(store, monkeypatch):
    """A page of models costs the same few queries however many models it holds."""
    for i in range(30):
        store.create_registered_model(f"m{i:02d}", tags=[{"key": "k", "value": str(i)}])
        store.create_model_version(f"m{i:02d}", "s3://b/x", tags=[{"key": "t", "value": "v"}])
        store.set_registered_model_alias(f"m{i:02d}", "champ", "1")
    counted = []
    execute = store.db.execute_sql

    def counting(sql, *args, **kwargs):
        counted.append(sql)
        return execute(sql, *args, **kwargs)

    monkeypatch.setattr(store.db, "execute_sql", counting)
    found, _ = store.search_registered_models(max_results=30)
    selects = [s for s in counted if s.lstrip().upper().startswith("SELECT")]
    assert len(found) == 30 and len(selects) <= 6, selects
    assert all(m["latest_versions"][0]["tags"] and m["aliases"] for m in found)


def test_version_1_database_upgrades_in_place(db_url):
    """A database made by the version-1 schema gains the registry at start-up, data kept."""
    db = connect(db_url)
    m = bind_models(db)
    with db.connection_context():
        db.create_tables([m.SchemaVersion])
        MIGRATIONS[1](db, m)
        m.SchemaVersion.insert(version=1).execute()
        m.Experiment.insert(experiment_id=7, name="old", lifecycle_stage="active").execute()
        assert not db.table_exists("registered_models")
    db.close_all()

    store = open_store(db_url).for_project(0)
    try:
        assert store.get_experiment("7")["name"] == "old"
        V = store.models.SchemaVersion
        with store.db.connection_context():
            versions = [r[0] for r in V.select(V.version).order_by(V.version).tuples()]
        assert versions == list(range(1, SCHEMA_VERSION + 1)) and SCHEMA_VERSION >= 2
        store.create_registered_model("m")
        assert store.create_model_version("m", "s3://b/x")["version"] == "1"
    finally:
        store.close()
