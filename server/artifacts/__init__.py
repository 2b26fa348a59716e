"""Artifact storage: one small interface, a filesystem implementation first.

Paths are relative, '/'-separated, and checked the way mlflow 2.7.1 checks them
(no '..' segment, no absolute path, no other separator) before they touch the disk.
Uploads stream to a temporary file beside the target and are renamed into place, so a
reader never sees half a file and an interrupted upload leaves nothing behind.
"""

from __future__ import annotations

import mimetypes
import os
import posixpath
import shutil
import tempfile
import typing as t
from pathlib import Path, PurePosixPath, PureWindowsPath

from server.errors import MlflowError, not_found

_ALT_SEPARATORS = ("\\", "\x00")


def check_path(path: str) -> str:
    """The path if it is safe to join under the artifact root, else INVALID_PARAMETER_VALUE."""
    if (
        any(s in path for s in _ALT_SEPARATORS)
        or ".." in path.split("/")
        or PurePosixPath(path).is_absolute()
        or PureWindowsPath(path).is_absolute()
    ):
        raise MlflowError(f"Invalid path: {path}")
    return path


def mime_type(path: str) -> str:
    return mimetypes.guess_type(path)[0] or "application/octet-stream"


class ArtifactStore(t.Protocol):
    def list(self, path: str | None) -> list[dict]: ...
    def local_file(self, path: str) -> Path: ...
    def writer(self, path: str) -> t.ContextManager[t.BinaryIO]: ...
    def delete(self, path: str) -> None: ...


class FileArtifactStore:
    """Artifacts as files under one root folder."""

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root).resolve()
        self.root.mkdir(parents=True, exist_ok=True)

    def _resolve(self, path: str | None) -> Path:
        if not path:
            return self.root
        full = (self.root / check_path(path)).resolve()
        if full != self.root and self.root not in full.parents:
            raise MlflowError(f"Invalid path: {path}")
        return full

    def list(self, path: str | None) -> list[dict]:
        """Entries directly under `path` as FileInfo dicts (paths relative to `path`'s parent
        listing, i.e. just the name), sorted by name; a missing path lists nothing."""
        folder = self._resolve(path)
        if not folder.is_dir():
            return []
        infos = []
        for entry in os.scandir(folder):
            try:
                if entry.is_dir():
                    infos.append({"path": entry.name, "is_dir": True})
                else:
                    infos.append(
                        {"path": entry.name, "is_dir": False, "file_size": entry.stat().st_size}
                    )
            except FileNotFoundError:
                # Gone since the scan: a concurrent delete, or an upload's temporary file
                # renamed into place (that file is listed under its own name once there).
                continue
        return sorted(infos, key=lambda f: f["path"])

    def local_file(self, path: str) -> Path:
        full = self._resolve(path)
        if not full.is_file():
            raise not_found(f"Artifact '{path}' does not exist")
        return full

    def writer(self, path: str) -> _AtomicWriter:
        full = self._resolve(path)
        if full == self.root or not posixpath.basename(path):
            raise MlflowError(f"Invalid path: {path}")
        return _AtomicWriter(full)

    def delete(self, path: str) -> None:
        full = self._resolve(path)
        if full == self.root:
            raise MlflowError(f"Invalid path: {path}")
        if full.is_dir():
            shutil.rmtree(full)
        elif full.exists():
            full.unlink()


class _AtomicWriter:
    """A file opened beside its target and renamed over it on success."""

    def __init__(self, target: Path):
        self.target = target

    def __enter__(self) -> t.BinaryIO:
        if self.target.is_dir():
            raise MlflowError(f"Invalid path: '{self.target.name}' is a directory")
        self.target.parent.mkdir(parents=True, exist_ok=True)
        fd, self.tmp = tempfile.mkstemp(prefix=".upload-", dir=self.target.parent)
        self.file = os.fdopen(fd, "wb")
        return self.file

    def __exit__(self, exc_type, exc, tb) -> None:
        self.file.close()
        if exc_type is None:
            os.replace(self.tmp, self.target)
        else:
            os.unlink(self.tmp)
