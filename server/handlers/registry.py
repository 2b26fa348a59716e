"""registered-models/* and model-versions/*: the model registry.

Fields a request leaves out take protobuf's defaults, as 2.7.1 reads them: "" for strings (so a
version created without a description has description ""), except the description of
model-versions/update, which 2.7.1 reads only when set (left out, it clears the description).
"""

from __future__ import annotations

from server.handlers.common import compact, entries


class RegistryHandlers:
    def __init__(self, store):
        self.store = store

    # ---- registered models ---------------------------------------------------------------

    def create_registered_model(self, body):
        model = self.store.create_registered_model(
            body["name"], entries(body.get("tags")), body.get("description", "")
        )
        return {"registered_model": model}

    def get_registered_model(self, name):
        return {"registered_model": self.store.get_registered_model(name)}

    def update_registered_model(self, body):
        model = self.store.update_registered_model(body["name"], body.get("description", ""))
        return {"registered_model": model}

    def rename_registered_model(self, body):
        model = self.store.rename_registered_model(body["name"], body["new_name"])
        return {"registered_model": model}

    def delete_registered_model(self, body):
        self.store.delete_registered_model(body["name"])
        return {}

    def search_registered_models(
        self, filter=None, max_results=100, order_by=None, page_token=None
    ):
        models, token = self.store.search_registered_models(
            filter_string=filter or None,
            max_results=max_results,
            order_by=order_by or (),
            page_token=page_token or None,
        )
        return compact(registered_models=models, next_page_token=token)

    def get_latest_versions(self, body):
        return self._latest(body["name"], body.get("stages"))

    def get_latest_versions_get(self, name, stages=None):
        return self._latest(name, stages)

    def _latest(self, name, stages):
        return compact(model_versions=self.store.get_latest_versions(name, stages or ()))

    def set_registered_model_tag(self, body):
        self.store.set_registered_model_tag(body["name"], body["key"], body.get("value", ""))
        return {}

    def delete_registered_model_tag(self, body):
        self.store.delete_registered_model_tag(body["name"], body["key"])
        return {}

    # ---- aliases ---------------------------------------------------------------------------

    def set_registered_model_alias(self, body):
        self.store.set_registered_model_alias(body["name"], body["alias"], body["version"])
        return {}

    def delete_registered_model_alias(self, body):
        self.store.delete_registered_model_alias(body["name"], body["alias"])
        return {}

    def get_model_version_by_alias(self, name, alias):
        return {"model_version": self.store.get_model_version_by_alias(name, alias)}

    # ---- model versions --------------------------------------------------------------------

    def create_model_version(self, body):
        version = self.store.create_model_version(
            body["name"],
            body["source"],
            run_id=body.get("run_id", ""),
            tags=entries(body.get("tags")),
            run_link=body.get("run_link", ""),
            description=body.get("description", ""),
        )
        return {"model_version": version}

    def get_model_version(self, name, version):
        return {"model_version": self.store.get_model_version(name, version)}

    def update_model_version(self, body):
        version = self.store.update_model_version(
            body["name"], body["version"], body.get("description")
        )
        return {"model_version": version}

    def transition_model_version_stage(self, body):
        version = self.store.transition_model_version_stage(
            body["name"],
            body["version"],
            body["stage"],
            bool(body.get("archive_existing_versions", False)),
        )
        return {"model_version": version}

    def delete_model_version(self, body):
        self.store.delete_model_version(body["name"], body["version"])
        return {}

    def get_model_version_download_uri(self, name, version):
        return {"artifact_uri": self.store.get_model_version_download_uri(name, version)}

    def search_model_versions(
        self, filter=None, max_results=200_000, order_by=None, page_token=None
    ):
        versions, token = self.store.search_model_versions(
            filter_string=filter or None,
            max_results=max_results,
            order_by=order_by or (),
            page_token=page_token or None,
        )
        return compact(model_versions=versions, next_page_token=token)

    def set_model_version_tag(self, body):
        self.store.set_model_version_tag(
            body["name"], body["version"], body["key"], body.get("value", "")
        )
        return {}

    def delete_model_version_tag(self, body):
        self.store.delete_model_version_tag(body["name"], body["version"], body["key"])
        return {}
