"""experiments/*: create, get, get-by-name, delete, restore, update, set-experiment-tag, search."""

from __future__ import annotations

from server.handlers.common import compact, entries


class ExperimentHandlers:
    def __init__(self, store):
        self.store = store

    def create_experiment(self, body):
        experiment_id = self.store.create_experiment(
            body["name"], body.get("artifact_location") or None, entries(body.get("tags"))
        )
        return {"experiment_id": experiment_id}

    def get_experiment(self, experiment_id):
        return {"experiment": self.store.get_experiment(experiment_id)}

    def get_experiment_by_name(self, experiment_name):
        return {"experiment": self.store.get_experiment_by_name(experiment_name)}

    def delete_experiment(self, body):
        self.store.delete_experiment(body["experiment_id"])
        return {}

    def restore_experiment(self, body):
        self.store.restore_experiment(body["experiment_id"])
        return {}

    def update_experiment(self, body):
        if body.get("new_name"):
            self.store.rename_experiment(body["experiment_id"], body["new_name"])
        return {}

    def set_experiment_tag(self, body):
        self.store.set_experiment_tag(body["experiment_id"], body["key"], body["value"])
        return {}

    def search_experiments(self, body):
        return self._search(**body)

    def search_experiments_get(
        self, max_results=None, filter=None, order_by=None, page_token=None, view_type=None
    ):
        return self._search(max_results, filter, order_by, page_token, view_type)

    def _search(
        self, max_results=None, filter=None, order_by=None, page_token=None, view_type=None, **_
    ):
        experiments, token = self.store.search_experiments(
            view_type=view_type or "ACTIVE_ONLY",
            # Left out, it is protobuf's 0, which 2.7.1's store rejects as not positive.
            max_results=0 if max_results is None else max_results,
            filter_string=filter or None,
            order_by=order_by or (),
            page_token=page_token or None,
        )
        return compact(experiments=experiments, next_page_token=token)
