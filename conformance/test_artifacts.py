"""Artifacts: files, directories, text, dicts, figures and images.

Every scenario first checks that the run's artifact_uri is usable from another machine, then
logs through the client and reads the artifact back through the server.
"""

from __future__ import annotations

import json

import mlflow
import pytest


def _active_run(sandbox) -> str:
    sandbox.experiment()
    run_id = mlflow.start_run().info.run_id
    sandbox.assert_remote_artifacts(run_id)
    return run_id


def _client_run(sandbox) -> str:
    run_id = sandbox.run()
    sandbox.assert_remote_artifacts(run_id)
    return run_id


@pytest.mark.row("log_artifact")
def test_log_artifact_fluent(sandbox):
    """mlflow.log_artifact(local_path) with no artifact_path: the file reads back"""
    run_id = _active_run(sandbox)
    mlflow.log_artifact(local_path=str(sandbox.file("file.txt", "hello\n")))
    sandbox.assert_listed(run_id, None, {"file.txt": False})
    assert sandbox.artifact_text(run_id, "file.txt") == "hello\n"


@pytest.mark.row("log_artifact")
def test_log_artifact_client(sandbox):
    """MlflowClient.log_artifact(run_id, local_path, artifact_path="")"""
    run_id = _client_run(sandbox)
    sandbox.client.log_artifact(run_id, str(sandbox.file("data.csv", "a,b\n1,2\n")), "")
    assert sandbox.artifact_text(run_id, "data.csv") == "a,b\n1,2\n"


@pytest.mark.probe("log_artifact.artifact_path_empty")
def test_log_artifact_with_artifact_path(sandbox):
    """log_artifact(local_path, artifact_path="sub") puts the file under sub/"""
    run_id = _active_run(sandbox)
    mlflow.log_artifact(str(sandbox.file("file.txt", "in sub\n")), artifact_path="sub")
    sandbox.assert_listed(run_id, "sub", {"sub/file.txt": False})
    assert sandbox.artifact_text(run_id, "sub/file.txt") == "in sub\n"


@pytest.mark.probe("log_artifact.no_directories")
def test_log_artifact_into_nested_directories(sandbox):
    """log_artifact into nested directories (artifact_path="outer/inner")"""
    run_id = _active_run(sandbox)
    mlflow.log_artifact(str(sandbox.file("deep.txt", "deep\n")), artifact_path="outer/inner")
    sandbox.assert_listed(run_id, None, {"outer": True})
    assert sandbox.artifact_text(run_id, "outer/inner/deep.txt") == "deep\n"


def _local_dir(sandbox, nested: bool = False):
    sandbox.file("out/a.txt", "a\n")
    sandbox.file("out/b.txt", "b\n")
    if nested:
        sandbox.file("out/sub/c.txt", "c\n")
    return str(sandbox.workdir / "out")


@pytest.mark.row("log_artifacts")
def test_log_artifacts_fluent(sandbox):
    """mlflow.log_artifacts(local_dir) logs every file of a flat directory"""
    run_id = _active_run(sandbox)
    mlflow.log_artifacts(_local_dir(sandbox))
    sandbox.assert_listed(run_id, None, {"a.txt": False, "b.txt": False})
    assert sandbox.artifact_text(run_id, "b.txt") == "b\n"


@pytest.mark.row("log_artifacts")
def test_log_artifacts_client(sandbox):
    """MlflowClient.log_artifacts(run_id, local_dir)"""
    run_id = _client_run(sandbox)
    sandbox.client.log_artifacts(run_id, _local_dir(sandbox))
    assert sandbox.artifact_text(run_id, "a.txt") == "a\n"


@pytest.mark.probe("log_artifacts.artifact_path_empty")
def test_log_artifacts_with_artifact_path(sandbox):
    """log_artifacts(local_dir, artifact_path="sub") puts the files under sub/"""
    run_id = _active_run(sandbox)
    mlflow.log_artifacts(_local_dir(sandbox), artifact_path="sub")
    sandbox.assert_listed(run_id, "sub", {"sub/a.txt": False, "sub/b.txt": False})
    assert sandbox.artifact_text(run_id, "sub/a.txt") == "a\n"


@pytest.mark.probe("log_artifacts.no_directories")
def test_log_artifacts_with_subdirectory(sandbox):
    """log_artifacts of a directory that has a sub-directory keeps it"""
    run_id = _active_run(sandbox)
    mlflow.log_artifacts(_local_dir(sandbox, nested=True))
    sandbox.assert_listed(run_id, None, {"sub": True}, exact=False)
    assert sandbox.artifact_text(run_id, "sub/c.txt") == "c\n"


@pytest.mark.row("log_text")
def test_log_text_fluent(sandbox):
    """mlflow.log_text(text, artifact_file="hello.txt")"""
    run_id = _active_run(sandbox)
    mlflow.log_text("Hello, World!", artifact_file="hello.txt")
    assert sandbox.artifact_text(run_id, "hello.txt") == "Hello, World!"


@pytest.mark.row("log_text")
def test_log_text_client(sandbox):
    """MlflowClient.log_text(run_id, text, artifact_file)"""
    run_id = _client_run(sandbox)
    sandbox.client.log_text(run_id, "notes", "notes.txt")
    assert sandbox.artifact_text(run_id, "notes.txt") == "notes"


@pytest.mark.probe("log_text.no_directories")
def test_log_text_into_directory(sandbox):
    """log_text with a directory in artifact_file ("notes/hello.txt")"""
    run_id = _active_run(sandbox)
    mlflow.log_text("nested", artifact_file="notes/hello.txt")
    assert sandbox.artifact_text(run_id, "notes/hello.txt") == "nested"


@pytest.mark.row("log_dict")
def test_log_dict_fluent(sandbox):
    """mlflow.log_dict(dictionary, artifact_file="my_dict.json")"""
    run_id = _active_run(sandbox)
    mlflow.log_dict({"a": 1, "b": [1, 2]}, artifact_file="my_dict.json")
    assert json.loads(sandbox.artifact_text(run_id, "my_dict.json")) == {"a": 1, "b": [1, 2]}


@pytest.mark.row("log_dict")
def test_log_dict_client(sandbox):
    """MlflowClient.log_dict(run_id, dictionary, artifact_file="my_dict.yaml")"""
    run_id = _client_run(sandbox)
    sandbox.client.log_dict(run_id, {"k": "v"}, "my_dict.yaml")
    assert sandbox.artifact_text(run_id, "my_dict.yaml").strip() == "k: v"


@pytest.mark.probe("log_dict.no_directories")
def test_log_dict_into_directory(sandbox):
    """log_dict with a directory in artifact_file ("config/params.json")"""
    run_id = _active_run(sandbox)
    mlflow.log_dict({"x": 1}, artifact_file="config/params.json")
    assert json.loads(sandbox.artifact_text(run_id, "config/params.json")) == {"x": 1}


def _figure():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    ax.plot([0, 1, 2], [2, 1, 3])
    return fig


def _png_listed(sandbox, run_id: str, name: str) -> None:
    sandbox.assert_listed(run_id, None, {name: False})
    head = sandbox.artifact_bytes(run_id, name)[:8]
    assert head == b"\x89PNG\r\n\x1a\n", f"{name} is not a PNG: {head!r}"


@pytest.mark.row("log_figure")
def test_log_figure_fluent(sandbox):
    """mlflow.log_figure(figure, "my_plot.png")"""
    run_id = _active_run(sandbox)
    mlflow.log_figure(_figure(), "my_plot.png")
    _png_listed(sandbox, run_id, "my_plot.png")


@pytest.mark.row("log_figure")
def test_log_figure_client(sandbox):
    """MlflowClient.log_figure(run_id, figure, artifact_file="my_plot.png")"""
    run_id = _client_run(sandbox)
    sandbox.client.log_figure(run_id, _figure(), artifact_file="my_plot.png")
    _png_listed(sandbox, run_id, "my_plot.png")


def _image():
    import numpy as np

    return np.arange(12 * 12 * 3, dtype=np.uint8).reshape(12, 12, 3)


@pytest.mark.row("log_image")
def test_log_image_fluent(sandbox):
    """mlflow.log_image(array, "image.png")"""
    run_id = _active_run(sandbox)
    mlflow.log_image(_image(), "image.png")
    _png_listed(sandbox, run_id, "image.png")


@pytest.mark.row("log_image")
def test_log_image_client(sandbox):
    """MlflowClient.log_image(run_id, image, artifact_file="image.png")"""
    run_id = _client_run(sandbox)
    sandbox.client.log_image(run_id, _image(), artifact_file="image.png")
    _png_listed(sandbox, run_id, "image.png")
