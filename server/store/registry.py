"""The model registry: registered models, their versions, tags and aliases, named after MLflow's
ModelRegistryService RPCs. A mixin of the store object `open_store` returns.

Semantics and messages follow mlflow 2.7.1's SqlAlchemyStore for the registry. Every public
method runs in one transaction and returns wire-shaped dicts (see `registered_model` and
`model_version` in shapes.py). A registered model's latest versions, tags and aliases are read
in a few bulk queries, for one model or for a page of search results alike.
"""

from __future__ import annotations

import peewee as pw

from server.errors import MlflowError, already_exists, invalid, not_found

from . import registry_rules as r
from . import search, shapes
from .base import StoreBase
from .db import chunks, transactional
from .experiments import now_ms

_CHUNK = 900  # ids per IN (...) list, well under SQLite's bound-parameter limit


class RegistryStore(StoreBase):
    # ---- reading -------------------------------------------------------------------------

    def _model_row(self, name):
        r.validate_model_name(name)
        RM = self.models.RegisteredModel
        row = (
            RM.select(RM.name, RM.creation_time, RM.last_updated_time, RM.description)
            .where(RM.name == name, RM.project == self.project)
            .tuples()
            .first()
        )
        if row is None:
            raise not_found(f"Registered Model with name={name} not found")
        return row

    def _version_row(self, name, version):
        """The columns of a live model version; raises as 2.7.1 does when there is none."""
        r.validate_model_name(name)
        MV = self.models.ModelVersion
        if self.version_labels and not str(version).isdigit():
            which = MV.version_label == str(version)
        else:
            number = r.model_version_number(version)
            which = None if number is None else MV.version == number
        row = None
        if which is not None:
            row = (
                MV.select(*shapes.model_version_columns(MV))
                .where(
                    MV.project == self.project,
                    MV.name == name,
                    which,
                    MV.current_stage != r.STAGE_DELETED,
                )
                .tuples()
                .first()
            )
        if row is None:
            raise not_found(f"Model Version (name={name}, version={version}) not found")
        return row

    def _version_tags(self, keys) -> dict[tuple, list]:
        """(name, version) -> [(key, value)] for the given (name, version) pairs."""
        T = self.models.ModelVersionTag
        out: dict[tuple, list] = {}
        for part in chunks(sorted(set(keys)), _CHUNK):
            q = T.select(T.name, T.version, T.key, T.value).where(
                T.project == self.project, pw.Tuple(T.name, T.version).in_(part)
            )
            for name, version, key, value in q.order_by(T.name, T.version, T.key).tuples():
                out.setdefault((name, version), []).append((key, value))
        return out

    def _model_versions(self, rows, with_aliases: bool = False) -> list[dict]:
        tags = self._version_tags([(row[0], row[1]) for row in rows])
        aliases: dict[tuple, list] = {}
        if with_aliases and rows:
            A = self.models.RegisteredModelAlias
            names = sorted({row[0] for row in rows})
            for part in chunks(names, _CHUNK):
                q = A.select(A.name, A.version, A.alias).where(
                    A.project == self.project, A.name.in_(part)
                )
                for name, version, alias in q.order_by(A.name, self.text_order(A.alias)).tuples():
                    aliases.setdefault((name, version), []).append(alias)
        return [
            shapes.model_version(row, tags.get((row[0], row[1])), aliases.get((row[0], row[1])))
            for row in rows
        ]

    def _latest_versions(self, names) -> dict[str, list]:
        """name -> its latest live version per stage, in 2.7.1's order: stages by the lowest
        version that holds them."""
        MV = self.models.ModelVersion
        ns = self.project
        out: dict[str, list] = {}
        for part in chunks(sorted(set(names)), _CHUNK):
            G = MV.alias("g")
            latest = (
                G.select(
                    G.name,
                    pw.fn.MIN(G.version).alias("first"),
                    pw.fn.MAX(G.version).alias("last"),
                )
                .where(G.project == ns, G.name.in_(part), G.current_stage != r.STAGE_DELETED)
                .group_by(G.name, G.current_stage)
                .alias("latest")
            )
            q = (
                MV.select(*shapes.model_version_columns(MV))
                .join(latest, on=((MV.name == latest.c.name) & (MV.version == latest.c.last)))
                .where(MV.project == ns)
                .order_by(MV.name, latest.c.first)
            )
            rows = list(q.tuples())
            for version in self._model_versions(rows):
                out.setdefault(version["name"], []).append(version)
        return out

    def _registered_models(self, rows) -> list[dict]:
        names = [row[0] for row in rows]
        latest = self._latest_versions(names)
        T, A = self.models.RegisteredModelTag, self.models.RegisteredModelAlias
        ns = self.project
        tags: dict[str, list] = {}
        aliases: dict[str, list] = {}
        for part in chunks(sorted(set(names)), _CHUNK):
            q = T.select(T.name, T.key, T.value).where(T.project == ns, T.name.in_(part))
            for name, key, value in q.order_by(T.name, T.key).tuples():
                tags.setdefault(name, []).append((key, value))
            q = A.select(A.name, A.alias, A.version).where(A.project == ns, A.name.in_(part))
            for name, alias, version in q.order_by(A.name, self.text_order(A.alias)).tuples():
                aliases.setdefault(name, []).append((alias, version))
        return [
            shapes.registered_model(row, latest.get(row[0]), tags.get(row[0]), aliases.get(row[0]))
            for row in rows
        ]

    # ---- registered models ---------------------------------------------------------------

    @transactional()
    def create_registered_model(self, name, tags=(), description=None) -> dict:
        r.validate_model_name(name)
        pairs = {}
        for tag in tags or ():
            r.validate_registered_model_tag(tag["key"], tag.get("value"))
            pairs[tag["key"]] = tag.get("value")  # the last value of a key wins, as 2.7.1
        RM, T = self.models.RegisteredModel, self.models.RegisteredModelTag
        ns = self.project
        exists = already_exists(f"Registered Model (name={name}) already exists.")
        if RM.select().where(RM.project == ns, RM.name == name).exists():
            raise exists
        t = now_ms()
        try:
            with self.db.atomic():
                RM.insert(
                    name=name,
                    project=ns,
                    creation_time=t,
                    last_updated_time=t,
                    description=description,
                ).execute()
        except pw.IntegrityError:  # a concurrent create of the same name won the race
            raise exists from None
        if pairs:
            T.insert_many(
                [(ns, name, k, v) for k, v in pairs.items()],
                fields=[T.project, T.name, T.key, T.value],
            ).execute()
        return shapes.registered_model((name, t, t, description), tags=list(pairs.items()))

    @transactional(write=False)
    def get_registered_model(self, name) -> dict:
        return self._registered_models([self._model_row(name)])[0]

    @transactional()
    def update_registered_model(self, name, description=None) -> dict:
        row = self._model_row(name)
        RM = self.models.RegisteredModel
        t = now_ms()
        RM.update(description=description, last_updated_time=t).where(
            RM.project == self.project, RM.name == name
        ).execute()
        return self._registered_models([(row[0], row[1], t, description)])[0]

    @transactional()
    def rename_registered_model(self, name, new_name) -> dict:
        r.validate_model_name(new_name)
        row = self._model_row(name)
        RM, MV = self.models.RegisteredModel, self.models.ModelVersion
        ns = self.project
        if new_name != name and RM.select().where(RM.project == ns, RM.name == new_name).exists():
            raise already_exists(f"Registered Model (name={new_name}) already exists.")
        t = now_ms()
        # The new name cascades to versions, tags and aliases (ON UPDATE CASCADE).
        RM.update(name=new_name, last_updated_time=t).where(
            RM.project == ns, RM.name == name
        ).execute()
        MV.update(last_updated_time=t).where(MV.project == ns, MV.name == new_name).execute()
        return self._registered_models([(new_name, row[1], t, row[3])])[0]

    @transactional()
    def delete_registered_model(self, name) -> None:
        self._model_row(name)
        RM = self.models.RegisteredModel
        # Versions, their tags, the model's tags and aliases go with it (ON DELETE CASCADE).
        RM.delete().where(RM.project == self.project, RM.name == name).execute()

    @transactional(write=False)
    def search_registered_models(
        self,
        filter_string=None,
        max_results=r.SEARCH_REGISTERED_MODELS_DEFAULT,
        order_by=(),
        page_token=None,
        name_contains=None,
    ):
        """-> (registered models, next_page_token or None). `name_contains`: only the models
        whose name contains this string (case-sensitive, no wildcards)."""
        r.validate_registered_models_max_results(max_results)
        query = search.registered_model_query(self, filter_string, order_by, name_contains)
        rows, token = search.page(query, max_results, page_token)
        return self._registered_models(rows), token

    @transactional(write=False)
    def get_latest_versions(self, name, stages=()) -> list[dict]:
        self._model_row(name)
        wanted = {r.canonical_stage(s) for s in stages or ()} or set(r.ALL_STAGES)
        latest = self._latest_versions([name]).get(name, [])
        return [v for v in latest if v["current_stage"] in wanted]

    @transactional()
    def set_registered_model_tag(self, name, key, value) -> None:
        r.validate_model_name(name)
        r.validate_registered_model_tag(key, value)
        self._model_row(name)
        T = self.models.RegisteredModelTag
        T.insert(project=self.project, name=name, key=key, value=value).on_conflict(
            conflict_target=[T.project, T.name, T.key], update={T.value: value}
        ).execute()

    @transactional()
    def delete_registered_model_tag(self, name, key) -> None:
        r.validate_model_name(name)
        r.validate_tag_key(key)
        self._model_row(name)
        T = self.models.RegisteredModelTag
        T.delete().where(T.project == self.project, T.name == name, T.key == key).execute()

    # ---- model versions --------------------------------------------------------------------

    @transactional()
    def create_model_version(
        self, name, source, run_id=None, tags=(), run_link=None, description=None, label=None
    ) -> dict:
        """`label`: the version's label (see StoreBase.version_labels), unique within the model."""
        r.validate_source(source, (lambda: self._run_artifact_uri(run_id)) if run_id else None)
        r.validate_model_name(name)
        pairs = {}
        for tag in tags or ():
            r.validate_model_version_tag(tag["key"], tag.get("value"))
            pairs[tag["key"]] = tag.get("value")
        self._model_row(name)
        RM, MV, T = (
            self.models.RegisteredModel,
            self.models.ModelVersion,
            self.models.ModelVersionTag,
        )
        ns = self.project
        t = now_ms()
        # Updating the model first locks its row: concurrent creates take numbers in turn.
        RM.update(last_updated_time=t).where(RM.project == ns, RM.name == name).execute()
        of_model = (MV.project == ns) & (MV.name == name)
        version = (MV.select(pw.fn.MAX(MV.version)).where(of_model).scalar() or 0) + 1
        if label is not None:
            taken = MV.select().where(
                of_model, MV.version_label == label, MV.current_stage != r.STAGE_DELETED
            )
            if taken.exists():
                raise already_exists(f"Model Version (name={name}, version={label}) exists.")
        row = (name, version, t, t, description, None, r.STAGE_NONE, source, run_id, run_link)
        row += ("READY", None, label)
        MV.insert({"project": ns, **dict(zip(_MODEL_VERSION_FIELDS, row, strict=True))}).execute()
        if pairs:
            T.insert_many(
                [(ns, name, version, k, v) for k, v in pairs.items()],
                fields=[T.project, T.name, T.version, T.key, T.value],
            ).execute()
        return shapes.model_version(row, list(pairs.items()))

    def _run_artifact_uri(self, run_id) -> str:
        return self.get_run(run_id)["info"]["artifact_uri"]

    def _one_version(self, name, version) -> dict:
        """A live model version with its tags and aliases."""
        return self._model_versions([self._version_row(name, version)], with_aliases=True)[0]

    @transactional(write=False)
    def get_model_version(self, name, version) -> dict:
        return self._one_version(name, version)

    @transactional(write=False)
    def model_versions_of(self, name) -> list[dict]:
        """Every live version of a model, oldest first."""
        self._model_row(name)
        MV = self.models.ModelVersion
        q = (
            MV.select(*shapes.model_version_columns(MV))
            .where(MV.project == self.project, MV.name == name, MV.current_stage != r.STAGE_DELETED)
            .order_by(MV.version)
        )
        return self._model_versions(list(q.tuples()))

    @transactional()
    def update_model_version(self, name, version, description=None) -> dict:
        row = self._version_row(name, version)
        MV = self.models.ModelVersion
        MV.update(description=description, last_updated_time=now_ms()).where(
            MV.project == self.project, MV.name == row[0], MV.version == row[1]
        ).execute()
        return self._one_version(name, version)

    @transactional()
    def transition_model_version_stage(
        self, name, version, stage, archive_existing_versions=False
    ) -> dict:
        stage = r.canonical_stage(stage)
        if archive_existing_versions and stage not in r.ACTIVE_STAGES:
            # 2.7.1 raises this with no error code: a 500 INTERNAL_ERROR, which the client
            # retries for a minute. It is the caller's mistake: 400 here.
            raise invalid(
                "Model version transition cannot archive existing model versions because "
                f"'{stage}' is not an Active stage. Valid stages are {r.ACTIVE_STAGES}"
            )
        row = self._version_row(name, version)
        RM, MV = self.models.RegisteredModel, self.models.ModelVersion
        ns = self.project
        t = now_ms()
        if archive_existing_versions:
            MV.update(current_stage=r.STAGE_ARCHIVED, last_updated_time=t).where(
                MV.project == ns, MV.name == row[0], MV.version != row[1], MV.current_stage == stage
            ).execute()
        MV.update(current_stage=stage, last_updated_time=t).where(
            MV.project == ns, MV.name == row[0], MV.version == row[1]
        ).execute()
        RM.update(last_updated_time=t).where(RM.project == ns, RM.name == row[0]).execute()
        return self._one_version(name, version)

    @transactional()
    def delete_model_version(self, name, version) -> None:
        row = self._version_row(name, version)
        RM, MV = self.models.RegisteredModel, self.models.ModelVersion
        ns = self.project
        t = now_ms()
        RM.update(last_updated_time=t).where(RM.project == ns, RM.name == row[0]).execute()
        # 2.7.1 means to drop the aliases of the version here but compares the version as sent
        # ("2") with the stored one (2), so they stay: the model still lists them, and reading
        # one answers that the version does not exist. Kept so, as the client sees it.
        # Kept, redacted, as 2.7.1 does (its tags too): the number is never handed out again.
        MV.update(
            current_stage=r.STAGE_DELETED,
            last_updated_time=t,
            description=None,
            user_id=None,
            source="REDACTED-SOURCE-PATH",
            run_id="REDACTED-RUN-ID",
            run_link="REDACTED-RUN-LINK",
            status_message=None,
        ).where(MV.project == ns, MV.name == row[0], MV.version == row[1]).execute()

    @transactional(write=False)
    def get_model_version_download_uri(self, name, version) -> str:
        return self._version_row(name, version)[7]

    @transactional(write=False)
    def search_model_versions(
        self,
        filter_string=None,
        max_results=r.SEARCH_MODEL_VERSIONS_DEFAULT,
        order_by=(),
        page_token=None,
    ):
        """-> (model versions, next_page_token or None). Like 2.7.1, without their aliases."""
        r.validate_model_versions_max_results(max_results)
        query = search.model_version_query(self, filter_string, order_by)
        rows, token = search.page(query, max_results, page_token)
        return self._model_versions(rows), token

    @transactional()
    def set_model_version_tag(self, name, version, key, value) -> None:
        r.validate_model_name(name)
        r.model_version_number(version)
        r.validate_model_version_tag(key, value)
        row = self._version_row(name, version)
        T = self.models.ModelVersionTag
        T.insert(
            project=self.project, name=row[0], version=row[1], key=key, value=value
        ).on_conflict(
            conflict_target=[T.project, T.name, T.version, T.key], update={T.value: value}
        ).execute()

    @transactional()
    def delete_model_version_tag(self, name, version, key) -> None:
        r.validate_model_name(name)
        r.model_version_number(version)
        r.validate_tag_key(key)
        row = self._version_row(name, version)
        T = self.models.ModelVersionTag
        T.delete().where(
            T.project == self.project, T.name == row[0], T.version == row[1], T.key == key
        ).execute()

    # ---- aliases ---------------------------------------------------------------------------

    @transactional()
    def set_registered_model_alias(self, name, alias, version) -> None:
        r.validate_model_name(name)
        r.validate_alias(alias)
        r.model_version_number(version)
        row = self._version_row(name, version)
        A = self.models.RegisteredModelAlias
        A.insert(project=self.project, name=row[0], alias=alias, version=row[1]).on_conflict(
            conflict_target=[A.project, A.name, A.alias], update={A.version: row[1]}
        ).execute()

    @transactional()
    def delete_registered_model_alias(self, name, alias) -> None:
        r.validate_model_name(name)
        r.validate_alias(alias)
        self._model_row(name)
        A = self.models.RegisteredModelAlias
        A.delete().where(A.project == self.project, A.name == name, A.alias == alias).execute()

    @transactional(write=False)
    def get_model_version_by_alias(self, name, alias) -> dict:
        r.validate_model_name(name)
        r.validate_alias(alias)
        A = self.models.RegisteredModelAlias
        version = (
            A.select(A.version)
            .where(A.project == self.project, A.name == name, A.alias == alias)
            .scalar()
        )
        if version is None:
            raise MlflowError(f"Registered model alias {alias} not found.")
        return self._one_version(name, version)


_MODEL_VERSION_FIELDS = (
    "name",
    "version",
    "creation_time",
    "last_updated_time",
    "description",
    "user_id",
    "current_stage",
    "source",
    "run_id",
    "run_link",
    "status",
    "status_message",
    "version_label",
)
