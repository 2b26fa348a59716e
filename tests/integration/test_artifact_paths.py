"""Path safety over real HTTP: every attempt to read, write, list or delete outside the artifact
root through the proxy, or outside a run's folder through artifacts/list, is refused with 400
INVALID_PARAMETER_VALUE and leaves the filesystem as it was.

Requests go out through http.client with the path exactly as written here: an HTTP library would
remove `..` segments or re-encode the path before sending it.

Where 2.7.1 answers differently (tests/differential/divergences.py has the details):
- a double-encoded `%252e%252e%252f` is one literal file name inside the root, on both servers;
- a backslash is a separator only on Windows, so 2.7.1 on Linux stores `a\\b` as one name; the
  reference refuses it everywhere;
- NUL, over-long names, '.' and empty segments in uploads fail in 2.7.1 with a 500 (or list as
  missing); the reference answers 400.
- 2.7.1 follows a symlink planted in its artifact folder wherever it leads.
"""

from __future__ import annotations

import http.client
import json
import os
import time
import uuid
from pathlib import Path
from urllib.parse import quote, urlencode, urlsplit

import pytest

PROXY = "/api/2.0/mlflow-artifacts/artifacts"
LIST = "/api/2.0/mlflow/artifacts/list"
MARKER = f"escaped-{uuid.uuid4().hex[:12]}.txt"
LONG = "n" * 300

# Proxy paths as they appear in the URL, percent-encoding and all.
ESCAPING_PATHS = [
    f"../{MARKER}",
    f"../../{MARKER}",
    f"0/../../{MARKER}",
    f"0/run/artifacts/../../../../{MARKER}",
    "0/run/artifacts/..",
    "..",
    f"%2e%2e/{MARKER}",
    f"%2E%2E%2F{MARKER}",
    f"0%2F..%2F..%2F{MARKER}",
    f"0/%2e%2e/%2e%2e/%2e%2e/{MARKER}",
    f"/tmp/{MARKER}",
    f"%2Ftmp%2F{MARKER}",
    f"//tmp/{MARKER}",
    f"C:%5C{MARKER}",
    f"..%5C{MARKER}",
    f"0%5C..%5C..%5C{MARKER}",
    f"%5C%5Cserver%5Cshare%5C{MARKER}",
    f"{MARKER}%00",
    f"..%00/{MARKER}",
    f"{LONG}/{MARKER}",
    "/".join(["d" * 200] * 25) + f"/{MARKER}",
]
# The same attempts as a list request's `path` (decoded: the query string encodes them).
ESCAPING_QUERIES = [
    "..",
    "../",
    f"../{MARKER}",
    "0/../..",
    "0/run/artifacts/../../../..",
    "/",
    "/etc",
    "//etc",
    "C:\\Windows",
    "..\\..",
    "0\\..\\..",
    "\\\\server\\share",
    "a\x00b",
    "..\x00",
    LONG,
    "/".join(["d" * 200] * 25),
]


def _request(base_url: str, method: str, path: str, body: bytes | None = None):
    """(status, parsed JSON or None, raw bytes) for a request sent with `path` verbatim."""
    parts = urlsplit(base_url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        conn.putrequest(method, path, skip_accept_encoding=True)
        conn.putheader("Content-Length", str(len(body or b"")))
        conn.endheaders()
        if body:
            conn.send(body)
        response = conn.getresponse()
        raw = response.read()
        try:
            parsed = json.loads(raw)
        except ValueError:
            parsed = None
        return response.status, parsed, raw
    finally:
        conn.close()


def _assert_invalid(result, what: str) -> None:
    status, body, raw = result
    assert status == 400, f"{what}: {status} {raw[:300]!r}"
    assert isinstance(body, dict) and set(body) == {"error_code", "message"}, (what, raw[:300])
    assert body["error_code"] == "INVALID_PARAMETER_VALUE", (what, body)


class Filesystem:
    """What the server could reach: its artifact root (every file, with size and mtime), the
    folders around it, and a sentinel file beside it. `snapshot()` must not change when a
    request is refused."""

    def __init__(self, server, s3=None):
        self.bucket = getattr(server, "bucket", None)
        self.s3 = s3
        self.workdir = Path(server.workdir)
        self.root = self.workdir / "artifacts"
        self.sentinel = self.workdir / "sentinel.txt"
        self.sentinel.write_bytes(b"must keep these bytes")
        self.outside = self.workdir / "outside"
        self.outside.mkdir(exist_ok=True)
        (self.outside / "secret.txt").write_bytes(b"secret")

    def snapshot(self) -> dict:
        def tree(folder: Path) -> dict:
            out = {}
            for p in folder.rglob("*"):
                st = p.lstat()
                out[p.relative_to(folder).as_posix()] = (st.st_size, st.st_mtime_ns)
            return out

        return {
            "root": tree(self.root),
            "outside": tree(self.outside),
            "workdir": sorted(os.listdir(self.workdir)),
            "around": sorted(os.listdir(self.workdir.parent)),
            "sentinel": self.sentinel.read_bytes(),
            "escaped": [p for p in self._escape_targets() if os.path.lexists(p)],
            "bucket": self.s3.objects(self.bucket) if self.bucket else None,
        }

    def _escape_targets(self) -> list[Path]:
        """Where the marker file would land if an attempt got out."""
        return [folder / MARKER for folder in (self.root, *self.root.parents, Path("/tmp"))]


@pytest.fixture
def server(artifact_server):
    """Tests of paths that no store may accept run on each destination, S3 included."""
    return artifact_server


@pytest.fixture
def fs(server, request):
    s3 = request.getfixturevalue("s3_service") if getattr(server, "bucket", None) else None
    return Filesystem(server, s3)


@pytest.fixture
def local_fs(reference_server):
    """Symlinks planted in the folder: for the stores that are a local folder."""
    return Filesystem(reference_server)


@pytest.mark.parametrize("method", ["PUT", "GET", "DELETE"])
def test_proxy_refuses_paths_that_leave_the_root(server, fs, method):
    before = fs.snapshot()
    for path in ESCAPING_PATHS:
        body = b"escaped!" if method == "PUT" else None
        _assert_invalid(_request(server.url, method, f"{PROXY}/{path}", body), f"{method} {path}")
        assert fs.snapshot() == before, f"{method} {path} touched the filesystem"


def test_proxy_list_refuses_paths_that_leave_the_root(server, fs):
    before = fs.snapshot()
    for path in ESCAPING_QUERIES:
        result = _request(server.url, "GET", f"{PROXY}?{urlencode({'path': path})}")
        _assert_invalid(result, f"list {path!r}")
    assert fs.snapshot() == before


def test_tracking_artifacts_list_stays_in_the_run(server, fs):
    url = server.url
    status, created, _ = _request_json(url, "/api/2.0/mlflow/runs/create", {"experiment_id": "0"})
    assert status == 200
    run_id = created["run"]["info"]["run_id"]
    before = fs.snapshot()
    for path in ESCAPING_QUERIES:
        query = urlencode({"run_id": run_id, "path": path})
        _assert_invalid(_request(url, "GET", f"{LIST}?{query}"), f"artifacts/list {path!r}")
    assert fs.snapshot() == before


def _request_json(base_url: str, path: str, body: dict):
    return _request(base_url, "POST", path, json.dumps(body).encode())


def test_double_encoding_is_a_literal_name_inside_the_root(server, fs):
    """`%252e%252e%252f` decodes once, to the name '%2e%2e%2f...': a file inside the root, as in
    2.7.1 (which decodes the same way). It never becomes '../'."""
    folder = f"0/{uuid.uuid4().hex}/artifacts"
    status, _, raw = _request(
        server.url, "PUT", f"{PROXY}/{folder}/%252e%252e%252f{MARKER}", b"literal"
    )
    assert status == 200, raw
    stored = _request(server.url, "GET", f"{PROXY}/{folder}/%252e%252e%252f{MARKER}")[2]
    assert stored == b"literal"
    assert fs.snapshot()["escaped"] == []
    listed = _request(server.url, "GET", f"{PROXY}?{urlencode({'path': folder})}")[1]
    assert listed == {"files": [{"path": f"%2e%2e%2f{MARKER}", "is_dir": False, "file_size": 7}]}


@pytest.mark.parametrize(
    "path",
    [
        "x//y.txt",  # an empty segment: the same file under two names
        "x/./y.txt",
        "x/%2e/y.txt",
        "x/",  # no file name
        "ok.txt/child.txt",  # below an existing file
        "x/%2e",  # the folder itself
    ],
)
def test_uploads_need_one_name_per_file(server, fs, path):
    folder = f"0/{uuid.uuid4().hex}/artifacts"
    url = server.url
    assert _request(url, "PUT", f"{PROXY}/{folder}/ok.txt", b"ok")[0] == 200
    before = fs.snapshot()
    _assert_invalid(_request(url, "PUT", f"{PROXY}/{folder}/{path}", b"x"), f"PUT {path}")
    assert fs.snapshot() == before
    assert _request(url, "GET", f"{PROXY}/{folder}/ok.txt")[2] == b"ok"


@pytest.fixture
def planted(reference_server, local_fs):
    """A run folder holding symlinks planted straight into the store: to a folder outside the
    root, to a file outside it, a loop, and (harmless) to a sibling inside the root."""
    folder = f"0/{uuid.uuid4().hex}/artifacts"
    url = reference_server.url
    assert _request(url, "PUT", f"{PROXY}/{folder}/real/inside.txt", b"inside")[0] == 200
    run_dir = local_fs.root / folder
    (run_dir / "out-dir").symlink_to(local_fs.outside, target_is_directory=True)
    (run_dir / "out-file.txt").symlink_to(local_fs.outside / "secret.txt")
    (run_dir / "sentinel.txt").symlink_to(local_fs.sentinel)
    (run_dir / "loop").symlink_to(run_dir / "loop")
    (run_dir / "alias").symlink_to(run_dir / "real", target_is_directory=True)
    return folder


@pytest.mark.parametrize(
    ("method", "target"),
    [
        ("GET", "out-dir/secret.txt"),
        ("GET", "out-file.txt"),
        ("GET", "sentinel.txt"),
        ("GET", "loop"),
        ("GET", "loop/x"),
        ("PUT", "out-dir/new.txt"),
        ("PUT", "out-dir/secret.txt"),
        ("PUT", "out-file.txt"),
        ("PUT", "sentinel.txt"),
        ("PUT", "loop/x"),
        ("DELETE", "out-dir"),
        ("DELETE", "out-dir/secret.txt"),
        ("DELETE", "out-file.txt"),
        ("DELETE", "sentinel.txt"),
        ("DELETE", "loop"),
    ],
)
def test_planted_symlinks_do_not_lead_out(reference_server, local_fs, planted, method, target):
    before = local_fs.snapshot()
    body = b"overwritten!" if method == "PUT" else None
    result = _request(reference_server.url, method, f"{PROXY}/{planted}/{quote(target)}", body)
    _assert_invalid(result, f"{method} {target}")
    assert local_fs.snapshot() == before
    assert (local_fs.outside / "secret.txt").read_bytes() == b"secret"
    assert sorted(os.listdir(local_fs.outside)) == ["secret.txt"]


def test_listings_skip_and_refuse_planted_symlinks(reference_server, local_fs, planted):
    url = reference_server.url
    before = local_fs.snapshot()
    # Listing the folder that holds them shows only what lies inside the root; not even the
    # size of an outside file leaks.
    listed = _request(url, "GET", f"{PROXY}?{urlencode({'path': planted})}")[1]
    assert listed == {
        "files": [{"path": "alias", "is_dir": True}, {"path": "real", "is_dir": True}]
    }
    for inner in ("out-dir", "loop", "sentinel.txt"):
        query = urlencode({"path": f"{planted}/{inner}"})
        _assert_invalid(_request(url, "GET", f"{PROXY}?{query}"), f"list {inner}")
    # A link that stays inside the root is followed like a folder.
    alias = _request(url, "GET", f"{PROXY}?{urlencode({'path': planted + '/alias'})}")[1]
    assert alias == {"files": [{"path": "inside.txt", "is_dir": False, "file_size": 6}]}
    assert _request(url, "GET", f"{PROXY}/{planted}/alias/inside.txt")[2] == b"inside"
    assert local_fs.snapshot() == before


def test_tracking_list_refuses_planted_symlinks(reference_server, local_fs):
    url = reference_server.url
    run = _request_json(url, "/api/2.0/mlflow/runs/create", {"experiment_id": "0"})[1]["run"]
    run_dir = local_fs.root / run["info"]["artifact_uri"].split(":/", 1)[1]
    run_dir.mkdir(parents=True)
    (run_dir / "out-dir").symlink_to(local_fs.outside, target_is_directory=True)
    run_id = run["info"]["run_id"]
    query = urlencode({"run_id": run_id, "path": "out-dir"})
    _assert_invalid(_request(url, "GET", f"{LIST}?{query}"), "artifacts/list out-dir")
    root_listing = _request(url, "GET", f"{LIST}?{urlencode({'run_id': run_id})}")[1]
    assert root_listing == {"root_uri": run["info"]["artifact_uri"]}


def test_broken_upload_leaves_nothing_behind(server, fs):
    """A client that hangs up halfway: no file, no temporary file, and an earlier version of the
    file stays whole."""
    folder = f"0/{uuid.uuid4().hex}/artifacts"
    url = server.url
    assert _request(url, "PUT", f"{PROXY}/{folder}/kept.bin", b"first version")[0] == 200
    parts = urlsplit(url)
    for name in ("new.bin", "kept.bin"):
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        conn.putrequest("PUT", f"{PROXY}/{folder}/{name}", skip_accept_encoding=True)
        conn.putheader("Content-Length", str(8 * 1024 * 1024))
        conn.endheaders()
        conn.send(b"x" * (1024 * 1024))
        conn.close()
    listing = f"{PROXY}?{urlencode({'path': folder})}"
    kept = {"files": [{"path": "kept.bin", "is_dir": False, "file_size": 13}]}
    deadline = time.monotonic() + 10
    while _request(url, "GET", listing)[1] != kept and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _request(url, "GET", listing)[1] == kept
    assert _request(url, "GET", f"{PROXY}/{folder}/kept.bin")[2] == b"first version"
    if fs.bucket:  # no multipart upload left open either
        assert fs.s3.pending_uploads(fs.bucket) == []
    else:  # no temporary file either
        staging = fs.root / ".mlflow-compat-uploads"
        deadline = time.monotonic() + 10
        while any(staging.iterdir()) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not any(staging.iterdir())
