"""The Content-Security-Policy holds in a real browser: no 'unsafe-inline'; every page and every report loads
in headless Chromium with zero `securitypolicyviolation` events; an officer named 张三 signs in there.

Screenshots: artifacts/csp-*.png.
"""
from __future__ import annotations

import pytest

from browser import chrome, needs_chromium, screenshot
from serve_server import AS_OF, PASSWORD, served, wait_for_job

# recorded from the first script of every document, frames included (a CDP script is not subject to the CSP)
WATCH = ("window.__csp = []; document.addEventListener('securitypolicyviolation', function (e) {"
         " window.__csp.push(e.violatedDirective + ' ' + (e.blockedURI || 'inline') + ' ' + e.sourceFile"
         " + ':' + e.lineNumber); });")
PAGES = ["/", f"/?q=李&as_of={AS_OF}", f"/units?as_of={AS_OF}", f"/cadres/C0007?as_of={AS_OF}", "/import",
         "/rules", "/rules/supervision.admonish", "/whatif", "/whatif?draft=admonish_30pct.yaml", "/whatif/jobs",
         f"/structure?as_of={AS_OF}", "/records", "/settings", "/cadres/C9999"]
REPORTS = [f"/cadres/C0007/sheet?as_of={AS_OF}", f"/structure/report?as_of={AS_OF}",
           "/structure/report?as_of=2020-06-30"]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    yield from served(tmp_path_factory, "csp", ("张三", "admin", "QJ-PC"))      # a Chinese user name


def test_no_unsafe_inline_anywhere(server):
    from cadre_policy.render.html import CSS, SEARCH
    from cadre_policy.serve.csp import source
    client = server.client("admin")
    for path in PAGES[:3] + REPORTS[:2]:
        policy = client.get(path).headers["content-security-policy"]
        assert "unsafe-inline" not in policy, (path, policy)
        # exactly the reports' stylesheet and script, by hash of the files they embed
        assert f"style-src 'self' {source(CSS)};" in policy and f"script-src 'self' {source(SEARCH)};" in policy
    sheet = client.get(REPORTS[0]).text
    assert f"<style>{CSS}</style>" in sheet and f"<script>{SEARCH}</script>" in sheet


@needs_chromium
def test_every_page_and_report_loads_without_a_violation(server):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    from cadre_policy import data
    client = server.client("admin")
    draft = (data.DRAFTS / "admonish_30pct.yaml").read_text(encoding="utf-8")
    job = wait_for_job(client, client.post("/api/v1/whatif", json={"draft": draft, "as_of": AS_OF}).json())
    assert job["status"] == "done"
    driver = chrome(1366, 900)
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": WATCH})
    try:
        driver.get(server.base + "/login")                    # a Chinese user name, typed into the form
        driver.find_element(By.ID, "name").send_keys("张三")
        driver.find_element(By.ID, "password").send_keys(PASSWORD + Keys.ENTER)
        WebDriverWait(driver, 30).until(lambda d: d.find_elements(By.ID, "q"))
        assert driver.find_element(By.ID, "who").text.startswith("张三（管理")
        screenshot(driver, "csp-signed-in-chinese-name.png")
        violations = {}
        for path in PAGES + REPORTS + [f"/whatif/jobs/{job['id']}/report"]:
            driver.get(server.base + path)
            WebDriverWait(driver, 30).until(lambda d: d.execute_script("return document.readyState") == "complete")
            seen = driver.execute_script("return window.__csp || null")
            assert seen is not None, path                   # the watcher ran
            for frame in driver.find_elements(By.TAG_NAME, "iframe"):       # the structure report in its frame
                driver.switch_to.frame(frame)
                WebDriverWait(driver, 30).until(
                    lambda d: d.execute_script("return document.readyState") == "complete")
                seen += driver.execute_script("return window.__csp || []")
                driver.switch_to.default_content()
            if seen:
                violations[path] = seen
        screenshot(driver, "csp-whatif-report.png")
        assert not violations, violations
        # the check is real: an inline style attribute is refused and reported
        driver.get(server.base + "/rules")
        driver.execute_script("var p = document.createElement('div'); p.innerHTML = '<b style=\"color:red\">x</b>';"
                              "document.body.appendChild(p);")
        WebDriverWait(driver, 10).until(lambda d: d.execute_script("return window.__csp.length") > 0)
        assert "style-src" in driver.execute_script("return window.__csp[0]")
    finally:
        driver.quit()

