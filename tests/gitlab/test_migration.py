"""Schema version 3 (namespaces) migrates a version-2 database in place, on SQLite and
PostgreSQL: existing rows land in namespace 0, the stock dialect's, and names become unique per
namespace."""

from __future__ import annotations

import pytest

from server.errors import MlflowError
from server.store import open_store
from server.store.models import SCHEMA_VERSION
from tests.conftest import BACKENDS, backend_store_uri

_CASCADE = "ON UPDATE CASCADE ON DELETE CASCADE"
# The schema as version 2 left it: experiment names unique across the database, and the
# registry keyed by name alone (the DDL peewee generated for the version-2 models). The later
# steps' records are removed; version 4's column and index stay, which its step takes as done.
VERSION_2 = (
    'DROP TABLE "registered_model_aliases"',
    'DROP TABLE "model_version_tags"',
    'DROP TABLE "registered_model_tags"',
    'DROP TABLE "model_versions"',
    'DROP TABLE "registered_models"',
    'DROP INDEX "experiment_project_id_name"',
    'DROP INDEX "experiment_project_id_project_number"',
    'ALTER TABLE "experiments" DROP COLUMN "project_id"',
    'ALTER TABLE "experiments" DROP COLUMN "project_number"',
    'CREATE UNIQUE INDEX "experiment_name" ON "experiments" ("name")',
    'CREATE TABLE "registered_models" ("name" TEXT NOT NULL PRIMARY KEY, '
    '"creation_time" BIGINT, "last_updated_time" BIGINT, "description" TEXT)',
    'CREATE TABLE "model_versions" ("name" TEXT NOT NULL, "version" INTEGER NOT NULL, '
    '"creation_time" BIGINT, "last_updated_time" BIGINT, "description" TEXT, "user_id" TEXT, '
    '"current_stage" VARCHAR(20) NOT NULL, "source" TEXT, "run_id" TEXT, "run_link" TEXT, '
    '"status" VARCHAR(20) NOT NULL, "status_message" TEXT, PRIMARY KEY ("name", "version"), '
    f'FOREIGN KEY ("name") REFERENCES "registered_models" ("name") {_CASCADE})',
    'CREATE INDEX "modelversion_run_id" ON "model_versions" ("run_id")',
    'CREATE TABLE "registered_model_tags" ("name" TEXT NOT NULL, "key" VARCHAR(250) NOT NULL, '
    '"value" TEXT, PRIMARY KEY ("name", "key"), '
    f'FOREIGN KEY ("name") REFERENCES "registered_models" ("name") {_CASCADE})',
    'CREATE TABLE "model_version_tags" ("name" TEXT NOT NULL, "version" INTEGER NOT NULL, '
    '"key" VARCHAR(250) NOT NULL, "value" TEXT, PRIMARY KEY ("name", "version", "key"), '
    'FOREIGN KEY ("name", "version") REFERENCES "model_versions" ("name", "version") '
    f"{_CASCADE})",
    'CREATE TABLE "registered_model_aliases" ("name" TEXT NOT NULL, "alias" TEXT NOT NULL, '
    '"version" INTEGER NOT NULL, PRIMARY KEY ("name", "alias"), '
    f'FOREIGN KEY ("name") REFERENCES "registered_models" ("name") {_CASCADE})',
    'DELETE FROM "schema_version" WHERE "version" >= 3',
)
REGISTRY_ROWS = (
    "INSERT INTO \"registered_models\" VALUES ('model', 1, 2, 'described')",
    "INSERT INTO \"model_versions\" VALUES ('model', 1, 1, 2, '', 'u', 'Production', "
    "'mlflow-artifacts:/x', 'r', '', 'READY', NULL)",
    "INSERT INTO \"registered_model_tags\" VALUES ('model', 'team', 'a')",
    "INSERT INTO \"model_version_tags\" VALUES ('model', 1, 'stage', 'b')",
    "INSERT INTO \"registered_model_aliases\" VALUES ('model', 'champion', 1)",
)


@pytest.fixture(params=BACKENDS)
def version_2_database(request, tmp_path) -> str:
    url = backend_store_uri(request.param, tmp_path, request)
    store = open_store(url).for_project(0)
    store.create_run(store.create_experiment("kept"))
    with store.db.connection_context(), store.db.atomic():
        for statement in VERSION_2 + REGISTRY_ROWS:
            store.db.execute_sql(statement)
    store.close()
    return url


def test_version_2_database_migrates(version_2_database):
    store = open_store(version_2_database).for_project(0)
    try:
        V = store.models.SchemaVersion
        with store.db.connection_context():
            versions = [v for (v,) in V.select(V.version).order_by(V.version).tuples()]
            assert versions == list(range(1, SCHEMA_VERSION + 1))
        kept = store.get_experiment_by_name("kept")
        assert len(store.search_runs([kept["experiment_id"]])[0]) == 1
        model = store.get_registered_model("model")
        assert (model["description"], model["tags"]) == (
            "described",
            [{"key": "team", "value": "a"}],
        )
        assert model["aliases"] == [{"alias": "champion", "version": "1"}]
        version = store.get_model_version("model", "1")
        assert (version["current_stage"], version["tags"]) == (
            "Production",
            [{"key": "stage", "value": "b"}],
        )
        for create in (
            lambda: store.create_experiment("kept"),
            lambda: store.create_registered_model("model"),
        ):
            with pytest.raises(MlflowError) as e:
                create()
            assert e.value.error_code == "RESOURCE_ALREADY_EXISTS"
        # The cascades still hold: a rename reaches versions, tags and aliases.
        store.rename_registered_model("model", "renamed")
        assert store.get_model_version("renamed", "1")["tags"] == version["tags"]
        other = store.for_project(7)
        # Another namespace sees none of namespace 0 and may reuse its names.
        with pytest.raises(MlflowError):
            other.get_experiment(kept["experiment_id"])
        with pytest.raises(MlflowError):
            other.get_registered_model("renamed")
        assert other.get_experiment(other.create_experiment("kept"))["name"] == "kept"
        other.create_registered_model("renamed")
        other.create_model_version("renamed", "mlflow-artifacts:/y")
        assert other.get_model_version("renamed", "1")["source"] == "mlflow-artifacts:/y"
        assert store.get_model_version("renamed", "1")["source"] == "mlflow-artifacts:/x"
    finally:
        store.close()
    open_store(version_2_database).close()  # opening again is a no-op
