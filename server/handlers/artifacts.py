"""The artifact proxy (/api/2.0/mlflow-artifacts/artifacts) and the tracking artifacts/list."""

from __future__ import annotations

import posixpath
from urllib.parse import quote, urlparse

from anyio import to_thread
from connexion.context import request
from starlette.responses import FileResponse

from server.artifacts import check_path, mime_type
from server.errors import MlflowError
from server.handlers.common import compact, run_id_of

PROXY_SCHEME = "mlflow-artifacts"


class ArtifactHandlers:
    def __init__(self, store, artifacts):
        self.store = store
        self.artifacts = artifacts

    def list_artifacts_proxy(self, path=None):
        return compact(files=self.artifacts.list(check_path(path) if path else None))

    def download_artifact(self, artifact_path):
        return file_response(self.artifacts, artifact_path)

    async def upload_artifact(self, artifact_path):
        writer = self.artifacts.writer(artifact_path)
        with writer as out:
            async for chunk in request.stream():
                if chunk:
                    await to_thread.run_sync(out.write, chunk)
        return {}

    def delete_artifact(self, artifact_path):
        self.artifacts.delete(artifact_path)
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


def file_response(artifacts, artifact_path: str) -> FileResponse:
    """The file at `artifact_path`, streamed as an attachment as 2.7.1 sends artifacts (never
    shown inline on the server's origin), with a content type guessed from its name."""
    local = artifacts.local_file(artifact_path)
    name = posixpath.basename(artifact_path)
    return FileResponse(
        local,
        headers={
            # Set as a header, not media_type, so that no charset is added (2.7.1 sends none).
            "Content-Type": mime_type(name),
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
