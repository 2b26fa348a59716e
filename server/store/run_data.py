"""Loading whole runs (info, latest metrics, params, tags, dataset inputs) in two queries
whatever their number, and writing dataset inputs. Mixed into TrackingStore."""

from __future__ import annotations

import json
import uuid

import peewee as pw

from . import shapes
from .base import StoreBase

_NULL = pw.SQL("NULL")


def run_row_columns(m) -> tuple:
    """The columns a whole run is read from: `shapes.RUN_COLUMNS`, then whether the run has
    dataset inputs (most have none: their look-up is then skipped)."""
    R, In = m.Run, m.Input
    has_inputs = In.select(pw.SQL("1")).where(
        In.destination_id == R.run_uuid, In.destination_type == pw.SQL("'RUN'")
    )
    return (*shapes.run_columns(R), pw.fn.EXISTS(has_inputs))


class RunData(StoreBase):
    def _load_run(self, run_id) -> dict | None:
        """The whole run `run_id` of the bound project, or None."""
        R, E = self.models.Run, self.models.Experiment
        ns = self.project
        rows = self.sql.execute(
            ("run",),
            lambda: (
                R.select(*run_row_columns(self.models))
                .join(E, on=(R.experiment == E.experiment_id))
                .where(R.run_uuid == run_id, E.project == ns)
            ),
            [run_id, ns],
        ).fetchall()
        runs = self._whole_runs(rows)
        return runs[0] if runs else None

    def _whole_runs(self, rows) -> list[dict]:
        """Whole runs (info, latest metrics, params, tags, dataset inputs) from their
        `run_row_columns` rows, in that order: 1 query, 2 if some of them have inputs."""
        if not rows:
            return []
        ids = [row[0] for row in rows]
        page = self._page_param(ids)
        children = self.sql.execute(
            ("run_children", page[1]), lambda: self._children(page), [page[0]]
        )
        data = shapes.data_by_run(children, len(ids))
        inputs = self._load_inputs(page) if any(row[-1] for row in rows) else {}
        return [
            {
                "info": shapes.run_info(row[:-1]),
                "data": run_data,
                "inputs": shapes.run_inputs(inputs.get(row[0])),
            }
            for row, run_data in zip(rows, data, strict=True)
        ]

    @staticmethod
    def _page_param(ids: list) -> tuple[str, str]:
        """(the one parameter naming the runs `ids`, its kind): a single run id itself, several
        as a JSON array."""
        return (ids[0], "one") if len(ids) == 1 else (json.dumps(ids), "json")

    def _page(self, page: tuple[str, str]) -> pw.CTE:
        """`page (run_uuid, position)`: the run ids of a `_page_param` and their positions in
        it (0, 1, ...), one parameter however many.

        Joined to a child table, PostgreSQL reads that table's primary key once per run; an
        `IN (...)` list of a page of 1000 runs made it scan the whole table instead. One run is
        a row of its own, which PostgreSQL knows to be one: its plan reads the primary keys
        even while the tables are too small or too new to have statistics (a JSON array is
        taken for 100 elements, for which scanning a small table looks cheaper)."""
        param, kind = page
        columns = ("run_uuid", "position")
        if kind == "one":
            return pw.Select(columns=[pw.Value(param), pw.SQL("0")]).cte("page", columns=columns)
        if self.pg:
            each = pw.NodeList((pw.fn.json_array_elements_text(param), pw.SQL("WITH ORDINALITY")))
            position = pw.SQL("ordinality - 1")
        else:
            each, position = pw.fn.json_each(param), pw.SQL("key")
        return pw.Select([each], [pw.SQL("value"), position]).cte("page", columns=columns)

    def _children(self, page: tuple[str, str]):
        """The latest metrics, params and tags of the runs of a `_page_param`, as rows of
        `shapes.data_by_run`."""
        ids = self._page(page)

        def rows_of(model, kind: int, *columns):
            return (
                model.select(ids.c.position, pw.SQL(str(kind)).alias("kind"), model.key, *columns)
                .from_(ids)
                .join(model, on=(model.run == ids.c.run_uuid))
            )

        L, P, T = self.models.LatestMetric, self.models.Param, self.models.Tag
        metrics = rows_of(
            L, 0, _NULL.alias("value"), L.value.alias("number"), L.timestamp, L.step, L.is_nan
        )
        params = rows_of(P, 1, P.value, _NULL, _NULL, _NULL, _NULL)
        tags = rows_of(T, 2, T.value, _NULL, _NULL, _NULL, _NULL)
        return (metrics + params + tags).with_cte(ids)

    def _load_inputs(self, page: tuple[str, str]) -> dict[str, list]:
        """The dataset inputs of the runs of a `_page_param`, by run."""
        In, D, IT = self.models.Input, self.models.Dataset, self.models.InputTag

        def build():
            ids = self._page(page)
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
                .from_(ids)
                .join(In, on=(In.destination_id == ids.c.run_uuid))
                .join(D, on=(D.dataset_uuid == In.source_id))
                .join(IT, pw.JOIN.LEFT_OUTER, on=(IT.input == In.input_uuid))
                .where(In.destination_type == pw.SQL("'RUN'"))
                .order_by(In.destination_id, D.name, D.digest, In.input_uuid, IT.name)
                .with_cte(ids)
            )

        rows = self.sql.execute(("inputs", page[1]), build, [page[0]])
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
