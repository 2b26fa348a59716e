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
from . import shapes
from .base import StoreBase, text_order
from .run_data import run_row_columns
from .validation import RUN_NAME_TAG, validate_order_by_count

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
            return _compare(pg, getattr(R, key), op, g.number_value(value))
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


def run_query(store: StoreBase, experiment_ids, stages, filter_string, order_by) -> RunSearch:
    """The runs a search selects (their `run_row_columns`), in order; the caller pages it.

    Ordered by a metric first (the common shape), the search is three ordered segments: runs
    with a number for it, runs with NaN, runs without it. The first is read along
    latest_metrics' (experiment_id, key, is_nan, value) index, so that a top-N query visits
    about N runs instead of sorting the whole experiment."""
    m, pg = store.models, store.pg
    R = m.Run
    columns = run_row_columns(m)
    stage = R.lifecycle_stage.in_(list(stages))
    # Each clause with its condition (checked as it is built: comparators, values).
    filters = [(clause, _run_filter(m, pg, clause)) for clause in g.parse_filter(filter_string)]
    conditions = [R.experiment.in_(experiment_ids), stage, *(node for _, node in filters)]
    clauses = _order_clauses(order_by)
    lead = clauses[0] if clauses and clauses[0][0] == g.METRIC else None
    rest = clauses[1:] if lead else clauses
    defaults = [] if (g.ATTRIBUTE, "start_time") in {c[:2] for c in clauses} else ["start_time"]

    def ordered(query, first=()):
        ordering = list(first)
        for n, (kind, key, ascending) in enumerate(rest, start=2):
            query, column, missing = _order_column(m, pg, query, kind, key, f"order_{n}")
            ordering += [missing.asc(), column.asc() if ascending else column.desc()]
        if defaults:
            ordering.append(R.start_time.desc())
        return query.order_by(*ordering, R.run_uuid.asc())

    if lead is None:
        return RunSearch(store, [ordered(R.select(*columns).where(*conditions))])
    _, key, ascending = lead
    L = m.LatestMetric.alias("order_1")

    # A filter on the ordering metric compares the row already joined (a range of the index)
    # instead of looking the run's value up again.
    looked_up, compared = [], []
    for clause, node in filters:
        if clause["type"] == g.METRIC and clause["key"] == key:
            compared.append(_compare(pg, L.value, clause["comparator"], float(clause["value"])))
        else:
            looked_up.append(node)

    def with_metric(is_nan: bool):
        match = (L.run == R.run_uuid) & (L.key == key)
        if pg:
            query = R.select(*columns).join(L, on=match)
        else:  # SQLite's planner would start from runs: CROSS JOIN keeps latest_metrics first
            query = L.select(*columns).join(R, pw.JOIN.CROSS).where(match)
        # The experiments through latest_metrics' copy of the run's experiment only: a planner
        # without statistics (PostgreSQL's, on new tables) would otherwise join runs by their
        # experiment index, visiting every run of the experiment for each metric row.
        return query.where(
            stage, *looked_up, *compared, L.experiment.in_(experiment_ids), L.is_nan == is_nan
        )

    numbers = ordered(with_metric(False), [L.value.asc() if ascending else L.value.desc()])
    nans = ordered(with_metric(True))  # NaN is stored as 0: ties, in the order of the rest
    M = m.LatestMetric.alias()
    has_metric = M.select(pw.SQL("1")).where(M.run == R.run_uuid, M.key == key)
    missing = ordered(R.select(*columns).where(*conditions, ~_exists(has_metric)))
    return RunSearch(store, [numbers, nans, missing])


def _order_clauses(order_by) -> list[tuple[str, str, bool]]:
    """(kind, key, ascending) of each order_by clause, checked as 2.7.1 checks them."""
    clauses, seen = [], set()
    validate_order_by_count(order_by)
    for clause in order_by or ():
        kind, key, ascending = g.parse_order_by(clause, g.RUN_ORDER_ATTRIBUTES)
        key = g.translate_key_alias(key) if kind == g.ATTRIBUTE else key
        if (kind, key) in seen:
            raise MlflowError(f"`order_by` contains duplicate fields: {list(order_by)}")
        if kind not in (g.ATTRIBUTE, g.METRIC, g.PARAM, g.TAG):
            raise invalid(f"Invalid identifier type '{kind}'")
        seen.add((kind, key))
        clauses.append((kind, key, ascending))
    return clauses


def _order_column(m, pg: bool, query, kind: str, key: str, alias: str):
    """(query joined to what it orders by, the column, the 'missing' rank): NaN (stored as 0
    with is_nan) after numbers, missing values last, both ways."""
    R = m.Run
    if kind == g.ATTRIBUTE:
        column = getattr(R, _RUN_COLUMN[key])
        missing = pw.Case(None, [(column.is_null(), 1)], 0)
        if key not in ("start_time", "end_time"):
            column = text_order(pg, column)
        return query, column, missing
    model = {g.METRIC: m.LatestMetric, g.PARAM: m.Param, g.TAG: m.Tag}[kind]
    E = model.alias(alias)
    query = query.join(E, pw.JOIN.LEFT_OUTER, on=((E.run == R.run_uuid) & (E.key == key)))
    if kind == g.METRIC:
        missing = pw.Case(None, [(E.is_nan == True, 1), (E.value.is_null(), 2)], 0)  # noqa: E712
        return query, E.value, missing
    return query, text_order(pg, E.value), pw.Case(None, [(E.value.is_null(), 1)], 0)


class RunSearch:
    """A run search's ordered segments (queries of run rows), compiled once, read as one list."""

    def __init__(self, store: StoreBase, segments: list):
        self.db, self.sql = store.db, store.sql
        self.segments = [query.sql() for query in segments]

    def rows(self, offset: int, limit: int) -> list[tuple]:
        """The rows at positions offset .. offset + limit - 1 of the whole order."""
        out: list[tuple] = []
        param = self.db.param
        for sql, params in self.segments:
            if len(out) >= limit:
                break
            page = f"{sql} LIMIT {param} OFFSET {param}"
            rows = self.sql.execute_written(page, [*params, limit - len(out), offset]).fetchall()
            if rows:
                out += rows
                offset = 0
            elif offset:  # the whole segment lies before offset
                count = f'SELECT COUNT(*) FROM ({sql}) AS "segment"'
                offset = max(offset - self.db.execute_sql(count, params).fetchone()[0], 0)
        return out


def experiment_query(store: StoreBase, stages, filter_string, order_by):
    """SELECT the experiment columns with the filter and ordering applied; caller pages it."""
    m, pg = store.models, store.pg
    E = m.Experiment
    query = E.select(*shapes.experiment_columns(E)).where(
        E.lifecycle_stage.in_(list(stages)), E.project == store.project
    )
    for clause in g.parse_filter(filter_string, experiments=True):
        kind, key, op, value = (clause[k] for k in ("type", "key", "comparator", "value"))
        if kind == g.ATTRIBUTE:
            if key in g.EXPERIMENT_NUMERIC_ATTRIBUTES:
                if op not in _NUMERIC_OPS:
                    raise invalid(f"Invalid comparator for numeric attribute: {op}")
                query = query.where(_compare(pg, getattr(E, key), op, g.number_value(value)))
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
    validate_order_by_count(order_by)
    for clause in order_by or ["creation_time DESC", "experiment_id ASC"]:
        kind, key, ascending = g.parse_order_by(
            clause, g.EXPERIMENT_ORDER_ATTRIBUTES, experiments=True
        )
        if kind != g.ATTRIBUTE:
            raise invalid(f"Invalid order_by entity: {kind}")
        column = getattr(E, key)
        has_id = has_id or key == "experiment_id"
        column = text_order(pg, column) if key == "name" else column
        ordering.append(column.asc() if ascending else column.desc())
    if not has_id:
        ordering.append(E.experiment_id.desc())  # 2.7.1's tie-breaker, descending
    return query.order_by(*ordering)


# ---- the model registry ---------------------------------------------------------------------
# As 2.7.1's registry SqlAlchemyStore: conditions on one tag key hold on the same tag row;
# registered models order by name last, model versions by name then version (descending).

_REGISTRY_STRING_OPS = {"=", "!=", "LIKE", "ILIKE"}
_DELETED_STAGE = "Deleted_Internal"


def _registry_tag_filters(pg: bool, tag_model, owner_match, clauses) -> list:
    by_key: dict[str, list] = {}
    for clause in clauses:
        op = clause["comparator"]
        if op not in _REGISTRY_STRING_OPS:
            raise invalid(f"Invalid comparator for tag: {op}")
        by_key.setdefault(clause["key"], []).append(clause)
    out = []
    for key, conditions in by_key.items():
        T = tag_model.alias()
        q = T.select(pw.SQL("1")).where(
            owner_match(T),
            T.key == key,
            *[_compare(pg, T.value, c["comparator"], c["value"]) for c in conditions],
        )
        out.append(_exists(q))
    return out


def _duplicate_order_by(order_by) -> MlflowError:
    # 2.7.1 raises this without an error code (500 INTERNAL_ERROR); it is the caller's mistake.
    return invalid(f"`order_by` contains duplicate fields: {list(order_by)}")


def registered_model_query(store: StoreBase, filter_string, order_by, name_contains=None):
    """SELECT (name, creation_time, last_updated_time, description) of the registered models
    a filter (and, given, a substring of their name) selects, in order; the caller pages it."""
    m, pg = store.models, store.pg
    RM = m.RegisteredModel
    query = RM.select(RM.name, RM.creation_time, RM.last_updated_time, RM.description).where(
        RM.project == store.project
    )
    if name_contains:
        position = (
            pw.fn.STRPOS(RM.name, name_contains) if pg else pw.fn.INSTR(RM.name, name_contains)
        )
        query = query.where(position > 0)
    clauses = g.parse_registry_filter(filter_string, g.REGISTERED_MODEL_SEARCH_ATTRIBUTES)
    for clause in clauses:
        if clause["type"] == g.ATTRIBUTE:
            if clause["comparator"] not in _REGISTRY_STRING_OPS:
                raise invalid(f"Invalid comparator for attribute: {clause['comparator']}")
            query = query.where(_compare(pg, RM.name, clause["comparator"], clause["value"]))
    tag_clauses = [c for c in clauses if c["type"] == g.TAG]
    for condition in _registry_tag_filters(
        pg,
        m.RegisteredModelTag,
        lambda T: (T.project == RM.project) & (T.name == RM.name),
        tag_clauses,
    ):
        query = query.where(condition)

    ordering, seen = [], set()
    validate_order_by_count(order_by)
    for clause in order_by or ():
        key, ascending = g.split_order_by(clause)
        if key not in g.REGISTERED_MODEL_ORDER_KEYS:
            raise invalid(
                f"Invalid order by key '{key}' specified. Valid keys are '{{'name', 'timestamp'}}'"
            )
        column = "name" if key == "name" else "last_updated_time"
        if column in seen:
            raise _duplicate_order_by(order_by)
        seen.add(column)
        field = text_order(pg, RM.name) if column == "name" else RM.last_updated_time
        ordering.append(field.asc() if ascending else field.desc())
    if "name" not in seen:
        ordering.append(text_order(pg, RM.name).asc())
    return query.order_by(*ordering)


_MODEL_VERSION_COLUMN = {
    "name": "name",
    "version_number": "version",
    "run_id": "run_id",
    "source_path": "source",
    "creation_timestamp": "creation_time",
    "last_updated_timestamp": "last_updated_time",
}
_MODEL_VERSION_DEFAULT_ORDER = ["last_updated_timestamp DESC", "name ASC", "version_number DESC"]


def _version_number(value):
    """A version_number filter value as the integer column compares it; None if it is none."""
    try:
        number = int(value) if not isinstance(value, float) else value
        # Past int64 no driver binds an int; as a float it still compares (and matches nothing).
        return float(number) if abs(number) >= 2**63 else number
    except (TypeError, ValueError):
        try:
            return float(value)
        except (TypeError, ValueError):
            return None


def model_version_query(store: StoreBase, filter_string, order_by):
    """SELECT the model-version columns of the live versions a filter selects, in order; the
    caller pages it."""

    m, pg = store.models, store.pg
    MV = m.ModelVersion
    query = MV.select(*shapes.model_version_columns(MV)).where(
        MV.current_stage != _DELETED_STAGE, MV.project == store.project
    )
    clauses = g.parse_registry_filter(
        filter_string, g.MODEL_VERSION_SEARCH_ATTRIBUTES, g.MODEL_VERSION_NUMERIC_ATTRIBUTES
    )
    for clause in clauses:
        if clause["type"] != g.ATTRIBUTE:
            continue
        key, op, value = clause["key"], clause["comparator"], clause["value"]
        column = getattr(MV, _MODEL_VERSION_COLUMN[key])
        if key in g.MODEL_VERSION_NUMERIC_ATTRIBUTES:
            if op not in _NUMERIC_OPS:
                raise invalid(f"Invalid comparator for attribute {key}: {op}")
            number = _version_number(value)
            # Text no integer equals matches nothing (as on 2.7.1's SQLite).
            if number is None:
                condition = pw.SQL("1 = 0")
            else:  # a Value, so that the integer column's converter leaves a float alone
                condition = _compare(pg, column, op, pw.Value(number, converter=False))
        else:
            if op not in _REGISTRY_STRING_OPS | {"IN"} or (op == "IN" and key != "run_id"):
                raise invalid(f"Invalid comparator for attribute: {op}")
            condition = _compare(pg, column, op, value)
        query = query.where(condition)
    tag_clauses = [c for c in clauses if c["type"] == g.TAG]
    for condition in _registry_tag_filters(
        pg,
        m.ModelVersionTag,
        lambda T: (T.project == MV.project) & (T.name == MV.name) & (T.version == MV.version),
        tag_clauses,
    ):
        query = query.where(condition)

    ordering, seen = [], set()
    validate_order_by_count(order_by)
    for clause in order_by or _MODEL_VERSION_DEFAULT_ORDER:
        text, ascending = g.split_order_by(clause)
        kind, key = g.identifier(text, g.MODEL_VERSION_ORDER_ATTRIBUTES, experiments=True)
        if kind != g.ATTRIBUTE or key not in g.MODEL_VERSION_ORDER_ATTRIBUTES:
            raise invalid(
                f"Invalid order by key '{key}' specified. Valid keys are "
                f"{g.MODEL_VERSION_ORDER_ATTRIBUTES}"
            )
        column = _MODEL_VERSION_COLUMN[key]
        if column in seen:
            raise _duplicate_order_by(order_by)
        seen.add(column)
        field = text_order(pg, MV.name) if column == "name" else getattr(MV, column)
        ordering.append(field.asc() if ascending else field.desc())
    if "name" not in seen:
        ordering.append(text_order(pg, MV.name).asc())
    if "version" not in seen:
        ordering.append(MV.version.desc())
    return query.order_by(*ordering)


def page(query, max_results: int, page_token) -> tuple[list, str | None]:
    """A page of a search's rows, and the next page's token when more rows follow."""
    offset = shapes.parse_page_token(page_token)
    rows = list(query.offset(offset).limit(max_results + 1).tuples())
    token = shapes.page_token(offset + max_results) if len(rows) > max_results else None
    return rows[:max_results], token
