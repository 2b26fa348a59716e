"""The endpoints MLflow 2.7.1's web UI calls besides the REST API: artifact previews
(/get-artifact, /model-versions/get-artifact), its charts' metric histories
(metrics/get-history-bulk), its dataset filter (experiments/search-datasets) and its AI gateway
probe (gateway-proxy), as 2.7.1's server answers them."""

from __future__ import annotations

import posixpath

from server.artifacts import check_path
from server.errors import MlflowError
from server.handlers.artifacts import file_response, proxied_path
from server.handlers.common import run_id_of

# 2.7.1's get_metric_history_bulk_handler: at most 20 runs, at most 25000 points in all.
MAX_RUN_IDS_PER_REQUEST = 20
MAX_HISTORY_RESULTS = 25000
# 2.7.1's search_datasets_handler: at most 20 experiments.
MAX_EXPERIMENT_IDS_PER_REQUEST = 20


class UiHandlers:
    def __init__(self, store, artifacts):
        self.store = store
        self.artifacts = artifacts

    async def get_artifact(self, path, run_id=None, run_uuid=None):
        check_path(path)
        run = self.store.get_run(run_id_of(run_id=run_id, run_uuid=run_uuid))
        return await self._file(run["info"]["artifact_uri"], path)

    async def get_model_version_artifact(self, name, version, path):
        check_path(path)
        return await self._file(self.store.get_model_version_download_uri(name, version), path)

    async def _file(self, root_uri: str, path: str):
        return await file_response(self.artifacts, posixpath.join(proxied_path(root_uri), path))

    def get_metric_history_bulk(self, run_id=None, metric_key=None, max_results=None):
        run_ids = run_id or []
        if not run_ids:
            raise MlflowError("GetMetricHistoryBulk request must specify at least one run_id.")
        if len(run_ids) > MAX_RUN_IDS_PER_REQUEST:
            raise MlflowError(
                f"GetMetricHistoryBulk request cannot specify more than {MAX_RUN_IDS_PER_REQUEST}"
                f" run_ids. Received {len(run_ids)} run_ids."
            )
        if metric_key is None:
            raise MlflowError("GetMetricHistoryBulk request must specify a metric_key.")
        # Capped, as 2.7.1 does; a negative number, which 2.7.1 hands to SQL as the limit
        # (none on SQLite, a 500 on PostgreSQL), is capped too.
        capped = max_results is None or max_results < 0 or max_results > MAX_HISTORY_RESULTS
        limit = MAX_HISTORY_RESULTS if capped else max_results
        return {"metrics": self.store.get_metric_history_bulk(run_ids, metric_key, limit)}

    def search_datasets(self, body):
        experiment_ids = body.get("experiment_ids") or []
        if not experiment_ids:
            raise MlflowError("SearchDatasets request must specify at least one experiment_id.")
        if len(experiment_ids) > MAX_EXPERIMENT_IDS_PER_REQUEST:
            raise MlflowError(
                "SearchDatasets request cannot specify more than"
                f" {MAX_EXPERIMENT_IDS_PER_REQUEST} experiment_ids."
                f" Received {len(experiment_ids)} experiment_ids."
            )
        return {"dataset_summaries": self.store.search_dataset_summaries(experiment_ids)}

    def gateway_proxy(self, body=None):
        # No AI gateway is configured: 2.7.1 then answers an empty gateway, whatever is asked.
        return {"routes": []}

    def gateway_proxy_get(self, gateway_path=None):
        return self.gateway_proxy()
