"""runs/* and metrics/get-history: runs, their metrics, params, tags, inputs, models and search."""

from __future__ import annotations

from connexion.context import request

from server.errors import MlflowError
from server.handlers.common import compact, entries, metric_value, run_id_of
from server.request_validation import invalid_message
from server.wire import RAW_JSON_SCOPE_KEY


def _raw_field(body: dict, name: str):
    """A field of the request JSON as sent (with any nulls the wire layer dropped)."""
    raw = request.scope.get(RAW_JSON_SCOPE_KEY)
    return (raw if isinstance(raw, dict) else body).get(name)


def _check_batch_fields(body: dict) -> None:
    """2.7.1's _assert_metrics_fields_present / _assert_params_tags_fields_present: every metric
    needs key, value and timestamp, every param and tag a key (None or "" count as missing);
    the error quotes the whole list as Python prints it."""
    for name, fields in (
        ("metrics", ("key", "value", "timestamp")),
        ("params", ("key",)),
        ("tags", ("key",)),
    ):
        for entry in body.get(name) or ():
            for field in fields:
                value = entry.get(field)
                if value is None or value == "":
                    raise MlflowError(invalid_message(name, _raw_field(body, name)))


class RunHandlers:
    def __init__(self, store):
        self.store = store

    def create_run(self, body):
        run = self.store.create_run(
            # Left out, it is "": 2.7.1 then fails the insert (BAD_REQUEST), as the store does.
            experiment_id=body.get("experiment_id", ""),
            user_id=body.get("user_id") or None,
            start_time=body.get("start_time"),
            tags=entries(body.get("tags")),
            run_name=body.get("run_name") or None,
        )
        return {"run": run}

    def get_run(self, run_id=None, run_uuid=None):
        return {"run": self.store.get_run(run_id_of(run_id=run_id, run_uuid=run_uuid))}

    def update_run(self, body):
        info = self.store.update_run_info(
            run_id_of(body),
            status=body.get("status"),
            end_time=body.get("end_time"),
            run_name=body.get("run_name"),
        )
        return {"run_info": info}

    def delete_run(self, body):
        self.store.delete_run(run_id_of(body))
        return {}

    def restore_run(self, body):
        self.store.restore_run(run_id_of(body))
        return {}

    def log_metric(self, body):
        self.store.log_metric(
            run_id_of(body),
            body["key"],
            metric_value(body["value"]),
            body["timestamp"],
            body.get("step") or 0,
        )
        return {}

    def log_param(self, body):
        self.store.log_param(run_id_of(body), body["key"], body["value"])
        return {}

    def set_tag(self, body):
        self.store.set_tag(run_id_of(body), body["key"], body["value"])
        return {}

    def delete_tag(self, body):
        self.store.delete_tag(run_id_of(body), body["key"])
        return {}

    def log_batch(self, body):
        _check_batch_fields(body)
        # Fields left out take protobuf's defaults, as 2.7.1 parses them; the store validates.
        metrics = [
            {
                "key": m.get("key", ""),
                "value": metric_value(m.get("value", 0.0), f"metrics.{i}.value"),
                "timestamp": m.get("timestamp", 0),
                "step": m.get("step", 0),
            }
            for i, m in enumerate(body.get("metrics") or ())
        ]
        params = [
            {"key": p.get("key", ""), "value": p.get("value", "")} for p in body.get("params") or ()
        ]
        tags = [
            {"key": t.get("key", ""), "value": t.get("value", "")} for t in body.get("tags") or ()
        ]
        # LogBatch, LogInputs and LogModel have no run_uuid: one sent passes 2.7.1's required
        # check for run_id, but the run_id used is then the empty default.
        self.store.log_batch(body.get("run_id", ""), metrics=metrics, params=params, tags=tags)
        return {}

    def log_inputs(self, body):
        self.store.log_inputs(body.get("run_id", ""), datasets=body.get("datasets") or ())
        return {}

    def log_model(self, body):
        self.store.log_model(body.get("run_id", ""), body.get("model_json") or "")
        return {}

    def search_runs(self, body):
        runs, token = self.store.search_runs(
            experiment_ids=body.get("experiment_ids") or [],
            filter_string=body.get("filter") or None,
            run_view_type=body.get("run_view_type") or "ACTIVE_ONLY",
            max_results=body.get("max_results", 1000),
            order_by=body.get("order_by") or (),
            page_token=body.get("page_token") or None,
        )
        return compact(runs=runs, next_page_token=token)

    def get_metric_history(
        self, metric_key, run_id=None, run_uuid=None, max_results=None, page_token=None
    ):
        metrics, token = self.store.get_metric_history(
            run_id_of(run_id=run_id, run_uuid=run_uuid),
            metric_key,
            max_results=max_results,
            page_token=page_token or None,
        )
        return compact(metrics=metrics, next_page_token=token)
