"""The web UI's own endpoints (tagged UI in the spec): artifact previews of a run and of a model
version, the charts' bulk metric history with its limits, the dataset summaries, the gateway
probe, and that none of them is served under the other API prefix."""

from ..harness import Scenario, get, post, raw
from .artifacts import RUN_DIR, put
from .registry import create_model, create_version
from .runs import log_batch, new_experiment, new_run

AJAX = "/ajax-api/2.0/mlflow/"
BULK = AJAX + "metrics/get-history-bulk"
DATASETS = AJAX + "experiments/search-datasets"
GATEWAY = AJAX + "gateway-proxy"
MODEL = "ui-${u}"


def preview(step: str, path: str, run: str = "${run}", key: str = "run_id") -> object:
    return get(step, "/get-artifact", {"path": path, key: run})


def bulk(step: str, run_ids: list[str] | None, **query) -> object:
    return get(step, BULK, {**({"run_id": run_ids} if run_ids is not None else {}), **query})


def _points(key: str, values: list[float], first_step: int = 0) -> list[dict]:
    return [
        {"key": key, "value": v, "timestamp": 100 + i, "step": first_step + i}
        for i, v in enumerate(values)
    ]


ARTIFACT_PREVIEWS = Scenario(
    "ui-artifact-previews",
    doc="/get-artifact and /model-versions/get-artifact: text, image, nested files, a model "
    "version's files, and paths or runs that cannot be previewed",
    steps=[
        new_experiment(suffix="ui-artifacts"),
        new_run("create-run", "run"),
        put("put-text", f"{RUN_DIR}/notes.txt", b"hello from the artifacts pane\n"),
        put("put-image", f"{RUN_DIR}/images/plot.png", b"\x89PNG\r\n\x1a\nnot really"),
        put("put-mlmodel", f"{RUN_DIR}/model/MLmodel", b"flavors: {}\n"),
        put("put-json", f"{RUN_DIR}/dir/data.json", b'{"a": [1, 2]}'),
        preview("get-text", "notes.txt"),
        preview("get-text-run-uuid", "notes.txt", key="run_uuid"),
        preview("get-image", "images/plot.png"),
        preview("get-nested", "model/MLmodel"),
        preview("get-json", "dir/data.json"),
        preview("get-missing", "never-there.txt"),
        preview("get-a-folder", "dir"),
        preview("get-traversal", "../../../etc/passwd"),
        preview("get-absolute", "/etc/passwd"),
        preview("get-unknown-run", "notes.txt", run="0123456789abcdef0123456789abcdef"),
        create_model("create-model", MODEL),
        create_version(
            "create-version",
            MODEL,
            source="mlflow-artifacts:/${exp}/${run}/artifacts/model",
            run_id="${run}",
        ),
        get(
            "get-version-file",
            "/model-versions/get-artifact",
            {"name": MODEL, "version": "1", "path": "MLmodel"},
        ),
        get(
            "get-version-traversal",
            "/model-versions/get-artifact",
            {"name": MODEL, "version": "1", "path": "../notes.txt"},
        ),
        get(
            "get-version-unknown-model",
            "/model-versions/get-artifact",
            {"name": MODEL + "-nope", "version": "1", "path": "MLmodel"},
        ),
        raw("delete-model", "DELETE", "registered-models/delete", json={"name": MODEL}),
    ],
)

METRIC_HISTORY_BULK = Scenario(
    "ui-metric-history-bulk",
    doc="metrics/get-history-bulk under /ajax-api: ordering across runs, max_results, the "
    "run id and metric key limits, runs that do not exist",
    steps=[
        new_experiment(suffix="ui-bulk"),
        new_run("create-run-a", "a"),
        new_run("create-run-b", "b"),
        log_batch("log-a", run="a", metrics=_points("loss", [0.9, 0.5, 0.25, 0.125])),
        log_batch("log-b", run="b", metrics=_points("loss", [0.8, 0.4]) + _points("acc", [0.7])),
        bulk("one-run", ["${a}"], metric_key="loss"),
        # Points come ordered by run id, and run ids are random: the order across runs is
        # checked against the reference alone (tests/ui/test_ui_endpoints.py).
        bulk("two-runs-one-with-points", ["${b}", "${a}"], metric_key="acc"),
        bulk("max-results", ["${a}"], metric_key="loss", max_results=3),
        bulk("max-results-zero", ["${a}"], metric_key="loss", max_results=0),
        bulk("max-results-above-limit", ["${a}"], metric_key="loss", max_results=100000),
        bulk("unknown-key", ["${a}"], metric_key="nope"),
        bulk("unknown-run", ["0123456789abcdef0123456789abcdef"], metric_key="loss"),
        bulk("no-run-id", None, metric_key="loss"),
        bulk("no-metric-key", ["${a}"]),
        bulk("twenty-runs", ["${a}"] * 20, metric_key="loss"),
        bulk("twenty-one-runs", ["${a}"] * 21, metric_key="loss"),
        get("not-under-api", "metrics/get-history-bulk", {"run_id": "${a}", "metric_key": "loss"}),
    ],
)


def log_dataset(step: str, run: str, name: str, context: str | None = "training") -> object:
    tags = [{"key": "mlflow.data.context", "value": context}] if context else []
    dataset = {"name": name, "digest": "abc123", "source_type": "local", "source": "{}"}
    return post(
        step,
        "runs/log-inputs",
        {"run_id": "${" + run + "}", "datasets": [{"dataset": dataset, "tags": tags}]},
    )


def search_datasets(step: str, *experiments: str, path: str = DATASETS) -> object:
    return post(step, path, {"experiment_ids": ["${" + e + "}" for e in experiments]})


DATASETS_AND_GATEWAY = Scenario(
    "ui-datasets-and-gateway",
    doc="experiments/search-datasets (with and without a context tag, two experiments logging "
    "one dataset, the experiment id limits) and the gateway probe with no gateway configured",
    steps=[
        new_experiment(suffix="ui-datasets"),
        new_run("create-run", "run"),
        search_datasets("search-empty", "exp"),
        # Names unique to the replay: 2.7.1 shares a dataset between experiments (see below).
        log_dataset("log-inputs", "run", "train-${u}"),
        log_dataset("log-inputs-no-context", "run", "eval-${u}", context=None),
        search_datasets("search-one", "exp"),
        new_experiment("create-experiment-2", "exp2", suffix="ui-datasets-2"),
        new_run("create-run-2", "run2", exp="exp2"),
        log_dataset("log-same-dataset", "run2", "train-${u}"),
        search_datasets("search-second-experiment", "exp2"),
        post("search-no-ids", DATASETS, {"experiment_ids": []}),
        post("search-twenty-one", DATASETS, {"experiment_ids": ["${exp}"] * 21}),
        search_datasets("search-not-under-api", "exp", path="experiments/search-datasets"),
        get("gateway-get", GATEWAY, {"gateway_path": "api/2.0/gateway/routes/"}),
        post("gateway-post", GATEWAY, {"gateway_path": "api/2.0/gateway/routes/"}),
    ],
)

STATIC_FILES = Scenario(
    "ui-static-files",
    doc="the UI's index.html at / and its build's files at /static-files/, from the wheel",
    steps=[
        get("index", "/"),
        get("manifest", "/static-files/manifest.json"),
        get("asset-manifest", "/static-files/asset-manifest.json"),
        get("favicon", "/static-files/favicon.ico"),
        get("missing-file", "/static-files/no-such-file.js"),
    ],
)

SCENARIOS = [ARTIFACT_PREVIEWS, METRIC_HISTORY_BULK, DATASETS_AND_GATEWAY, STATIC_FILES]
