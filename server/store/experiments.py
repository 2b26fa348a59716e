"""Experiment methods of the tracking store (create/get/delete/restore/rename/tags/search)."""

from __future__ import annotations

import time

import peewee as pw

from server.errors import MlflowError, already_exists, invalid, not_found

from . import search, shapes
from . import validation as v
from .base import StoreBase
from .db import chunks, transactional

VIEW_STAGES = {
    "ACTIVE_ONLY": ("active",),
    "DELETED_ONLY": ("deleted",),
    "ALL": ("active", "deleted"),
}


def now_ms() -> int:
    return int(time.time() * 1000)


_VIEW_TYPE_NUMBERS = {1: "ACTIVE_ONLY", 2: "DELETED_ONLY", 3: "ALL"}  # proto enum values


def view_stages(view_type) -> tuple[str, ...]:
    view_type = _VIEW_TYPE_NUMBERS.get(view_type, view_type)
    try:
        return VIEW_STAGES[view_type or "ACTIVE_ONLY"]
    except KeyError:
        raise invalid(f"Invalid view type {view_type!r}") from None


def experiment_pk(experiment_id) -> int | None:
    """The integer key of an experiment id, or None when no experiment can have this id."""
    s = str(experiment_id)
    if not s.isascii() or not s.isdigit() or len(s) > 18:
        return None
    return int(s)


_TAG_CHUNK = 5000
_NUMBER_LOCK = 0x6D6C66  # advisory lock class of experiment numbering (any constant works)


class Experiments(StoreBase):
    def _experiment_row(self, experiment_id, stages=("active", "deleted")):
        E = self.models.Experiment
        pk = experiment_pk(experiment_id)
        row = None
        if pk is not None:
            stages = list(stages)
            ns = self.project
            row = self.sql.execute(
                ("experiment_row", len(stages)),
                lambda: E.select(*shapes.experiment_columns(E)).where(
                    E.experiment_id == pk, E.lifecycle_stage.in_(stages), E.project == ns
                ),
                [pk, *stages, ns],
            ).fetchone()
        if row is None:
            raise not_found(f"No Experiment with id={experiment_id} exists")
        return row

    def _experiment_tags(self, experiment_ids) -> dict[int, list]:
        T = self.models.ExperimentTag
        out: dict[int, list] = {}
        ids = list(experiment_ids)
        for part in chunks(ids, _TAG_CHUNK):
            q = T.select(T.experiment, T.key, T.value).where(T.experiment.in_(part))
            for exp_id, key, value in q.order_by(T.experiment, T.key).tuples():
                out.setdefault(exp_id, []).append((key, value))
        return out

    @transactional()
    def create_experiment(self, name, artifact_location=None, tags=()) -> str:
        v.validate_experiment_name(name)
        v.validate_artifact_location(artifact_location)
        # 2.7.1 checks an experiment's tag names on set-experiment-tag only: at creation a tag is
        # stored as sent (a missing key as ""), within the widths of its columns.
        tags = [{**tag, "key": tag.get("key", "")} for tag in tags or ()]
        for tag in tags:
            v.validate_experiment_tag_widths(tag["key"], tag.get("value"))
        E = self.models.Experiment
        exists = already_exists(f"Experiment(name={name}) already exists.")
        ns = self.project
        if E.select().where(E.name == name, E.project == ns).exists():
            raise exists
        t = now_ms()
        if self.pg:
            # Concurrent creates in one namespace take numbers in turn (SQLite has one writer).
            self.db.execute_sql("SELECT pg_advisory_xact_lock(%s, %s)", (_NUMBER_LOCK, ns))
        number = (E.select(pw.fn.MAX(E.number)).where(E.project == ns).scalar() or 0) + 1
        try:
            exp_id = E.insert(
                project=ns,
                number=number,
                name=name,
                artifact_location=artifact_location or None,
                lifecycle_stage="active",
                creation_time=t,
                last_update_time=t,
            ).execute()
        except pw.IntegrityError:  # a concurrent create of the same name won the race
            raise exists from None
        if not artifact_location:
            E.update(artifact_location=self._location(exp_id)).where(
                E.experiment_id == exp_id
            ).execute()
        if tags:
            T = self.models.ExperimentTag
            rows = {tag["key"]: (exp_id, tag["key"], tag.get("value")) for tag in tags}
            T.insert_many(list(rows.values()), fields=[T.experiment, T.key, T.value]).execute()
        return str(exp_id)

    @transactional(write=False)
    def experiment_id_of_number(self, number) -> str | None:
        """The id of the experiment with this number in the store's project, if any."""
        pk = experiment_pk(number)
        if pk is None:
            return None
        E = self.models.Experiment
        found = E.select(E.experiment_id).where(E.project == self.project, E.number == pk).scalar()
        return None if found is None else str(found)

    @transactional(write=False)
    def experiment_numbers(self, experiment_ids) -> dict[str, str]:
        """experiment id -> its number in the store's project, for those that have one."""
        pks = [pk for pk in map(experiment_pk, experiment_ids) if pk is not None]
        E = self.models.Experiment
        out = {}
        for part in chunks(sorted(set(pks)), _TAG_CHUNK):
            q = E.select(E.experiment_id, E.number).where(
                E.project == self.project, E.experiment_id.in_(part), E.number.is_null(False)
            )
            out.update({str(pk): str(number) for pk, number in q.tuples()})
        return out

    @transactional(write=False)
    def get_experiment(self, experiment_id) -> dict:
        row = self._experiment_row(experiment_id)
        return shapes.experiment(row, self._experiment_tags([row[0]]).get(row[0]))

    @transactional(write=False)
    def get_experiment_by_name(self, name) -> dict:
        E = self.models.Experiment
        row = (
            E.select(*shapes.experiment_columns(E))
            .where(E.name == name, E.project == self.project)
            .tuples()
            .first()
        )
        if row is None:
            raise not_found(f"Could not find experiment with name '{name}'")
        return shapes.experiment(row, self._experiment_tags([row[0]]).get(row[0]))

    def _set_experiment_stage(self, experiment_id, from_stage: str, to_stage: str) -> None:
        E, R = self.models.Experiment, self.models.Run
        exp_id = self._experiment_row(experiment_id, (from_stage,))[0]
        t = now_ms()
        E.update(lifecycle_stage=to_stage, last_update_time=t).where(
            E.experiment_id == exp_id
        ).execute()
        # As 2.7.1: deleting an experiment deletes all its runs; restoring restores all of them.
        R.update(lifecycle_stage=to_stage, deleted_time=t if to_stage == "deleted" else None).where(
            R.experiment == exp_id
        ).execute()

    @transactional()
    def delete_experiment(self, experiment_id) -> None:
        self._set_experiment_stage(experiment_id, "active", "deleted")

    @transactional()
    def restore_experiment(self, experiment_id) -> None:
        self._set_experiment_stage(experiment_id, "deleted", "active")

    @transactional()
    def rename_experiment(self, experiment_id, new_name) -> None:
        E = self.models.Experiment
        row = self._experiment_row(experiment_id)
        if row[3] != "active":
            # 2.7.1 says INVALID_STATE, a 500 the client retries for a minute; it is the
            # caller's mistake, so it is answered as one (listed among the divergences).
            raise invalid("Cannot rename a non-active experiment.")
        v.validate_experiment_name(new_name)
        taken = E.name == new_name, E.project == self.project, E.experiment_id != row[0]
        if E.select().where(*taken).exists():
            # 2.7.1 lets the unique constraint fail: BAD_REQUEST.
            raise MlflowError("UNIQUE constraint failed: experiments.name", "BAD_REQUEST")
        E.update(name=new_name, last_update_time=now_ms()).where(
            E.experiment_id == row[0]
        ).execute()

    @transactional()
    def set_experiment_tag(self, experiment_id, key, value) -> None:
        v.validate_experiment_tag(key, value)
        row = self._experiment_row(experiment_id)
        if row[3] != "active":
            raise v.experiment_not_active(row[0], row[3])
        T = self.models.ExperimentTag
        T.insert(experiment=row[0], key=key, value=value).on_conflict(
            conflict_target=[T.experiment, T.key], update={T.value: value}
        ).execute()

    @transactional(write=False)
    def search_experiments(
        self,
        view_type="ACTIVE_ONLY",
        max_results=v.SEARCH_MAX_RESULTS_DEFAULT,
        filter_string=None,
        order_by=(),
        page_token=None,
    ):
        """-> (experiments, next_page_token or None)."""
        v.validate_experiments_max_results(max_results)
        query = search.experiment_query(self, view_stages(view_type), filter_string, order_by)
        rows, token = search.page(query, max_results, page_token)
        tags = self._experiment_tags([r[0] for r in rows])
        return [shapes.experiment(r, tags.get(r[0])) for r in rows], token
