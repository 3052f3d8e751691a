"""A real `policy serve` on a free 127.0.0.1 port, in a subprocess, over a temporary SQLite store.

The store holds the sample city and three accounts: ``admin`` (every unit), ``qj``
(author, 清江县: QJ-PC and the units below it), ``bh`` (viewer, 白河县) and ``locked``
(for the login rate limit).
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from click.testing import CliRunner

from cadre_policy import data
from cadre_policy.cli import main

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "pass-word-1"
AS_OF = "2017-06-30"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def prepare_store(tmp: Path, *users: tuple[str, str, str]) -> str:
    """The sample store with the four accounts, and ``users`` more: (name, role, unit)."""
    url = f"sqlite:///{tmp / 'serve.db'}"
    runner = CliRunner()
    for args in (["facts", "import", str(data.SAMPLE / "city.yaml")],
                 ["users", "add", "admin", "--role", "admin"],
                 ["users", "add", "qj", "--role", "author", "--unit", "QJ-PC"],
                 ["users", "add", "bh", "--role", "viewer", "--unit", "BH-PC"],
                 ["users", "add", "locked", "--role", "viewer"],
                 *(["users", "add", name, "--role", role, "--unit", unit] for name, role, unit in users)):
        result = runner.invoke(main, ["--db", url, *args], env={"POLICY_PASSWORD": PASSWORD})
        assert result.exit_code == 0, result.output
    return url


class Server:
    """The server process and its base URL."""

    def __init__(self, url: str, tmp: Path, *options: str, env: dict | None = None, engine: str | None = "python"):
        self.db_url = url
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = open(tmp / "serve.log", "w")
        self.process = subprocess.Popen(
            [sys.executable, "-c", "from cadre_policy.cli import main; main()", "--db", url, "serve",
             "--port", str(self.port), "--policies", str(ROOT / "policies"),
             *(["--engine", engine] if engine else []), *options],
            stdout=self.log, stderr=subprocess.STDOUT, cwd=tmp, env={**os.environ, **(env or {})})
        deadline = time.time() + 90
        while time.time() < deadline:
            try:
                httpx.get(self.base + "/login", timeout=1)
                return
            except httpx.TransportError:
                if self.process.poll() is not None:
                    break
                time.sleep(0.2)
        self.stop()
        raise RuntimeError("the server did not start: " + (tmp / "serve.log").read_text())

    def client(self, name: str | None = None) -> httpx.Client:
        """An HTTP client, signed in as ``name`` (its CSRF token sent with every request) when given."""
        client = httpx.Client(base_url=self.base, timeout=30)
        if name:
            response = client.post("/login", json={"name": name, "password": PASSWORD})
            assert response.status_code == 200, response.text
            client.headers["X-CSRF-Token"] = response.json()["csrf_token"]
        return client

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()


def served(tmp_path_factory, name: str, *users: tuple[str, str, str]):
    """A module's own server over the sample and ``users`` (name, role, unit): yields it, stops it after."""
    tmp = tmp_path_factory.mktemp(name)
    running = Server(prepare_store(tmp, *users), tmp)
    yield running
    running.stop()


def wait_for_job(client: httpx.Client, job: dict, timeout: float = 60) -> dict:
    deadline = time.time() + timeout
    while time.time() < deadline:
        job = client.get(f"/api/v1/jobs/{job['id']}").json()
        if job["status"] in ("done", "failed"):
            return job
        time.sleep(0.2)
    raise AssertionError(f"job {job['id']} still {job['status']}")


os.environ.setdefault("NO_PROXY", "127.0.0.1")

