"""The tracking store: runs, named after MLflow's RPCs, and the store object that joins the parts
(experiments.py, run_data.py, registry.py) over the state they share (base.py).

Every public method runs in one transaction and raises MlflowError with MLflow 2.7.1's error code
(and, where feasible, its message). Return values are wire-shaped dicts (see shapes.py).
"""

from __future__ import annotations

import json
import uuid

import peewee as pw

from server.errors import MlflowError, invalid, not_found

from . import search, shapes
from . import validation as v
from .db import bulk_insert, connect, transactional
from .experiments import Experiments, experiment_pk, now_ms, view_stages
from .models import migrate
from .names import random_run_name
from .registry import RegistryStore
from .run_data import RunData
from .ui_views import UiViews
from .validation import RUN_NAME_TAG

LOGGED_MODELS_TAG = "mlflow.log-model.history"
RUN_STATUSES = ("RUNNING", "SCHEDULED", "FINISHED", "FAILED", "KILLED")
_IGNORE_CONFLICT = " ON CONFLICT DO NOTHING"
# latest_metrics keeps the max (step, timestamp, value) per key, as MLflow's latest_metrics.
_NEWER_METRIC = (
    ' ON CONFLICT ("run_uuid", "key") DO UPDATE SET "step" = excluded."step",'
    ' "timestamp" = excluded."timestamp", "value" = excluded."value",'
    ' "is_nan" = excluded."is_nan"'
    ' WHERE (excluded."step", excluded."timestamp", excluded."value")'
    ' > ("latest_metrics"."step", "latest_metrics"."timestamp", "latest_metrics"."value")'
)
_STATUS_NUMBERS = dict(enumerate(RUN_STATUSES, start=1))
_ALL_ROWS = 2**61  # a LIMIT past any table (plus the largest page offset, within int64)


def open_store(
    db_url: str, artifact_root: str = "mlflow-artifacts:", version_labels: bool = False
) -> TrackingStore:
    """Connect, create or migrate the schema, ensure the Default experiment; return the store
    (unbound: see StoreBase.for_project). `version_labels`: see StoreBase."""
    return TrackingStore(connect(db_url), artifact_root, version_labels)


class TrackingStore(Experiments, RunData, RegistryStore, UiViews):
    """The store: experiments, runs and the model registry, named after MLflow's RPCs."""

    def __init__(self, db: pw.Database, artifact_root: str, version_labels: bool = False):
        super().__init__(db, artifact_root, version_labels)
        # Processes opening one SQLite file at once take turns (the write lock's flock) from
        # their first connection on: that one turns a new file's journal to WAL, which two
        # processes at once could deadlock on (SQLite then answers "database is locked" at once,
        # without waiting).
        with self.write_lock, db.connection_context():
            migrate(db, self.models)
            self._ensure_default_experiment()

    def close(self) -> None:
        self.db.close_all()

    def _location(self, experiment_id) -> str:
        root = self.artifact_root
        return f"{root}{experiment_id}" if root.endswith("/") else f"{root}/{experiment_id}"

    def _ensure_default_experiment(self) -> None:
        E = self.models.Experiment
        with self.db.atomic() if self.pg else self.db.atomic("IMMEDIATE"):
            if self.pg:
                self.db.execute_sql("SELECT pg_advisory_xact_lock(%s)", (0x6D6C666C6F78,))
            if not E.select().where(E.experiment_id == 0).exists():
                t = now_ms()
                E.insert(
                    experiment_id=0,
                    name="Default",
                    artifact_location=self._location(0),
                    lifecycle_stage="active",
                    creation_time=t,
                    last_update_time=t,
                ).execute()

    # ---- runs --------------------------------------------------------------------------------

    def _run_row(self, run_id, active=False):
        """(experiment_id, lifecycle_stage, status, end_time, name) of a run; raises if missing,
        or if ``active`` and the run is deleted."""
        R, E = self.models.Run, self.models.Experiment
        ns = self.project
        row = self.sql.execute(
            ("run_row",),
            lambda: (
                R.select(R.experiment, R.lifecycle_stage, R.status, R.end_time, R.name)
                .join(E, on=(R.experiment == E.experiment_id))
                .where(R.run_uuid == run_id, E.project == ns)
            ),
            [run_id, ns],
        ).fetchone()
        if row is None:
            raise not_found(f"Run with id={run_id} not found")
        if active and row[1] != "active":
            raise v.run_not_active(run_id, row[1])
        return row

    @transactional()
    def create_run(self, experiment_id, user_id=None, start_time=None, tags=(), run_name=None):
        if experiment_id is None or experiment_id == "":
            # 2.7.1 looks up "0" but then inserts "" and trips the foreign key.
            raise MlflowError("FOREIGN KEY constraint failed", "BAD_REQUEST")
        exp = self._experiment_row(experiment_id)
        if exp[3] != "active":
            raise v.experiment_not_active(exp[0], exp[3])
        v.validate_user_id(user_id)
        # 2.7.1 stores a new run's tags as sent (a missing key as ""): their names are checked
        # by set-tag and log-batch only; here only the widths of the columns.
        tags = [{"key": t.get("key") or "", "value": t.get("value") or ""} for t in tags or ()]
        for tag in tags:
            v.validate_tag_widths(tag["key"], tag["value"])
        name_tag = next((t["value"] for t in tags if t["key"] == RUN_NAME_TAG), None)
        if run_name and name_tag and run_name != name_tag:
            raise invalid(
                "Both 'run_name' argument and 'mlflow.runName' tag are specified, but with "
                f"different values (run_name='{run_name}', mlflow.runName='{name_tag}')."
            )
        run_name = run_name or name_tag or random_run_name()
        if not name_tag:
            tags.append({"key": RUN_NAME_TAG, "value": run_name})
        run_id = uuid.uuid4().hex
        row = (
            run_id,
            exp[0],
            run_name,
            user_id or "",
            "RUNNING",
            int(start_time or 0),
            None,
            f"{exp[2]}/{run_id}/artifacts",
            "active",
        )
        bulk_insert(self.db, "runs", shapes.RUN_COLUMNS, [row])
        bulk_insert(
            self.db,
            "tags",
            ("run_uuid", "key", "value"),
            [(run_id, t["key"], t["value"]) for t in tags],
        )
        return {
            "info": shapes.run_info(row),
            "data": shapes.run_data(tags=shapes.key_values((t["key"], t["value"]) for t in tags)),
        }

    @transactional(write=False)
    def get_run(self, run_id) -> dict:
        run = self._load_run(run_id)
        if run is None:
            raise not_found(f"Run with id={run_id} not found")
        return run

    @transactional()
    def update_run_info(self, run_id, status=None, end_time=None, run_name=None) -> dict:
        R = self.models.Run
        self._run_row(run_id, active=True)
        changes = {}
        if status is not None:
            status = _STATUS_NUMBERS.get(status, status)
            if status not in RUN_STATUSES:
                raise invalid(f"Invalid run status '{status}'. Valid values are {RUN_STATUSES}")
            changes[R.status] = status
        if end_time is not None:
            changes[R.end_time] = int(end_time)
        if run_name:
            changes[R.name] = run_name
            self._upsert_tags(run_id, [(RUN_NAME_TAG, run_name)])
        if changes:
            R.update(changes).where(R.run_uuid == run_id).execute()
        row = R.select(*shapes.run_columns(R)).where(R.run_uuid == run_id).tuples().first()
        return shapes.run_info(row)

    def _set_run_stage(self, run_id, stage: str) -> None:
        R = self.models.Run
        self._run_row(run_id)
        R.update(
            lifecycle_stage=stage, deleted_time=now_ms() if stage == "deleted" else None
        ).where(R.run_uuid == run_id).execute()

    @transactional()
    def delete_run(self, run_id) -> None:
        self._set_run_stage(run_id, "deleted")

    @transactional()
    def restore_run(self, run_id) -> None:
        self._set_run_stage(run_id, "active")

    # ---- logging -----------------------------------------------------------------------------

    def _insert_metrics(self, run_id, experiment_id, metrics) -> None:
        """Append to the history (exact duplicates ignored, as MLflow) and keep latest_metrics
        (which carries the run's experiment, for searches) at the max (step, timestamp, value)
        per key."""
        rows = []
        latest: dict[str, tuple] = {}
        for m in metrics:
            value, is_nan = v.metric_storage_value(m["value"])
            row = (run_id, m["key"], int(m.get("step") or 0), int(m["timestamp"]), value, is_nan)
            rows.append(row)
            best = latest.get(row[1])
            if best is None or row[2:5] > best[2:5]:
                latest[row[1]] = row
        columns = ("run_uuid", "key", "step", "timestamp", "value", "is_nan")
        bulk_insert(self.db, "metrics", columns, rows, _IGNORE_CONFLICT)
        latest_rows = [(*row, experiment_id) for row in latest.values()]
        bulk_insert(
            self.db, "latest_metrics", (*columns, "experiment_id"), latest_rows, _NEWER_METRIC
        )

    def _upsert_tags(self, run_id, pairs) -> None:
        rows = {key: (run_id, key, value) for key, value in pairs}  # last value of a key wins
        bulk_insert(
            self.db,
            "tags",
            ("run_uuid", "key", "value"),
            list(rows.values()),
            ' ON CONFLICT ("run_uuid", "key") DO UPDATE SET "value" = excluded."value"',
        )
        if RUN_NAME_TAG in rows:
            R = self.models.Run
            R.update(name=rows[RUN_NAME_TAG][2]).where(R.run_uuid == run_id).execute()

    def _insert_params(self, run_id, params) -> None:
        P = self.models.Param

        def refuse_changes(keys) -> dict:
            stored = dict(P.select(P.key, P.value).where(P.run == run_id, P.key.in_(keys)).tuples())
            changed = [
                {"key": p["key"], "old_value": stored[p["key"]], "new_value": p["value"]}
                for p in params
                if p["key"] in stored and stored[p["key"]] != p["value"]
            ]
            if changed:
                raise invalid(
                    "Changing param values is not allowed. Params were already"
                    f" logged='{changed}' for run ID='{run_id}'."
                )
            return stored

        existing = refuse_changes([p["key"] for p in params])
        rows = [(run_id, p["key"], p["value"]) for p in params if p["key"] not in existing]
        bulk_insert(self.db, "params", ("run_uuid", "key", "value"), rows, _IGNORE_CONFLICT)
        if rows and self.pg:
            # A concurrent request may have logged some of these keys first (the insert then
            # kept its values): refuse ours if they differ, as if it had come second.
            refuse_changes([row[1] for row in rows])

    @transactional()
    def log_metric(self, run_id, key, value, timestamp, step=0) -> None:
        v.validate_metric(key, value, timestamp, step)
        v.validate_length("Metric name", v.MAX_ENTITY_KEY_LENGTH, key)
        experiment_id = self._run_row(run_id, active=True)[0]
        metric = {"key": key, "value": value, "timestamp": timestamp, "step": step}
        self._insert_metrics(run_id, experiment_id, [metric])

    @transactional()
    def log_param(self, run_id, key, value) -> None:
        value = "" if value is None else str(value)
        v.validate_param(key, value)
        self._run_row(run_id, active=True)
        P = self.models.Param
        old = P.select(P.value).where(P.run == run_id, P.key == key).scalar()
        if old is None:
            rows = [(run_id, key, value)]
            bulk_insert(self.db, "params", ("run_uuid", "key", "value"), rows, _IGNORE_CONFLICT)
            # A concurrent request may have logged the key first, and its value stands.
            old = P.select(P.value).where(P.run == run_id, P.key == key).scalar()
        if old != value:
            raise invalid(
                f"Changing param values is not allowed. Param with key='{key}' was already"
                f" logged with value='{old}' for run ID='{run_id}'. Attempted logging new value"
                f" '{value}'."
            )

    @transactional()
    def set_tag(self, run_id, key, value) -> None:
        value = "" if value is None else value
        v.validate_tag(key, value)
        self._run_row(run_id, active=True)
        self._upsert_tags(run_id, [(key, value)])

    @transactional()
    def run_data_keys(self, run_id) -> tuple[set[str], set[str]]:
        """The keys of a run's params and of its tags. The run (active, else an error) stays
        locked until the caller's transaction ends, so that the keys cannot change meanwhile."""
        self._run_row(run_id, active=True)
        R, P, T = self.models.Run, self.models.Param, self.models.Tag
        if self.pg:  # SQLite's write transaction already holds the database's write lock
            R.select(R.run_uuid).where(R.run_uuid == run_id).for_update().execute()
        params = {k for (k,) in P.select(P.key).where(P.run == run_id).tuples()}
        tags = {k for (k,) in T.select(T.key).where(T.run == run_id).tuples()}
        return params, tags

    @transactional()
    def delete_tag(self, run_id, key) -> None:
        self._run_row(run_id, active=True)
        T = self.models.Tag
        if not T.delete().where(T.run == run_id, T.key == key).execute():
            raise not_found(f"No tag with name: {key} in run with id {run_id}")

    @transactional()
    def log_batch(self, run_id, metrics=(), params=(), tags=()) -> None:
        v.validate_run_id(run_id)
        metrics, tags = list(metrics or ()), list(tags or ())
        params = [{"key": p.get("key"), "value": _str_or_empty(p.get("value"))} for p in params]
        tags = [{"key": t.get("key"), "value": _str_or_empty(t.get("value"))} for t in tags]
        v.validate_batch(metrics, params, tags)
        experiment_id = self._run_row(run_id, active=True)[0]
        if params:
            self._insert_params(run_id, params)
        if metrics:
            self._insert_metrics(run_id, experiment_id, metrics)
        if tags:
            self._upsert_tags(run_id, [(t["key"], t["value"]) for t in tags])

    @transactional()
    def log_model(self, run_id, model_json: str) -> None:
        try:
            model = json.loads(model_json)
        except (TypeError, ValueError):
            model = None
        if not isinstance(model, dict):
            raise invalid(f"Malformed model info. \n {model_json} \n is not a valid JSON.")
        missing = {"artifact_path", "flavors", "utc_time_created", "run_id"} - set(model)
        if missing:
            raise invalid(f"Model json is missing mandatory fields: {missing}")
        self._run_row(run_id, active=True)
        T = self.models.Tag
        previous = T.select(T.value).where(T.run == run_id, T.key == LOGGED_MODELS_TAG).scalar()
        history = json.loads(previous) if previous else []
        value = json.dumps(history + [_model_dict(model)])
        v.validate_tag(LOGGED_MODELS_TAG, value)
        self._upsert_tags(run_id, [(LOGGED_MODELS_TAG, value)])

    @transactional()
    def log_inputs(self, run_id, datasets=()) -> None:
        v.validate_run_id(run_id)
        datasets = list(datasets or ())
        v.validate_dataset_inputs(datasets)
        exp_id = self._run_row(run_id, active=True)[0]
        self._insert_inputs(exp_id, run_id, datasets)

    @transactional(write=False)
    def get_metric_history(self, run_id, metric_key, max_results=None, page_token=None):
        """Points of a metric ordered by (timestamp, step, value) -> (metrics, next_page_token).

        Without max_results every point comes back, as from 2.7.1's server. With it, pages of
        max_results points and a token for the next page: the paging GetMetricHistory defines
        and the 2.7.1 client follows, which 2.7.1's own server ignores. Like 2.7.1, an unknown
        run has no points rather than an error."""
        if max_results is not None and max_results < 0:
            raise invalid(f"Invalid value {max_results} for parameter 'max_results' supplied.")
        offset = shapes.parse_page_token(page_token)
        limit = max_results + 1 if max_results else _ALL_ROWS
        M, R, E = self.models.Metric, self.models.Run, self.models.Experiment
        ns = self.project

        def build():
            # Not correlated with the points: checked once, not once a point.
            run_of_project = (
                R.select(pw.SQL("1"))
                .join(E, on=(R.experiment == E.experiment_id))
                .where(R.run_uuid == run_id, E.project == ns)
            )
            q = (
                M.select(M.key, M.value, M.timestamp, M.step, M.is_nan)
                .where(M.run == run_id, M.key == metric_key, pw.fn.EXISTS(run_of_project))
                .order_by(M.timestamp, M.step, M.value, M.is_nan)
            )
            return q.limit(limit).offset(offset)

        params = [run_id, metric_key, run_id, ns, limit, offset]
        rows = self.sql.execute(("metric_history",), build, params).fetchall()
        token = None
        if max_results and len(rows) > max_results:
            rows = rows[:max_results]
            token = shapes.page_token(offset + max_results)
        return shapes.metrics(rows), token

    @transactional(write=False)
    def search_runs(
        self,
        experiment_ids,
        filter_string=None,
        run_view_type="ACTIVE_ONLY",
        max_results=v.SEARCH_MAX_RESULTS_DEFAULT,
        order_by=(),
        page_token=None,
    ):
        """-> (runs, next_page_token or None); a token whenever a page is full, as 2.7.1."""
        v.validate_search_max_results(max_results)
        offset = shapes.parse_page_token(page_token)
        pks = [pk for pk in map(experiment_pk, experiment_ids or ()) if pk is not None]
        if pks:
            E, ns = self.models.Experiment, self.project
            visible = self.sql.execute(
                ("visible_experiments", len(pks)),
                lambda: E.select(E.experiment_id).where(E.experiment_id.in_(pks), E.project == ns),
                [*pks, ns],
            )
            pks = [pk for (pk,) in visible]
        stages = view_stages(run_view_type)
        # Compiled once per distinct search: clients and the UI repeat theirs, page after page.
        query = self.sql.compiled(
            ("search", self.project, tuple(pks), stages, filter_string, tuple(order_by or ())),
            lambda: search.run_query(self, pks, stages, filter_string, order_by),
        )
        runs = self._whole_runs(query.rows(offset, max_results))
        token = shapes.page_token(offset + max_results) if len(runs) == max_results else None
        return runs, token


def _str_or_empty(value):
    return "" if value is None else value


def _model_dict(model: dict) -> dict:
    """The dict 2.7.1 appends to the history: Model.from_dict(model).to_dict()."""
    rest = dict(model)
    out = {}
    run_id, artifact_path = rest.pop("run_id", None), rest.pop("artifact_path", None)
    if run_id:
        out["run_id"] = run_id
        out["artifact_path"] = artifact_path
    out["utc_time_created"] = str(rest.pop("utc_time_created", None))
    flavors = rest.pop("flavors", None)
    out["flavors"] = flavors if flavors is not None else {}
    out["model_uuid"] = rest.pop("model_uuid", None)
    version = rest.pop("mlflow_version", None)
    if version is not None:
        out["mlflow_version"] = version
    late = {k: rest.pop(k, None) for k in ("signature", "saved_input_example_info", "metadata")}
    out.update(rest)
    if isinstance(late["signature"], dict):
        sig = late["signature"]
        late["signature"] = {k: sig.get(k) for k in ("inputs", "outputs", "params")}
    out.update({k: value for k, value in late.items() if value is not None})
    return out
