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

import re
import time
from urllib.parse import parse_qs

from connexion.context import request

from server.dialects.gitlab import (
    MODEL_EXPERIMENT_PREFIX,
    VERSION_TAG,
    highest_version,
    next_version,
)
from server.dialects.gitlab_wire import current_request
from server.errors import MlflowError, invalid, not_found
from server.handlers.common import compact, entries, run_id_of

SEARCH_RUNS_CAVEAT = (
    "GitLab: search_runs `experiment_ids` supports only a single experiment ID with order by "
    "column or metric."
)
_ORDER_BY_PARAM_OR_TAG = re.compile(r"^\s*[`\"]?(params?|parameters?|tags?)[`\"]?\.", re.I)
RUN_NAME_TAG = "mlflow.runName"  # the run's name: a column in GitLab, not a write-once tag
MAX_PARAM_VALUE_LENGTH = 250
MAX_MODEL_DESCRIPTION_LENGTH = 10000
SEARCH_MAX_RESULTS_DEFAULT = 200
SEARCH_MAX_RESULTS_CAP = 1000
MODEL_SEARCH_CAVEAT = (
    "GitLab: search_registered_models supports only the filter name='<text>', which selects "
    "the models whose name contains <text>."
)
_NAME_FILTER = re.compile(r"^name='([^']*)'$")
VERSION_STAGE = "development"


def package_uri(experiment_number: str, run_id: str | None = None) -> str:
    """The generic package of an experiment's runs (of one run, given its id), as on GitLab:
    where the client uploads a run's files."""
    request = current_request()
    uri = (
        f"{request.base_url}/api/v4/projects/{request.project_id}/packages/generic/"
        f"ml_experiment_{experiment_number}"
    )
    return uri if run_id is None else f"{uri}/{run_id}"


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


def _max_results(sent) -> int:
    """GitLab's page size: 200 when not asked, never more than 1000 (a larger one is capped)."""
    if sent is None:
        return SEARCH_MAX_RESULTS_DEFAULT
    return min(sent, SEARCH_MAX_RESULTS_CAP)


def _check_param_value(key, value) -> None:
    value = "" if value is None else str(value)
    if len(value) > MAX_PARAM_VALUE_LENGTH:
        raise invalid(
            f"Param value '{value[:250]}' of param '{key}' had length {len(value)}, which exceeded "
            f"GitLab's length limit of {MAX_PARAM_VALUE_LENGTH} (MLflow allows 500)"
        )


def _check_description(description) -> None:
    if description is not None and len(description) > MAX_MODEL_DESCRIPTION_LENGTH:
        raise invalid(
            f"Model description had length {len(description)}, which exceeded GitLab's length "
            f"limit of {MAX_MODEL_DESCRIPTION_LENGTH}"
        )


def _check_write_once(run_id, kind: str, keys, existing: set[str]) -> None:
    """Params and tags are write-once in GitLab: a key the run has, or one sent twice, is 400."""
    seen = set()
    for key in keys:
        if kind == "tag" and key == RUN_NAME_TAG:
            continue
        if key in existing:
            raise invalid(
                f"GitLab: {kind}s are write-once: {kind} '{key}' was already logged for run "
                f"ID='{run_id}' and cannot be set again"
            )
        if key in seen:
            raise invalid(
                f"GitLab: {kind}s are write-once: {kind} '{key}' appears more than once in the "
                "batch"
            )
        seen.add(key)


class GitLabHandlers:
    def __init__(self, store, table: dict):
        self.store = store
        self._table = table
        self.stock = dict(table)  # the stock handlers, which these ones call

    def table(self) -> dict:
        table = self._table
        for name in (
            "create_experiment",
            "get_experiment",
            "get_experiment_by_name",
            "delete_experiment",
            "create_run",
            "get_run",
            "update_run",
            "delete_run",
            "search_runs",
            "log_param",
            "set_tag",
            "log_batch",
            "create_registered_model",
            "get_registered_model",
            "update_registered_model",
            "delete_registered_model",
            "search_registered_models",
            "create_model_version",
            "get_model_version",
            "update_model_version",
            "get_latest_versions",
            "get_latest_versions_get",
            "get_model_version_download_uri",
        ):
            table[name] = getattr(self, name)
        return table

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
        model = _model_of(experiment["name"])
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
        model = _model_of(experiment["name"])
        if (
            model is not None
            and self._model_exists(model)
            and any(v.get("run_id") == run_id for v in self.store.model_versions_of(model))
        ):
            raise invalid(f"Run {run_id} backs a version of model {model}: it cannot be deleted")
        return self.stock["delete_run"](body)

    def search_runs(self, body):
        experiment_ids = body.get("experiment_ids") or []
        if len(experiment_ids) != 1:
            raise invalid(f"{SEARCH_RUNS_CAVEAT} Got {len(experiment_ids)} experiment IDs.")
        for clause in body.get("order_by") or ():
            if _ORDER_BY_PARAM_OR_TAG.match(clause):
                raise invalid(f"{SEARCH_RUNS_CAVEAT} Cannot order by {clause!r}.")
        experiment_id = self.store.experiment_id_of_number(experiment_ids[0])
        if experiment_id is None:
            return {}  # as for an experiment id that does not exist
        answer = self.stock["search_runs"](
            {
                **body,
                "experiment_ids": [experiment_id],
                "max_results": _max_results(body.get("max_results")),
            }
        )
        if "runs" in answer:
            answer = {**answer, "runs": self._public_runs(answer["runs"])}
        return answer

    # Params and tags are write-once: the run stays locked from the check to the write.

    def log_param(self, body):
        _check_param_value(body.get("key"), body.get("value"))
        run_id = run_id_of(body)
        with self.store.transaction():
            params, _ = self.store.run_data_keys(run_id)
            _check_write_once(run_id, "param", [body.get("key")], params)
            return self.stock["log_param"](body)

    def set_tag(self, body):
        run_id = run_id_of(body)
        with self.store.transaction():
            _, tags = self.store.run_data_keys(run_id)
            _check_write_once(run_id, "tag", [body.get("key")], tags)
            return self.stock["set_tag"](body)

    def log_batch(self, body):
        params, tags = body.get("params") or (), body.get("tags") or ()
        run_id = body.get("run_id")
        if not run_id or not (params or tags):
            return self.stock["log_batch"](body)  # nothing write-once: the stock checks apply
        for param in params:
            _check_param_value(param.get("key"), param.get("value"))
        with self.store.transaction():
            param_keys, tag_keys = self.store.run_data_keys(run_id)
            _check_write_once(run_id, "param", [p.get("key", "") for p in params], param_keys)
            _check_write_once(run_id, "tag", [t.get("key", "") for t in tags], tag_keys)
            return self.stock["log_batch"](body)

    # ---- registered models ------------------------------------------------------------------

    def create_registered_model(self, body):
        name = body["name"]
        _check_description(body.get("description"))
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
        _check_description(body.get("description"))
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
        self, filter=None, max_results=100, order_by=None, page_token=None
    ):
        name_contains = None
        if filter:
            match = _NAME_FILTER.match(filter.strip())
            if match is None:
                raise invalid(f"{MODEL_SEARCH_CAVEAT} Got filter {filter!r}.")
            name_contains = match.group(1)
        # The spec's default (MLflow's 100) is filled in: GitLab's applies when none was sent.
        sent = parse_qs(request.scope.get("query_string", b"").decode("latin-1"))
        models, token = self.store.search_registered_models(
            max_results=_max_results(max_results if "max_results" in sent else None),
            order_by=order_by or (),
            page_token=page_token or None,
            name_contains=name_contains,
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
        return {**experiment, "experiment_id": number, "artifact_location": package_uri(number)}

    def _public_runs(self, runs: list[dict]) -> list[dict]:
        numbers = self._numbers({r["info"]["experiment_id"] for r in runs})
        out = []
        for run in runs:
            number = numbers[run["info"]["experiment_id"]]
            info = {
                **run["info"],
                "experiment_id": number,
                "artifact_uri": package_uri(number, run["info"]["run_id"]),
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


def _model_of(experiment_name: str) -> str | None:
    if experiment_name.startswith(MODEL_EXPERIMENT_PREFIX):
        return experiment_name[len(MODEL_EXPERIMENT_PREFIX) :]
    return None
