"""The artifact store interface (see the package's docstring) and what a download hands over."""

from __future__ import annotations

import typing as t
from collections.abc import Iterator
from dataclasses import dataclass

from server.errors import MlflowError

CHUNK = 1024 * 1024  # downloads go out in pieces of this size


@dataclass
class ArtifactFile:
    """An artifact opened for download: its size and its bytes, piece by piece. `close` frees
    what holds it open (a file, a connection) if the pieces are not read to the end."""

    size: int
    chunks: Iterator[bytes]
    close: t.Callable[[], None]

    def __iter__(self) -> Iterator[bytes]:
        try:
            yield from self.chunks
        finally:
            self.close()


class ArtifactStore(t.Protocol):
    def list(self, path: str | None) -> list[dict]: ...

    def reader(self, path: str) -> ArtifactFile: ...

    def writer(self, path: str) -> t.ContextManager[t.BinaryIO]: ...

    def delete(self, path: str) -> None: ...


def storage_unavailable(what: str) -> MlflowError:
    """Storage that cannot be reached, answers errors or is full: the client may try again."""
    return MlflowError(f"Artifact storage unavailable: {what}", "TEMPORARILY_UNAVAILABLE")
