"""What every artifact store checks before a path touches storage, and the content type a path
is served with: one set of rules, so a local folder and a bucket refuse and serve alike.

Paths are relative, '/'-separated, and checked the way mlflow 2.7.1 checks them (no '..'
segment, no absolute path, no other separator); names longer than a filesystem holds are
refused on every store, so that where artifacts live does not change what a client may write.
"""

from __future__ import annotations

import mimetypes
import posixpath
from pathlib import PurePosixPath, PureWindowsPath

from server.errors import MlflowError

_ALT_SEPARATORS = ("\\", "\x00")
# The longest file name (in UTF-8 bytes) common filesystems hold (NAME_MAX on Linux).
NAME_MAX = 255


def invalid_path(path: str) -> MlflowError:
    return MlflowError(f"Invalid path: {path}")


def check_path(path: str) -> str:
    """The path if it is safe to join under the artifact root, else INVALID_PARAMETER_VALUE."""
    if (
        any(s in path for s in _ALT_SEPARATORS)
        or ".." in path.split("/")
        or PurePosixPath(path).is_absolute()
        or PureWindowsPath(path).is_absolute()
        or any(len(part.encode("utf-8", "surrogatepass")) > NAME_MAX for part in path.split("/"))
    ):
        raise invalid_path(path)
    return path


def check_file_path(path: str) -> str:
    """A path an upload may create: safe, and every segment names something ('a//b' and 'a/./b'
    would store under another path than the one asked for; 2.7.1 refuses them too, with a 500)."""
    check_path(path)
    if any(part in ("", ".") for part in path.split("/")):
        raise invalid_path(path)
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


def file_size(size: int) -> dict:
    """A listing's file_size: an empty file's is left out, as protobuf leaves out a zero."""
    return {"file_size": size} if size else {}
