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
    def _load_runs(self, run_ids) -> list[dict]:
        """Runs in the order of ``run_ids`` (missing ids skipped): 4 queries per chunk."""
        out = []
        for part in chunks(run_ids, _CHUNK):
            out.extend(self._load_chunk(part))
        return out

    def _load_chunk(self, run_ids) -> list[dict]:
        if not run_ids:
            return []
        R, L, P, T = self.models.Run, self.models.LatestMetric, self.models.Param, self.models.Tag
        E = self.models.Experiment
        sql = self.sql
        cols = [R.experiment if c == "experiment_id" else getattr(R, c) for c in shapes.RUN_COLUMNS]
        ns = self.project
        rows = sql.execute(
            ("runs", len(run_ids)),
            lambda: (
                # CROSS JOIN: SQLite's planner would otherwise start from the project's
                # experiments and walk all their runs (100 ms at 100,000 runs) instead of
                # looking the ids up; PostgreSQL plans it as the inner join it is.
                R.select(*cols)
                .join(E, pw.JOIN.CROSS)
                .where(R.experiment == E.experiment_id, R.run_uuid.in_(run_ids), E.project == ns)
            ),
            [*run_ids, ns],
        )
        infos = {row[0]: row for row in rows}
        if not infos:
            return []
        ids = list(infos)
        n = len(ids)
        metrics: dict[str, list] = {}
        rows = sql.execute(
            ("latest_metrics", n),
            lambda: (
                L.select(L.run, L.key, L.value, L.timestamp, L.step, L.is_nan)
                .where(L.run.in_(ids))
                .order_by(L.run, L.key)
            ),
            ids,
        )
        for run_id, *metric in rows:
            metrics.setdefault(run_id, []).append(metric)
        params: dict[str, list] = {}
        tags: dict[str, list] = {}
        rows = sql.execute(
            ("params_and_tags", n),
            lambda: (
                P.select(pw.SQL("0"), P.run, P.key, P.value).where(P.run.in_(ids))
                + T.select(pw.SQL("1"), T.run, T.key, T.value).where(T.run.in_(ids))
            ),
            ids + ids,
        )
        for kind, run_id, key, value in sorted(rows, key=lambda r: r[2]):
            (tags if kind else params).setdefault(run_id, []).append((key, value))
        inputs = self._load_inputs(ids)
        runs = []
        for run_id in run_ids:
            info = infos.get(run_id)
            if info is None:
                continue
            runs.append(
                {
                    "info": shapes.run_info(info),
                    "data": shapes.run_data(
                        metrics.get(run_id), params.get(run_id), tags.get(run_id)
                    ),
                    "inputs": shapes.run_inputs(inputs.get(run_id)),
                }
            )
        return runs

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
