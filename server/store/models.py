"""The tracking schema (peewee models) and its versioned migrations.

Models are built per database by ``bind_models`` so that several stores (a SQLite file and a
PostgreSQL database, say) can live in one process without sharing a global binding.
Version 2 adds the model registry's tables; a version-1 database gains them in place.
Version 3 adds namespaces (the projects of the GitLab dialect): experiments and the registry's
rows carry a project_id (0, the one namespace of the stock dialect), experiment and registered
model names are unique per namespace, experiments are numbered within it, and model versions
may carry a version label (a SemVer string).
"""

from __future__ import annotations

from dataclasses import dataclass

import peewee as pw

from .db import bulk_insert

SCHEMA_VERSION = 4
# Any constant works; it only has to be the same for every process sharing a database.
_PG_MIGRATION_LOCK_ID = 0x6D6C666C6F77  # "mlflow"


class _Base(pw.Model):
    pass


@dataclass(frozen=True)
class Models:
    """The model classes of the current schema, bound to one database."""

    SchemaVersion: type[pw.Model]
    Experiment: type[pw.Model]
    ExperimentTag: type[pw.Model]
    Run: type[pw.Model]
    Param: type[pw.Model]
    Tag: type[pw.Model]
    Metric: type[pw.Model]
    LatestMetric: type[pw.Model]
    Dataset: type[pw.Model]
    Input: type[pw.Model]
    InputTag: type[pw.Model]
    RegisteredModel: type[pw.Model]
    ModelVersion: type[pw.Model]
    RegisteredModelTag: type[pw.Model]
    ModelVersionTag: type[pw.Model]
    RegisteredModelAlias: type[pw.Model]


def bind_models(db: pw.Database) -> Models:
    """Return the model classes of the current schema, bound to ``db``."""

    def meta(table_name: str, **options):
        return type("Meta", (), {"database": db, "table_name": table_name, **options})

    class SchemaVersion(_Base):
        version = pw.IntegerField(primary_key=True)

        Meta = meta("schema_version")

    class Experiment(_Base):
        experiment_id = pw.AutoField()
        project = pw.IntegerField(column_name="project_id", default=0)
        # The experiment's number within its namespace (1, 2, ...): a dialect may show it as
        # the experiment's id, as GitLab numbers experiments per project.
        number = pw.IntegerField(column_name="project_number", null=True)
        name = pw.TextField()
        artifact_location = pw.TextField(null=True)
        lifecycle_stage = pw.CharField(max_length=32, default="active")
        creation_time = pw.BigIntegerField(null=True)
        last_update_time = pw.BigIntegerField(null=True)

        Meta = meta(
            "experiments", indexes=((("project", "name"), True), (("project", "number"), True))
        )

    class ExperimentTag(_Base):
        experiment = pw.ForeignKeyField(
            Experiment, column_name="experiment_id", on_delete="CASCADE", index=False
        )
        key = pw.CharField(max_length=250)
        value = pw.TextField(null=True)

        Meta = meta("experiment_tags", primary_key=pw.CompositeKey("experiment", "key"))

    class Run(_Base):
        run_uuid = pw.CharField(max_length=32, primary_key=True)
        name = pw.TextField(null=True)
        user_id = pw.CharField(max_length=256, null=True)
        status = pw.CharField(max_length=20, default="RUNNING")
        start_time = pw.BigIntegerField(null=True)
        end_time = pw.BigIntegerField(null=True)
        deleted_time = pw.BigIntegerField(null=True)
        lifecycle_stage = pw.CharField(max_length=20, default="active")
        artifact_uri = pw.TextField(null=True)
        experiment = pw.ForeignKeyField(
            Experiment, column_name="experiment_id", on_delete="CASCADE", index=False
        )

        Meta = meta("runs", indexes=((("experiment", "lifecycle_stage", "start_time"), False),))

    def _run_fk():
        return pw.ForeignKeyField(Run, column_name="run_uuid", on_delete="CASCADE", index=False)

    class Param(_Base):
        run = _run_fk()
        key = pw.CharField(max_length=250)
        value = pw.TextField()

        Meta = meta("params", primary_key=pw.CompositeKey("run", "key"))

    class Tag(_Base):
        run = _run_fk()
        key = pw.CharField(max_length=250)
        value = pw.TextField(null=True)

        Meta = meta("tags", primary_key=pw.CompositeKey("run", "key"))

    class _MetricPoint(_Base):
        # NaN is stored as value 0 with is_nan, +/-inf as +/-max double, as MLflow does.
        run = _run_fk()
        key = pw.CharField(max_length=250)
        step = pw.BigIntegerField(default=0)
        timestamp = pw.BigIntegerField()
        value = pw.DoubleField()
        is_nan = pw.BooleanField(default=False)

    class Metric(_MetricPoint):
        # The primary key doubles as the (run, key, step, timestamp) history index and
        # de-duplicates identical points like MLflow's metric_pk.
        Meta = meta(
            "metrics",
            primary_key=pw.CompositeKey("run", "key", "step", "timestamp", "value", "is_nan"),
        )

    class LatestMetric(_MetricPoint):
        # The run's experiment, copied here so that a search ordered by a metric reads this
        # index in order (see search.run_query) instead of sorting every run it selects.
        experiment = pw.IntegerField(column_name="experiment_id", null=True)

        Meta = meta(
            "latest_metrics",
            primary_key=pw.CompositeKey("run", "key"),
            indexes=((("experiment", "key", "is_nan", "value"), False),),
        )

    class Dataset(_Base):
        dataset_uuid = pw.CharField(max_length=36, primary_key=True)
        experiment = pw.ForeignKeyField(
            Experiment, column_name="experiment_id", on_delete="CASCADE", index=False
        )
        name = pw.CharField(max_length=500)
        digest = pw.CharField(max_length=36)
        source_type = pw.CharField(max_length=36, column_name="dataset_source_type")
        source = pw.TextField(column_name="dataset_source")
        schema = pw.TextField(null=True, column_name="dataset_schema")
        profile = pw.TextField(null=True, column_name="dataset_profile")

        Meta = meta("datasets", indexes=((("experiment", "name", "digest"), True),))

    class Input(_Base):
        input_uuid = pw.CharField(max_length=36, primary_key=True)
        source_type = pw.CharField(max_length=36)
        source_id = pw.CharField(max_length=36)
        destination_type = pw.CharField(max_length=36)
        destination_id = pw.CharField(max_length=36)

        Meta = meta(
            "inputs",
            indexes=(
                (("source_type", "source_id", "destination_type", "destination_id"), True),
                (("destination_id", "destination_type"), False),
            ),
        )

    class InputTag(_Base):
        input = pw.ForeignKeyField(
            Input, column_name="input_uuid", on_delete="CASCADE", index=False
        )
        name = pw.CharField(max_length=255)
        value = pw.CharField(max_length=500)

        Meta = meta("input_tags", primary_key=pw.CompositeKey("input", "name"))

    # ---- model registry (schema version 2; namespaced in version 3) ---------------------------
    # Keyed by (namespace, name), as MLflow's by name: a rename cascades through versions, tags
    # and aliases.
    def _references(columns: str, table: str, target: str):
        return pw.SQL(
            f'FOREIGN KEY ({columns}) REFERENCES "{table}" ({target})'
            " ON UPDATE CASCADE ON DELETE CASCADE"
        )

    by_name = _references('"project_id", "name"', "registered_models", '"project_id", "name"')

    def _project():
        return pw.IntegerField(column_name="project_id", default=0)

    class RegisteredModel(_Base):
        project = _project()
        name = pw.TextField()
        creation_time = pw.BigIntegerField(null=True)
        last_updated_time = pw.BigIntegerField(null=True)
        description = pw.TextField(null=True)

        Meta = meta("registered_models", primary_key=pw.CompositeKey("project", "name"))

    class ModelVersion(_Base):
        # Deleted versions stay as current_stage "Deleted_Internal" (redacted), as in MLflow:
        # their numbers are never reused.
        project = _project()
        name = pw.TextField()
        version = pw.IntegerField()
        creation_time = pw.BigIntegerField(null=True)
        last_updated_time = pw.BigIntegerField(null=True)
        description = pw.TextField(null=True)
        user_id = pw.TextField(null=True)
        current_stage = pw.CharField(max_length=20, default="None")
        source = pw.TextField(null=True)
        run_id = pw.TextField(null=True)
        run_link = pw.TextField(null=True)
        status = pw.CharField(max_length=20, default="READY")
        status_message = pw.TextField(null=True)
        version_label = pw.TextField(null=True)

        Meta = meta(
            "model_versions",
            primary_key=pw.CompositeKey("project", "name", "version"),
            constraints=[by_name],
            indexes=((("run_id",), False),),
        )

    class RegisteredModelTag(_Base):
        project = _project()
        name = pw.TextField()
        key = pw.CharField(max_length=250)
        value = pw.TextField(null=True)

        Meta = meta(
            "registered_model_tags",
            primary_key=pw.CompositeKey("project", "name", "key"),
            constraints=[by_name],
        )

    class ModelVersionTag(_Base):
        project = _project()
        name = pw.TextField()
        version = pw.IntegerField()
        key = pw.CharField(max_length=250)
        value = pw.TextField(null=True)

        Meta = meta(
            "model_version_tags",
            primary_key=pw.CompositeKey("project", "name", "version", "key"),
            constraints=[
                _references(
                    '"project_id", "name", "version"',
                    "model_versions",
                    '"project_id", "name", "version"',
                )
            ],
        )

    class RegisteredModelAlias(_Base):
        project = _project()
        name = pw.TextField()
        alias = pw.TextField()
        version = pw.IntegerField()

        Meta = meta(
            "registered_model_aliases",
            primary_key=pw.CompositeKey("project", "name", "alias"),
            constraints=[by_name],
        )

    return Models(
        SchemaVersion=SchemaVersion,
        Experiment=Experiment,
        ExperimentTag=ExperimentTag,
        Run=Run,
        Param=Param,
        Tag=Tag,
        Metric=Metric,
        LatestMetric=LatestMetric,
        Dataset=Dataset,
        Input=Input,
        InputTag=InputTag,
        RegisteredModel=RegisteredModel,
        ModelVersion=ModelVersion,
        RegisteredModelTag=RegisteredModelTag,
        ModelVersionTag=ModelVersionTag,
        RegisteredModelAlias=RegisteredModelAlias,
    )


def _migrate_to_v1(db: pw.Database, m: Models) -> None:
    db.create_tables(
        [
            m.Experiment,
            m.ExperimentTag,
            m.Run,
            m.Param,
            m.Tag,
            m.Metric,
            m.LatestMetric,
            m.Dataset,
            m.Input,
            m.InputTag,
        ],
        safe=True,
    )


def _migrate_to_v2(db: pw.Database, m: Models) -> None:
    """The model registry. One table at a time, referenced before referencing: the foreign keys
    are table constraints, which peewee does not order by."""
    for model in (
        m.RegisteredModel,
        m.ModelVersion,
        m.RegisteredModelTag,
        m.ModelVersionTag,
        m.RegisteredModelAlias,
    ):
        db.create_tables([model], safe=True)


def _migrate_to_v3(db: pw.Database, m: Models) -> None:
    """Namespaces. A database created at this version already has them (the earlier steps
    create the current tables). In an older one every existing row lands in namespace 0:
    experiments gain the column in place, and their global unique index on names becomes one
    per namespace; the registry's tables, keyed by name, are rebuilt keyed by (namespace, name)
    (a primary key cannot be altered in place on SQLite)."""
    columns = {c.name for c in db.get_columns("experiments")}
    if "project_id" not in columns:
        db.execute_sql(
            'ALTER TABLE "experiments" ADD COLUMN "project_id" INTEGER NOT NULL DEFAULT 0'
        )
    if "project_number" not in columns:
        db.execute_sql('ALTER TABLE "experiments" ADD COLUMN "project_number" INTEGER')
    db.execute_sql(
        'CREATE UNIQUE INDEX IF NOT EXISTS "experiment_project_id_project_number"'
        ' ON "experiments" ("project_id", "project_number")'
    )
    # Index names as peewee gives them, so that a migrated database matches a new one.
    db.execute_sql('DROP INDEX IF EXISTS "experiment_name"')
    db.execute_sql(
        'CREATE UNIQUE INDEX IF NOT EXISTS "experiment_project_id_name"'
        ' ON "experiments" ("project_id", "name")'
    )
    if "project_id" in {c.name for c in db.get_columns("registered_models")}:
        return
    registry = [
        m.RegisteredModel,
        m.ModelVersion,
        m.RegisteredModelTag,
        m.ModelVersionTag,
        m.RegisteredModelAlias,
    ]
    saved = []
    for model in registry:  # referenced before referencing
        cursor = db.execute_sql(f'SELECT * FROM "{model._meta.table_name}"')
        saved.append((model, [d[0] for d in cursor.description], cursor.fetchall()))
    for model in reversed(registry):
        db.execute_sql(f'DROP TABLE "{model._meta.table_name}"')
    for model, columns, rows in saved:
        db.create_tables([model])
        rows = [(0, *row) for row in rows]
        bulk_insert(db, model._meta.table_name, ["project_id", *columns], rows)


def _migrate_to_v4(db: pw.Database, m: Models) -> None:
    """latest_metrics carries its run's experiment, indexed with (key, is_nan, value) in place
    of the (key, value) index. A database created at this version already has both."""
    if "experiment_id" not in {c.name for c in db.get_columns("latest_metrics")}:
        db.execute_sql('ALTER TABLE "latest_metrics" ADD COLUMN "experiment_id" INTEGER')
    db.execute_sql(
        'UPDATE "latest_metrics" SET "experiment_id" = (SELECT "runs"."experiment_id" FROM "runs"'
        ' WHERE "runs"."run_uuid" = "latest_metrics"."run_uuid") WHERE "experiment_id" IS NULL'
    )
    db.execute_sql('DROP INDEX IF EXISTS "latestmetric_key_value"')
    db.execute_sql(
        'CREATE INDEX IF NOT EXISTS "latestmetric_experiment_id_key_is_nan_value"'
        ' ON "latest_metrics" ("experiment_id", "key", "is_nan", "value")'
    )


# Step n brings a database from version n-1 to version n. Append new steps; never edit old ones.
MIGRATIONS = {1: _migrate_to_v1, 2: _migrate_to_v2, 3: _migrate_to_v3, 4: _migrate_to_v4}


def migrate(db: pw.Database, m: Models) -> int:
    """Bring the schema to SCHEMA_VERSION; returns the version found before. Caller holds a
    connection; this runs in its own transaction, serialised across processes."""
    is_pg = isinstance(db, pw.PostgresqlDatabase)
    with db.atomic() if is_pg else db.atomic("IMMEDIATE"):
        if is_pg:
            db.execute_sql("SELECT pg_advisory_xact_lock(%s)", (_PG_MIGRATION_LOCK_ID,))
        db.create_tables([m.SchemaVersion], safe=True)
        found = m.SchemaVersion.select(pw.fn.MAX(m.SchemaVersion.version)).scalar() or 0
        if found > SCHEMA_VERSION:
            raise RuntimeError(
                f"database schema version {found} is newer than this server's {SCHEMA_VERSION}"
            )
        for version in range(found + 1, SCHEMA_VERSION + 1):
            MIGRATIONS[version](db, m)
            m.SchemaVersion.insert(version=version).execute()
    return found
