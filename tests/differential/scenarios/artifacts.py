"""Artifacts: the proxy (/api/2.0/mlflow-artifacts/artifacts) and the tracking API's
artifacts/list, runs/log-model and the download URI of a registered model's version, with
valid requests and with paths that try to leave the artifact root.

Traversal attempts go percent-encoded (`%2e%2e`, `%2F`) or in the query string: the HTTP client
would remove a literal `..` segment from the URL before sending it.
"""

import json

from ..harness import Scenario, Step, get, post, raw
from .runs import get_run, new_experiment, new_run

PROXY = "/api/2.0/mlflow-artifacts/artifacts"
RUN = "${run}"
RUN_DIR = "${exp}/${run}/artifacts"  # the run's folder under the artifact root
# For paths the error message quotes: experiment ids differ between the servers, and a message
# is not masked the way a URI is; the Default experiment's id is "0" on both.
QUOTED = "0/${run}/artifacts"


def put(step: str, path: str, data: bytes | str, **kw) -> Step:
    return raw(step, "PUT", f"{PROXY}/{path}", data=data, **kw)


def download(step: str, path: str) -> Step:
    return get(step, f"{PROXY}/{path}")


def listing(step: str, path: str | None) -> Step:
    return get(step, PROXY, {} if path is None else {"path": path})


def remove(step: str, path: str) -> Step:
    return raw(step, "DELETE", f"{PROXY}/{path}")


def list_run(step: str, run: str = "run", **query) -> Step:
    return get(step, "artifacts/list", {"run_id": "${" + run + "}", **query})


PROXY_ROUND_TRIP = Scenario(
    "artifacts-proxy",
    doc="upload, download, list and delete through the proxy, nested and at several levels",
    steps=[
        new_experiment(suffix="artifacts"),
        new_run("create-run", "run"),
        get_run("get-run"),
        put("put-text", f"{RUN_DIR}/hello.txt", b"hello"),
        put("put-nested-json", f"{RUN_DIR}/dir/sub/data.json", json.dumps({"a": [1, 2]})),
        put("put-yaml", f"{RUN_DIR}/dir/conf.yaml", b"a: 1\n"),
        put("put-mlmodel", f"{RUN_DIR}/model/MLmodel", b"flavors: {}\n"),
        put("put-binary", f"{RUN_DIR}/dir/weights.bin", bytes(range(256)) * 4),
        put("put-png", f"{RUN_DIR}/images/plot.png", b"\x89PNG\r\n\x1a\nnot really"),
        put("put-empty", f"{RUN_DIR}/empty.txt", b""),
        put("put-spaces", f"{RUN_DIR}/with space/a b.csv", b"x,y\n1,2\n"),
        put("put-overwrite", f"{RUN_DIR}/hello.txt", b"hello again"),
        download("get-text", f"{RUN_DIR}/hello.txt"),
        download("get-nested-json", f"{RUN_DIR}/dir/sub/data.json"),
        download("get-yaml", f"{RUN_DIR}/dir/conf.yaml"),
        download("get-mlmodel", f"{RUN_DIR}/model/MLmodel"),
        download("get-png", f"{RUN_DIR}/images/plot.png"),
        download("get-empty", f"{RUN_DIR}/empty.txt"),
        download("get-spaces", f"{RUN_DIR}/with space/a b.csv"),
        listing("list-run-root", RUN_DIR),
        listing("list-run-root-trailing-slash", RUN_DIR + "/"),
        listing("list-dir", f"{RUN_DIR}/dir"),
        listing("list-deeper", f"{RUN_DIR}/dir/sub"),
        listing("list-spaces", f"{RUN_DIR}/with space"),
        listing("list-a-file", f"{RUN_DIR}/hello.txt"),
        listing("list-missing", f"{RUN_DIR}/no/such/folder"),
        listing("list-missing-run", "${exp}/0123456789abcdef/artifacts"),
        listing("list-experiment", "${exp}"),
        remove("delete-file", f"{RUN_DIR}/dir/weights.bin"),
        listing("list-after-delete-file", f"{RUN_DIR}/dir"),
        download("get-deleted", f"{RUN_DIR}/dir/weights.bin"),
        remove("delete-folder", f"{RUN_DIR}/dir"),
        listing("list-after-delete-folder", RUN_DIR),
        remove("delete-missing", f"{RUN_DIR}/never-there.txt"),
        raw(
            "put-ajax-prefix",
            "PUT",
            f"/ajax-api/2.0/mlflow-artifacts/artifacts/{RUN_DIR}/ui.txt",
            data=b"ui",
        ),
        download("get-ajax-upload", f"{RUN_DIR}/ui.txt"),
        put(
            "put-json-content-type",
            f"{RUN_DIR}/typed.json",
            b'{"not": "parsed"}',
            headers={"Content-Type": "application/json"},
        ),
        download("get-json-content-type", f"{RUN_DIR}/typed.json"),
        put(
            "put-form-content-type",
            f"{RUN_DIR}/form.txt",
            b"a=1&b=2",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        ),
        download("get-form-content-type", f"{RUN_DIR}/form.txt"),
    ],
)

TRACKING_LIST = Scenario(
    "artifacts-tracking-list",
    doc="artifacts/list of the tracking API on a run's proxied root: nested, missing, invalid",
    steps=[
        new_experiment(suffix="artifacts-list"),
        new_run("create-run", "run"),
        list_run("list-empty-run"),
        put("put-top", f"{RUN_DIR}/top.txt", b"top"),
        put("put-nested", f"{RUN_DIR}/a/b/c.json", b"{}"),
        put("put-sibling", f"{RUN_DIR}/a/d.txt", b"dd"),
        list_run("list-root"),
        list_run("list-root-empty-path", path=""),
        list_run("list-a", path="a"),
        list_run("list-a-b", path="a/b"),
        list_run("list-a-trailing-slash", path="a/"),
        list_run("list-a-file", path="top.txt"),
        list_run("list-missing-path", path="nothing/here"),
        get("list-by-run-uuid", "artifacts/list", {"run_uuid": "${run}", "path": "a"}),
        list_run("list-dotdot", path="../"),
        list_run("list-dotdot-inside", path="a/../../.."),
        list_run("list-absolute", path="/etc"),
        list_run("list-windows-absolute", path="C:\\Windows"),
        get("list-no-run-id", "artifacts/list", {"path": "a"}),
        get("list-missing-run", "artifacts/list", {"run_id": "0123456789abcdef0123456789abcdef"}),
        post("delete-run", "runs/delete", {"run_id": "${run}"}),
        list_run("list-deleted-run", path="a"),
    ],
)

TRAVERSAL = Scenario(
    "artifacts-proxy-invalid",
    doc="proxy paths that leave the artifact root or cannot name a file",
    steps=[
        new_experiment(suffix="artifacts-bad"),
        new_run("create-run", "run"),
        put("put-inside", f"{RUN_DIR}/ok.txt", b"ok"),
        put("put-dotdot-encoded", "%2e%2e/escaped.txt", b"x"),
        put("put-dotdot-slash-encoded", "%2e%2e%2fescaped.txt", b"x"),
        put("put-dotdot-deep", f"{QUOTED}/%2e%2e/%2e%2e/%2e%2e/%2e%2e/escaped.txt", b"x"),
        put("put-slashes-encoded", "${run}%2F..%2F..%2Fescaped.txt", b"x"),
        put("put-double-encoded", f"{RUN_DIR}/%252e%252e%252fliteral.txt", b"x"),
        put("put-windows-absolute", "C:%5Cescaped.txt", b"x"),
        put("put-backslash", f"{RUN_DIR}/back%5Cslash.txt", b"x"),
        put("put-doubled-separator", f"{RUN_DIR}/x//y.txt", b"x"),
        put("put-dot-segment", f"{QUOTED}/x/%2e/y.txt", b"x"),
        put("put-nul", f"{RUN_DIR}/nul%00.txt", b"x"),
        put("put-long-name", f"{RUN_DIR}/{'n' * 300}.txt", b"x"),
        put("put-under-a-file", f"{RUN_DIR}/ok.txt/child.txt", b"x"),
        put("put-onto-a-folder", RUN_DIR, b"x"),
        download("get-dotdot-encoded", "%2e%2e%2f%2e%2e%2fetc%2fpasswd"),
        download("get-dotdot-inside", f"{QUOTED}/%2e%2e/%2e%2e/%2e%2e/mlflow.db"),
        download("get-missing", f"{QUOTED}/missing.txt"),
        download("get-a-folder", RUN_DIR),
        download("get-long-name", f"{QUOTED}/{'n' * 300}.txt"),
        download("get-inside", f"{RUN_DIR}/ok.txt"),
        listing("list-dotdot", "../"),
        listing("list-dotdot-inside", f"{QUOTED}/../../.."),
        listing("list-absolute", "/etc"),
        listing("list-windows-absolute", "C:\\Windows"),
        listing("list-backslash", "${exp}\\${run}"),
        listing("list-nul", "a\x00b"),
        listing("list-long-name", "n" * 300),
        remove("delete-dotdot-encoded", "%2e%2e%2fsomething"),
        remove("delete-dotdot-inside", f"{QUOTED}/%2e%2e/%2e%2e"),
        remove("delete-long-name", f"{RUN_DIR}/{'n' * 300}.txt"),
        listing("list-run-after", RUN_DIR),
    ],
)

MODEL_JSON = {
    "artifact_path": "model",
    "flavors": {"python_function": {"loader_module": "mlflow.sklearn", "python_version": "3.11"}},
    "utc_time_created": "2024-01-02 03:04:05.678901",
    "run_id": "${run}",
    "model_uuid": "0123456789abcdef0123456789abcdef",
    "mlflow_version": "2.7.1",
}

# As the 2.7.1 client sends a signature inferred from float64 inputs and int64 outputs.
SIGNATURE = {
    "inputs": '[{"type": "tensor", "tensor-spec": {"dtype": "float64", "shape": [-1, 2]}}]',
    "outputs": '[{"type": "tensor", "tensor-spec": {"dtype": "int64", "shape": [-1]}}]',
    "params": None,
}

BIG_MODEL_JSON = {
    **MODEL_JSON,
    "artifact_path": "big",
    "flavors": {"python_function": {"loader_module": "m" * 2200}},
}


def log_model(step: str, model, run: str = "run") -> Step:
    text = model if isinstance(model, str) else json.dumps(model)
    return post(step, "runs/log-model", {"run_id": "${" + run + "}", "model_json": text})


LOGGED_MODELS = Scenario(
    "artifacts-logged-models",
    doc="runs/log-model and its history tag; the download URI of a version from a run's model",
    steps=[
        new_experiment(suffix="logged-models"),
        new_run("create-run", "run"),
        put("put-mlmodel", f"{RUN_DIR}/model/MLmodel", b"artifact_path: model\n"),
        log_model("log-model", MODEL_JSON),
        get_run("get-after-one"),
        log_model(
            "log-second-model",
            {**MODEL_JSON, "artifact_path": "other", "signature": SIGNATURE},
        ),
        get_run("get-after-two"),
        # The history tag is a tag value: a model that takes it past 5000 characters is refused
        # and the history stays as it was.
        log_model("log-big-model", BIG_MODEL_JSON),
        log_model("log-big-model-past-5000", BIG_MODEL_JSON),
        get_run("get-after-refused-model"),
        log_model("log-model-missing-fields", {"artifact_path": "model", "flavors": {}}),
        log_model("log-model-not-json", "{not json"),
        log_model("log-model-json-list", "[1, 2]"),
        post("log-model-no-model-json", "runs/log-model", {"run_id": "${run}"}),
        post(
            "log-model-missing-run",
            "runs/log-model",
            {"run_id": "0123456789abcdef0123456789abcdef", "model_json": json.dumps(MODEL_JSON)},
        ),
        list_run("list-model", path="model"),
        post("create-model", "registered-models/create", {"name": "art-${u}"}),
        post(
            "create-version",
            "model-versions/create",
            {"name": "art-${u}", "source": f"mlflow-artifacts:/{RUN_DIR}/model", "run_id": RUN},
        ),
        get(
            "download-uri",
            "model-versions/get-download-uri",
            {"name": "art-${u}", "version": "1"},
        ),
        post(
            "create-version-runs-uri",
            "model-versions/create",
            {"name": "art-${u}", "source": "runs:/${run}/model", "run_id": "${run}"},
        ),
        get(
            "download-uri-runs-uri",
            "model-versions/get-download-uri",
            {"name": "art-${u}", "version": "2"},
        ),
        post("delete-run", "runs/delete", {"run_id": "${run}"}),
        log_model("log-model-deleted-run", MODEL_JSON),
    ],
)

SCENARIOS = [PROXY_ROUND_TRIP, TRACKING_LIST, TRAVERSAL, LOGGED_MODELS]
