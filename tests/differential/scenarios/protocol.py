"""Requests the MLflow client never sends but people (curl, other clients) do."""

import json

from ..harness import Scenario, get, post, raw

NAME = "diff-${u}"

UNKNOWN_PATHS = Scenario(
    "protocol-unknown-paths",
    doc="unknown endpoints under the API prefixes",
    steps=[
        get("unknown-api-path", "experiments/nope"),
        post("unknown-api-path-post", "runs/frobnicate", {}),
        get("unknown-ajax-path", "/ajax-api/2.0/mlflow/experiments/nope"),
        get("unknown-api-version", "/api/2.1/mlflow/experiments/get", {"experiment_id": "0"}),
        get("health", "/health"),
        get("version", "/version"),
        get("ajax-prefix-works", "/ajax-api/2.0/mlflow/experiments/get", {"experiment_id": "0"}),
        post(
            "ajax-prefix-post",
            "/ajax-api/2.0/mlflow/experiments/create",
            {"name": f"{NAME}-ajax"},
            capture={"exp": "experiment_id"},
        ),
        get("get-via-ajax-created", "experiments/get", {"experiment_id": "${exp}"}),
        get("trailing-slash", "experiments/get/", {"experiment_id": "0"}),
    ],
)

WRONG_METHOD = Scenario(
    "protocol-wrong-method",
    doc="a known path with an HTTP method it does not serve",
    steps=[
        post("post-to-get-only", "experiments/get", {"experiment_id": "0"}),
        get("get-to-post-only", "experiments/create", {"name": "x"}),
        raw("put-to-post-only", "PUT", "runs/create", json={"experiment_id": "0"}),
        raw("delete-to-get-only", "DELETE", "runs/get", json={"run_id": "x"}),
        raw("patch-to-post-only", "PATCH", "experiments/update", json={}),
    ],
)

ENCODINGS = Scenario(
    "protocol-body-encodings",
    doc="JSON without Content-Type, invalid JSON, unknown fields, double encoding, GET lists",
    steps=[
        raw(
            "create-without-content-type",
            "POST",
            "experiments/create",
            data=json.dumps({"name": f"{NAME}-noct"}),
            capture={"exp": "experiment_id"},
        ),
        get("get-created-without-content-type", "experiments/get", {"experiment_id": "${exp}"}),
        raw(
            "create-text-plain",
            "POST",
            "experiments/create",
            data=json.dumps({"name": f"{NAME}-text"}),
            headers={"Content-Type": "text/plain"},
        ),
        raw(
            "create-form-urlencoded",
            "POST",
            "experiments/create",
            data=json.dumps({"name": f"{NAME}-form"}),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        ),
        raw(
            "invalid-json",
            "POST",
            "experiments/create",
            data='{"name": ',
            headers={"Content-Type": "application/json"},
        ),
        raw(
            "invalid-json-no-required",
            "POST",
            "experiments/delete",
            data="not json at all",
            headers={"Content-Type": "application/json"},
        ),
        raw(
            "empty-body",
            "POST",
            "experiments/create",
            data="",
            headers={"Content-Type": "application/json"},
        ),
        raw("no-body", "POST", "experiments/create"),
        raw(
            "json-array-body",
            "POST",
            "experiments/create",
            data="[1, 2]",
            headers={"Content-Type": "application/json"},
        ),
        raw(
            "double-encoded-json",
            "POST",
            "experiments/create",
            data=json.dumps(json.dumps({"name": f"{NAME}-double"})),
            headers={"Content-Type": "application/json"},
            capture={"double": "experiment_id"},
        ),
        post(
            "unknown-fields",
            "experiments/create",
            {"name": f"{NAME}-unknown", "colour": "blue", "nested": {"a": [1]}},
            capture={"unk": "experiment_id"},
        ),
        get("get-unknown-fields", "experiments/get", {"experiment_id": "${unk}"}),
        get("get-unknown-query-param", "experiments/get", {"experiment_id": "${unk}", "zzz": "1"}),
        post(
            "create-run",
            "runs/create",
            {"experiment_id": "${unk}", "start_time": 1, "run_name": "r"},
            capture={"run": "run.info.run_id"},
        ),
        post(
            "run-uuid-alias-log-metric",
            "runs/log-metric",
            {"run_uuid": "${run}", "key": "m", "value": 1, "timestamp": 1},
        ),
        post(
            "run-uuid-alias-log-param",
            "runs/log-parameter",
            {"run_uuid": "${run}", "key": "p", "value": "1"},
        ),
        post(
            "run-uuid-alias-set-tag",
            "runs/set-tag",
            {"run_uuid": "${run}", "key": "t", "value": "1"},
        ),
        post(
            "run-uuid-alias-update",
            "runs/update",
            {"run_uuid": "${run}", "status": "FINISHED", "end_time": 9},
        ),
        post(
            "run-id-and-uuid-disagree",
            "runs/log-parameter",
            {
                "run_id": "${run}",
                "run_uuid": "0123456789abcdef0123456789abcdef",
                "key": "q",
                "value": "2",
            },
        ),
        get("get-run-after-aliases", "runs/get", {"run_id": "${run}"}),
        get(
            "search-get-list-param",
            "experiments/search",
            {"filter": f"name = '{NAME}-unknown'", "max_results": 5},
        ),
        raw(
            "post-query-string-only",
            "POST",
            "experiments/delete",
            query={"experiment_id": "${unk}"},
        ),
        raw(
            "get-with-json-body",
            "GET",
            "experiments/get",
            json={"experiment_id": "${unk}"},
        ),
        post(
            "search-runs-experiment-ids-ints",
            "runs/search",
            {
                "experiment_ids": [0],
                "max_results": 1,
                "filter": "attributes.run_name = 'nope'",
            },
        ),
    ],
)

SCENARIOS = [UNKNOWN_PATHS, WRONG_METHOD, ENCODINGS]
