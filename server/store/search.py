"""Compile parsed search filters and order_by clauses into peewee queries (SQL, not Python).

Semantics follow mlflow 2.7.1's SqlAlchemyStore: metrics compare on the latest value (NaN is
stored as 0, as MLflow does), params/tags/run_name/datasets match when some row of that key
satisfies the comparison, runs missing an order_by value sort last (metrics: NaN, then missing),
ties fall back to start_time DESC then run_id. LIKE is case-sensitive, ILIKE is not.
"""

from __future__ import annotations

import peewee as pw

from server.errors import MlflowError, invalid

from . import search_grammar as g

RUN_NAME_TAG = "mlflow.runName"
DATASET_CONTEXT_TAG = "mlflow.data.context"
_RUN_COLUMN = {
    "run_id": "run_uuid",
    "run_name": "name",
    "user_id": "user_id",
    "status": "status",
    "start_time": "start_time",
    "end_time": "end_time",
    "artifact_uri": "artifact_uri",
}
_NUMERIC_OPS = {">", ">=", "!=", "=", "<", "<="}
_STRING_OPS = {"!=", "=", "LIKE", "ILIKE"}
_STRING_ATTRIBUTE_OPS = _STRING_OPS | {"IN", "NOT IN"}


def _is_pg(models) -> bool:
    return isinstance(models.Run._meta.database, pw.PostgresqlDatabase)


def _compare(pg: bool, lhs, comparator: str, value):
    # Spelled out: peewee would turn LIKE into GLOB on SQLite.
    if comparator == "LIKE":
        return pw.NodeList((lhs, pw.SQL("LIKE"), pw.Value(value)))
    if comparator == "ILIKE":
        if pg:
            return pw.NodeList((lhs, pw.SQL("ILIKE"), pw.Value(value)))
        return pw.NodeList((pw.fn.LOWER(lhs), pw.SQL("LIKE"), pw.fn.LOWER(pw.Value(value))))
    if comparator == "IN":
        return lhs.in_(value)
    if comparator == "NOT IN":
        return lhs.not_in(value)
    return pw.Expression(lhs, "<>" if comparator == "!=" else comparator, value)


def _check_comparator(comparator: str, allowed: set, what: str = "") -> None:
    if comparator not in allowed:
        raise invalid(f"Invalid comparator '{comparator}' not one of '{allowed}'{what}")


def _number(text: str):
    try:
        return int(text)
    except ValueError:
        return float(text)


def _exists(query) -> pw.Node:
    return pw.NodeList((pw.SQL("EXISTS"), query))


def _run_filter(m, pg: bool, clause: dict):
    kind, key, op, value = clause["type"], clause["key"], clause["comparator"], clause["value"]
    R = m.Run
    one = pw.SQL("1")
    if kind == g.ATTRIBUTE:
        key = g.translate_key_alias(key)
        if key in ("start_time", "end_time"):
            _check_comparator(op, _NUMERIC_OPS)
            return _compare(pg, getattr(R, key), op, _number(value))
        _check_comparator(op, _STRING_ATTRIBUTE_OPS)
        if key == "run_name":
            # As 2.7.1: the run name is searched through its mlflow.runName tag.
            T = m.Tag.alias()
            q = T.select(one).where(
                T.run == R.run_uuid, T.key == RUN_NAME_TAG, _compare(pg, T.value, op, value)
            )
            return _exists(q)
        return _compare(pg, getattr(R, _RUN_COLUMN[key]), op, value)
    if kind == g.METRIC:
        _check_comparator(op, _NUMERIC_OPS)
        L = m.LatestMetric.alias()
        q = L.select(one).where(
            L.run == R.run_uuid, L.key == key, _compare(pg, L.value, op, float(value))
        )
        return _exists(q)
    if kind in (g.PARAM, g.TAG):
        _check_comparator(op, _STRING_OPS)
        E = (m.Param if kind == g.PARAM else m.Tag).alias()
        q = E.select(one).where(E.run == R.run_uuid, E.key == key, _compare(pg, E.value, op, value))
        return _exists(q)
    if kind == g.DATASET:
        _check_comparator(op, _STRING_ATTRIBUTE_OPS)
        In = m.Input.alias()
        if key == "context":
            IT = m.InputTag.alias()
            q = (
                In.select(one)
                .join(IT, on=(IT.input == In.input_uuid))
                .where(
                    In.destination_id == R.run_uuid,
                    IT.name == DATASET_CONTEXT_TAG,
                    _compare(pg, IT.value, op, value),
                )
            )
        else:
            D = m.Dataset.alias()
            q = (
                In.select(one)
                .join(D, on=(D.dataset_uuid == In.source_id))
                .where(In.destination_id == R.run_uuid, _compare(pg, getattr(D, key), op, value))
            )
        return _exists(q)
    raise invalid(f"Invalid search expression type '{kind}'")


def _text_order(pg: bool, column):
    # Same byte-wise order on both backends, whatever the PostgreSQL database's collation.
    return pw.NodeList((column, pw.SQL('COLLATE "C"'))) if pg else column


def run_query(m, experiment_ids, stages, filter_string, order_by):
    """SELECT run_uuid FROM runs ... with the filter and ordering applied; caller pages it."""
    pg = _is_pg(m)
    R = m.Run
    query = R.select(R.run_uuid).where(R.experiment.in_(experiment_ids))
    query = query.where(R.lifecycle_stage.in_(list(stages)))
    for clause in g.parse_filter(filter_string):
        query = query.where(_run_filter(m, pg, clause))

    ordering, seen = [], set()
    for clause in order_by or ():
        kind, key, ascending = g.parse_order_by(clause, g.RUN_ORDER_ATTRIBUTES)
        key = g.translate_key_alias(key) if kind == g.ATTRIBUTE else key
        if (kind, key) in seen:
            raise MlflowError(f"`order_by` contains duplicate fields: {list(order_by)}")
        seen.add((kind, key))
        if kind == g.ATTRIBUTE:
            column = getattr(R, _RUN_COLUMN[key])
            missing = pw.Case(None, [(column.is_null(), 1)], 0)
            if key not in ("start_time", "end_time"):
                column = _text_order(pg, column)
        elif kind in (g.METRIC, g.PARAM, g.TAG):
            model = {g.METRIC: m.LatestMetric, g.PARAM: m.Param, g.TAG: m.Tag}[kind]
            E = model.alias(f"order_{len(seen)}")
            query = query.join(E, pw.JOIN.LEFT_OUTER, on=((E.run == R.run_uuid) & (E.key == key)))
            if kind == g.METRIC:
                # NaN (stored as 0 with is_nan) after numbers, missing after NaN, both ways.
                missing = pw.Case(None, [(E.is_nan == True, 1), (E.value.is_null(), 2)], 0)  # noqa: E712
                column = E.value
            else:
                missing = pw.Case(None, [(E.value.is_null(), 1)], 0)
                column = _text_order(pg, E.value)
        else:
            raise invalid(f"Invalid identifier type '{kind}'")
        ordering += [missing.asc(), column.asc() if ascending else column.desc()]
    if (g.ATTRIBUTE, "start_time") not in seen:
        ordering.append(R.start_time.desc())
    ordering.append(R.run_uuid.asc())
    return query.order_by(*ordering)


def experiment_query(m, stages, filter_string, order_by):
    """SELECT the experiment columns with the filter and ordering applied; caller pages it."""
    pg = _is_pg(m)
    E = m.Experiment
    query = E.select(
        E.experiment_id,
        E.name,
        E.artifact_location,
        E.lifecycle_stage,
        E.creation_time,
        E.last_update_time,
    ).where(E.lifecycle_stage.in_(list(stages)))
    for clause in g.parse_filter(filter_string, experiments=True):
        kind, key, op, value = (clause[k] for k in ("type", "key", "comparator", "value"))
        if kind == g.ATTRIBUTE:
            if key in g.EXPERIMENT_NUMERIC_ATTRIBUTES:
                if op not in _NUMERIC_OPS:
                    raise invalid(f"Invalid comparator for numeric attribute: {op}")
                query = query.where(_compare(pg, getattr(E, key), op, _number(value)))
            else:
                if op not in _STRING_OPS:
                    raise invalid(f"Invalid comparator for string attribute: {op}")
                query = query.where(_compare(pg, E.name, op, value))
        elif kind == g.TAG:
            if op not in _STRING_OPS:
                raise invalid(f"Invalid comparator for tag: {op}")
            T = m.ExperimentTag.alias()
            q = T.select(pw.SQL("1")).where(
                T.experiment == E.experiment_id, T.key == key, _compare(pg, T.value, op, value)
            )
            query = query.where(_exists(q))
        else:
            raise invalid(f"Invalid token type: {kind}")

    ordering, has_id = [], False
    for clause in order_by or ["creation_time DESC", "experiment_id ASC"]:
        kind, key, ascending = g.parse_order_by(
            clause, g.EXPERIMENT_ORDER_ATTRIBUTES, experiments=True
        )
        if kind != g.ATTRIBUTE:
            raise invalid(f"Invalid order_by entity: {kind}")
        column = getattr(E, key)
        has_id = has_id or key == "experiment_id"
        column = _text_order(pg, column) if key == "name" else column
        ordering.append(column.asc() if ascending else column.desc())
    if not has_id:
        ordering.append(E.experiment_id.desc())  # 2.7.1's tie-breaker, descending
    return query.order_by(*ordering)
