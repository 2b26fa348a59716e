"""The artifact stores, a real temporary folder and a real S3 API (moto's server on loopback),
through the one interface: listing, atomic writes, path safety, deletes; then what only a
bucket has: pagination past 1000 keys, multipart uploads and their abort."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import pytest

from server.artifacts import FileArtifactStore, open_artifact_store
from server.artifacts.s3 import PART_SIZE, S3ArtifactStore
from server.errors import MlflowError


@pytest.fixture(params=["local", "s3"])
def store(request, tmp_path):
    if request.param == "local":
        return FileArtifactStore(tmp_path / "root")
    s3 = request.getfixturevalue("s3_service")
    return S3ArtifactStore(f"s3://{s3.new_bucket()}/some/prefix", client=s3.client())


@pytest.fixture
def s3_store(s3_service):
    return S3ArtifactStore(f"s3://{s3_service.new_bucket()}/prefix", client=s3_service.client())


def _read(store, path: str) -> bytes:
    return b"".join(store.reader(path))


def _write(store, path: str, content: bytes) -> None:
    with store.writer(path) as out:
        out.write(content)


def test_write_list_read_delete(store):
    _write(store, "a/b/c.txt", b"hello")
    _write(store, "a/empty", b"")
    assert store.list("a") == [{"path": "b", "is_dir": True}, {"path": "empty", "is_dir": False}]
    assert store.list("a/b") == [{"path": "c.txt", "is_dir": False, "file_size": 5}]
    assert store.reader("a/b/c.txt").size == 5
    assert _read(store, "a/b/c.txt") == b"hello"
    store.delete("a/b")
    assert store.list("a") == [{"path": "empty", "is_dir": False}]
    store.delete("a/empty")
    assert store.list("a") == []
    assert store.list("missing/folder") == []


def test_failed_write_leaves_nothing(store):
    with pytest.raises(RuntimeError), store.writer("x/y.bin") as out:
        out.write(b"partial")
        raise RuntimeError("client went away")
    assert store.list("x") == []


def test_overwrite_is_atomic_replace(store):
    for content in (b"one", b"two"):
        _write(store, "f.txt", content)
    assert _read(store, "f.txt") == b"two"
    assert [f["path"] for f in store.list(None)] == ["f.txt"]


@pytest.mark.parametrize(
    "bad", ["../x", "a/../../x", "/etc/passwd", "a\\b", "C:\\x", "a/\x00", "n" * 256 + "/x"]
)
def test_unsafe_paths_are_invalid(store, bad):
    for action in (store.list, store.reader, store.delete, store.writer):
        with pytest.raises(MlflowError) as e:
            action(bad)
        assert e.value.error_code == "INVALID_PARAMETER_VALUE"


@pytest.mark.parametrize("bad", ["x//y", "x/./y", "x/", "ok.txt/child.txt", "folder"])
def test_uploads_need_one_name_per_file(store, bad):
    _write(store, "ok.txt", b"ok")
    _write(store, "folder/inside.txt", b"in")
    with pytest.raises(MlflowError) as e:
        _write(store, bad, b"x")
    assert e.value.error_code == "INVALID_PARAMETER_VALUE"
    assert [f["path"] for f in store.list(None)] == ["folder", "ok.txt"]


def test_missing_file_is_resource_does_not_exist(store):
    _write(store, "folder/inside.txt", b"in")
    for path in ("nope.txt", "folder"):
        with pytest.raises(MlflowError) as e:
            store.reader(path)
        assert e.value.error_code == "RESOURCE_DOES_NOT_EXIST"


def test_the_root_cannot_be_deleted(store):
    _write(store, "kept.txt", b"kept")
    with pytest.raises(MlflowError):
        store.delete("")
    assert _read(store, "kept.txt") == b"kept"


def test_an_upload_in_progress_is_invisible(store):
    """A listing taken mid-upload shows neither the file nor a temporary name for it."""
    with store.writer("run/artifacts/model.bin") as out:
        out.write(b"half")
        assert store.list("run/artifacts") == []
    assert store.list("run/artifacts") == [{"path": "model.bin", "is_dir": False, "file_size": 4}]


def test_the_destination_picks_the_store(tmp_path, s3_service, monkeypatch):
    assert isinstance(open_artifact_store(str(tmp_path / "a")), FileArtifactStore)
    assert isinstance(open_artifact_store(f"file://{tmp_path / 'b'}"), FileArtifactStore)
    for key, value in s3_service.env.items():
        monkeypatch.setenv(key, value)
    bucket = s3_service.new_bucket()
    s3 = open_artifact_store(f"s3://{bucket}/deep/prefix")
    assert isinstance(s3, S3ArtifactStore)
    _write(s3, "x/y.txt", b"where")
    assert s3_service.objects(bucket) == {"deep/prefix/x/y.txt": 5}
    with pytest.raises(ValueError, match="unsupported artifacts destination"):
        open_artifact_store("gs://bucket/x")


# ---- local folder only -----------------------------------------------------------------------


def test_the_staging_folder_is_not_an_artifact_path(tmp_path):
    store = FileArtifactStore(tmp_path / "root")
    with store.writer("run/x.bin") as out:
        out.write(b"x")
    assert not any((store.root / ".mlflow-compat-uploads").iterdir())
    for action in (store.list, store.reader, store.delete, store.writer):
        with pytest.raises(MlflowError) as e:
            action(".mlflow-compat-uploads/x")
        assert e.value.error_code == "INVALID_PARAMETER_VALUE"


def test_stale_uploads_of_a_killed_process_are_removed(tmp_path):
    staging = tmp_path / "root" / ".mlflow-compat-uploads"
    staging.mkdir(parents=True)
    (staging / "upload-old").write_bytes(b"x")
    (staging / "upload-new").write_bytes(b"y")
    os.utime(staging / "upload-old", (0, 0))
    FileArtifactStore(tmp_path / "root")
    assert sorted(p.name for p in staging.iterdir()) == ["upload-new"]


# ---- S3 only ---------------------------------------------------------------------------------


def test_listing_and_deleting_page_past_1000_keys(s3_store, s3_service):
    """S3 answers at most 1000 keys a request: a listing and a folder's delete go page by page."""
    client, bucket = s3_service.client(), s3_store.bucket
    keys = [f"prefix/many/f{i:04d}" for i in range(1001)] + ["prefix/many/sub/x"]
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda key: client.put_object(Bucket=bucket, Key=key, Body=b""), keys))
    listed = s3_store.list("many")
    assert len(listed) == 1002
    assert listed[0] == {"path": "f0000", "is_dir": False}
    assert listed[-1] == {"path": "sub", "is_dir": True}
    s3_store.delete("many")
    assert s3_service.objects(bucket) == {}


def test_a_large_upload_goes_in_parts_and_comes_back_whole(s3_store, s3_service):
    block = os.urandom(PART_SIZE // 4 + 13)
    size = 0
    with s3_store.writer("big/model.bin") as out:
        for _ in range(10):  # 2.5 parts, written in pieces that do not fit parts evenly
            out.write(block)
            size += len(block)
        assert out.parts and len(out.buffer) < PART_SIZE  # memory holds one part at most
    assert len(out.parts) == 3
    assert s3_store.list("big") == [{"path": "model.bin", "is_dir": False, "file_size": size}]
    assert _read(s3_store, "big/model.bin") == block * 10
    assert s3_service.pending_uploads(s3_store.bucket) == []


def test_a_broken_multipart_upload_is_aborted(s3_store, s3_service):
    with pytest.raises(ConnectionError), s3_store.writer("big/broken.bin") as out:
        out.write(os.urandom(PART_SIZE + 1))
        assert out.upload_id is not None
        raise ConnectionError("client went away")
    assert s3_service.objects(s3_store.bucket) == {}
    assert s3_service.pending_uploads(s3_store.bucket) == []
