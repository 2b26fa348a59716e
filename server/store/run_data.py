"""Loading whole runs (info, latest metrics, params, tags, dataset inputs) in two queries
whatever their number, and writing dataset inputs. Mixed into TrackingStore."""

from __future__ import annotations

import json
import uuid

import peewee as pw

from . import shapes
from .base import StoreBase

_NULL = pw.SQL("NULL")


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
        `shapes.RUN_COLUMNS` rows, in that order: 2 queries, however many runs."""
        if not info_rows:
            return []
        ids = [row[0] for row in info_rows]
        page = json.dumps(ids)
        children = self.sql.execute(("run_children",), lambda: self._children(page), [page])
        data = shapes.data_by_run(children)
        inputs = self._load_inputs(page)
        return [
            {
                "info": shapes.run_info(info),
                "data": data.get(run_id, {}),
                "inputs": shapes.run_inputs(inputs.get(run_id)),
            }
            for run_id, info in zip(ids, info_rows, strict=True)
        ]

    def _page(self, ids_json: str) -> pw.CTE:
        """`page (run_uuid)`: the run ids of a JSON array, one parameter however many.

        Joined to a child table, PostgreSQL reads that table's primary key once per run; an
        `IN (...)` list of a page of 1000 runs made it scan the whole table instead."""
        each = pw.fn.json_array_elements_text if self.pg else pw.fn.json_each
        return pw.Select([each(ids_json)], [pw.SQL("value")]).cte("page", columns=("run_uuid",))

    def _children(self, ids_json: str):
        """The latest metrics, params and tags of the runs of a JSON array of run ids, as rows
        of `shapes.data_by_run`."""
        page = self._page(ids_json)

        def rows_of(model, kind: int, *columns):
            return (
                model.select(page.c.run_uuid, pw.SQL(str(kind)).alias("kind"), model.key, *columns)
                .from_(page)
                .join(model, on=(model.run == page.c.run_uuid))
            )

        L, P, T = self.models.LatestMetric, self.models.Param, self.models.Tag
        metrics = rows_of(
            L, 0, _NULL.alias("value"), L.value.alias("number"), L.timestamp, L.step, L.is_nan
        )
        params = rows_of(P, 1, P.value, _NULL, _NULL, _NULL, _NULL)
        tags = rows_of(T, 2, T.value, _NULL, _NULL, _NULL, _NULL)
        return (metrics + params + tags).with_cte(page)

    def _load_inputs(self, ids_json: str) -> dict[str, list]:
        """The dataset inputs of the runs of a JSON array of run ids, by run."""
        In, D, IT = self.models.Input, self.models.Dataset, self.models.InputTag

        def build():
            page = self._page(ids_json)
            return (
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
                .from_(page)
                .join(In, on=(In.destination_id == page.c.run_uuid))
                .join(D, on=(D.dataset_uuid == In.source_id))
                .join(IT, pw.JOIN.LEFT_OUTER, on=(IT.input == In.input_uuid))
                .where(In.destination_type == pw.SQL("'RUN'"))
                .order_by(In.destination_id, D.name, D.digest, In.input_uuid, IT.name)
                .with_cte(page)
            )

        rows = self.sql.execute(("inputs",), build, [ids_json])
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
