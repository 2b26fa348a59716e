"""Artifacts through the real MLflow 2.7.1 client against the reference server: every way the
client logs them, listing at several levels, downloads of files and folders, the content types
of downloads, deletes through the proxy, and the history runs/log-model records. (Registering a
logged model and models:/ URIs are in test_client_registry.py.)"""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import mlflow
import numpy as np
import pytest
import requests
import yaml
from mlflow import MlflowClient

PROXY = "/api/2.0/mlflow-artifacts/artifacts"


@pytest.fixture
def reference_server(artifact_server):
    """Every test here runs with artifacts in a local folder (SQLite, PostgreSQL) and in S3."""
    return artifact_server


@pytest.fixture
def run(tracking_uri):
    """An active run of a fresh experiment; its artifacts go through the server's proxy."""
    mlflow.set_experiment(f"artifacts-{uuid.uuid4().hex[:8]}")
    with mlflow.start_run() as active:
        yield active


def _proxy_url(tracking_uri: str, run, path: str) -> str:
    root = run.info.artifact_uri
    assert root == f"mlflow-artifacts:/{run.info.experiment_id}/{run.info.run_id}/artifacts"
    return f"{tracking_uri}{PROXY}/{root.split(':/', 1)[1]}/{path}"


def _listing(run_id: str, path: str | None = None) -> list[tuple]:
    return [(f.path, f.is_dir, f.file_size) for f in MlflowClient().list_artifacts(run_id, path)]


def _tree(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


def test_log_artifact_nested_and_listing_at_every_level(run, tmp_path):
    source = tmp_path / "source"
    source.mkdir()
    (source / "a.txt").write_bytes(b"alpha")
    (source / "b.bin").write_bytes(bytes(range(256)) * 64)
    mlflow.log_artifact(str(source / "a.txt"))
    mlflow.log_artifact(str(source / "b.bin"), artifact_path="nested")
    mlflow.log_artifact(str(source / "a.txt"), artifact_path="nested/deeper/deepest")

    run_id = run.info.run_id
    assert _listing(run_id) == [("a.txt", False, 5), ("nested", True, None)]
    assert _listing(run_id, "nested") == [
        ("nested/b.bin", False, 256 * 64),
        ("nested/deeper", True, None),
    ]
    assert _listing(run_id, "nested/deeper") == [("nested/deeper/deepest", True, None)]
    assert _listing(run_id, "nested/deeper/deepest") == [("nested/deeper/deepest/a.txt", False, 5)]
    assert _listing(run_id, "no/such/folder") == []

    dst = tmp_path / "download"
    dst.mkdir()
    local = mlflow.artifacts.download_artifacts(
        run_id=run_id, artifact_path="nested/b.bin", dst_path=str(dst)
    )
    assert Path(local).read_bytes() == (source / "b.bin").read_bytes()
    assert Path(local).is_relative_to(dst)


def test_log_artifacts_directory_tree_and_download_it_back(run, tmp_path):
    tree = tmp_path / "tree"
    files = {
        "top.txt": b"top",
        "sub/one.json": b'{"one": 1}',
        "sub/deeper/two.csv": b"x,y\n1,2\n",
        "sub/deeper/empty.dat": b"",
        "other dir/with space.txt": "non-ascii: é ü 模型".encode(),
    }
    for rel, content in files.items():
        (tree / rel).parent.mkdir(parents=True, exist_ok=True)
        (tree / rel).write_bytes(content)
    mlflow.log_artifacts(str(tree), artifact_path="tree")
    mlflow.log_artifacts(str(tree / "sub"))  # at the run's root

    run_id = run.info.run_id
    assert _listing(run_id) == [
        ("deeper", True, None),
        ("one.json", False, 10),
        ("tree", True, None),
    ]
    # An empty file lists without a size, as 2.7.1 lists it.
    assert _listing(run_id, "tree/sub/deeper") == [
        ("tree/sub/deeper/empty.dat", False, None),
        ("tree/sub/deeper/two.csv", False, 8),
    ]

    dst = tmp_path / "download"
    dst.mkdir()
    local = mlflow.artifacts.download_artifacts(
        run_id=run_id, artifact_path="tree", dst_path=str(dst)
    )
    assert _tree(Path(local)) == files
    whole = tmp_path / "whole"
    whole.mkdir()
    everything = mlflow.artifacts.download_artifacts(run_id=run_id, dst_path=str(whole))
    assert _tree(Path(everything)) == {
        **{f"tree/{k}": v for k, v in files.items()},
        "one.json": b'{"one": 1}',
        "deeper/two.csv": b"x,y\n1,2\n",
        "deeper/empty.dat": b"",
    }


def test_log_text_and_dict(run, tmp_path):
    data = {"name": "model", "layers": [1, 2, 3], "nested": {"lr": 0.1}}
    mlflow.log_text("plain text\nsecond line\n", "notes/readme.txt")
    mlflow.log_text("unicode: ∑ é", "notes/unicode.md")
    mlflow.log_dict(data, "config/data.json")
    mlflow.log_dict(data, "config/data.yaml")
    mlflow.log_dict(data, "config/data.yml")

    run_id = run.info.run_id
    assert [f[0] for f in _listing(run_id, "config")] == [
        "config/data.json",
        "config/data.yaml",
        "config/data.yml",
    ]
    assert mlflow.artifacts.load_text(f"runs:/{run_id}/notes/readme.txt") == (
        "plain text\nsecond line\n"
    )
    assert mlflow.artifacts.load_text(f"runs:/{run_id}/notes/unicode.md") == "unicode: ∑ é"
    assert mlflow.artifacts.load_dict(f"runs:/{run_id}/config/data.json") == data
    # load_dict reads JSON only (2.7.1): the YAML ones are read back as files below.
    dst = tmp_path / "download"
    dst.mkdir()
    for name in ("data.yaml", "data.yml"):
        local = mlflow.artifacts.download_artifacts(
            run_id=run_id, artifact_path=f"config/{name}", dst_path=str(dst)
        )
        assert yaml.safe_load(Path(local).read_text()) == data


def test_log_figure_and_image(run, tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from PIL import Image

    fig, ax = plt.subplots(figsize=(2, 2))
    ax.plot([0, 1, 2], [2, 0, 1])
    mlflow.log_figure(fig, "plots/line.png")
    mlflow.log_figure(fig, "plots/line.svg")
    plt.close(fig)

    pixels = np.zeros((8, 12, 3), dtype=np.uint8)
    pixels[:, :6] = (255, 0, 0)
    pixels[2, 3] = (1, 2, 3)
    mlflow.log_image(pixels, "images/array.png")
    gray = Image.fromarray(np.arange(64, dtype=np.uint8).reshape(8, 8), mode="L")
    mlflow.log_image(gray, "images/pil.png")

    run_id = run.info.run_id
    assert [f[0] for f in _listing(run_id, "plots")] == ["plots/line.png", "plots/line.svg"]
    dst = tmp_path / "download"
    dst.mkdir()
    local = Path(
        mlflow.artifacts.download_artifacts(
            run_id=run_id, artifact_path="images", dst_path=str(dst)
        )
    )
    assert np.array_equal(np.asarray(Image.open(local / "array.png")), pixels)
    assert np.array_equal(np.asarray(Image.open(local / "pil.png")), np.asarray(gray))
    png = mlflow.artifacts.download_artifacts(
        run_id=run_id, artifact_path="plots/line.png", dst_path=str(dst)
    )
    assert Path(png).read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    svg = mlflow.artifacts.download_artifacts(
        run_id=run_id, artifact_path="plots/line.svg", dst_path=str(dst)
    )
    assert "<svg" in Path(svg).read_text()


@pytest.mark.parametrize(
    ("name", "content_type"),
    [
        ("notes.txt", "text/plain"),
        ("data.json", "text/plain"),
        ("conf.yaml", "text/plain"),
        ("MLmodel", "text/plain"),
        ("table.csv", "text/plain"),
        ("page.html", "text/html"),
        ("figure.png", "image/png"),
        ("drawing.svg", "image/svg+xml"),
        ("model.pkl", "application/octet-stream"),
        ("no-extension", "application/octet-stream"),
    ],
)
def test_downloads_carry_2_7_1_content_types(run, tmp_path, name, content_type):
    (tmp_path / name).write_bytes(b"content of " + name.encode())
    mlflow.log_artifact(str(tmp_path / name), artifact_path="typed")
    response = requests.get(_proxy_url(mlflow.get_tracking_uri(), run, f"typed/{name}"))
    assert response.status_code == 200
    assert response.content == b"content of " + name.encode()
    # As 2.7.1 sends them: no charset, an attachment, no sniffing.
    assert response.headers["Content-Type"] == content_type
    assert response.headers["Content-Disposition"] == f"attachment; filename={name}"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_non_ascii_file_names_download(run, tmp_path):
    name = "模型 résumé.txt"
    (tmp_path / name).write_text("unicode name")
    mlflow.log_artifact(str(tmp_path / name))
    assert _listing(run.info.run_id) == [(name, False, len(b"unicode name"))]
    dst = tmp_path / "download"
    dst.mkdir()
    local = mlflow.artifacts.download_artifacts(
        run_id=run.info.run_id, artifact_path=name, dst_path=str(dst)
    )
    assert Path(local).read_text() == "unicode name"


def test_delete_through_the_proxy(run, tmp_path):
    for rel in ("keep.txt", "gone.txt", "folder/a.txt", "folder/sub/b.txt"):
        mlflow.log_text(rel, rel)
    url = mlflow.get_tracking_uri()
    run_id = run.info.run_id

    response = requests.delete(_proxy_url(url, run, "gone.txt"))
    assert response.status_code == 200 and response.json() == {}
    assert [f[0] for f in _listing(run_id)] == ["folder", "keep.txt"]
    missing = requests.get(_proxy_url(url, run, "gone.txt"))
    assert missing.status_code == 404
    assert missing.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"

    assert requests.delete(_proxy_url(url, run, "folder")).json() == {}
    assert [f[0] for f in _listing(run_id)] == ["keep.txt"]
    assert _listing(run_id, "folder") == []
    # Deleting what is not there is not an error, as in 2.7.1.
    assert requests.delete(_proxy_url(url, run, "folder")).json() == {}
    assert mlflow.artifacts.load_text(f"runs:/{run_id}/keep.txt") == "keep.txt"


def test_tracking_artifacts_list(run, tracking_uri):
    mlflow.log_text("x", "a/b/c.txt")
    mlflow.log_text("", "a/empty.txt")
    listed = requests.get(
        f"{tracking_uri}/api/2.0/mlflow/artifacts/list",
        params={"run_id": run.info.run_id, "path": "a"},
    ).json()
    assert listed == {
        "root_uri": run.info.artifact_uri,
        "files": [{"path": "a/b", "is_dir": True}, {"path": "a/empty.txt", "is_dir": False}],
    }
    nothing = requests.get(
        f"{tracking_uri}/api/2.0/mlflow/artifacts/list",
        params={"run_id": run.info.run_id, "path": "a/none"},
    ).json()
    assert nothing == {"root_uri": run.info.artifact_uri}


@pytest.fixture
def trained():
    from sklearn.linear_model import LinearRegression

    X = np.array([[0.0, 1.0], [1.0, 0.0], [2.0, 1.0], [3.0, 3.0]])
    return LinearRegression().fit(X, X @ [1.0, 2.0]), X


def test_log_model_records_history_and_loads_from_runs_uri(run, trained):
    from mlflow.models import Model, infer_signature

    model, X = trained
    # Naming the requirements spares the client inferring them in a subprocess (slow).
    requirements = ["scikit-learn"]
    mlflow.sklearn.log_model(model, "model", pip_requirements=requirements)
    signature = infer_signature(X, model.predict(X))
    mlflow.sklearn.log_model(model, "signed", signature=signature, pip_requirements=requirements)

    run_id = run.info.run_id
    history = json.loads(MlflowClient().get_run(run_id).data.tags["mlflow.log-model.history"])
    assert [h["artifact_path"] for h in history] == ["model", "signed"]
    for entry in history:
        # 2.7.1 records Model.to_dict() of what the client sent: the same dict its MLmodel holds.
        saved = Model.load(f"runs:/{run_id}/{entry['artifact_path']}").to_dict()
        assert entry == saved
        assert entry["run_id"] == run_id
        assert entry["mlflow_version"] == "2.7.1"
        assert {"python_function", "sklearn"} <= set(entry["flavors"])
    assert "signature" not in history[0] and set(history[1]["signature"]) >= {"inputs", "outputs"}

    loaded = mlflow.pyfunc.load_model(f"runs:/{run_id}/signed")
    assert np.allclose(loaded.predict(X), model.predict(X))
    assert [f[0] for f in _listing(run_id, "model")] == [
        "model/MLmodel",
        "model/conda.yaml",
        "model/model.pkl",
        "model/python_env.yaml",
        "model/requirements.txt",
    ]
