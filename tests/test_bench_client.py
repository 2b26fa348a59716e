"""The benchmarks' lean HTTP client (tools.benchlib.LeanSession) against a real HTTP server on
loopback: what it sends, keep-alive reuse, and connections the server closes."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from tools.benchlib import API, LeanSession, WrongAnswer, call, wait_quiet


class _Echo(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive unless an answer says otherwise
    connections: list[int] = []

    def setup(self):
        super().setup()
        self.connections.append(self.client_address[1])

    def _answer(self):
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        status = 404 if parts.path.endswith("/missing") else 200
        answer = json.dumps(
            {
                "method": self.command,
                "path": parts.path,
                "query": parse_qs(parts.query),
                "json": json.loads(body) if body else None,
                "content_type": self.headers.get("Content-Type"),
            }
        ).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        if parts.path.endswith("/close"):
            self.send_header("Connection", "close")
            self.close_connection = True
        if parts.path.endswith("/drop"):  # closed after answering, unannounced (an idle timeout)
            self.close_connection = True
        self.end_headers()
        self.wfile.write(answer)

    do_GET = do_POST = _answer

    def log_message(self, *args):
        pass


@pytest.fixture
def echo():
    _Echo.connections = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", _Echo.connections
    server.shutdown()
    server.server_close()


def test_sends_query_and_json_and_reuses_the_connection(echo):
    url, connections = echo
    with LeanSession() as s:
        got = call(s, url, "GET", "runs/get", params={"run_id": "a b", "ids": ["1", "2"]})
        assert got["path"] == API + "runs/get"
        assert got["query"] == {"run_id": ["a b"], "ids": ["1", "2"]}
        body = {"run_id": "r", "value": 0.5, "name": "ünï"}
        got = call(s, url, "POST", "runs/log-metric", json=body)
        assert (got["method"], got["json"]) == ("POST", body)
        assert got["content_type"] == "application/json"
    assert len(connections) == 1


def test_a_connection_the_server_closed_is_replaced(echo):
    url, connections = echo
    with LeanSession() as s:
        for _ in range(3):
            assert call(s, url, "POST", "close", json={})["method"] == "POST"
        for _ in range(3):
            assert call(s, url, "POST", "drop", json={})["method"] == "POST"
            time.sleep(0.05)  # the server's FIN arrives
        assert call(s, url, "GET", "runs/get")["method"] == "GET"
    assert len(connections) == 7


def test_an_error_status_is_a_wrong_answer(echo):
    url, _ = echo
    with LeanSession() as s, pytest.raises(WrongAnswer, match="404"):
        call(s, url, "GET", "missing")


def test_wait_quiet_waits_for_a_busy_process_to_settle():
    """tools.benchlib.wait_quiet: a process tree that keeps a core busy is waited for, one
    that sleeps is not (the benchmark waits so for a database server between workloads)."""
    busy = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import time\nt = time.time()\nwhile time.time() - t < 1.0: pass\ntime.sleep(60)",
        ]
    )
    idle = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        time.sleep(0.3)  # both started; the first is spinning
        assert 0.4 <= wait_quiet(busy.pid, timeout=20) < 20
        assert wait_quiet(idle.pid, timeout=20) < 2
    finally:
        busy.kill()
        idle.kill()
        busy.wait()
        idle.wait()
