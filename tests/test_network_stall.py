"""A what-if whose PostgreSQL connection stalls (a frozen proxy keeps the sockets open) ends with one line
within the configured time instead of hanging (store/watchdog.py)."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time

import pytest
from sqlalchemy.engine import make_url

from conftest import ROOT, SAMPLE, invoke


class FreezingProxy:
    """Forwards TCP to a server until the client sends ``trigger``; then forwards nothing, closing nothing."""

    def __init__(self, host: str, port: int, trigger: bytes):
        self.target, self.trigger = (host, port), trigger
        self.frozen = threading.Event()
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen()
        self.port = self.listener.getsockname()[1]
        self.held: list = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            server = socket.create_connection(self.target)
            self.held += [client, server]
            threading.Thread(target=self._pump, args=(client, server, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client, False), daemon=True).start()

    def close(self):
        """Let go of every socket (the server then ends the stalled sessions and their locks)."""
        self.listener.close()
        for sock in self.held:
            try:
                sock.shutdown(socket.SHUT_RDWR)      # wakes the pumps' recv; the server sees the end
            except OSError:
                pass
            sock.close()

    def _pump(self, source, sink, from_client):
        while True:
            try:
                data = source.recv(65536)
            except OSError:
                return
            if not data:
                return
            if from_client and self.trigger in data:
                self.frozen.set()
            if self.frozen.is_set():
                while True:            # hold the sockets open, forward nothing
                    time.sleep(1)
            sink.sendall(data)


@pytest.fixture
def pg_url(server_urls):
    url = server_urls["postgresql"]
    if not url:
        pytest.skip("PostgreSQL not configured: set POLICY_TEST_PG_URL")
    assert invoke(url, "facts", "import", SAMPLE).exit_code == 0
    yield url
    from sqlalchemy import create_engine
    from cadre_policy.store.models import metadata
    engine = create_engine(url)
    metadata.drop_all(engine)
    engine.dispose()


def test_a_whatif_on_a_stalled_postgresql_ends_with_one_line(pg_url):
    url = make_url(pg_url)
    proxy = FreezingProxy(url.host or "127.0.0.1", url.port or 5432, b"posts")
    proxied = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    env = dict(os.environ, POLICY_DB_CONNECT_TIMEOUT="2", POLICY_DB_STATEMENT_TIMEOUT="3", LANG="en_US.UTF-8")
    started = time.monotonic()
    try:
        done = subprocess.run([sys.executable, "-m", "cadre_policy", "--db", proxied, "whatif", "--set",
                               "supervision.admonish_ratio=3/10", "--as-of", "2017-06-30", "--engine", "python",
                               "--workers", "1", "-q", "--policies", str(ROOT / "policies")],
                              capture_output=True, text=True, timeout=120, env=env)
    finally:
        proxy.close()
    seconds = time.monotonic() - started
    assert proxy.frozen.is_set()
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    assert "did not answer within 5 s" in done.stderr.strip().splitlines()[-1]
    assert seconds < 60
