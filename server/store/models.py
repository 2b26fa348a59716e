"""The tracking schema (peewee models) and its versioned migrations.

Models are built per database by ``bind_models`` so that several stores (a SQLite file and a
PostgreSQL database, say) can live in one process without sharing a global binding.
Version 2 adds the model registry's tables; a version-1 database gains them in place.
"""

from __future__ import annotations

from types import SimpleNamespace

import peewee as pw

SCHEMA_VERSION = 2
# Any constant works; it only has to be the same for every process sharing a database.
_PG_MIGRATION_LOCK_ID = 0x6D6C666C6F77  # "mlflow"


class _Base(pw.Model):
    pass


def bind_models(db: pw.Database) -> SimpleNamespace:
    """Return the model classes of the current schema, bound to ``db``."""

    def meta(table_name: str, **options):
        return type("Meta", (), {"database": db, "table_name": table_name, **options})

    class SchemaVersion(_Base):
        version = pw.IntegerField(primary_key=True)

        Meta = meta("schema_version")

    class Experiment(_Base):
        experiment_id = pw.AutoField()
        name = pw.TextField(unique=True)
        artifact_location = pw.TextField(null=True)
        lifecycle_stage = pw.CharField(max_length=32, default="active")
        creation_time = pw.BigIntegerField(null=True)
        last_update_time = pw.BigIntegerField(null=True)

        Meta = meta("experiments")

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

    class Metric(_Base):
        # NaN is stored as value 0 with is_nan, +/-inf as +/-max double, as MLflow does; the
        # primary key doubles as the (run, key, step, timestamp) history index and
        # de-duplicates identical points like MLflow's metric_pk.
        run = _run_fk()
        key = pw.CharField(max_length=250)
        step = pw.BigIntegerField(default=0)
        timestamp = pw.BigIntegerField()
        value = pw.DoubleField()
        is_nan = pw.BooleanField(default=False)

        Meta = meta(
            "metrics",
            primary_key=pw.CompositeKey("run", "key", "step", "timestamp", "value", "is_nan"),
        )

    class LatestMetric(_Base):
        run = _run_fk()
        key = pw.CharField(max_length=250)
        step = pw.BigIntegerField(default=0)
        timestamp = pw.BigIntegerField()
        value = pw.DoubleField()
        is_nan = pw.BooleanField(default=False)

        Meta = meta(
            "latest_metrics",
            primary_key=pw.CompositeKey("run", "key"),
            indexes=((("key", "value"), False),),
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

    # ---- model registry (schema version 2) ----------------------------------------------------
    # Keyed by name, as MLflow's: a rename cascades through versions, tags and aliases.
    def _references(columns: str, table: str, target: str):
        return pw.SQL(
            f'FOREIGN KEY ({columns}) REFERENCES "{table}" ({target})'
            " ON UPDATE CASCADE ON DELETE CASCADE"
        )

    by_name = _references('"name"', "registered_models", '"name"')

    class RegisteredModel(_Base):
        name = pw.TextField(primary_key=True)
        creation_time = pw.BigIntegerField(null=True)
        last_updated_time = pw.BigIntegerField(null=True)
        description = pw.TextField(null=True)

        Meta = meta("registered_models")

    class ModelVersion(_Base):
        # Deleted versions stay as current_stage "Deleted_Internal" (redacted), as in MLflow:
        # their numbers are never reused.
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

        Meta = meta(
            "model_versions",
            primary_key=pw.CompositeKey("name", "version"),
            constraints=[by_name],
            indexes=((("run_id",), False),),
        )

    class RegisteredModelTag(_Base):
        name = pw.TextField()
        key = pw.CharField(max_length=250)
        value = pw.TextField(null=True)

        Meta = meta(
            "registered_model_tags",
            primary_key=pw.CompositeKey("name", "key"),
            constraints=[by_name],
        )

    class ModelVersionTag(_Base):
        name = pw.TextField()
        version = pw.IntegerField()
        key = pw.CharField(max_length=250)
        value = pw.TextField(null=True)

        Meta = meta(
            "model_version_tags",
            primary_key=pw.CompositeKey("name", "version", "key"),
            constraints=[_references('"name", "version"', "model_versions", '"name", "version"')],
        )

    class RegisteredModelAlias(_Base):
        name = pw.TextField()
        alias = pw.TextField()
        version = pw.IntegerField()

        Meta = meta(
            "registered_model_aliases",
            primary_key=pw.CompositeKey("name", "alias"),
            constraints=[by_name],
        )

    return SimpleNamespace(
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


def _migrate_to_v1(db: pw.Database, m: SimpleNamespace) -> None:
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


def _migrate_to_v2(db: pw.Database, m: SimpleNamespace) -> None:
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


# Step n brings a database from version n-1 to version n. Append new steps; never edit old ones.
MIGRATIONS = {1: _migrate_to_v1, 2: _migrate_to_v2}


def migrate(db: pw.Database, m: SimpleNamespace) -> int:
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
