"""runs/search: every filter operator and entity, quoting, ordering with missing values, paging."""

from ..harness import Scenario, post
from .runs import log_batch, new_experiment, new_run


# Five runs with distinct start times (ties would be broken by random run ids), a spread of
# metrics, params and tags, and some of each missing so ordering by them shows where missing
# values go.
def _run(var, name, start, end, status, metrics, params, tags):
    return var, name, start, end, status, metrics, params, tags


RUNS = [
    _run("r1", "alpha", 1000, 1500, "FINISHED", {"acc": 0.9, "loss": 0.3},
         {"lr": "0.1", "opt": "adam"}, {"team": "red", "note": "first run"}),
    _run("r2", "beta", 2000, 2600, "FAILED", {"acc": 0.7},
         {"lr": "0.01", "opt": "sgd"}, {"team": "blue"}),
    _run("r3", "gamma", 3000, None, "RUNNING", {"acc": 0.8, "loss": 0.5},
         {"lr": "0.001"}, {"team": "Red", "with space": "yes"}),
    _run("r4", "Delta run", 4000, 4100, "KILLED", {"loss": 0.1}, {"opt": "Adam"}, {}),
    _run("r5", "epsilon", 5000, 5900, "FINISHED", {"acc": 0.9, "loss": 0.2, "nan": "NaN"},
         {"lr": "0.1"}, {"team": "green"}),
]  # fmt: skip


def _setup():
    steps = [
        new_experiment(suffix="search"),
        new_experiment("create-experiment-2", "exp2", "search2"),
    ]
    for var, name, start, end, status, metrics, params, tags in RUNS:
        steps.append(new_run(f"create-{var}", var, run_name=name, start_time=start))
        steps.append(
            log_batch(
                f"log-{var}",
                var,
                metrics=[
                    {"key": k, "value": v, "timestamp": 1, "step": 0} for k, v in metrics.items()
                ],
                params=[{"key": k, "value": v} for k, v in params.items()],
                tags=[{"key": k, "value": v} for k, v in tags.items()],
            )
        )
        update = {"run_id": "${" + var + "}", "status": status}
        if end:
            update["end_time"] = end
        steps.append(post(f"finish-{var}", "runs/update", update))
    steps.append(
        new_run("create-other-experiment-run", "o1", exp="exp2", run_name="other", start_time=6000)
    )
    steps.append(new_run("create-deleted-run", "d1", run_name="deleted", start_time=7000))
    steps.append(post("delete-run", "runs/delete", {"run_id": "${d1}"}))
    return steps


def search(step: str, filter: str | None = None, **body):
    body = {"experiment_ids": ["${exp}"], "max_results": 100, **body}
    if filter is not None:
        body["filter"] = filter
    return post(step, "runs/search", body)


FILTERS = [
    # step name, filter
    ("metric-gt", "metrics.acc > 0.75"),
    ("metric-ge", "metrics.acc >= 0.8"),
    ("metric-eq", "metrics.acc = 0.9"),
    ("metric-ne", "metrics.acc != 0.9"),
    ("metric-lt", "metrics.loss < 0.3"),
    ("metric-le", "metrics.loss <= 0.3"),
    ("metric-int-literal", "metrics.acc > 0"),
    ("metric-negative-literal", "metrics.loss > -1"),
    ("metric-singular-entity", "metric.acc > 0.75"),
    ("metric-backticks", "metrics.`acc` > 0.75"),
    ("metric-double-quotes", 'metrics."acc" > 0.75'),
    ("metric-and-param", "metrics.acc > 0.5 AND params.lr = '0.1'"),
    ("param-eq", "params.lr = '0.1'"),
    ("param-eq-double-quoted-value", 'params.lr = "0.1"'),
    ("param-ne", "params.lr != '0.1'"),
    ("param-like", "params.opt LIKE 'ad%'"),
    ("param-like-case", "params.opt LIKE 'Ad%'"),
    ("param-ilike", "params.opt ILIKE 'ad%'"),
    ("param-singular", "param.lr = '0.01'"),
    ("param-parameter", "parameter.lr = '0.01'"),
    ("param-parameters", "parameters.lr = '0.01'"),
    ("tag-eq", "tags.team = 'red'"),
    ("tag-ne", "tags.team != 'red'"),
    ("tag-like", "tags.team LIKE '%e%'"),
    ("tag-ilike", "tags.team ILIKE 'RED'"),
    ("tag-key-with-space", "tags.`with space` = 'yes'"),
    ("tag-key-with-space-dq", "tags.\"with space\" = 'yes'"),
    ("tag-singular", "tag.team = 'blue'"),
    ("tag-value-with-space", "tags.note = 'first run'"),
    ("attr-status", "attributes.status = 'FINISHED'"),
    ("attr-status-ne", "attributes.status != 'FINISHED'"),
    ("attr-status-bare", "status = 'RUNNING'"),
    ("attr-run-name", "attributes.run_name = 'beta'"),
    ("attr-run-name-like", "attributes.run_name LIKE '%a'"),
    ("attr-run-name-ilike", "attributes.run_name ILIKE 'delta%'"),
    ("attr-run-name-tag", "tags.`mlflow.runName` = 'gamma'"),
    ("attr-alias-attr", "attr.run_name = 'alpha'"),
    ("attr-alias-run", "run.run_name = 'alpha'"),
    ("attr-start-time-gt", "attributes.start_time > 2500"),
    ("attr-start-time-le", "attributes.start_time <= 2000"),
    ("attr-end-time", "attributes.end_time >= 2600"),
    ("attr-user-id", "attributes.user_id = ''"),
    ("attr-artifact-uri-like", "attributes.artifact_uri LIKE '%artifacts'"),
    ("attr-run-id-eq", "attributes.run_id = '${r2}'"),
    ("attr-run-id-in", "attributes.run_id IN ('${r1}', '${r3}')"),
    ("attr-run-id-in-one", "attributes.run_id IN ('${r4}')"),
    ("attr-run-id-not-in", "attributes.run_id NOT IN ('${r1}', '${r3}')"),
    ("three-clauses", "metrics.acc >= 0.8 AND params.lr = '0.1' AND tags.team = 'red'"),
    ("lowercase-and", "metrics.acc >= 0.8 and params.lr = '0.1'"),
    ("missing-key-matches-none", "metrics.nope > 0"),
    ("nan-metric", "metrics.nan > 0"),
    ("empty-filter", ""),
]

MALFORMED = [
    ("bad-or", "metrics.acc > 0 OR metrics.loss > 0"),
    ("bad-entity", "foo.acc > 0"),
    ("bad-attribute", "attributes.color = 'x'"),
    ("bad-metric-string-value", "metrics.acc > 'x'"),
    ("bad-metric-like", "metrics.acc LIKE '0.9'"),
    ("bad-param-unquoted", "params.lr = 0.1"),
    ("bad-param-gt", "params.lr > '0.1'"),
    ("bad-tag-in", "tags.team IN ('red')"),
    ("bad-no-value", "metrics.acc >"),
    ("bad-unclosed-quote", "params.lr = '0.1"),
    ("bad-garbage", "this is not a filter"),
    ("bad-start-time-string", "attributes.start_time = 'x'"),
    ("bad-status-gt", "attributes.status > 'A'"),
    ("bad-run-id-in-unquoted", "attributes.run_id IN (abc)"),
    ("bad-double-and", "metrics.acc > 0 AND AND metrics.loss > 0"),
]

ORDERS = [
    ("order-default", []),
    ("order-metric-asc", ["metrics.acc ASC"]),
    ("order-metric-desc", ["metrics.acc DESC"]),
    ("order-metric-missing", ["metrics.loss"]),
    ("order-metric-two-keys", ["metrics.acc DESC", "metrics.loss ASC"]),
    ("order-param", ["params.lr"]),
    ("order-param-desc", ["params.opt DESC"]),
    ("order-tag", ["tags.team"]),
    ("order-tag-desc", ["tags.team DESC"]),
    ("order-run-name", ["attributes.run_name"]),
    ("order-run-name-bare", ["run_name DESC"]),
    ("order-start-time-asc", ["attributes.start_time ASC"]),
    ("order-end-time", ["attributes.end_time DESC"]),
    ("order-status", ["attributes.status", "attributes.start_time"]),
    ("order-backticks", ["metrics.`acc` DESC"]),
    ("order-bad-entity", ["foo.bar"]),
    ("order-bad-direction", ["metrics.acc SIDEWAYS"]),
    ("order-bad-attribute", ["attributes.color"]),
]

FILTER_SCENARIO = Scenario(
    "search-runs-filters",
    doc="runs/search filters: every operator and entity, quoting styles, malformed filters",
    steps=[
        *_setup(),
        *[search(name, f, order_by=["attributes.start_time ASC"]) for name, f in FILTERS],
        *[search(name, f) for name, f in MALFORMED],
    ],
)

ORDER_SCENARIO = Scenario(
    "search-runs-order-paging",
    doc="runs/search order_by on every entity with missing values, paging, view types, limits",
    steps=[
        *_setup(),
        *[search(name, order_by=order) for name, order in ORDERS],
        post(
            "page-1",
            "runs/search",
            {"experiment_ids": ["${exp}"], "max_results": 2, "order_by": ["attributes.start_time"]},
            capture={"p1": "next_page_token"},
        ),
        post(
            "page-2",
            "runs/search",
            {
                "experiment_ids": ["${exp}"],
                "max_results": 2,
                "order_by": ["attributes.start_time"],
                "page_token": "${p1}",
            },
            capture={"p2": "next_page_token"},
        ),
        post(
            "page-3",
            "runs/search",
            {
                "experiment_ids": ["${exp}"],
                "max_results": 2,
                "order_by": ["attributes.start_time"],
                "page_token": "${p2}",
            },
        ),
        post(
            "page-exact-fit",
            "runs/search",
            {"experiment_ids": ["${exp}"], "max_results": 5},
        ),
        search("view-active-only", run_view_type="ACTIVE_ONLY"),
        search("view-deleted-only", run_view_type="DELETED_ONLY"),
        search("view-all", run_view_type="ALL", order_by=["attributes.start_time"]),
        search("view-bogus", run_view_type="NOPE"),
        search(
            "two-experiments",
            experiment_ids=["${exp}", "${exp2}"],
            order_by=["attributes.start_time DESC"],
        ),
        search("missing-experiment", experiment_ids=["987654"]),
        search("no-experiment-ids", experiment_ids=[]),
        post("no-body", "runs/search", {}),
        search("experiment-ids-not-list", experiment_ids="${exp}"),
        search("max-results-0", max_results=0),
        search("max-results-50000", max_results=50000),
        search("max-results-50001", max_results=50001),
        search("max-results-negative", max_results=-1),
        search("max-results-string", max_results="ten"),
        search("bad-page-token", page_token="not-a-token"),
        search("page-token-other-base64", page_token="eyJvZmZzZXQiOiAtMX0="),
        search("order-by-not-list", order_by="metrics.acc"),
    ],
)

SCENARIOS = [FILTER_SCENARIO, ORDER_SCENARIO]
