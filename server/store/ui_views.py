"""What MLflow's web UI reads beyond the REST API: metric histories of several runs at once
(its charts) and the datasets logged in experiments (its dataset filter)."""

from __future__ import annotations

import peewee as pw

from . import shapes
from .base import StoreBase
from .db import transactional
from .experiments import experiment_pk

# 2.7.1's tracking store returns at most this many dataset summaries.
MAX_DATASET_SUMMARIES = 1000
DATASET_CONTEXT_TAG = "mlflow.data.context"


class UiViews(StoreBase):
    @transactional(write=False)
    def get_metric_history_bulk(self, run_ids, metric_key, max_results) -> list[dict]:
        """Points of `metric_key` in the runs of `run_ids` (of this project), ordered by run id,
        then (timestamp, step, value), at most `max_results` in all, each with its run_id."""
        M, R, E = self.models.Metric, self.models.Run, self.models.Experiment
        of_project = (
            R.select(R.run_uuid)
            .join(E, on=(R.experiment == E.experiment_id))
            .where(R.run_uuid.in_(list(run_ids)), E.project == self.project)
        )
        q = (
            M.select(M.run, M.key, M.value, M.timestamp, M.step, M.is_nan)
            .where(M.key == metric_key, M.run.in_(of_project))
            .order_by(self.text_order(M.run), M.timestamp, M.step, M.value, M.is_nan)
            .limit(max_results)
        )
        return [{**shapes.metric(*row), "run_id": run_id} for run_id, *row in q.tuples().iterator()]

    @transactional(write=False)
    def search_dataset_summaries(self, experiment_ids) -> list[dict]:
        """(experiment id, name, digest, context) of each dataset logged to the experiments of
        `experiment_ids` (of this project): context is the input's `mlflow.data.context` tag,
        None without one."""
        pks = [pk for pk in map(experiment_pk, experiment_ids) if pk is not None]
        if not pks:
            return []
        D, In, IT, E = (
            self.models.Dataset,
            self.models.Input,
            self.models.InputTag,
            self.models.Experiment,
        )
        q = (
            D.select(D.experiment, D.name, D.digest, IT.value)
            .join(E, on=(D.experiment == E.experiment_id))
            .join(In, on=(In.source_id == D.dataset_uuid))
            .join(
                IT,
                pw.JOIN.LEFT_OUTER,
                on=((IT.input == In.input_uuid) & (IT.name == DATASET_CONTEXT_TAG)),
            )
            .where(D.experiment.in_(pks), E.project == self.project)
            .distinct()
            .order_by(D.experiment, D.name, D.digest, IT.value)
            .limit(MAX_DATASET_SUMMARIES)
        )
        return [
            {"experiment_id": str(exp), "name": name, "digest": digest, "context": context}
            for exp, name, digest, context in q.tuples()
        ]
