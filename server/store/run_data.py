"""Loading whole runs (info, latest metrics, params, tags, dataset inputs) in a fixed number of
queries, and writing dataset inputs. Mixed into TrackingStore."""

from __future__ import annotations

import uuid

import peewee as pw

from . import shapes
from .base import StoreBase
from .db import chunks

_CHUNK = 5000  # bound the IN (...) lists: SQLite allows 32766 variables per statement


class RunData(StoreBase):
    def _load_run(self, run_id) -> dict | None:
        """The whole run `run_id` of the bound project, or None."""
        R, E = self.models.Run, self.models.Experiment
        ns = self.project
        rows = self.sql.execute(
            ("run",),
            lambda: (
                R.select(*shapes.run_columns(R))
                .join(E, on=(R.experiment == E.experiment_id))
                .where(R.run_uuid == run_id, E.project == ns)
            ),
            [run_id, ns],
        ).fetchall()
        runs = self._whole_runs(rows)
        return runs[0] if runs else None

    def _whole_runs(self, info_rows) -> list[dict]:
        """Whole runs (info, latest metrics, params, tags, dataset inputs) from their
        `shapes.RUN_COLUMNS` rows, in that order: 4 queries per chunk."""
        out = []
        for part in chunks(info_rows, _CHUNK):
            out.extend(self._whole_chunk(part))
        return out

    def _whole_chunk(self, info_rows) -> list[dict]:
        if not info_rows:
            return []
        L, P, T = self.models.LatestMetric, self.models.Param, self.models.Tag
        sql = self.sql
        ids = [row[0] for row in info_rows]
        n = len(ids)
        metrics = shapes.metrics_by_run(
            sql.execute(
                ("latest_metrics", n),
                lambda: (
                    L.select(L.run, L.key, L.value, L.timestamp, L.step, L.is_nan)
                    .where(L.run.in_(ids))
                    .order_by(L.run, L.key)
                ),
                ids,
            )
        )
        params, tags = (
            shapes.key_values_by_owner(
                sql.execute(
                    (model.__name__, n),
                    lambda model=model: (
                        model.select(model.run, model.key, model.value)
                        .where(model.run.in_(ids))
                        .order_by(model.run, self.text_order(model.key))
                    ),
                    ids,
                )
            )
            for model in (P, T)
        )
        inputs = self._load_inputs(ids)
        return [
            {
                "info": shapes.run_info(info),
                "data": shapes.run_data(metrics.get(run_id), params.get(run_id), tags.get(run_id)),
                "inputs": shapes.run_inputs(inputs.get(run_id)),
            }
            for run_id, info in zip(ids, info_rows, strict=True)
        ]

    def _load_inputs(self, run_ids) -> dict[str, list]:
        In, D, IT = self.models.Input, self.models.Dataset, self.models.InputTag
        rows = self.sql.execute(
            ("inputs", len(run_ids)),
            lambda: (
                In.select(
                    In.destination_id,
                    In.input_uuid,
                    D.name,
                    D.digest,
                    D.source_type,
                    D.source,
                    D.schema,
                    D.profile,
                    IT.name,
                    IT.value,
                )
                .join(D, on=(D.dataset_uuid == In.source_id))
                .join(IT, pw.JOIN.LEFT_OUTER, on=(IT.input == In.input_uuid))
                .where(In.destination_type == pw.SQL("'RUN'"), In.destination_id.in_(run_ids))
                .order_by(In.destination_id, D.name, D.digest, In.input_uuid, IT.name)
            ),
            list(run_ids),
        )
        grouped: dict[str, dict[str, tuple]] = {}
        for run_id, input_uuid, *rest in rows:
            dataset, tag = tuple(rest[:6]), rest[6:]
            per_run = grouped.setdefault(run_id, {})
            entry = per_run.setdefault(input_uuid, (dataset, []))
            if tag[0] is not None:
                entry[1].append(tuple(tag))
        return {
            run_id: [shapes.dataset_input(ds, tags) for ds, tags in per_run.values()]
            for run_id, per_run in grouped.items()
        }

    def _insert_inputs(self, experiment_id, run_id, dataset_inputs) -> None:
        """Datasets are shared per experiment by (name, digest); a run links each dataset once
        and keeps the tags of its first link, as 2.7.1."""
        if not dataset_inputs:
            return
        D, In, IT = self.models.Dataset, self.models.Input, self.models.InputTag
        first: dict[tuple, dict] = {}
        for d in dataset_inputs:
            first.setdefault((d["dataset"]["name"], d["dataset"]["digest"]), d)
        names = list({k[0] for k in first})
        digests = list({k[1] for k in first})

        def known():
            q = D.select(D.name, D.digest, D.dataset_uuid).where(
                D.experiment == experiment_id, D.name.in_(names), D.digest.in_(digests)
            )
            return {(n, dg): u for n, dg, u in q.tuples()}

        uuids = known()
        new = [
            (uuid.uuid4().hex, experiment_id, k[0], k[1], d["dataset"]["source_type"],
             d["dataset"]["source"], d["dataset"].get("schema"), d["dataset"].get("profile"))
            for k, d in first.items()
            if k not in uuids
        ]  # fmt: skip
        if new:
            fields = [D.dataset_uuid, D.experiment, D.name, D.digest, D.source_type, D.source,
                      D.schema, D.profile]  # fmt: skip
            D.insert_many(new, fields=fields).on_conflict_ignore().execute()
            uuids = known()
        linked = set(
            In.select(In.source_id)
            .where(
                In.source_type == "DATASET",
                In.source_id.in_(list(uuids.values())),
                In.destination_type == "RUN",
                In.destination_id == run_id,
            )
            .tuples()
        )
        inputs, tags = [], []
        for k, d in first.items():
            if (uuids[k],) in linked:
                continue
            input_uuid = uuid.uuid4().hex
            inputs.append((input_uuid, "DATASET", uuids[k], "RUN", run_id))
            seen = {}
            for tag in d.get("tags") or ():
                seen[tag["key"]] = (input_uuid, tag["key"], tag["value"])
            tags.extend(seen.values())
        if inputs:
            fields = [In.input_uuid, In.source_type, In.source_id, In.destination_type,
                      In.destination_id]  # fmt: skip
            In.insert_many(inputs, fields=fields).execute()
        if tags:
            IT.insert_many(tags, fields=[IT.input, IT.name, IT.value]).execute()
