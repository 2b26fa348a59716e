"""FileArtifactStore on a real temporary folder: listing, atomic writes, path safety."""

from __future__ import annotations

import pytest

from server.artifacts import FileArtifactStore
from server.errors import MlflowError


@pytest.fixture
def store(tmp_path):
    return FileArtifactStore(tmp_path / "root")


def test_write_list_read_delete(store):
    with store.writer("a/b/c.txt") as out:
        out.write(b"hello")
    assert store.list("a") == [{"path": "b", "is_dir": True}]
    assert store.list("a/b") == [{"path": "c.txt", "is_dir": False, "file_size": 5}]
    assert store.local_file("a/b/c.txt").read_bytes() == b"hello"
    store.delete("a/b")
    assert store.list("a") == []
    assert store.list("missing/folder") == []


def test_failed_write_leaves_nothing(store):
    with pytest.raises(RuntimeError), store.writer("x/y.bin") as out:
        out.write(b"partial")
        raise RuntimeError("client went away")
    assert store.list("x") == []


def test_overwrite_is_atomic_replace(store):
    for content in (b"one", b"two"):
        with store.writer("f.txt") as out:
            out.write(content)
    assert store.local_file("f.txt").read_bytes() == b"two"
    assert [f["path"] for f in store.list(None)] == ["f.txt"]


@pytest.mark.parametrize("bad", ["../x", "a/../../x", "/etc/passwd", "a\\b", "C:\\x", "a/\x00"])
def test_unsafe_paths_are_invalid(store, bad):
    for action in (store.list, store.local_file, store.delete, store.writer):
        with pytest.raises(MlflowError) as e:
            action(bad)
        assert e.value.error_code == "INVALID_PARAMETER_VALUE"


def test_missing_file_is_resource_does_not_exist(store):
    with pytest.raises(MlflowError) as e:
        store.local_file("nope.txt")
    assert e.value.error_code == "RESOURCE_DOES_NOT_EXIST"


def test_an_upload_in_progress_is_invisible(store):
    """A listing taken mid-upload shows neither the file nor a temporary name for it."""
    with store.writer("run/artifacts/model.bin") as out:
        out.write(b"half")
        assert store.list("run/artifacts") == []
        assert [f["path"] for f in store.list(None)] == ["run"]
    assert store.list("run/artifacts") == [{"path": "model.bin", "is_dir": False, "file_size": 4}]
    assert not any((store.root / ".mlflow-compat-uploads").iterdir())


def test_the_staging_folder_is_not_an_artifact_path(store):
    for action in (store.list, store.local_file, store.delete, store.writer):
        with pytest.raises(MlflowError) as e:
            action(".mlflow-compat-uploads/x")
        assert e.value.error_code == "INVALID_PARAMETER_VALUE"


def test_stale_uploads_of_a_killed_process_are_removed(tmp_path):
    import os

    staging = tmp_path / "root" / ".mlflow-compat-uploads"
    staging.mkdir(parents=True)
    (staging / "upload-old").write_bytes(b"x")
    (staging / "upload-new").write_bytes(b"y")
    os.utime(staging / "upload-old", (0, 0))
    FileArtifactStore(tmp_path / "root")
    assert sorted(p.name for p in staging.iterdir()) == ["upload-new"]
