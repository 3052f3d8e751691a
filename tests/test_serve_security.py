"""The server a department can trust: sessions follow the account, tokens expire and are revoked,
requests and logins are bounded (each against a real `policy serve`; see tests/serve_server.py)."""
from __future__ import annotations

import sqlite3
import threading
from contextlib import closing

import httpx
import pytest
from click.testing import CliRunner

from cadre_policy.cli import main
from serve_server import PASSWORD, Server, prepare_store, wait_for_job

PROBLEM = "application/problem+json"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("serve-security")
    url = prepare_store(tmp)
    for name, role in (("gone", "admin"), ("moved", "admin"), ("renamed", "author"), ("tok", "viewer"),
                       ("racer", "viewer")):
        result = CliRunner().invoke(main, ["--db", url, "users", "add", name, "--role", role],
                                    env={"POLICY_PASSWORD": PASSWORD})
        assert result.exit_code == 0, result.output
    running = Server(url, tmp, env={"POLICY_SERVE_HEAD_SECONDS": "3"})     # the 10 s limit, shortened
    yield running
    running.stop()


def cli(server, *args, password=None):
    return CliRunner().invoke(main, ["--db", server.db_url, *args],
                              env={"POLICY_PASSWORD": password} if password else None)


def status(response, expected):
    assert response.status_code == expected, response.text
    if expected >= 400:
        assert response.headers["content-type"].startswith(PROBLEM)


def test_a_removed_admin_loses_session_and_token_at_the_next_request(server):
    with closing(server.client("gone")) as browser, closing(httpx.Client(base_url=server.base)) as system:
        token = browser.post("/api/v1/tokens", json={"label": "etl"}).json()["token"]
        system.headers["Authorization"] = f"Bearer {token}"
        status(browser.get("/api/v1/users"), 200)
        status(system.get("/api/v1/users"), 200)
        assert cli(server, "users", "remove", "gone").exit_code == 0
        status(browser.get("/api/v1/me"), 401)
        status(browser.post("/api/v1/users", json={"name": "evil", "password": "x" * 10, "role": "admin"}), 401)
        status(system.get("/api/v1/me"), 401)
        assert browser.get("/", headers={"accept": "text/html"}).status_code == 303     # to the sign-in page


def test_a_new_password_ends_sessions_and_a_new_role_applies_at_once(server):
    with closing(server.client("renamed")) as old, closing(server.client("moved")) as demoted:
        status(old.get("/api/v1/me"), 200)
        assert cli(server, "users", "passwd", "renamed", password="another-pass-1").exit_code == 0
        status(old.get("/api/v1/me"), 401)
        status(demoted.get("/api/v1/users"), 200)
        assert cli(server, "users", "role", "moved", "--role", "viewer").exit_code == 0
        status(demoted.get("/api/v1/users"), 403)
        assert demoted.get("/api/v1/me").json()["role"] == "viewer"


def test_tokens_are_listed_revoked_and_expire(server):
    with closing(server.client("tok")) as browser, closing(httpx.Client(base_url=server.base)) as system:
        first = browser.post("/api/v1/tokens", json={"label": "one"}).json()["token"]
        second = browser.post("/api/v1/tokens", json={"label": "two"}).json()["token"]
        listed = browser.get("/api/v1/tokens").json()["tokens"]
        assert [t["label"] for t in listed] == ["one", "two"] and all(not t["expired"] for t in listed)
        assert first not in str(listed)
        status(system.get("/api/v1/me", headers={"Authorization": f"Bearer {first}"}), 200)
        status(browser.delete(f"/api/v1/tokens/{listed[0]['id']}"), 204)
        status(system.get("/api/v1/me", headers={"Authorization": f"Bearer {first}"}), 401)
        status(browser.delete(f"/api/v1/tokens/{listed[0]['id']}"), 404)
        status(browser.delete("/api/v1/tokens/99999999999999999999"), 422)
        status(system.get("/api/v1/me", headers={"Authorization": f"Bearer {second}"}), 200)
        with closing(sqlite3.connect(server.db_url.removeprefix("sqlite:///"))) as db, db:
            db.execute("UPDATE api_tokens SET created = datetime('now', '-91 days') WHERE label = 'two'")
        status(system.get("/api/v1/me", headers={"Authorization": f"Bearer {second}"}), 401)
        shown = cli(server, "users", "tokens", "tok")
        assert shown.exit_code == 0 and "(expired)" in shown.output and "two" in shown.output
        assert cli(server, "users", "revoke", "tok", str(listed[1]["id"])).exit_code == 0
        assert cli(server, "users", "tokens", "tok").output == ""


def test_parallel_wrong_passwords_are_counted_before_the_password_check(server):
    answers = []

    def guess():
        with httpx.Client(base_url=server.base, timeout=60) as client:
            answers.append(client.post("/login", json={"name": "racer", "password": "wrong-password"}).status_code)
    threads = [threading.Thread(target=guess) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers.count(401) == 5 and answers.count(429) == 15, answers


def test_a_forged_record_shows_as_broken_in_the_workbench(server):
    import json
    with closing(server.client("admin")) as admin:
        record = admin.post("/api/v1/check", json={"cadre": "C0007", "as_of": "2017-06-30"}).json()["record"]
        assert admin.get(f"/api/v1/records/{record}").json()["integrity"] == {"intact": True, "problems": []}
        with closing(sqlite3.connect(server.db_url.removeprefix("sqlite:///"))) as db, db:
            result = json.loads(db.execute("SELECT result FROM decision_records WHERE id = ?", (record,)).fetchone()[0])
            result["promotion"]["eligibility"] = "eligible"
            db.execute("UPDATE decision_records SET result = ? WHERE id = ?", (json.dumps(result), record))
        shown = admin.get(f"/api/v1/records/{record}").json()
        assert shown["integrity"]["intact"] is False and "摘要" in shown["integrity"]["problems"][0]
        page = admin.get("/records", headers={"accept": "text/html"}).text
        row = next(line for line in page.split("<tr>") if f"/api/v1/records/{record}\"" in line)
        assert "已被改动" in row and "✓ 完整" not in row
        status(admin.get("/api/v1/records/99999999999999999999"), 422)


def test_jobs_are_capped_and_timed_out(tmp_path):
    # 0.1 s: shorter than any job's start, however quick the machine (1 s was not, on a quiet one)
    running = Server(prepare_store(tmp_path), tmp_path, "--job-time-limit", "0.1", "--max-jobs", "1")
    try:
        with closing(running.client("admin")) as admin:
            ask = {"set": ["supervision.admonish_ratio=3/10"], "as_of": "2017-06-30"}
            first = admin.post("/api/v1/whatif", json=ask)
            assert first.status_code == 202, first.text
            status(admin.post("/api/v1/whatif", json=ask), 429)
            job = wait_for_job(admin, first.json())
            assert job["status"] == "failed" and "0.1 秒" in job["error"]["detail"]
            again = admin.post("/api/v1/whatif", json=ask)
            assert again.status_code == 202, again.text
    finally:
        running.stop()


def test_bodies_are_bounded_and_strict(server):
    with closing(server.client("admin")) as admin, closing(httpx.Client(base_url=server.base, timeout=60)) as anon:
        status(anon.post("/login", content=b"name=" + b"a" * 200_000 + b"&password=x",
                         headers={"content-type": "application/x-www-form-urlencoded"}), 413)
        status(admin.post("/api/v1/check", content=b'{"cadre": "C0007", "pad": "' + b"x" * 1_100_000 + b'"}',
                          headers={"content-type": "application/json"}), 413)
        numbers = admin.post("/api/v1/check", content=("[" + "1," * 400_000 + "1]").encode(),
                             headers={"content-type": "application/json"})
        status(numbers, 422)
        assert len(numbers.content) < 20_000
        many = admin.post("/api/v1/whatif", json={"set": ["x" * 300] * 60})
        status(many, 422)
        assert len(many.json()["errors"]) <= 20 and len(many.content) < 20_000
        status(admin.post("/api/v1/check", content=b'{"cadre": "C0007", "cadre": "C0018"}',
                          headers={"content-type": "application/json"}), 422)
        status(admin.post("/api/v1/check", content=b'{"cadre": "\\ud800"}',
                          headers={"content-type": "application/json"}), 422)
        status(admin.post("/api/v1/check", json={"cadre": "C0007", "as_of": "9999-12-31"}), 422)
        status(admin.get("/api/v1/cadres/C0007", params={"as_of": "1800-01-01"}), 422)
        moon = admin.post("/api/v1/whatif", json={"set": ["grassroots_levels=moon"], "as_of": "2017-06-30"})
        status(moon, 422)
        assert "moon" in moon.json()["detail"] and "unit.level" in moon.json()["detail"]
        big = admin.get("/api/v1/cadres/" + "C" * 5000)
        assert big.status_code == 422 and len(big.content) < 5000


def test_headers_origin_and_login_limiter_memory(server):
    with closing(server.client("admin")) as admin:
        page = admin.get("/records")
        assert page.headers["cache-control"] == "no-store"
        assert "'unsafe-inline'" not in page.headers["content-security-policy"].split("script-src")[1].split(";")[0]
        assert "<script>" not in page.text
        assert admin.get("/api/v1/me").headers["cache-control"] == "no-store"
        status(admin.post("/api/v1/check", json={"cadre": "C0007"}, headers={"Origin": "https://evil.example"}), 403)
    with closing(httpx.Client(base_url=server.base)) as anon:
        forged = anon.post("/login", data={"name": "admin", "password": PASSWORD},
                           headers={"Origin": "https://evil.example"})
        assert forged.status_code == 403 and "policy_session" not in forged.cookies


def test_the_runner_cache_frees_what_it_evicts(tmp_path):
    """In process, on durable_rules: 40 dates through a cache of 16 leave 16 runners and close the rest."""
    import datetime as dt
    from cadre_policy.load.policyset import load
    from cadre_policy.serve.state import Runners
    from cadre_policy.store.fact_store import FactStore
    from serve_server import ROOT
    with FactStore(prepare_store(tmp_path)) as store:
        runners = Runners(load(str(ROOT / "policies")), "durable", store, size=16)
        for n in range(40):
            with runners.use(dt.date(2017, 1, 1) + dt.timedelta(days=n)) as (runner, units):
                assert runner.engine.strata and units
        assert runners.freed == 24 and len(runners._runners) == 16
        with runners.use(dt.date(2017, 2, 9)) as (held, _):        # held while evicted: freed when let go
            for n in range(16):
                with runners.use(dt.date(2018, 1, 1) + dt.timedelta(days=n)):
                    pass
            assert held.engine.strata
        assert not held.engine.strata and runners.freed == 40
        runners.close()


def test_connections_without_a_request_head_are_closed(server):
    import socket
    import time
    from urllib.parse import urlsplit
    address = urlsplit(server.base)
    for opening in (b"", b"GET /login HTTP/1.1\r\nHost: x\r\n"):         # nothing; headers that never end
        with socket.create_connection((address.hostname, address.port)) as sock:
            sock.sendall(opening)
            sock.settimeout(30)
            started = time.monotonic()
            assert sock.recv(100) == b""                                   # closed by the server
            assert time.monotonic() - started < 10
    with closing(httpx.Client(base_url=server.base)) as client:         # kept alive and answered meanwhile
        assert client.get("/login").status_code == 200


def test_a_body_that_stops_or_trickles_is_cut(server):
    """A head, then a body that never comes or comes a few bytes a second: closed within a window or two."""
    import socket
    import time
    from urllib.parse import urlsplit
    address = urlsplit(server.base)
    head = b"POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
    for trickle in (False, True):
        with socket.create_connection((address.hostname, address.port)) as sock:
            sock.sendall(head + b'{"name": ')
            sock.settimeout(1)
            started, answer = time.monotonic(), None
            while answer is None and time.monotonic() - started < 20:
                try:
                    answer = sock.recv(100)
                except TimeoutError:
                    if trickle:
                        sock.sendall(b" " * 10)
                except ConnectionResetError:
                    answer = b""
            assert answer == b"" and time.monotonic() - started < 10, (trickle, answer)
