"""The OpenAPI contract: validity, proto cross-check, and loading in connexion 3."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
import yaml

from tools import spec_check

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "spec" / "mlflow-2.7.1.yaml"
REAL_METHODS = ROOT / "spec" / "client-methods.yaml"
TEST_METHODS = Path(__file__).resolve().parent / "data" / "client-methods.yaml"
PREFIX = "/api/2.0/mlflow"


@pytest.fixture(scope="module")
def doc() -> dict:
    return yaml.safe_load(SPEC.read_text())


def operations(doc: dict) -> dict[str, tuple[str, str, dict]]:
    return {
        op["operationId"]: (method, path, op)
        for path, item in doc["paths"].items()
        for method, op in item.items()
    }


def write(tmp_path: Path, doc: dict, name: str = "spec.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def assert_broken(spec_path: Path, expected: str, methods: Path = TEST_METHODS) -> None:
    """check() names the mismatch and main() fails."""
    report = spec_check.check(spec_path, methods)
    assert not report.ok
    hits = [m for m in report.mismatches if expected in m]
    assert hits, f"{expected!r} not among {report.mismatches}"
    assert spec_check.main(["--spec", str(spec_path), "--methods", str(methods)]) != 0


# ---------------------------------------------------------------------------- the real spec


def test_spec_is_valid_openapi_303(doc):
    from openapi_spec_validator import validate

    assert doc["openapi"] == "3.0.3"
    validate(doc)


def test_real_spec_has_full_coverage_and_no_mismatch():
    report = spec_check.check(SPEC, TEST_METHODS)
    assert report.mismatches == []
    assert report.total == 50  # 46 tracking + registry bindings, 4 artifacts-proxy bindings
    assert report.covered == report.total
    assert report.coverage_line() == "RPC coverage: 50/50 (100.0%)"
    assert report.ok


def test_main_prints_coverage_and_succeeds(capsys):
    assert spec_check.main(["--spec", str(SPEC), "--methods", str(TEST_METHODS)]) == 0
    out = capsys.readouterr().out
    assert "RPC coverage: 50/50 (100.0%)" in out
    assert "MISMATCH" not in out


@pytest.mark.skipif(not REAL_METHODS.exists(), reason="spec/client-methods.yaml not written yet")
def test_real_client_methods_name_only_existing_operations():
    report = spec_check.check(SPEC, REAL_METHODS)
    assert [m for m in report.mismatches if m.startswith("client-methods")] == []


def test_tracking_and_registry_pairs_match_the_server(doc):
    """The 46 method+path pairs the 2.7.1 server binds under /api/2.0/mlflow/."""
    from mlflow.server.handlers import get_endpoints

    served = set()
    for rule, _handler, methods in get_endpoints():
        if rule.startswith("/api/2.0/mlflow/"):
            served.update((m.lower(), rule) for m in methods)
    assert len(served) == 46
    in_spec = {
        (m, p) for p, item in doc["paths"].items() for m in item if p.startswith(PREFIX + "/")
    }
    assert in_spec == served


def test_operation_ids_follow_the_convention(doc):
    ops = operations(doc)
    # unique ids: 50 bindings + health + version + the web UI's 6 (its own endpoints)
    assert len(ops) == 58
    expected = {
        "createExperiment": ("post", f"{PREFIX}/experiments/create"),
        "searchExperiments": ("post", f"{PREFIX}/experiments/search"),
        "searchExperimentsGet": ("get", f"{PREFIX}/experiments/search"),
        "getLatestVersions": ("post", f"{PREFIX}/registered-models/get-latest-versions"),
        "getLatestVersionsGet": ("get", f"{PREFIX}/registered-models/get-latest-versions"),
        "logParam": ("post", f"{PREFIX}/runs/log-parameter"),
        "setRegisteredModelAlias": ("post", f"{PREFIX}/registered-models/alias"),
        "getModelVersionByAlias": ("get", f"{PREFIX}/registered-models/alias"),
        "listArtifacts": ("get", f"{PREFIX}/artifacts/list"),
        "listArtifactsProxy": ("get", "/api/2.0/mlflow-artifacts/artifacts"),
        "uploadArtifact": ("put", "/api/2.0/mlflow-artifacts/artifacts/{artifact_path}"),
        "health": ("get", "/health"),
        "version": ("get", "/version"),
        "getArtifact": ("get", "/get-artifact"),
        "getMetricHistoryBulk": ("get", "/ajax-api/2.0/mlflow/metrics/get-history-bulk"),
    }
    for op_id, (method, path) in expected.items():
        assert ops[op_id][:2] == (method, path), op_id
    assert ops["listArtifactsProxy"][2]["x-mlflow-rpc"] == (
        "mlflow.artifacts.MlflowArtifactsService.listArtifacts"
    )
    allowed_tags = {t["name"] for t in doc["tags"]}
    assert allowed_tags == {
        "experiments",
        "runs",
        "metrics",
        "artifacts",
        "registered-models",
        "model-versions",
        "artifacts-proxy",
        "server",
        "UI",
    }
    for _, _, op in ops.values():
        assert set(op["tags"]) <= allowed_tags


def test_spec_is_neutral():
    text = SPEC.read_text()
    for word in (
        "x-openapi-router-controller",
        "x-swagger-router-controller",
        "handlers",
        "server.app",
        "peewee",
        "connexion",
        "mlflow.server",
        "mlflow.store",
    ):
        assert word not in text


def test_metric_value_accepts_non_finite_strings(doc):
    schemas = doc["components"]["schemas"]
    for schema in (schemas["Metric"], schemas["LogMetricRequest"]):
        branches = schema["properties"]["value"]["anyOf"]
        assert {"type": "number", "format": "double"} in branches
        strings = [b for b in branches if b.get("type") == "string"]
        assert strings[0]["enum"] == ["NaN", "Infinity", "-Infinity"]


def test_error_response_lists_every_error_code(doc):
    from mlflow.protos.databricks_pb2 import ErrorCode

    schema = doc["components"]["schemas"]["ErrorResponse"]
    assert schema["properties"]["error_code"]["enum"] == list(ErrorCode.keys())
    assert schema["properties"]["message"] == {"type": "string"}


def test_links_feed_ids_forward(doc):
    ops = operations(doc)
    links = ops["createRun"][2]["responses"]["200"]["links"]
    # As the 2.7.1 client asks for a run: by run_id and by its older name, run_uuid.
    assert links["GetRun"]["parameters"] == {
        "query.run_id": "$response.body#/run/info/run_id",
        "query.run_uuid": "$response.body#/run/info/run_id",
    }
    assert links["LogBatch"]["requestBody"] == {"run_id": "$response.body#/run/info/run_id"}
    links = ops["createModelVersion"][2]["responses"]["200"]["links"]
    assert links["GetModelVersion"]["parameters"] == {
        "query.name": "$response.body#/model_version/name",
        "query.version": "$response.body#/model_version/version",
    }


def test_schemathesis_loads_spec_and_links():
    schemathesis = pytest.importorskip("schemathesis")
    schema = schemathesis.openapi.from_path(str(SPEC))
    ops = [result.ok() for result in schema.get_all_operations()]
    assert len(ops) == 58  # 50 bindings, health, version and the web UI's 6
    # Building the state machine resolves every link; a broken one raises.
    machine = schema.as_state_machine()
    assert machine is not None


def test_every_operation_with_inputs_has_examples(doc):
    """The examples phase of a fuzzer has a request to send for every operation that takes one:
    each query/path parameter and each request body carries an example. (A page token is opaque
    and comes from a previous answer: a first request has none.)"""
    spec = spec_check.Spec(doc)
    missing = []
    for op_id, (_, _, op) in operations(doc).items():
        for param in op.get("parameters", []):
            if "example" not in param and param["name"] != "page_token":
                missing.append(f"{op_id} parameter {param['name']}")
        for media_type, media in (op.get("requestBody") or {}).get("content", {}).items():
            if "example" not in media and "example" not in spec.resolve(media["schema"]):
                missing.append(f"{op_id} {media_type} body")
    assert missing == []


# ---------------------------------------------------------------------------- broken copies


def test_removed_path_is_reported(tmp_path, doc):
    broken = copy.deepcopy(doc)
    del broken["paths"][f"{PREFIX}/runs/log-batch"]
    path = write(tmp_path, broken)
    report = spec_check.check(path, TEST_METHODS)
    assert report.covered == report.total - 1
    assert report.coverage_line() == "RPC coverage: 49/50 (98.0%)"
    assert_broken(path, f"POST {PREFIX}/runs/log-batch: operation missing")


def test_removed_body_field_is_reported(tmp_path, doc):
    broken = copy.deepcopy(doc)
    del broken["components"]["schemas"]["CreateExperimentRequest"]["properties"][
        "artifact_location"
    ]
    assert_broken(
        write(tmp_path, broken), "createExperiment request body.artifact_location: field missing"
    )


def test_removed_query_parameter_is_reported(tmp_path, doc):
    broken = copy.deepcopy(doc)
    get_run = broken["paths"][f"{PREFIX}/runs/get"]["get"]
    get_run["parameters"] = [p for p in get_run["parameters"] if p["name"] != "run_uuid"]
    assert_broken(write(tmp_path, broken), "getRun request.run_uuid: query parameter missing")


def test_changed_type_is_reported(tmp_path, doc):
    broken = copy.deepcopy(doc)
    broken["components"]["schemas"]["Metric"]["properties"]["timestamp"] = {"type": "string"}
    assert_broken(
        write(tmp_path, broken), "metrics.timestamp: type is string, proto says integer/int64"
    )


def test_array_made_scalar_is_reported(tmp_path, doc):
    broken = copy.deepcopy(doc)
    broken["components"]["schemas"]["SearchRunsRequest"]["properties"]["experiment_ids"] = {
        "type": "string"
    }
    assert_broken(
        write(tmp_path, broken), "searchRuns request body.experiment_ids: should be an array"
    )


def test_repeated_query_parameter_made_scalar_is_reported(tmp_path, doc):
    broken = copy.deepcopy(doc)
    get_op = broken["paths"][f"{PREFIX}/registered-models/get-latest-versions"]["get"]
    for p in get_op["parameters"]:
        if p["name"] == "stages":
            p["schema"] = {"type": "string"}
    assert_broken(
        write(tmp_path, broken), "getLatestVersionsGet request.stages: should be an array"
    )


def test_dropped_required_flag_is_reported(tmp_path, doc):
    broken = copy.deepcopy(doc)
    schema = broken["components"]["schemas"]["CreateExperimentRequest"]
    schema["required"] = [n for n in schema["required"] if n != "name"]
    if not schema["required"]:
        del schema["required"]
    assert_broken(write(tmp_path, broken), "createExperiment request body.name: should be required")


def test_dropped_required_query_flag_is_reported(tmp_path, doc):
    broken = copy.deepcopy(doc)
    for p in broken["paths"][f"{PREFIX}/experiments/get"]["get"]["parameters"]:
        p.pop("required", None)
    assert_broken(
        write(tmp_path, broken), "getExperiment request.experiment_id: should be required"
    )


def test_removed_response_field_is_reported(tmp_path, doc):
    broken = copy.deepcopy(doc)
    del broken["components"]["schemas"]["RunInfo"]["properties"]["run_name"]
    assert_broken(write(tmp_path, broken), ".run_name: field missing (proto mlflow.RunInfo)")


def test_removed_top_level_response_field_is_reported(tmp_path, doc):
    broken = copy.deepcopy(doc)
    del broken["components"]["schemas"]["UpdateRunResponse"]["properties"]["run_info"]
    assert_broken(write(tmp_path, broken), "updateRun response.run_info: field missing")


def test_wrong_operation_id_is_reported(tmp_path, doc):
    broken = copy.deepcopy(doc)
    broken["paths"][f"{PREFIX}/experiments/search"]["get"]["operationId"] = "searchExperiments2"
    assert_broken(
        write(tmp_path, broken),
        "operationId is 'searchExperiments2', expected 'searchExperimentsGet'",
    )


UI_BULK = "/ajax-api/2.0/mlflow/metrics/get-history-bulk"


def test_removed_ui_operation_is_reported(tmp_path, doc):
    broken = copy.deepcopy(doc)
    del broken["paths"]["/get-artifact"]
    assert_broken(write(tmp_path, broken), "GET /get-artifact: UI operation missing")


def test_ui_operation_without_the_ui_tag_is_reported(tmp_path, doc):
    broken = copy.deepcopy(doc)
    broken["paths"][UI_BULK]["get"]["tags"] = ["metrics"]
    assert_broken(write(tmp_path, broken), f"GET {UI_BULK}: a UI operation must be tagged 'UI'")


def test_ui_operation_with_an_rpc_is_reported(tmp_path, doc):
    broken = copy.deepcopy(doc)
    broken["paths"][UI_BULK]["get"]["x-mlflow-rpc"] = "mlflow.MlflowService.getMetricHistory"
    assert_broken(write(tmp_path, broken), f"GET {UI_BULK}: a UI operation has no RPC")


def test_ui_tag_on_another_operation_is_reported(tmp_path, doc):
    broken = copy.deepcopy(doc)
    broken["paths"]["/ajax-api/2.0/mlflow/runs/made-up"] = copy.deepcopy(broken["paths"][UI_BULK])
    broken["paths"]["/ajax-api/2.0/mlflow/runs/made-up"]["get"]["operationId"] = "madeUp"
    assert_broken(
        write(tmp_path, broken),
        "GET /ajax-api/2.0/mlflow/runs/made-up: tagged 'UI' but not a 2.7.1 UI endpoint",
    )


def test_wrong_rpc_extension_is_reported(tmp_path, doc):
    broken = copy.deepcopy(doc)
    broken["paths"][f"{PREFIX}/runs/log-metric"]["post"]["x-mlflow-rpc"] = "mlflow.X.logMetric"
    assert_broken(write(tmp_path, broken), "x-mlflow-rpc is 'mlflow.X.logMetric'")


def test_metric_value_without_nan_strings_is_reported(tmp_path, doc):
    broken = copy.deepcopy(doc)
    broken["components"]["schemas"]["Metric"]["properties"]["value"] = {"type": "number"}
    assert_broken(write(tmp_path, broken), "metrics.value: double field must also accept")


def test_changed_enum_is_reported(tmp_path, doc):
    broken = copy.deepcopy(doc)
    status = broken["components"]["schemas"]["RunInfo"]["properties"]["status"]
    status["enum"] = [e for e in status["enum"] if e != "KILLED"]
    assert_broken(write(tmp_path, broken), ".status: enum is")


def test_broken_link_is_reported(tmp_path, doc):
    broken = copy.deepcopy(doc)
    links = broken["paths"][f"{PREFIX}/runs/create"]["post"]["responses"]["200"]["links"]
    links["GetRun"]["parameters"] = {"query.no_such_param": "$response.body#/run/info/run_id"}
    assert_broken(write(tmp_path, broken), "target getRun has no parameter query.no_such_param")


def test_example_violating_its_schema_is_reported(tmp_path, doc):
    broken = copy.deepcopy(doc)
    broken["components"]["schemas"]["LogMetricRequest"]["example"]["timestamp"] = "yesterday"
    assert_broken(
        write(tmp_path, broken),
        "components.schemas.LogMetricRequest.example: example invalid at /timestamp",
    )


def test_example_with_an_undeclared_field_is_reported(tmp_path, doc):
    broken = copy.deepcopy(doc)
    broken["components"]["schemas"]["Metric"]["example"]["stepp"] = 1
    assert_broken(write(tmp_path, broken), "'stepp' was unexpected")


def test_parameter_example_violating_its_schema_is_reported(tmp_path, doc):
    broken = copy.deepcopy(doc)
    params = broken["paths"][f"{PREFIX}/experiments/search"]["get"]["parameters"]
    next(p for p in params if p["name"] == "view_type")["example"] = "EVERYTHING"
    assert_broken(write(tmp_path, broken), "parameters[4].example: example invalid")


def test_invalid_openapi_is_reported(tmp_path, doc):
    broken = copy.deepcopy(doc)
    broken["paths"][f"{PREFIX}/runs/get"]["get"]["responses"] = "nope"
    assert_broken(write(tmp_path, broken), "spec: not a valid OpenAPI document")


def test_unknown_operation_id_in_client_methods_is_reported(tmp_path):
    methods = yaml.safe_load(TEST_METHODS.read_text())
    methods["methods"].append({"id": "bogus", "method": "bogus", "operations": ["noSuchOp"]})
    path = tmp_path / "client-methods.yaml"
    path.write_text(yaml.safe_dump(methods))
    assert_broken(SPEC, "client-methods: bogus: operations: unknown operationId 'noSuchOp'", path)


def test_unknown_operation_id_in_a_variant_is_reported(tmp_path):
    methods = yaml.safe_load(TEST_METHODS.read_text())
    methods["methods"][0]["operations_variants"] = {"odd": ["createExperimentz"]}
    path = tmp_path / "client-methods.yaml"
    path.write_text(yaml.safe_dump(methods))
    assert_broken(SPEC, "operations_variants.odd: unknown operationId 'createExperimentz'", path)


def test_missing_client_methods_file_is_reported(tmp_path):
    assert_broken(SPEC, "client-methods:", tmp_path / "absent.yaml")


# ---------------------------------------------------------------------------- connexion 3


@pytest.fixture(scope="module")
def routed():
    """The spec loaded in connexion 3 with a recording stub for every operation."""
    import connexion
    from connexion.resolver import Resolver

    calls: list[tuple[str, dict]] = []

    def resolve(operation_id: str):
        async def handler(**kwargs):
            body = kwargs.get("body")
            if isinstance(body, bytes | bytearray):
                kwargs["body"] = bytes(body)
            calls.append((operation_id, kwargs))
            return {}

        return handler

    app = connexion.AsyncApp(__name__)
    app.add_api(
        SPEC,
        resolver=Resolver(resolve),
        strict_validation=False,
        validate_responses=False,
    )
    return app.test_client(), calls


def last_call(calls, operation_id):
    matching = [kw for op, kw in calls if op == operation_id]
    assert matching, f"{operation_id} was not routed"
    return matching[-1]


def test_connexion_routes_json_body(routed):
    client, calls = routed
    resp = client.post(f"{PREFIX}/experiments/create", json={"name": "e", "extra": 1})
    assert resp.status_code == 200
    assert resp.json() == {}
    assert last_call(calls, "createExperiment")["body"] == {"name": "e", "extra": 1}


def test_connexion_rejects_missing_required_field(routed):
    client, _ = routed
    resp = client.post(f"{PREFIX}/experiments/create", json={"artifact_location": "x"})
    assert resp.status_code == 400
    assert "'name' is a required property" in resp.text


def test_connexion_parses_repeated_query_keys(routed):
    client, calls = routed
    resp = client.get(
        f"{PREFIX}/experiments/search",
        params=[("order_by", "name"), ("order_by", "experiment_id"), ("max_results", "5")],
    )
    assert resp.status_code == 200
    kw = last_call(calls, "searchExperimentsGet")
    assert kw["order_by"] == ["name", "experiment_id"]
    assert kw["max_results"] == 5


def test_connexion_accepts_nan_metric_and_rejects_other_strings(routed):
    client, calls = routed
    body = {"run_id": "r", "key": "k", "value": "NaN", "timestamp": 1, "step": 0}
    assert client.post(f"{PREFIX}/runs/log-metric", json=body).status_code == 200
    assert last_call(calls, "logMetric")["body"]["value"] == "NaN"
    body["value"] = "lots"
    assert client.post(f"{PREFIX}/runs/log-metric", json=body).status_code == 400


def test_connexion_routes_delete_with_json_body(routed):
    client, calls = routed
    resp = client.request("DELETE", f"{PREFIX}/registered-models/delete", json={"name": "m"})
    assert resp.status_code == 200
    assert last_call(calls, "deleteRegisteredModel")["body"] == {"name": "m"}


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (b"hello", "text/plain"),
        (b"\x00\xff\x10", "application/octet-stream"),
        (json.dumps({"a": 1}).encode(), "application/json"),
        (b"", None),
    ],
)
def test_connexion_routes_raw_upload_with_slashes(routed, content, content_type):
    client, calls = routed
    headers = {"content-type": content_type} if content_type else {}
    url = "/api/2.0/mlflow-artifacts/artifacts/1/abc/artifacts/model/MLmodel"
    resp = client.put(url, content=content, headers=headers)
    assert resp.status_code == 200, resp.text
    assert last_call(calls, "uploadArtifact")["artifact_path"] == "1/abc/artifacts/model/MLmodel"


def test_connexion_routes_artifact_list_and_delete(routed):
    client, calls = routed
    assert client.get("/api/2.0/mlflow-artifacts/artifacts", params={"path": "1/a"}).status_code
    assert last_call(calls, "listArtifactsProxy")["path"] == "1/a"
    assert client.delete("/api/2.0/mlflow-artifacts/artifacts/1/a/b.txt").status_code == 200
    assert last_call(calls, "deleteArtifact")["artifact_path"] == "1/a/b.txt"


def test_rule_without_boundary_values_is_reported(tmp_path, doc):
    broken = copy.deepcopy(doc)
    # A pattern every string keeps: no value lies outside it.
    key = broken["components"]["schemas"]["LogParamRequest"]["properties"]["key"]
    key["pattern"] = "^"
    assert_broken(
        write(tmp_path, broken),
        "boundary: #/components/schemas/LogParamRequest/properties/key: pattern ^: "
        "no value outside it",
    )


def test_rule_no_example_reaches_is_reported(tmp_path, doc):
    broken = copy.deepcopy(doc)
    # runs/create's example sends no run_name: nothing probes a rule stated on it.
    broken["components"]["schemas"]["CreateRunRequest"]["example"].pop("run_name")
    broken["components"]["schemas"]["CreateRunRequest"]["properties"]["run_name"]["maxLength"] = 9
    assert_broken(
        write(tmp_path, broken),
        "boundary: #/components/schemas/CreateRunRequest/properties/run_name: maxLength 9: "
        "no value inside it",
    )
