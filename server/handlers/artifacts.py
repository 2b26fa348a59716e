"""The artifact proxy (/api/2.0/mlflow-artifacts/artifacts) and the tracking artifacts/list."""

from __future__ import annotations

import posixpath
from urllib.parse import quote, urlparse

from anyio import to_thread
from connexion.context import request
from starlette.concurrency import iterate_in_threadpool
from starlette.responses import StreamingResponse

from server.artifacts import check_path, mime_type
from server.errors import MlflowError
from server.handlers.common import compact, run_id_of

PROXY_SCHEME = "mlflow-artifacts"


class ArtifactHandlers:
    def __init__(self, store, artifacts):
        self.store = store
        self.artifacts = artifacts

    # Storage calls block (a disk, or S3 over the network): each goes to a worker thread, so
    # that the event loop keeps serving other requests meanwhile.

    async def list_artifacts_proxy(self, path=None):
        path = check_path(path) if path else None
        return compact(files=await to_thread.run_sync(self.artifacts.list, path))

    async def download_artifact(self, artifact_path):
        return await file_response(self.artifacts, artifact_path)

    async def upload_artifact(self, artifact_path):
        writer = await to_thread.run_sync(self.artifacts.writer, artifact_path)
        out = await to_thread.run_sync(writer.__enter__)
        try:
            async for chunk in request.stream():
                if chunk:
                    await to_thread.run_sync(out.write, chunk)
        except BaseException as e:
            await to_thread.run_sync(writer.__exit__, type(e), e, e.__traceback__)
            raise
        await to_thread.run_sync(writer.__exit__, None, None, None)
        return {}

    async def delete_artifact(self, artifact_path):
        await to_thread.run_sync(self.artifacts.delete, artifact_path)
        return {}

    def list_artifacts(self, run_id=None, run_uuid=None, path=None, page_token=None):
        """Files under a run's artifact root, for runs whose root this server proxies."""
        if path:
            check_path(path)
        run = self.store.get_run(run_id_of(run_id=run_id, run_uuid=run_uuid))
        root_uri = run["info"]["artifact_uri"]
        base = proxied_path(root_uri)
        listed = self.artifacts.list(posixpath.join(base, path) if path else base)
        files = [
            {**f, "path": posixpath.join(path, f["path"]) if path else f["path"]} for f in listed
        ]
        return compact(root_uri=root_uri, files=files)


def proxied_path(uri: str) -> str:
    """The path under the artifact root of a `mlflow-artifacts:` URI (a run's artifact root, a
    model version's source); other URIs are not this server's to read."""
    parsed = urlparse(uri)
    if parsed.scheme != PROXY_SCHEME:
        raise MlflowError(
            f"This server only serves artifacts under {PROXY_SCHEME}:/ roots, not {uri}",
            "INVALID_PARAMETER_VALUE",
        )
    return parsed.path.lstrip("/")


async def file_response(artifacts, artifact_path: str) -> StreamingResponse:
    """The file at `artifact_path`, streamed as an attachment as 2.7.1 sends artifacts (never
    shown inline on the server's origin), with a content type guessed from its name. Opened
    here, so that a missing file or unreachable storage answers an error body before the first
    byte; the bytes then stream from a worker thread."""
    file = await to_thread.run_sync(artifacts.reader, artifact_path)
    name = posixpath.basename(artifact_path)
    return StreamingResponse(
        iterate_in_threadpool(iter(file)),
        headers={
            # Set as a header, not media_type, so that no charset is added (2.7.1 sends none).
            "Content-Type": mime_type(name),
            "Content-Length": str(file.size),
            "Content-Disposition": _attachment(name),
            "X-Content-Type-Options": "nosniff",
        },
    )


def _attachment(name: str) -> str:
    """Content-Disposition as 2.7.1 words it; a name HTTP headers cannot carry as it is (not
    ASCII, or with control characters) goes RFC 6266's way, percent-encoded, instead of failing
    the download."""
    if name.isascii() and name.isprintable():
        return f"attachment; filename={name}"
    return f"attachment; filename*=UTF-8''{quote(name)}"
