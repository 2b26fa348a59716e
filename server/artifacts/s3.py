"""Artifacts as objects in an S3 bucket (AWS, MinIO, Ceph ... any S3 API), under a prefix.

Configured as `mlflow server` reads it: `--artifacts-destination s3://bucket/prefix`, the
endpoint from MLFLOW_S3_ENDPOINT_URL (for S3-compatible storage), credentials and region the
way boto3 finds them (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_DEFAULT_REGION, ...),
MLFLOW_S3_IGNORE_TLS=true to skip certificate checks.

Folders are key prefixes, as the MLflow client's own S3 store sees them. An upload is one
PUT when it is small and a multipart upload, a part at a time, when it is large: memory holds
one part, whatever the size, and an upload that fails midway is aborted, so no object (and no
orphaned part) is left. A storage that cannot be reached or answers with an error is
TEMPORARILY_UNAVAILABLE, after one quick retry.
"""

from __future__ import annotations

import contextlib
import os
import posixpath
from urllib.parse import urlparse

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from server.errors import not_found

from .base import CHUNK, ArtifactFile, storage_unavailable
from .paths import check_file_path, check_path, file_size, invalid_path, mime_type

PART_SIZE = 8 * 1024 * 1024  # S3's smallest part is 5 MiB; 10,000 parts make 78 GiB
_KEY_MAX = 1024  # S3's longest key, in UTF-8 bytes
_DELETE_BATCH = 1000  # keys per DeleteObjects request, S3's maximum
_MISSING = ("NoSuchKey", "404", "NotFound")
COMPLETE_TIMEOUT = 900  # seconds


def client_from_env(environ=os.environ, read_timeout: float = 30):
    """A boto3 S3 client configured as mlflow 2.7.1 configures its own. Storage that cannot be
    reached fails in seconds (the connect timeout); `read_timeout` bounds a wait for an answer."""
    endpoint = environ.get("MLFLOW_S3_ENDPOINT_URL") or None
    config = Config(
        connect_timeout=3,
        read_timeout=read_timeout,
        retries={"max_attempts": 2, "mode": "standard"},
        max_pool_connections=64,
        s3={"addressing_style": "path"} if endpoint else None,
        # S3-compatible servers do not all take the checksums boto3 now adds by default.
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
    )
    ignore_tls = environ.get("MLFLOW_S3_IGNORE_TLS", "").lower() in ("true", "1", "yes")
    # Unset ones are None: boto3 then looks further (its config files, an instance role ...).
    session = boto3.session.Session(
        aws_access_key_id=environ.get("AWS_ACCESS_KEY_ID"),
        aws_secret_access_key=environ.get("AWS_SECRET_ACCESS_KEY"),
        aws_session_token=environ.get("AWS_SESSION_TOKEN"),
        region_name=environ.get("AWS_DEFAULT_REGION") or environ.get("AWS_REGION"),
    )
    return session.client("s3", endpoint_url=endpoint, verify=not ignore_tls, config=config)


@contextlib.contextmanager
def _storage_errors(path: str, missing=None):
    """botocore's failures as MLflow's: a missing object (when `missing` says what to raise),
    else TEMPORARILY_UNAVAILABLE."""
    try:
        yield
    except ClientError as e:
        code = str(e.response.get("Error", {}).get("Code", ""))
        if missing is not None and code in _MISSING:
            raise missing from None
        raise storage_unavailable(f"{code or 'error'} on '{path}'") from e
    except BotoCoreError as e:
        raise storage_unavailable(f"{type(e).__name__} on '{path}'") from e


class S3ArtifactStore:
    """Artifacts under `s3://bucket/prefix`."""

    def __init__(self, uri: str, client=None):
        parsed = urlparse(uri)
        if parsed.scheme != "s3" or not parsed.netloc:
            raise ValueError(f"not an S3 URI: {uri!r}; use s3://bucket/prefix")
        self.bucket = parsed.netloc
        self.prefix = parsed.path.strip("/")
        self.client = client or client_from_env()
        # Completing a multipart upload makes the object from its parts: for a large one S3
        # may take minutes to answer.
        self.completer = client or client_from_env(read_timeout=COMPLETE_TIMEOUT)

    def _key(self, path: str | None) -> str:
        if not path:
            return self.prefix
        check_path(path)
        key = f"{self.prefix}/{path}" if self.prefix else path
        if len(key.encode("utf-8", "surrogatepass")) > _KEY_MAX:
            raise invalid_path(path)
        return key

    def _folder(self, path: str | None) -> str:
        key = self._key(path)
        return f"{key}/" if key else ""

    def _keys_under(self, folder: str, path: str, delimiter: bool):
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=folder, **({"Delimiter": "/"} if delimiter else {})
        )
        with _storage_errors(path):
            yield from pages

    def list(self, path: str | None) -> list[dict]:
        folder = self._folder(path)
        infos = {}
        for page in self._keys_under(folder, path or "", delimiter=True):
            for common in page.get("CommonPrefixes", ()):
                name = common["Prefix"][len(folder) :].rstrip("/")
                if name:
                    infos[name] = {"path": name, "is_dir": True}
            for obj in page.get("Contents", ()):
                name = obj["Key"][len(folder) :]
                if name and name not in infos:
                    infos[name] = {"path": name, "is_dir": False, **file_size(obj["Size"])}
        return sorted(infos.values(), key=lambda f: f["path"])

    def reader(self, path: str) -> ArtifactFile:
        key = self._key(path)
        with _storage_errors(path, missing=not_found(f"Artifact '{path}' does not exist")):
            obj = self.client.get_object(Bucket=self.bucket, Key=key)
        body = obj["Body"]

        def chunks():
            with _storage_errors(path):
                yield from body.iter_chunks(CHUNK)

        return ArtifactFile(obj["ContentLength"], chunks(), body.close)

    def writer(self, path: str) -> _MultipartWriter:
        key = self._key(check_file_path(path))
        self._check_room_for(path, key)
        return _MultipartWriter(self.client, self.completer, self.bucket, key, path)

    def _exists(self, key: str, path: str) -> bool:
        try:
            with _storage_errors(path, missing=LookupError()):
                self.client.head_object(Bucket=self.bucket, Key=key)
        except LookupError:
            return False
        return True

    def _check_room_for(self, path: str, key: str) -> None:
        """As on a filesystem: no file where the path needs a folder, no folder where it needs
        a file."""
        parts = path.split("/")
        for depth in range(1, len(parts)):
            if self._exists(self._key("/".join(parts[:depth])), path):
                raise invalid_path(f"a parent of '{parts[-1]}' is a file")
        with _storage_errors(path):
            below = self.client.list_objects_v2(Bucket=self.bucket, Prefix=key + "/", MaxKeys=1)
        if below.get("KeyCount", 0):
            raise invalid_path(f"'{parts[-1]}' is a directory")

    def delete(self, path: str) -> None:
        key = self._key(path)
        if not path or key == self.prefix:
            raise invalid_path(path)
        keys = [key]
        for page in self._keys_under(key + "/", path, delimiter=False):
            keys.extend(obj["Key"] for obj in page.get("Contents", ()))
        for start in range(0, len(keys), _DELETE_BATCH):
            batch = [{"Key": k} for k in keys[start : start + _DELETE_BATCH]]
            with _storage_errors(path):
                answer = self.client.delete_objects(
                    Bucket=self.bucket, Delete={"Objects": batch, "Quiet": True}
                )
            if answer.get("Errors"):
                raise storage_unavailable(f"{answer['Errors'][0].get('Code')} on '{path}'")


class _MultipartWriter:
    """Buffers one part at a time: a small artifact is one PUT, a large one a multipart upload
    that is completed when the block ends without error and aborted otherwise."""

    def __init__(self, client, completer, bucket: str, key: str, path: str):
        self.client, self.completer = client, completer
        self.bucket, self.key, self.path = bucket, key, path
        self.content_type = mime_type(posixpath.basename(path))

    def __enter__(self) -> _MultipartWriter:
        self.buffer = bytearray()
        self.upload_id = None
        self.parts: list[dict] = []
        return self

    def write(self, data: bytes) -> int:
        self.buffer += data
        while len(self.buffer) >= PART_SIZE:
            self._send_part(PART_SIZE)
        return len(data)

    def _send_part(self, size: int) -> None:
        with _storage_errors(self.path):
            if self.upload_id is None:
                self.upload_id = self.client.create_multipart_upload(
                    Bucket=self.bucket, Key=self.key, ContentType=self.content_type
                )["UploadId"]
            number = len(self.parts) + 1
            part = bytes(self.buffer[:size])
            del self.buffer[:size]
            etag = self.client.upload_part(
                Bucket=self.bucket,
                Key=self.key,
                UploadId=self.upload_id,
                PartNumber=number,
                Body=part,
            )["ETag"]
        self.parts.append({"ETag": etag, "PartNumber": number})

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            try:
                self._finish()
                return
            except BaseException:
                self._abort()
                raise
        self._abort()

    def _finish(self) -> None:
        if self.upload_id is None:
            with _storage_errors(self.path):
                self.client.put_object(
                    Bucket=self.bucket,
                    Key=self.key,
                    Body=bytes(self.buffer),
                    ContentType=self.content_type,
                )
            return
        if self.buffer:
            self._send_part(len(self.buffer))
        with _storage_errors(self.path):
            self.completer.complete_multipart_upload(
                Bucket=self.bucket,
                Key=self.key,
                UploadId=self.upload_id,
                MultipartUpload={"Parts": self.parts},
            )

    def _abort(self) -> None:
        self.buffer = bytearray()
        if self.upload_id is not None:
            # Best effort: storage that is down now keeps the parts until its lifecycle rule
            # for incomplete uploads removes them; no object is made from them either way.
            with contextlib.suppress(BotoCoreError, ClientError):
                self.client.abort_multipart_upload(
                    Bucket=self.bucket, Key=self.key, UploadId=self.upload_id
                )
