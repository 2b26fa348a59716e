"""The handlers whose semantics GitLab's document changes; every other one is the stock handler.

- Experiments: ids on the wire are the experiments' numbers within the project (1, 2, ...; no
  experiment 0); the `[model]<name>` experiment of a model cannot be deleted while the model
  exists.
- Runs: artifact URIs are GitLab's generic-package URLs of the project
  (`<host>/api/v4/projects/<id>/packages/generic/ml_experiment_<experiment>/<run>`), so that the
  client uploads over HTTP as it does to GitLab; search_runs takes one experiment id and orders
  by a column or a metric; a run that backs a model version cannot be deleted.
- Registry: creating a model creates its `[model]<name>` experiment, and its name may not be an
  existing experiment's; `tags` on model creation are ignored. A model version gets a SemVer
  version (listed first in its aliases; the `version` field stays a number, which the client's
  `models:/` resolution needs) and a run of the model's experiment that backs it; `source`,
  `run_id`, `run_link` are ignored. get_latest_versions ignores stages and answers the highest
  SemVer version, which is also a model's `latest_versions`. A version's files are at
  `mlflow-artifacts:/<its run id>`. A model version's current_stage is "development".
- Write-once run data: a run's params and tags are set once; setting a key again (set-tag,
  log-param, or through log-batch, also twice within one batch) is 400. `mlflow.runName` is no
  tag in GitLab but the run's name, a column: setting it renames the run, as runs/update does.
- GitLab's limits: param values <= 250 characters (keys and the other run data limits are
  MLflow's); model descriptions <= 10000; searches answer 200 results unless asked otherwise,
  at most 1000 (a larger max_results is capped, the rest comes with a next_page_token);
  search_registered_models filters only with `name='<text>'`, names containing <text>.
"""

from __future__ import annotations

import time

from server.dialects import gitlab_rules as rules
from server.dialects.gitlab_rules import (
    MODEL_EXPERIMENT_PREFIX,
    VERSION_STAGE,
    VERSION_TAG,
    GitLabRequest,
    highest_version,
    model_of,
    next_version,
    page_size,
)
from server.errors import MlflowError, invalid, not_found
from server.handlers.common import compact, entries, run_id_of


def download_uri(run_id: str) -> str:
    return f"mlflow-artifacts:/{run_id}"


def _label(version: dict) -> str:
    return version["aliases"][0]


def _public_version(version: dict) -> dict:
    return {
        **version,
        "source": download_uri(version["run_id"]),
        "current_stage": VERSION_STAGE,
    }


class GitLabHandlers:
    """The handlers GitLab changes, for one request to one project: `store` is bound to the
    project, `stock` is the stock handler table bound to the same store."""

    def __init__(self, store, stock: dict, request: GitLabRequest):
        self.store = store
        self.stock = stock
        self.request = request

    # ---- experiments and runs ---------------------------------------------------------------

    # Experiment ids on the wire are the experiments' numbers within the project (1, 2, ...),
    # as GitLab numbers them; the store's own ids stay inside.

    def create_experiment(self, body):
        experiment_id = self.stock["create_experiment"](body)["experiment_id"]
        return {"experiment_id": self._numbers([experiment_id])[experiment_id]}

    def get_experiment(self, experiment_id):
        answer = self.stock["get_experiment"](self._experiment_id(experiment_id))
        return {"experiment": self._public_experiment(answer["experiment"])}

    def get_experiment_by_name(self, experiment_name):
        answer = self.stock["get_experiment_by_name"](experiment_name)
        return {"experiment": self._public_experiment(answer["experiment"])}

    def delete_experiment(self, body):
        experiment_id = self._experiment_id(body["experiment_id"])
        experiment = self.store.get_experiment(experiment_id)
        model = model_of(experiment["name"])
        if model is not None and self._model_exists(model):
            raise invalid(
                f"Experiment {experiment['name']} belongs to model {model}: delete the model "
                "instead"
            )
        return self.stock["delete_experiment"]({**body, "experiment_id": experiment_id})

    def create_run(self, body):
        if body.get("experiment_id") not in (None, ""):
            body = {**body, "experiment_id": self._experiment_id(body["experiment_id"])}
        answer = self.stock["create_run"](body)
        return {**answer, "run": self._public_runs([answer["run"]])[0]}

    def get_run(self, run_id=None, run_uuid=None):
        answer = self.stock["get_run"](run_id=run_id, run_uuid=run_uuid)
        return {**answer, "run": self._public_runs([answer["run"]])[0]}

    def update_run(self, body):
        answer = self.stock["update_run"](body)
        run = self._public_runs([{"info": answer["run_info"]}])[0]
        return {**answer, "run_info": run["info"]}

    def delete_run(self, body):
        run_id = run_id_of(body)
        run = self.store.get_run(run_id)
        experiment = self.store.get_experiment(run["info"]["experiment_id"])
        model = model_of(experiment["name"])
        if (
            model is not None
            and self._model_exists(model)
            and any(v.get("run_id") == run_id for v in self.store.model_versions_of(model))
        ):
            raise invalid(f"Run {run_id} backs a version of model {model}: it cannot be deleted")
        return self.stock["delete_run"](body)

    def search_runs(self, body):
        experiment_ids = body.get("experiment_ids") or []
        rules.check_search_runs(experiment_ids, body.get("order_by"))
        experiment_id = self.store.experiment_id_of_number(experiment_ids[0])
        if experiment_id is None:
            return {}  # as for an experiment id that does not exist
        answer = self.stock["search_runs"](
            {
                **body,
                "experiment_ids": [experiment_id],
                "max_results": page_size(body.get("max_results")),
            }
        )
        if "runs" in answer:
            answer = {**answer, "runs": self._public_runs(answer["runs"])}
        return answer

    # Params and tags are write-once: the run stays locked from the check to the write.

    def log_param(self, body):
        rules.check_param_value(body.get("key"), body.get("value"))
        run_id = run_id_of(body)
        with self.store.transaction():
            params, _ = self.store.run_data_keys(run_id)
            rules.check_write_once(run_id, "param", [body.get("key")], params)
            return self.stock["log_param"](body)

    def set_tag(self, body):
        run_id = run_id_of(body)
        with self.store.transaction():
            _, tags = self.store.run_data_keys(run_id)
            rules.check_write_once(run_id, "tag", [body.get("key")], tags)
            return self.stock["set_tag"](body)

    def log_batch(self, body):
        params, tags = body.get("params") or (), body.get("tags") or ()
        run_id = body.get("run_id")
        if not run_id or not (params or tags):
            return self.stock["log_batch"](body)  # nothing write-once: the stock checks apply
        for param in params:
            rules.check_param_value(param.get("key"), param.get("value"))
        with self.store.transaction():
            param_keys, tag_keys = self.store.run_data_keys(run_id)
            rules.check_write_once(run_id, "param", [p.get("key", "") for p in params], param_keys)
            rules.check_write_once(run_id, "tag", [t.get("key", "") for t in tags], tag_keys)
            return self.stock["log_batch"](body)

    # ---- registered models ------------------------------------------------------------------

    def create_registered_model(self, body):
        name = body["name"]
        rules.check_description(body.get("description"))
        with self.store.transaction():
            if self._experiment(name) is not None:
                raise invalid(f"Model name {name} cannot be the name of an existing experiment")
            # `tags` is ignored, as documented.
            model = self.store.create_registered_model(name, (), body.get("description", ""))
            self._model_experiment(name)
        return {"registered_model": model}

    def get_registered_model(self, name):
        return {"registered_model": self._public_model(self.store.get_registered_model(name))}

    def update_registered_model(self, body):
        rules.check_description(body.get("description"))
        answer = self.stock["update_registered_model"](body)
        return {"registered_model": self._public_model(answer["registered_model"])}

    def delete_registered_model(self, body):
        name = body["name"]
        with self.store.transaction():
            self.store.delete_registered_model(name)
            experiment = self._experiment(MODEL_EXPERIMENT_PREFIX + name)
            if experiment is not None and experiment["lifecycle_stage"] == "active":
                self.store.delete_experiment(experiment["experiment_id"])
        return {}

    def search_registered_models(
        self, filter=None, max_results=None, order_by=None, page_token=None
    ):
        # The adapted contract's default is GitLab's page size; a larger one is capped.
        models, token = self.store.search_registered_models(
            max_results=page_size(max_results),
            order_by=order_by or (),
            page_token=page_token or None,
            name_contains=rules.model_name_filter(filter),
        )
        return compact(
            registered_models=[self._public_model(m) for m in models], next_page_token=token
        )

    # ---- model versions ---------------------------------------------------------------------

    def create_model_version(self, body):
        name = body["name"]
        # `source`, `run_id`, `run_link` (and the client's await_creation_for) are ignored.
        tags = entries(body.get("tags"))
        requested = None
        for tag in tags:
            if tag["key"] == VERSION_TAG:
                requested = tag["value"]
        with self.store.transaction():
            existing = [_label(v) for v in self.store.model_versions_of(name)]
            label = next_version(existing, requested)
            experiment_id = self._model_experiment(name)
            run = self.store.create_run(
                experiment_id=experiment_id, start_time=int(time.time() * 1000), tags=()
            )
            version = self.store.create_model_version(
                name,
                run["info"]["artifact_uri"],
                run_id=run["info"]["run_id"],
                tags=tags,
                run_link="",
                description=body.get("description", ""),
                label=label,
            )
        return {"model_version": _public_version(version)}

    def get_model_version(self, name, version):
        return {"model_version": _public_version(self.store.get_model_version(name, version))}

    def update_model_version(self, body):
        answer = self.stock["update_model_version"](body)
        return {"model_version": _public_version(answer["model_version"])}

    def get_latest_versions(self, body):
        return self._latest(body["name"])

    def get_latest_versions_get(self, name, stages=None):
        return self._latest(name)

    def get_model_version_download_uri(self, name, version):
        found = self.store.get_model_version(name, version)
        return {"artifact_uri": download_uri(found["run_id"])}

    # ---- helpers ----------------------------------------------------------------------------

    def _package_uri(self, experiment_number: str, run_id: str | None = None) -> str:
        """The generic package of an experiment's runs (of one run, given its id), as on
        GitLab: where the client uploads a run's files."""
        uri = (
            f"{self.request.base_url}/api/v4/projects/{self.request.project_id}/packages/"
            f"generic/ml_experiment_{experiment_number}"
        )
        return uri if run_id is None else f"{uri}/{run_id}"

    def _experiment_id(self, number) -> str:
        """The store's id of the project's experiment with this number."""
        found = self.store.experiment_id_of_number(number)
        if found is None:
            raise not_found(f"No Experiment with id={number} exists")
        return found

    def _numbers(self, experiment_ids) -> dict[str, str]:
        numbers = self.store.experiment_numbers(experiment_ids)
        return {i: numbers.get(str(i), str(i)) for i in experiment_ids}

    def _public_experiment(self, experiment: dict) -> dict:
        number = self._numbers([experiment["experiment_id"]])[experiment["experiment_id"]]
        return {
            **experiment,
            "experiment_id": number,
            "artifact_location": self._package_uri(number),
        }

    def _public_runs(self, runs: list[dict]) -> list[dict]:
        numbers = self._numbers({r["info"]["experiment_id"] for r in runs})
        out = []
        for run in runs:
            number = numbers[run["info"]["experiment_id"]]
            info = {
                **run["info"],
                "experiment_id": number,
                "artifact_uri": self._package_uri(number, run["info"]["run_id"]),
            }
            out.append({**run, "info": info})
        return out

    def _latest(self, name):
        """`stages` is ignored: the highest SemVer version."""
        latest = self._highest(self.store.model_versions_of(name))
        return {"model_versions": [latest]} if latest else {}

    @staticmethod
    def _highest(versions: list[dict]) -> dict | None:
        label = highest_version([_label(v) for v in versions])
        found = next((v for v in versions if _label(v) == label), None)
        return _public_version(found) if found else None

    def _public_model(self, model: dict) -> dict:
        model = {k: v for k, v in model.items() if k != "latest_versions"}
        latest = self._highest(self.store.model_versions_of(model["name"]))
        return {**model, "latest_versions": [latest]} if latest else model

    def _experiment(self, name: str) -> dict | None:
        try:
            return self.store.get_experiment_by_name(name)
        except MlflowError as e:
            if e.error_code == "RESOURCE_DOES_NOT_EXIST":
                return None
            raise

    def _model_experiment(self, model: str) -> str:
        """The id of the model's `[model]<name>` experiment, created (or restored) if need be."""
        name = MODEL_EXPERIMENT_PREFIX + model
        experiment = self._experiment(name)
        if experiment is None:
            return self.store.create_experiment(name)
        if experiment["lifecycle_stage"] != "active":
            self.store.restore_experiment(experiment["experiment_id"])
        return experiment["experiment_id"]

    def _model_exists(self, name: str) -> bool:
        try:
            self.store.get_registered_model(name)
        except MlflowError as e:
            if e.error_code == "RESOURCE_DOES_NOT_EXIST":
                return False
            raise
        return True


# The operations whose stock handler GitLab's replaces.
OVERRIDDEN = frozenset(
    name
    for name, member in vars(GitLabHandlers).items()
    if callable(member) and not name.startswith("_")
)
