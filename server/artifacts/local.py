"""Artifacts as files under one local folder.

Uploads stream to a temporary file in a staging folder at the root (hidden from listings,
refused as a path) and are renamed into place, so a reader never sees half a file, not even
under a temporary name, and an interrupted upload (a client gone, a full disk) leaves nothing
behind.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import tempfile
import time
import typing as t
from pathlib import Path

from server.errors import not_found

from .base import CHUNK, ArtifactFile, storage_unavailable
from .paths import check_file_path, check_path, file_size, invalid_path

# Where uploads are written before their rename: on the root's filesystem, so the rename is
# atomic. Files left there by a killed process are removed once they are a day old.
_STAGING = ".mlflow-compat-uploads"
_STALE_UPLOAD_SECONDS = 24 * 3600
_FULL = (errno.ENOSPC, errno.EDQUOT)


class FileArtifactStore:
    """Artifacts as files under one root folder."""

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root).resolve()
        self.root.mkdir(parents=True, exist_ok=True)
        self._path_max = os.pathconf(self.root, "PC_PATH_MAX")
        self._staging = self.root / _STAGING
        self._staging.mkdir(exist_ok=True)
        self._remove_stale_uploads()

    def _remove_stale_uploads(self) -> None:
        # Only old ones: another worker process may be streaming an upload right now.
        cutoff = time.time() - _STALE_UPLOAD_SECONDS
        for entry in os.scandir(self._staging):
            with contextlib.suppress(OSError):
                if entry.stat(follow_symlinks=False).st_mtime < cutoff:
                    os.unlink(entry.path)

    def _inside(self, full: Path) -> bool:
        return full == self.root or self.root in full.parents

    def _inside_link(self, link: str) -> bool:
        try:
            return self._inside(Path(link).resolve())
        except (OSError, RuntimeError):
            return False

    def _resolve(self, path: str | None) -> Path:
        if not path:
            return self.root
        check_path(path)
        if path.split("/", 1)[0] == _STAGING:
            raise invalid_path(path)
        # A path the filesystem cannot hold names nothing: refuse it before the OS fails on it.
        if len(os.fsencode(self.root / path)) >= self._path_max:
            raise invalid_path(path)
        # Symlinks are followed: one that leads out of the root is refused like '..'.
        try:
            full = (self.root / path).resolve()
        except (OSError, RuntimeError):  # a symlink loop
            raise invalid_path(path) from None
        if not self._inside(full):
            raise invalid_path(path)
        return full

    def list(self, path: str | None) -> list[dict]:
        """Entries directly under `path` as FileInfo dicts (just the name as the path), sorted
        by name; a missing path lists nothing."""
        folder = self._resolve(path)
        if not folder.is_dir():
            return []
        infos = []
        for entry in os.scandir(folder):
            if folder == self.root and entry.name == _STAGING:
                continue
            try:
                if entry.is_symlink() and not self._inside_link(entry.path):
                    continue  # not ours to describe, not even its size
                if entry.is_dir():
                    infos.append({"path": entry.name, "is_dir": True})
                else:
                    size = entry.stat().st_size
                    infos.append({"path": entry.name, "is_dir": False, **file_size(size)})
            except FileNotFoundError:
                continue  # gone since the scan: a concurrent delete
        return sorted(infos, key=lambda f: f["path"])

    def local_file(self, path: str) -> Path:
        full = self._resolve(path)
        if not full.is_file():
            raise not_found(f"Artifact '{path}' does not exist")
        return full

    def reader(self, path: str) -> ArtifactFile:
        try:
            file = open(self.local_file(path), "rb")  # noqa: SIM115 (closed by ArtifactFile)
        except (FileNotFoundError, IsADirectoryError):  # gone or replaced since the check
            raise not_found(f"Artifact '{path}' does not exist") from None
        size = os.fstat(file.fileno()).st_size
        return ArtifactFile(size, iter(lambda: file.read(CHUNK), b""), file.close)

    def writer(self, path: str) -> _AtomicWriter:
        full = self._resolve(path)
        if full == self.root:
            raise invalid_path(path)
        check_file_path(path)
        return _AtomicWriter(full, self._staging)

    def delete(self, path: str) -> None:
        full = self._resolve(path)
        if full == self.root:
            raise invalid_path(path)
        if full.is_dir():
            shutil.rmtree(full)
        elif full.exists():
            full.unlink()


class _AtomicWriter:
    """A file opened in the staging folder and renamed over its target on success."""

    def __init__(self, target: Path, staging: Path):
        self.target = target
        self.staging = staging

    def __enter__(self) -> t.BinaryIO:
        if self.target.is_dir():
            raise invalid_path(f"'{self.target.name}' is a directory")
        try:
            self.target.parent.mkdir(parents=True, exist_ok=True)
        except (FileExistsError, NotADirectoryError):
            raise invalid_path(f"a parent of '{self.target.name}' is a file") from None
        except OSError as e:
            raise _disk_error(e) from e
        try:
            fd, self.tmp = tempfile.mkstemp(prefix="upload-", dir=self.staging)
        except OSError as e:
            raise _disk_error(e) from e
        self.file = os.fdopen(fd, "wb")
        return self.file

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            self.file.close()  # flushes: a full disk may show only now
            if exc_type is None:
                os.replace(self.tmp, self.target)
        except OSError as e:
            exc = e
        finally:
            if exc is not None:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(self.tmp)
        if isinstance(exc, OSError) and exc.errno in _FULL:
            raise _disk_error(exc) from exc
        if exc_type is None and exc is not None:
            raise exc


def _disk_error(error: OSError) -> Exception:
    if error.errno in _FULL:
        return storage_unavailable(f"no space left for the upload ({error.strerror})")
    return error
