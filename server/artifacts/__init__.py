"""Artifact storage: a folder on the local filesystem.

Paths are relative, '/'-separated, and checked the way mlflow 2.7.1 checks them
(no '..' segment, no absolute path, no other separator) before they touch the disk.
Uploads stream to a temporary file in a staging folder at the root (hidden from listings,
refused as a path) and are renamed into place, so a reader never sees half a file, not even
under a temporary name, and an interrupted upload leaves nothing behind.
"""

from __future__ import annotations

import contextlib
import mimetypes
import os
import posixpath
import shutil
import tempfile
import time
import typing as t
from pathlib import Path, PurePosixPath, PureWindowsPath

from server.errors import MlflowError, not_found

_ALT_SEPARATORS = ("\\", "\x00")
# Where uploads are written before their rename: on the root's filesystem, so the rename is
# atomic. Files left there by a killed process are removed once they are a day old.
_STAGING = ".mlflow-compat-uploads"
_STALE_UPLOAD_SECONDS = 24 * 3600


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


# Served as text/plain, as 2.7.1 serves them (mlflow.utils.mime_type_utils); a file without an
# extension is matched by its whole name (MLmodel, MLproject).
_TEXT_EXTENSIONS = frozenset({
    "txt", "log", "err", "cfg", "conf", "cnf", "cf", "ini", "properties", "prop", "hocon", "toml",
    "yaml", "yml", "xml", "json", "js", "py", "py3", "csv", "tsv", "md", "rst", "MLmodel",
    "MLproject",
})  # fmt: skip


def mime_type(path: str) -> str:
    """The Content-Type 2.7.1 sends for an artifact of this name."""
    name = posixpath.basename(path)
    extension = posixpath.splitext(name)[1][1:] or name
    if extension in _TEXT_EXTENSIONS:
        return "text/plain"
    return mimetypes.guess_type(name)[0] or "application/octet-stream"


class FileArtifactStore:
    """Artifacts as files under one root folder."""

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root).resolve()
        self.root.mkdir(parents=True, exist_ok=True)
        self._name_max = os.pathconf(self.root, "PC_NAME_MAX")
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
            raise MlflowError(f"Invalid path: {path}")
        # A name the filesystem cannot hold names nothing: refuse it before the OS fails on it.
        if len(os.fsencode(self.root / path)) >= self._path_max or any(
            len(os.fsencode(part)) > self._name_max for part in path.split("/")
        ):
            raise MlflowError(f"Invalid path: {path}")
        # Symlinks are followed: one that leads out of the root is refused like '..'.
        try:
            full = (self.root / path).resolve()
        except (OSError, RuntimeError):  # a symlink loop
            raise MlflowError(f"Invalid path: {path}") from None
        if not self._inside(full):
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
            if folder == self.root and entry.name == _STAGING:
                continue
            try:
                if entry.is_symlink() and not self._inside_link(entry.path):
                    continue  # not ours to describe, not even its size
                if entry.is_dir():
                    infos.append({"path": entry.name, "is_dir": True})
                else:
                    # An empty file's size is left out, as protobuf leaves out a zero.
                    size = entry.stat().st_size
                    infos.append({"path": entry.name, "is_dir": False, **_size(size)})
            except FileNotFoundError:
                continue  # gone since the scan: a concurrent delete
        return sorted(infos, key=lambda f: f["path"])

    def local_file(self, path: str) -> Path:
        full = self._resolve(path)
        if not full.is_file():
            raise not_found(f"Artifact '{path}' does not exist")
        return full

    def writer(self, path: str) -> _AtomicWriter:
        full = self._resolve(path)
        # Every segment must name something: 'a//b' and 'a/./b' would store under another
        # path than the one asked for (2.7.1 refuses them too, though with a 500).
        if full == self.root or any(part in ("", ".") for part in path.split("/")):
            raise MlflowError(f"Invalid path: {path}")
        return _AtomicWriter(full, self._staging)

    def delete(self, path: str) -> None:
        full = self._resolve(path)
        if full == self.root:
            raise MlflowError(f"Invalid path: {path}")
        if full.is_dir():
            shutil.rmtree(full)
        elif full.exists():
            full.unlink()


def _size(size: int) -> dict:
    return {"file_size": size} if size else {}


class _AtomicWriter:
    """A file opened in the staging folder and renamed over its target on success."""

    def __init__(self, target: Path, staging: Path):
        self.target = target
        self.staging = staging

    def __enter__(self) -> t.BinaryIO:
        if self.target.is_dir():
            raise MlflowError(f"Invalid path: '{self.target.name}' is a directory")
        try:
            self.target.parent.mkdir(parents=True, exist_ok=True)
        except (FileExistsError, NotADirectoryError):
            raise MlflowError(f"Invalid path: a parent of '{self.target.name}' is a file") from None
        fd, self.tmp = tempfile.mkstemp(prefix="upload-", dir=self.staging)
        self.file = os.fdopen(fd, "wb")
        return self.file

    def __exit__(self, exc_type, exc, tb) -> None:
        self.file.close()
        if exc_type is None:
            os.replace(self.tmp, self.target)
        else:
            os.unlink(self.tmp)
