"""Runs: lifecycle, metrics, params, tags, log-batch limits, log-inputs, deleted/missing runs."""

from ..harness import Scenario, get, post

NAME = "diff-${u}"


def new_experiment(step: str = "create-experiment", var: str = "exp", suffix: str = "runs"):
    return post(
        step, "experiments/create", {"name": f"{NAME}-{suffix}"}, capture={var: "experiment_id"}
    )


def new_run(step: str, var: str, exp: str = "exp", **fields):
    body = {"experiment_id": "${" + exp + "}", "start_time": 1000, **fields}
    return post(step, "runs/create", body, capture={var: "run.info.run_id"})


def get_run(step: str, run: str = "run"):
    return get(step, "runs/get", {"run_id": "${" + run + "}"})


def log_metric(name: str, run: str = "run", **fields):
    body = {"run_id": "${" + run + "}", "key": "m", "value": 1.5, "timestamp": 10, "step": 0}
    body.update(fields)
    return post(name, "runs/log-metric", {k: v for k, v in body.items() if v is not None})


def log_param(step: str, key: str, value, run: str = "run"):
    return post(
        step, "runs/log-parameter", {"run_id": "${" + run + "}", "key": key, "value": value}
    )


def set_tag(step: str, key: str, value, run: str = "run"):
    return post(step, "runs/set-tag", {"run_id": "${" + run + "}", "key": key, "value": value})


def log_batch(step: str, run: str = "run", **fields):
    return post(step, "runs/log-batch", {"run_id": "${" + run + "}", **fields})


LIFECYCLE = Scenario(
    "runs-lifecycle",
    doc="create with and without name and tags, get, update, delete, restore",
    steps=[
        new_experiment(),
        new_run(
            "create-named",
            "run",
            run_name="my run",
            user_id="alice",
            tags=[{"key": "t1", "value": "v1"}, {"key": "mlflow.source.type", "value": "LOCAL"}],
        ),
        get_run("get"),
        get("get-by-uuid", "runs/get", {"run_uuid": "${run}"}),
        post(
            "update-status",
            "runs/update",
            {"run_id": "${run}", "status": "FINISHED", "end_time": 5000},
        ),
        get_run("get-finished"),
        post("update-name", "runs/update", {"run_id": "${run}", "run_name": "renamed run"}),
        get_run("get-renamed"),
        post("update-status-only", "runs/update", {"run_id": "${run}", "status": "FAILED"}),
        post(
            "update-killed",
            "runs/update",
            {"run_id": "${run}", "status": "KILLED", "end_time": 6000},
        ),
        post("update-scheduled", "runs/update", {"run_id": "${run}", "status": "SCHEDULED"}),
        post("update-bad-status", "runs/update", {"run_id": "${run}", "status": "DONE"}),
        post("update-end-time-string", "runs/update", {"run_id": "${run}", "end_time": "late"}),
        post("update-nothing", "runs/update", {"run_id": "${run}"}),
        get_run("get-after-updates"),
        post("delete", "runs/delete", {"run_id": "${run}"}),
        get_run("get-deleted"),
        post("delete-again", "runs/delete", {"run_id": "${run}"}),
        post("restore", "runs/restore", {"run_id": "${run}"}),
        post("restore-again", "runs/restore", {"run_id": "${run}"}),
        get_run("get-restored"),
        new_run("create-unnamed", "anon", start_time=2000),
        get_run("get-unnamed", "anon"),
        new_run(
            "create-name-by-tag",
            "tagged",
            start_time=3000,
            tags=[{"key": "mlflow.runName", "value": "from tag"}],
        ),
        get_run("get-name-by-tag", "tagged"),
        new_run(
            "create-name-and-tag-disagree",
            "both",
            start_time=3500,
            run_name="from field",
            tags=[{"key": "mlflow.runName", "value": "from tag"}],
        ),
        new_run(
            "create-name-and-tag-agree",
            "agree",
            start_time=3600,
            run_name="same",
            tags=[{"key": "mlflow.runName", "value": "same"}],
        ),
        get_run("get-name-and-tag-agree", "agree"),
        post(
            "create-no-start-time",
            "runs/create",
            {"experiment_id": "${exp}", "run_name": "clock"},
            capture={"clock": "run.info.run_id"},
        ),
        post(
            "create-in-default", "runs/create", {"run_name": "default-exp run", "start_time": 4000}
        ),
        post(
            "create-missing-experiment", "runs/create", {"experiment_id": "987654", "start_time": 1}
        ),
        post("create-bad-experiment-id", "runs/create", {"experiment_id": "abc", "start_time": 1}),
        post(
            "create-start-time-string",
            "runs/create",
            {"experiment_id": "${exp}", "start_time": "x"},
        ),
        post(
            "create-tags-not-list", "runs/create", {"experiment_id": "${exp}", "tags": {"a": "b"}}
        ),
        post("delete-experiment", "experiments/delete", {"experiment_id": "${exp}"}),
        new_run("create-in-deleted-experiment", "late"),
        get_run("get-run-of-deleted-experiment"),
    ],
)

MISSING = Scenario(
    "runs-missing",
    doc="runs that do not exist, malformed ids, missing run_id",
    steps=[
        get("get-missing", "runs/get", {"run_id": "0123456789abcdef0123456789abcdef"}),
        get("get-no-id", "runs/get"),
        get("get-bad-id", "runs/get", {"run_id": "../../etc/passwd"}),
        post("update-missing", "runs/update", {"run_id": "0123456789abcdef0123456789abcdef"}),
        post("delete-missing", "runs/delete", {"run_id": "0123456789abcdef0123456789abcdef"}),
        post("restore-missing", "runs/restore", {"run_id": "0123456789abcdef0123456789abcdef"}),
        post("delete-no-id", "runs/delete", {}),
        post("update-no-id", "runs/update", {"status": "FINISHED"}),
        log_metric("log-metric-missing", run="missing"),
        post(
            "log-metric-missing-run",
            "runs/log-metric",
            {"run_id": "0123456789abcdef0123456789abcdef", "key": "m", "value": 1, "timestamp": 1},
        ),
        post(
            "log-param-missing-run",
            "runs/log-parameter",
            {"run_id": "0123456789abcdef0123456789abcdef", "key": "p", "value": "1"},
        ),
        post(
            "set-tag-missing-run",
            "runs/set-tag",
            {"run_id": "0123456789abcdef0123456789abcdef", "key": "t", "value": "1"},
        ),
        post(
            "delete-tag-missing-run",
            "runs/delete-tag",
            {"run_id": "0123456789abcdef0123456789abcdef", "key": "t"},
        ),
        post(
            "log-batch-missing-run",
            "runs/log-batch",
            {"run_id": "0123456789abcdef0123456789abcdef", "params": [{"key": "a", "value": "b"}]},
        ),
        get(
            "history-missing-run",
            "metrics/get-history",
            {"run_id": "0123456789abcdef0123456789abcdef", "metric_key": "m"},
        ),
    ],
)

METRICS = Scenario(
    "runs-metrics",
    doc="log-metric values (NaN, infinities, ints), timestamps, steps; metric history",
    steps=[
        new_experiment(),
        new_run("create-run", "run"),
        log_metric("log"),
        log_metric("log-step-1", value=2.5, timestamp=20, step=1),
        log_metric("log-same-step-again", value=3.5, timestamp=30, step=1),
        log_metric("log-int-value", key="int", value=7),
        log_metric("log-nan-string", key="nan", value="NaN"),
        log_metric("log-nan-literal", key="nan2", value=float("nan")),
        log_metric("log-inf", key="inf", value="Infinity"),
        log_metric("log-neg-inf", key="ninf", value="-Infinity"),
        log_metric("log-inf-literal", key="inf2", value=float("inf")),
        log_metric("log-negative-timestamp", key="neg", timestamp=-5),
        log_metric("log-negative-step", key="negstep", step=-3),
        log_metric("log-big-step", key="bigstep", step=2**40),
        log_metric("log-no-step", key="nostep", step=None),
        post(
            "log-no-timestamp", "runs/log-metric", {"run_id": "${run}", "key": "nots", "value": 1}
        ),
        post(
            "log-no-value", "runs/log-metric", {"run_id": "${run}", "key": "noval", "timestamp": 1}
        ),
        post("log-no-key", "runs/log-metric", {"run_id": "${run}", "value": 1, "timestamp": 1}),
        post("log-nothing", "runs/log-metric", {}),
        log_metric("log-empty-key", key=""),
        post(
            "log-empty-value",
            "runs/log-metric",
            {"run_id": "${run}", "key": "ev", "value": "", "timestamp": 1},
        ),
        post(
            "log-empty-run-id-with-uuid",
            "runs/log-metric",
            {"run_id": "", "run_uuid": "${run}", "key": "eu", "value": 1, "timestamp": 1},
        ),
        post(
            "log-null-run-id-with-uuid",
            "runs/log-metric",
            {"run_id": None, "run_uuid": "${run}", "key": "nu", "value": 1, "timestamp": 1},
        ),
        post(
            "log-null-step",
            "runs/log-metric",
            {"run_id": "${run}", "key": "nullstep", "value": 1, "timestamp": 1, "step": None},
        ),
        log_metric("log-value-string", key="str", value="abc"),
        log_metric("log-value-numeric-string", key="numstr", value="2.5"),
        log_metric("log-value-bool", key="bool", value=True),
        log_metric("log-timestamp-string", key="tsstr", timestamp="soon"),
        log_metric("log-timestamp-float", key="tsfloat", timestamp=1.5),
        log_metric("log-key-slash", key="a/b.c-d e_f"),
        log_metric("log-key-dotdot", key="../evil"),
        log_metric("log-key-too-long", key="k" * 251),
        log_metric("log-key-250", key="k" * 250),
        get_run("get"),
        get("history", "metrics/get-history", {"run_id": "${run}", "metric_key": "m"}),
        get("history-by-uuid", "metrics/get-history", {"run_uuid": "${run}", "metric_key": "m"}),
        get("history-nan", "metrics/get-history", {"run_id": "${run}", "metric_key": "nan"}),
        get("history-inf", "metrics/get-history", {"run_id": "${run}", "metric_key": "inf"}),
        get(
            "history-max-results",
            "metrics/get-history",
            {"run_id": "${run}", "metric_key": "m", "max_results": 1},
        ),
        get(
            "history-page-token",
            "metrics/get-history",
            {"run_id": "${run}", "metric_key": "m", "max_results": 1, "page_token": "abc"},
        ),
        get("history-unknown-key", "metrics/get-history", {"run_id": "${run}", "metric_key": "zz"}),
        get("history-no-key", "metrics/get-history", {"run_id": "${run}"}),
        get("history-no-run", "metrics/get-history", {"metric_key": "m"}),
    ],
)

PARAMS_TAGS = Scenario(
    "runs-params-tags",
    doc="log-parameter (re-log same and different value, limits), set-tag, delete-tag",
    steps=[
        new_experiment(),
        new_run("create-run", "run"),
        log_param("log", "lr", "0.01"),
        log_param("relog-same", "lr", "0.01"),
        log_param("relog-different", "lr", "0.02"),
        log_param("value-empty", "empty", ""),
        log_param("value-500", "long", "v" * 500),
        log_param("value-501", "toolong", "v" * 501),
        log_param("key-251", "k" * 251, "v"),
        log_param("key-bad-chars", "a:b", "v"),
        log_param("key-dotdot", "../x", "v"),
        log_param("value-int", "intval", 5),
        post("no-value", "runs/log-parameter", {"run_id": "${run}", "key": "novalue"}),
        post("no-key", "runs/log-parameter", {"run_id": "${run}", "value": "v"}),
        set_tag("set-tag", "color", "red"),
        set_tag("overwrite-tag", "color", "blue"),
        set_tag("tag-value-5000", "big", "v" * 5000),
        set_tag("tag-value-5001", "bigger", "v" * 5001),
        set_tag("tag-key-251", "k" * 251, "v"),
        set_tag("tag-value-int", "num", 3),
        set_tag("tag-rename-run", "mlflow.runName", "renamed by tag"),
        post("tag-no-value", "runs/set-tag", {"run_id": "${run}", "key": "novalue"}),
        get_run("get"),
        post("delete-tag", "runs/delete-tag", {"run_id": "${run}", "key": "color"}),
        post("delete-tag-again", "runs/delete-tag", {"run_id": "${run}", "key": "color"}),
        post("delete-tag-no-key", "runs/delete-tag", {"run_id": "${run}"}),
        get_run("get-after-delete-tag"),
    ],
)


def _metrics(n: int, key: str = "m{i}"):
    return [{"key": key.format(i=i), "value": i, "timestamp": 100 + i, "step": i} for i in range(n)]


def _params(n: int):
    return [{"key": f"p{i}", "value": str(i)} for i in range(n)]


def _tags(n: int):
    return [{"key": f"t{i}", "value": str(i)} for i in range(n)]


LOG_BATCH = Scenario(
    "runs-log-batch",
    doc="log-batch: mixed entities, limits, duplicates, over-long keys and values",
    steps=[
        new_experiment(),
        new_run("create-run", "run"),
        log_batch(
            "empty",
        ),
        log_batch(
            "mixed",
            metrics=_metrics(3),
            params=_params(3),
            tags=_tags(3),
        ),
        get_run("get-after-mixed"),
        log_batch("metrics-1000", metrics=_metrics(1000, "many")),
        log_batch("metrics-1001", metrics=_metrics(1001)),
        log_batch("params-100", params=[{"key": f"q{i}", "value": "v"} for i in range(100)]),
        log_batch("params-101", params=_params(101)),
        log_batch("tags-100", tags=[{"key": f"u{i}", "value": "v"} for i in range(100)]),
        log_batch("tags-101", tags=_tags(101)),
        log_batch(
            "entities-1001",
            metrics=_metrics(900, "e{i}"),
            params=[{"key": f"ep{i}", "value": "v"} for i in range(100)],
            tags=[{"key": "et", "value": "v"}],
        ),
        log_batch(
            "duplicate-param-keys", params=[{"key": "d", "value": "1"}, {"key": "d", "value": "2"}]
        ),
        log_batch(
            "duplicate-param-same", params=[{"key": "s", "value": "1"}, {"key": "s", "value": "1"}]
        ),
        log_batch(
            "duplicate-tag-keys", tags=[{"key": "dt", "value": "1"}, {"key": "dt", "value": "2"}]
        ),
        log_batch(
            "duplicate-metric-keys",
            metrics=[
                {"key": "dm", "value": 1, "timestamp": 1, "step": 0},
                {"key": "dm", "value": 2, "timestamp": 2, "step": 1},
            ],
        ),
        log_batch("relog-param-different", params=[{"key": "p0", "value": "changed"}]),
        log_batch("relog-param-same", params=[{"key": "p0", "value": "0"}]),
        log_batch("param-key-too-long", params=[{"key": "k" * 251, "value": "v"}]),
        log_batch("param-value-too-long", params=[{"key": "pv", "value": "v" * 501}]),
        log_batch("tag-value-too-long", tags=[{"key": "tv", "value": "v" * 5001}]),
        log_batch("tag-key-too-long", tags=[{"key": "k" * 251, "value": "v"}]),
        log_batch("metric-key-too-long", metrics=[{"key": "k" * 251, "value": 1, "timestamp": 1}]),
        log_batch("metric-no-value", metrics=[{"key": "nv", "timestamp": 1}]),
        log_batch("metric-no-timestamp", metrics=[{"key": "nt", "value": 1}]),
        log_batch("metric-nan", metrics=[{"key": "bn", "value": "NaN", "timestamp": 1, "step": 0}]),
        log_batch("metric-value-string", metrics=[{"key": "bs", "value": "x", "timestamp": 1}]),
        log_batch("param-no-value", params=[{"key": "pnv"}]),
        log_batch("param-no-key", params=[{"value": "v"}]),
        log_batch("tag-empty-key", tags=[{"key": "", "value": "v"}]),
        log_batch("metric-null-value", metrics=[{"key": "nl", "value": None, "timestamp": 1}]),
        log_batch(
            "metric-empty-key-among-good",
            metrics=[
                {"key": "g", "value": 1, "timestamp": 1},
                {"key": "", "value": 1, "timestamp": 1},
            ],
        ),
        post(
            "run-uuid-only",
            "runs/log-batch",
            {"run_uuid": "${run}", "params": [{"key": "u", "value": "1"}]},
        ),
        log_batch("metrics-not-list", metrics={"key": "m", "value": 1}),
        post("no-run-id", "runs/log-batch", {"params": [{"key": "a", "value": "b"}]}),
        get_run("get-final"),
        get(
            "history-duplicate-metric",
            "metrics/get-history",
            {"run_id": "${run}", "metric_key": "dm"},
        ),
        get(
            "history-many-999", "metrics/get-history", {"run_id": "${run}", "metric_key": "many999"}
        ),
    ],
)

INPUTS = Scenario(
    "runs-log-inputs",
    doc="log-inputs with dataset inputs; shown in runs/get inputs",
    steps=[
        new_experiment(),
        new_run("create-run", "run"),
        post(
            "log-inputs",
            "runs/log-inputs",
            {
                "run_id": "${run}",
                "datasets": [
                    {
                        "tags": [{"key": "mlflow.data.context", "value": "training"}],
                        "dataset": {
                            "name": "iris",
                            "digest": "abc123",
                            "source_type": "local",
                            "source": '{"uri": "/data/iris.csv"}',
                            "schema": '{"mlflow_colspec": []}',
                            "profile": '{"num_rows": 150}',
                        },
                    }
                ],
            },
        ),
        post(
            "log-inputs-same-again",
            "runs/log-inputs",
            {
                "run_id": "${run}",
                "datasets": [
                    {
                        "dataset": {
                            "name": "iris",
                            "digest": "abc123",
                            "source_type": "local",
                            "source": '{"uri": "/data/iris.csv"}',
                        }
                    }
                ],
            },
        ),
        post("log-inputs-empty", "runs/log-inputs", {"run_id": "${run}", "datasets": []}),
        post("log-inputs-no-datasets", "runs/log-inputs", {"run_id": "${run}"}),
        post(
            "log-inputs-missing-run",
            "runs/log-inputs",
            {"run_id": "0123456789abcdef0123456789abcdef", "datasets": []},
        ),
        get_run("get"),
    ],
)

DELETED = Scenario(
    "runs-deleted-writes",
    doc="writes to a deleted run are INVALID_PARAMETER_VALUE",
    steps=[
        new_experiment(),
        new_run("create-run", "run"),
        log_param("log-param-before", "p", "1"),
        post("delete", "runs/delete", {"run_id": "${run}"}),
        log_metric("log-metric"),
        log_param("log-param", "q", "1"),
        log_param("relog-param-same", "p", "1"),
        set_tag("set-tag", "t", "1"),
        post("delete-tag", "runs/delete-tag", {"run_id": "${run}", "key": "t"}),
        log_batch("log-batch", params=[{"key": "b", "value": "1"}]),
        log_batch("log-batch-empty"),
        post("update", "runs/update", {"run_id": "${run}", "status": "FINISHED"}),
        post("log-inputs", "runs/log-inputs", {"run_id": "${run}", "datasets": []}),
        get("history", "metrics/get-history", {"run_id": "${run}", "metric_key": "m"}),
        get_run("get"),
    ],
)

SCENARIOS = [LIFECYCLE, MISSING, METRICS, PARAMS_TAGS, LOG_BATCH, INPUTS, DELETED]
