"""The REST API through an HTTP client against a real `policy serve` (uvicorn in a subprocess)."""
from __future__ import annotations

import json
from contextlib import closing
import sqlite3
import zlib

import pytest
from click.testing import CliRunner

from cadre_policy.cli import main
from cadre_policy.decisions.digest import result_digest
from serve_server import AS_OF, PASSWORD, ROOT, wait_for_job

PROBLEM = "application/problem+json"
TYPO_DRAFT = """# yaml-language-server: $schema=../schemas/draft.schema.json
id: draft_typo
title: 诫勉比例调整
in_force: {from: 2017-01-01}
parameters:
  supervision.admonish_ratoi: 3/10
"""
GOOD_DRAFT = TYPO_DRAFT.replace("ratoi", "ratio")


@pytest.fixture(scope="module")
def server(workbench_server):
    return workbench_server


@pytest.fixture(scope="module")
def admin(server):
    with closing(server.client("admin")) as client:
        yield client


@pytest.fixture(scope="module")
def qj(server):
    with closing(server.client("qj")) as client:
        yield client


def problem(response, status, field=None):
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body = response.json()
    assert body["status"] == status and body["title"] and body["detail"]
    assert "Traceback" not in response.text
    if field is not None:
        assert body.get("field") == field, body
    return body


def cli(db_url, *args):
    return CliRunner().invoke(main, ["--db", db_url, *args])


def test_openapi_document_is_served_behind_sign_in_and_no_cdn_docs(server, admin):
    with closing(server.client()) as anon:
        problem(anon.get("/api/v1/openapi.json"), 401)
        doc = admin.get("/api/v1/openapi.json").json()
        assert {"/api/v1/check", "/api/v1/whatif", "/api/v1/lint", "/api/v1/rules/{rule_id}"} <= set(doc["paths"])
        assert admin.get("/docs").status_code == 404 and anon.get("/docs").status_code == 303


def test_401_without_login_and_with_a_bad_token(server):
    with closing(server.client()) as anon:
        for path in ("/api/v1/cadres", "/api/v1/cadres/C0007", "/api/v1/rules", "/api/v1/records"):
            problem(anon.get(path), 401)
        problem(anon.post("/api/v1/check", json={"cadre": "C0007"}), 401)
        problem(anon.get("/api/v1/me", headers={"Authorization": "Bearer nope"}), 401, "Authorization")


def test_wrong_password_then_rate_limit(server):
    with closing(server.client()) as anon:
        for _ in range(5):
            problem(anon.post("/login", json={"name": "locked", "password": "wrong-password"}), 401, "password")
        limited = problem(anon.post("/login", json={"name": "locked", "password": PASSWORD}), 429, "name")
        assert "秒后再试" in limited["detail"]          # Chinese: the client named no language
        assert int(anon.post("/login", json={"name": "locked", "password": PASSWORD}).headers["retry-after"]) > 0
        assert anon.post("/login", json={"name": "bh", "password": PASSWORD}).status_code == 200


def test_session_cookie_is_httponly_and_samesite(server):
    with closing(server.client()) as anon:
        response = anon.post("/login", json={"name": "qj", "password": PASSWORD})
        cookie = response.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=strict" in cookie


def test_search_is_scoped_to_the_users_units(admin, qj):
    everyone = admin.get("/api/v1/cadres", params={"as_of": AS_OF, "limit": 500}).json()["cadres"]
    mine = qj.get("/api/v1/cadres", params={"as_of": AS_OF, "limit": 500}).json()["cadres"]
    assert len(everyone) == 64
    qj_cadres = {f"C{i:04d}" for i in [*range(1, 18), *range(28, 34), 40, 41, 61, 62, 63]}
    assert {c["id"] for c in mine} == qj_cadres     # 清江县's cadres (C0062 since the evaluation date)
    assert all(c["post"]["unit"].startswith("QJ-") for c in mine)
    by_name = qj.get("/api/v1/cadres", params={"q": "李娟", "as_of": AS_OF}).json()["cadres"]
    assert [c["id"] for c in by_name] == ["C0007"]
    assert qj.get("/api/v1/cadres", params={"q": "谢国平", "as_of": AS_OF}).json()["cadres"] == []   # 白河县
    by_unit = admin.get("/api/v1/cadres", params={"unit": "QJ-TS", "as_of": AS_OF}).json()["cadres"]
    assert [c["id"] for c in by_unit] == ["C0028", "C0029", "C0040", "C0062"]
    problem(admin.get("/api/v1/cadres", params={"unit": "XX-NONE"}), 404, "unit")
    problem(qj.get("/api/v1/cadres", params={"q": "x" * 101}), 422, "q")


def test_one_cadre_404_403_and_the_date_decides_the_scope(qj):
    assert qj.get("/api/v1/cadres/C0007", params={"as_of": AS_OF}).json()["name"] == "李娟"
    problem(qj.get("/api/v1/cadres/C0018", params={"as_of": AS_OF}), 403, "cadre")
    problem(qj.get("/api/v1/cadres/C9999", params={"as_of": AS_OF}), 404, "cadre")
    # C0002 was a clerk in 白河县's BH-BS until 1999-01-01, 清江县长 since 2014
    problem(qj.get("/api/v1/cadres/C0002", params={"as_of": "1998-12-31"}), 403, "cadre")
    assert qj.get("/api/v1/cadres/C0002", params={"as_of": AS_OF}).status_code == 200
    problem(qj.get("/api/v1/cadres/C0007", params={"as_of": "2017-02-30"}), 422, "as_of")


def test_check_needs_csrf_with_a_cookie_and_matches_the_cli(server, qj):
    with closing(server.client()) as anon:
        anon.post("/login", json={"name": "qj", "password": PASSWORD})
        problem(anon.post("/api/v1/check", json={"cadre": "C0007", "as_of": AS_OF}), 403, "x-csrf-token")
        problem(anon.post("/api/v1/check", json={"cadre": "C0007", "as_of": AS_OF},
                          headers={"X-CSRF-Token": "forged"}), 403, "x-csrf-token")
    served = qj.post("/api/v1/check", json={"cadre": "C0007", "as_of": AS_OF}).json()
    assert isinstance(served["record"], int)
    out = cli(server.db_url, "check", "C0007", "--as-of", AS_OF, "--format", "json", "--engine", "python",
              "--policies", str(ROOT / "policies"))
    assert out.exit_code == 0, out.output
    local = json.loads(out.output)
    assert "path" not in served["policy_set"] and served["policy_set"]["digest"] == local["policy_set"]["digest"]
    del local["policy_set"]["path"]                 # the server names no file of its own in answers
    assert result_digest(served) == result_digest(local)
    problem(qj.post("/api/v1/check", json={"cadre": "C0018", "as_of": AS_OF}), 403, "cadre")
    problem(qj.post("/api/v1/check", json={"cadre": "C9999", "as_of": AS_OF}), 404, "cadre")
    problem(qj.post("/api/v1/check", json={"cadre": "C0007", "as_of": "2017-13-01"}), 422, "as_of")
    problem(qj.post("/api/v1/check", json={}), 422, "cadre")
    problem(qj.post("/api/v1/check", content=b"{not json", headers={"content-type": "application/json"}), 422)


def test_check_of_posted_facts(server, qj):
    cadre = {"id": "X001", "name": "测试", "gender": "female", "birth_date": "1980-01-01", "party": "cpc",
             "management": "county",
             "posts": [{"unit": "QJ-LQ", "title": "镇党委书记", "rank": "section", "principal": True,
                        "leadership": True, "start": "2012-01-01"}],
             "reviews": [{"date": "2017-03-01", "total": 45, "dissatisfied": 16}]}
    served = qj.post("/api/v1/check", json={"input": {"cadre": cadre}, "as_of": AS_OF}).json()
    assert "admonishment_talk" in [f["code"] for f in served["findings"] if f["status"] == "active"]
    bad = dict(cadre, reviews=[{"date": "2017-03-01", "total": 45, "dissatisfied": 50}])
    body = problem(qj.post("/api/v1/check", json={"input": {"cadre": bad}, "as_of": AS_OF}), 422)
    assert body["field"] == "input.cadre.reviews[0].dissatisfied"
    with closing(server.client("bh")) as viewer:
        problem(viewer.post("/api/v1/check", json={"input": {"cadre": cadre}}), 403, "input")


def test_whatif_job_matches_the_cli_and_is_recorded(server, admin, qj, tmp_path, monkeypatch):
    problem(qj.post("/api/v1/whatif", json={"draft": "id: [unclosed", "as_of": AS_OF}), 422, "draft")
    typo = problem(qj.post("/api/v1/whatif", json={"draft": TYPO_DRAFT, "as_of": AS_OF}), 422, "draft")
    assert any(e["code"] == "E202" and e["line"] == 6 for e in typo["errors"])
    problem(qj.post("/api/v1/whatif", json={"set": ["supervision.nope=1"]}), 422)
    problem(qj.post("/api/v1/whatif", json={"draft": GOOD_DRAFT, "as_of": "2016-06-30"}), 422, "as_of")
    # the whole population (an admin's; an author's what-if covers their units: test_serve_scope.py)
    started = admin.post("/api/v1/whatif", json={"draft": GOOD_DRAFT, "draft_name": "admonish.yaml", "as_of": AS_OF})
    assert started.status_code == 202, started.text
    job = wait_for_job(admin, started.json())
    assert job["status"] == "done", job
    assert job["total"] == 64 and job["done"] == 64
    served = admin.get(job["result"]).json()
    assert served["record"] == job["record"] and served["cadres"] == 64
    monkeypatch.chdir(tmp_path)
    (tmp_path / "admonish.yaml").write_text(GOOD_DRAFT, encoding="utf-8")
    # the server speaks the default language (Chinese); the CLI is asked for the same one
    out = cli(server.db_url, "--lang", "zh", "whatif", "--draft", "admonish.yaml", "--as-of", AS_OF, "--format", "json",
              "--engine", "python", "--workers", "1", "-q", "--policies", str(ROOT / "policies"),
              "--reach-cadres")      # the workbench lists the reach's cadres
    assert out.exit_code == 0, out.output
    assert result_digest(served) == result_digest(json.loads(out.output))
    assert served["changed"] > 0 and job["summary"] == served["reach"]["sentence"]
    assert job["summary"].startswith(f"结论改变 {served['changed']} 名")
    problem(qj.get(f"/api/v1/jobs/{job['id']}"), 403, "job")     # not theirs (an admin sees every job)
    problem(qj.get("/api/v1/jobs/nope"), 404, "job")


def test_viewer_cannot_run_a_whatif(server):
    with closing(server.client("bh")) as viewer:
        problem(viewer.post("/api/v1/whatif", json={"set": ["supervision.admonish_ratio=3/10"]}), 403, "role")
        problem(viewer.post("/api/v1/lint", json={"text": GOOD_DRAFT}), 403, "role")


def test_lint_gives_the_line_of_each_diagnostic(qj):
    typo = qj.post("/api/v1/lint", json={"text": TYPO_DRAFT}).json()
    assert typo["errors"] >= 1
    found = next(d for d in typo["diagnostics"] if d["code"] == "E202")
    assert found["line"] == 6 and "admonish_ratoi" in found["message"]
    assert qj.post("/api/v1/lint", json={"text": GOOD_DRAFT}).json()["errors"] == 0
    problem(qj.post("/api/v1/lint", json={}), 422, "text")


def test_structure_is_limited_to_the_users_region(admin, qj):
    mine = qj.get("/api/v1/structure", params={"as_of": AS_OF})
    assert mine.status_code == 200, mine.text
    mine = mine.json()
    assert mine["region"] == "清江县"
    problem(qj.get("/api/v1/structure", params={"as_of": AS_OF, "region": "白河县"}), 403, "region")
    assert admin.get("/api/v1/structure", params={"as_of": AS_OF}).json()["region"] is None


def test_rules_documents_and_one_rule(qj):
    rules = qj.get("/api/v1/rules").json()["rules"]
    assert any(r["id"] == "supervision.admonish" for r in rules)
    docs = qj.get("/api/v1/documents").json()["documents"]
    supervision = next(d for d in docs if d["id"] == "supervision")
    assert any("supervision.admonish" in [r["id"] for r in p["rules"]] for p in supervision["provisions"])
    rule = qj.get("/api/v1/rules/supervision.admonish", params={"as_of": AS_OF}).json()
    assert rule["provision"]["id"] == "P004-5" and "三分之一" in rule["quote"]
    assert "如果" in rule["sentence"]
    ratio = next(p for p in rule["parameters"] if p["name"] == "supervision.admonish_ratio")
    assert ratio["values"] and ratio["values"][0]["value"] == "1/3" and ratio["values"][0]["in_force"]
    assert any("16/45" in t["name"] for t in rule["tests"])
    assert any("15/45" in t["name"] for t in rule["tests"])       # the boundary case that does not fire
    body = problem(qj.get("/api/v1/rules/supervision.admonsh"), 404, "rule")
    assert "supervision.admonish" in body["detail"]


def test_records_are_scoped_and_cannot_be_deleted(admin, qj):
    qj.post("/api/v1/check", json={"cadre": "C0008", "as_of": AS_OF})
    mine = qj.get("/api/v1/records").json()["records"]
    assert mine and all(r["actor"] == "qj" for r in mine)
    one = qj.get(f"/api/v1/records/{mine[0]['id']}").json()
    assert one["result_digest"].startswith("sha256:") and one["facts_digest"].startswith("sha256:")
    admin.post("/api/v1/check", json={"cadre": "C0044", "as_of": AS_OF})
    admins = admin.get("/api/v1/records", params={"limit": 500}).json()["records"]
    theirs = next(r for r in admins if r["actor"] == "admin")
    problem(qj.get(f"/api/v1/records/{theirs['id']}"), 403, "record")
    problem(qj.get("/api/v1/records/999999"), 404, "record")
    assert qj.delete(f"/api/v1/records/{mine[0]['id']}").status_code == 405


def test_users_tokens_and_import(server, admin, qj):
    problem(qj.get("/api/v1/users"), 403, "role")
    names = [u["name"] for u in admin.get("/api/v1/users").json()["users"]]
    assert names == ["admin", "bh", "locked", "qj"]
    added = admin.post("/api/v1/users", json={"name": "dh", "password": PASSWORD, "role": "viewer",
                                              "units": ["DH-PC"]})
    assert added.status_code == 201, added.text
    problem(admin.post("/api/v1/users", json={"name": "dh2", "password": PASSWORD, "role": "viewer",
                                              "units": ["NOPE"]}), 422, "units")
    problem(admin.post("/api/v1/users", json={"name": "dh3", "password": "short", "role": "viewer"}), 422,
            "password")
    token = qj.post("/api/v1/tokens", json={"label": "干部管理信息系统"}).json()["token"]
    with closing(server.client()) as system:     # a bearer token: no cookie, no CSRF token needed
        headers = {"Authorization": f"Bearer {token}"}
        assert system.get("/api/v1/me", headers=headers).json()["name"] == "qj"
        checked = system.post("/api/v1/check", json={"cadre": "C0009", "as_of": AS_OF}, headers=headers)
        assert checked.status_code == 200
        assert qj.get(f"/api/v1/records/{checked.json()['record']}").json()["channel"] == "api"
    bad = admin.post("/api/v1/facts/import", content="cadres:\n  - {id: C0100, name: 新}\n".encode(),
                     headers={"content-type": "application/yaml"})
    assert problem(bad, 422)["errors"][0]["field"].startswith("$.cadres[0]")


def test_records_verify_reproduces_and_detects_a_changed_snapshot(server, qj):
    check = qj.post("/api/v1/check", json={"cadre": "C0010", "as_of": AS_OF}).json()
    job = wait_for_job(qj, qj.post("/api/v1/whatif", json={"set": ["supervision.admonish_ratio=3/10"],
                                                            "as_of": AS_OF}).json())
    for record in (check["record"], job["record"]):
        out = cli(server.db_url, "records", "verify", str(record))
        assert out.exit_code == 0 and "reproduced" in out.output, out.output
    assert cli(server.db_url, "records", "verify", "--chain").exit_code == 0
    # someone edits the stored facts behind the program's back: C0010's review votes
    path = server.db_url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as conn:
        digest, = conn.execute("SELECT facts_digest FROM decision_records WHERE id = ?", (check["record"],)).fetchone()
        body, = conn.execute("SELECT body FROM fact_snapshots WHERE digest = ?", (digest,)).fetchone()
        facts = json.loads(zlib.decompress(body))
        facts["cadres"][0]["birth_date"] = "1960-01-01"
        conn.execute("UPDATE fact_snapshots SET body = ? WHERE digest = ?",
                     (zlib.compress(json.dumps(facts, ensure_ascii=False).encode()), digest))
    out = cli(server.db_url, "records", "verify", str(check["record"]))
    assert out.exit_code == 1 and "NOT reproduced" in out.output and "fact snapshot changed" in out.output
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE decision_records SET actor = 'someone' WHERE id = ?", (job["record"],))
    chain = cli(server.db_url, "records", "verify", "--chain")
    assert chain.exit_code == 1 and f"record {job['record']}: chain broken" in chain.output


def test_logout_form_needs_its_csrf_token_then_ends_the_session(server):
    with closing(server.client("bh")) as viewer:
        csrf = viewer.headers.pop("X-CSRF-Token")
        refused = viewer.post("/logout", data={})                        # a forged form: no token
        problem(refused, 403, "x-csrf-token")
        assert viewer.get("/api/v1/me").status_code == 200                # still signed in
        done = viewer.post("/logout", data={"csrf_token": csrf})
        assert done.status_code == 303 and done.headers["location"] == "/login"
        problem(viewer.get("/api/v1/me"), 401)


def test_pages_redirect_to_sign_in_and_serve_bundled_assets(server):
    with closing(server.client()) as anon:
        page = anon.get("/cadres/C0007")
        assert page.status_code == 303 and page.headers["location"] == "/login?next=/cadres/C0007"
        login = anon.get("/login")
        assert login.status_code == 200 and "登录" in login.text
        for needle in ("http://", "https://", "cdn"):
            assert needle not in login.text
        assert anon.get("/static/whatif.js").status_code == 200
        assert anon.post("/login", data={"name": "bh", "password": "nope-nope", "next": "//evil.example"}) \
            .headers["location"].startswith("/login?failed=1&next=/")
