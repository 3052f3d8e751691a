"""Unit scope on every answer: the routes of the app, each scoped or explicitly public; a township author's
what-if covers that township only (population, unit, result, stored snapshot); a past date does not widen
the scope; structure member lists are cut to it. Against a real `policy serve` (tests/serve_server.py)."""
from __future__ import annotations

import io
import json
import sqlite3
import zlib
from contextlib import closing

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from cadre_policy.cli import main
from serve_server import AS_OF, ROOT, served, wait_for_job

PROBLEM = "application/problem+json"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    yield from served(tmp_path_factory, "serve-scope", ("lq", "author", "QJ-LQ"), ("bs", "viewer", "BH-BS"))


def routes(app):
    """(method, path) of every route the application answers, included routers and mounts too."""
    from starlette.routing import Mount
    found = set()
    todo = list(app.routes)
    while todo:
        route = todo.pop()
        if isinstance(route, Mount):
            found.add(("GET", route.path))
        elif hasattr(route, "effective_route_contexts"):          # an included router (FastAPI ≥ 0.160)
            todo += route.effective_route_contexts()
        else:
            found |= {(m, route.path) for m in route.methods if m != "HEAD"}
    return found


def test_every_route_is_scoped_or_explicitly_public(server, tmp_path):
    from cadre_policy.serve.access import PUBLIC, ROUTES
    from cadre_policy.serve.app import create_app
    from cadre_policy.serve.state import Config
    app = create_app(Config(server.db_url, str(ROOT / "policies")))
    found = routes(app)
    assert found == set(ROUTES), f"routes without a kind in serve/access.py: {found - set(ROUTES)}"
    assert {route for route, kind in ROUTES.items() if kind == PUBLIC} == {
        ("GET", "/login"), ("POST", "/login"), ("POST", "/logout"), ("GET", "/static")}
    with closing(server.client()) as anon:
        for (method, path), kind in sorted(ROUTES.items()):
            if kind == PUBLIC:
                continue
            url = (path.replace("{cadre_id}", "C0007").replace("{job_id}", "j").replace("{rule_id}", "r")
                   .replace("{record_id}", "1").replace("{token_id}", "1").replace("{draft_id}", "1"))
            answer = anon.request(method, url, json={} if method == "POST" else None)
            if path.startswith("/api/"):
                assert answer.status_code == 401, (method, path, answer.text)
                assert answer.headers["content-type"].startswith(PROBLEM)
            else:
                assert answer.status_code == 303 and answer.headers["location"].startswith("/login"), (method, path)


def _in_unit(doc, unit, day):
    return any(p.get("unit") == unit and str(p["start"]) <= day and (p.get("end") is None or str(p["end"]) >= day)
               for p in doc.get("posts", ()))


def test_a_township_authors_whatif_covers_only_that_township(server):
    with closing(server.client("lq")) as lq, closing(server.client("admin")) as admin:
        refused = lq.post("/api/v1/whatif", json={"set": ["supervision.admonish_ratio=3/10"], "as_of": AS_OF,
                                                  "unit": "BH-BS"})
        assert refused.status_code == 403 and refused.json()["field"] == "unit"
        job = wait_for_job(lq, lq.post("/api/v1/whatif", json={"set": ["supervision.admonish_ratio=3/10"],
                                                                "as_of": AS_OF}).json())
        assert job["status"] == "done", job
        result = lq.get(job["result"]).json()
        everyone = [c["id"] for c in admin.get("/api/v1/cadres", params={"as_of": AS_OF, "limit": 500}).json()["cadres"]]
        mine = [c["id"] for c in lq.get("/api/v1/cadres", params={"as_of": AS_OF, "limit": 500}).json()["cadres"]]
        assert 0 < len(mine) < len(everyone) and result["cadres"] <= len(mine)
        assert all(change["cadre"] in mine for change in result["changes"])
        with closing(server.client("qj")) as qj, closing(server.client("bs")) as bs:   # not theirs: 403
            assert qj.get(job["export"]).status_code == 403 and bs.get(job["export"]).status_code == 403
        book = load_workbook(io.BytesIO(lq.get(job["export"]).content))
        assert {r[0] for r in book["变化明细"].iter_rows(min_row=2, values_only=True)} <= set(mine)
        with closing(sqlite3.connect(server.db_url.removeprefix("sqlite:///"))) as db:
            digest, = db.execute("SELECT facts_digest FROM decision_records WHERE id = ?",
                                 (job["record"],)).fetchone()
            body, = db.execute("SELECT body FROM fact_snapshots WHERE digest = ?", (digest,)).fetchone()
        snapshot = json.loads(zlib.decompress(body))
        assert snapshot["cadres"] and all(_in_unit(c, "QJ-LQ", AS_OF) for c in snapshot["cadres"])
        verified = CliRunner().invoke(main, ["--db", server.db_url, "records", "verify", str(job["record"])])
        assert verified.exit_code == 0, verified.output


def test_a_past_date_does_not_widen_the_scope(server):
    from cadre_policy.store.fact_store import FactStore
    with FactStore(server.db_url) as store:
        doc = store.cadre("C0002")
    assert _in_unit(doc, "BH-BS", "2008-12-31") and not _in_unit(doc, "BH-BS", "2017-06-30")
    with closing(server.client("bs")) as bs:
        asked = bs.get("/api/v1/cadres/C0002", params={"as_of": "2008-12-31"})
        assert asked.status_code == 403 and asked.headers["content-type"].startswith(PROBLEM)
        assert bs.post("/api/v1/check", json={"cadre": "C0002", "as_of": "2008-12-31"}).status_code == 403
        found = bs.get("/api/v1/cadres", params={"q": "C0002", "as_of": "2008-12-31"}).json()["cadres"]
        assert found == []


def test_structure_lists_only_members_in_scope(server):
    with closing(server.client("bs")) as bs, closing(server.client("admin")) as admin:
        mine = bs.get("/api/v1/structure", params={"as_of": AS_OF}).json()
        listed = {m["id"] for r in mine["results"] for m in r["listed"] if not m["id"].endswith("-PC")}
        everyone = admin.get("/api/v1/structure", params={"as_of": AS_OF, "region": "白河县"}).json()
        theirs = {m["id"] for r in everyone["results"] for m in r["listed"]}
        assert listed < theirs
        for cadre in listed:
            if cadre.startswith("C"):
                assert bs.get(f"/api/v1/cadres/{cadre}", params={"as_of": AS_OF}).status_code == 200, cadre
        assert str(ROOT) not in json.dumps(mine)
