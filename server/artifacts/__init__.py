"""Artifact storage behind one interface, two implementations chosen by the destination's
scheme: a local folder (local.py) or an S3 bucket and prefix, `s3://bucket/prefix` (s3.py).

An artifact store has four operations, each on a checked relative path (paths.py):

    list(path)      -> [{"path": name, "is_dir": bool, "file_size"?: int}], sorted by name
    reader(path)    -> ArtifactFile (size, chunks): raises RESOURCE_DOES_NOT_EXIST before any byte
    writer(path)    -> a context manager giving a binary file to write; the artifact appears
                       whole when the block ends without error, and not at all otherwise
    delete(path)    -> a file, or a folder with everything in it

Storage that cannot be reached, or is full, raises TEMPORARILY_UNAVAILABLE.
"""

from __future__ import annotations

from .base import ArtifactFile, ArtifactStore
from .local import FileArtifactStore
from .paths import check_path, mime_type

__all__ = [
    "ArtifactFile",
    "ArtifactStore",
    "FileArtifactStore",
    "check_path",
    "mime_type",
    "open_artifact_store",
]


def open_artifact_store(destination: str) -> ArtifactStore:
    """The store for `destination`: `s3://bucket[/prefix]`, else a local folder (a path or a
    `file://` URI)."""
    if destination.startswith("s3://"):
        from .s3 import S3ArtifactStore  # boto3 is the `s3` extra's: imported only when asked

        return S3ArtifactStore(destination)
    if destination.startswith("file://"):
        destination = destination[len("file://") :]
    elif "://" in destination:
        raise ValueError(
            f"unsupported artifacts destination {destination!r}: "
            "use a local folder or s3://bucket/prefix"
        )
    return FileArtifactStore(destination)
