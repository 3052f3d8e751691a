"""The workbench in headless Chromium against a real `policy serve`: sign in, find a cadre, read the check,
open a rule in the explorer, edit a draft with a typo, see the diagnostic at its line, fix it, run, read the report.

Screenshots: artifacts/workbench-*.png.
"""
from __future__ import annotations

import pytest

from browser import chrome, needs_chromium, screenshot, sign_in
from serve_server import AS_OF, PASSWORD

TYPO = ("id: draft_browser\ntitle: 诫勉门槛调整\nin_force: {from: 2017-01-01}\nparameters:\n"
        "  supervision.admonish_ratio: 3/10\n  supervision.admonsh_ratio: 3/10\n")


@pytest.fixture(scope="module")
def server(workbench_server):
    return workbench_server


@needs_chromium
def test_an_officer_works_through_the_workbench(server):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as seen
    from selenium.webdriver.support.ui import WebDriverWait

    driver = chrome()
    wait = WebDriverWait(driver, 60)
    try:
        driver.get(server.base + "/")
        assert "/login" in driver.current_url                       # not signed in: the sign-in page
        driver.find_element(By.ID, "name").send_keys("qj")
        driver.find_element(By.ID, "password").send_keys(PASSWORD + Keys.ENTER)
        wait.until(seen.presence_of_element_located((By.ID, "q")))
        assert "qj" in driver.find_element(By.ID, "who").text

        # find a cadre and read the check: findings with reasons and the source quote, the eligibility
        driver.find_element(By.ID, "q").send_keys("李娟")
        driver.execute_script("document.getElementById('as_of').value = arguments[0]", AS_OF)
        driver.find_element(By.ID, "search").click()
        link = wait.until(seen.element_to_be_clickable((By.CSS_SELECTOR, "#hits .cadre-link")))
        assert len(driver.find_elements(By.CSS_SELECTOR, "#hits tbody tr")) == 1
        link.click()
        wait.until(seen.presence_of_element_located((By.ID, "findings")))
        assert "C0007 李娟" in driver.find_element(By.ID, "cadre-title").text
        findings = driver.find_element(By.ID, "findings").text
        assert "诫勉谈话" in findings and "不满意票" in findings and "超过三分之一" in findings
        assert driver.find_element(By.ID, "eligibility").text == "不符合"
        assert "考评实绩" in driver.find_element(By.ID, "requirements").text
        screenshot(driver, "workbench-check.png")
        sheet = driver.find_element(By.ID, "sheet-link").get_attribute("href")
        driver.get(sheet)
        assert driver.title.startswith("干部资格审查表") and "审查结论" in driver.page_source
        screenshot(driver, "workbench-sheet.png")

        # a cadre of 白河县 is not this officer's: refused
        driver.get(server.base + f"/cadres/C0018?as_of={AS_OF}")
        assert "不在您所辖单位" in driver.find_element(By.ID, "problem").text

        # the legislation explorer: filter, open a rule, its parameter timeline and tests
        driver.get(server.base + "/rules")
        driver.find_element(By.ID, "rule-filter").send_keys("supervision.admonish")
        visible = [p for p in driver.find_elements(By.CSS_SELECTOR, ".provision") if p.is_displayed()]
        assert visible and all("supervision.admonish" in p.get_attribute("data-search") for p in visible)
        driver.find_element(By.CSS_SELECTOR, '.rule-link[data-rule="supervision.admonish"]').click()
        wait.until(seen.presence_of_element_located((By.ID, "sentence")))
        assert "三分之一" in driver.find_element(By.ID, "quote").text
        assert "1/3" in driver.find_element(By.ID, "param-supervision.admonish_ratio").text
        assert "16/45" in driver.find_element(By.ID, "tests").text
        screenshot(driver, "workbench-rule.png")

        # a draft with a typo: the diagnostic appears at its line while typing; fixed, it runs
        driver.get(server.base + "/whatif")
        editor = driver.find_element(By.ID, "draft")
        editor.send_keys(TYPO)
        wait.until(lambda d: "第 6 行" in d.find_element(By.ID, "diagnostics").text)
        problem = driver.find_element(By.CSS_SELECTOR, "#diagnostics li.error")
        assert problem.get_attribute("data-line") == "6" and "E202" in problem.text
        assert "supervision.admonish_ratio" in problem.text                  # the did-you-mean
        marked = driver.find_elements(By.CSS_SELECTOR, "#gutter .ln.error")
        assert [m.get_attribute("data-line") for m in marked] == ["6"]
        screenshot(driver, "workbench-whatif-typo.png")
        for _ in range(len("  supervision.admonsh_ratio: 3/10\n")):
            editor.send_keys(Keys.BACKSPACE)                                  # delete the bad line
        wait.until(seen.presence_of_element_located((By.ID, "lint-ok")))
        assert not driver.find_elements(By.CSS_SELECTOR, "#gutter .ln.error")
        driver.execute_script("document.getElementById('as_of').value = arguments[0]", AS_OF)
        driver.find_element(By.ID, "run").click()
        assert driver.find_element(By.ID, "run").get_attribute("disabled")     # no second run by a double click
        wait.until(lambda d: d.find_element(By.ID, "job-status").text == "已完成")
        assert not driver.find_element(By.ID, "run").get_attribute("disabled")
        # the author's units: 清江县's 28 cadres of the sample (C0062 from the evaluation date)
        assert driver.find_element(By.ID, "progress-text").text == "28 / 28 名干部"
        assert driver.find_element(By.ID, "job-record").text.startswith("#")
        assert driver.find_element(By.ID, "export-link").get_attribute("href").endswith("/export.xlsx")
        assert driver.find_element(By.ID, "job-summary").text.startswith("结论改变 ")   # and the reach
        frame = driver.find_element(By.ID, "report")
        wait.until(lambda d: frame.is_displayed())
        driver.switch_to.frame(frame)
        wait.until(seen.presence_of_element_located((By.ID, "summary")))
        assert "admonishment_talk" in driver.find_element(By.ID, "summary").text
        assert "草案与现行对照" in driver.find_element(By.ID, "comparison").text
        assert "1/3" in driver.find_element(By.ID, "comparison").text
        driver.switch_to.default_content()
        screenshot(driver, "workbench-whatif-report.png")

        # left and found again: 我的测算 lists the job with its report
        driver.get(server.base + "/")
        driver.get(server.base + "/whatif/jobs")
        row = driver.find_element(By.CSS_SELECTOR, "#jobs tbody tr")
        assert "已完成" in row.text and AS_OF in row.text
        row.find_element(By.CLASS_NAME, "report-link").click()
        wait.until(seen.presence_of_element_located((By.ID, "comparison")))
        assert "3/10" in driver.find_element(By.ID, "comparison").text

        # the structure page of the officer's county
        driver.get(server.base + "/structure")
        driver.switch_to.frame(driver.find_element(By.ID, "structure-report"))
        assert "清江县" in driver.find_element(By.TAG_NAME, "body").text
        driver.switch_to.default_content()
        screenshot(driver, "workbench-structure.png")
    finally:
        driver.quit()


PAGES = [("search", f"/?q=李&as_of={AS_OF}"), ("check", f"/cadres/C0007?as_of={AS_OF}"),
         ("units", f"/units?as_of={AS_OF}"), ("import", "/import"), ("rules", "/rules"),
         ("rule", "/rules/supervision.admonish"), ("whatif", "/whatif?draft=admonish_30pct.yaml"),
         ("jobs", "/whatif/jobs"), ("records", "/records"), ("structure", f"/structure?as_of={AS_OF}"),
         ("drafts", "/drafts"), ("simulate", f"/simulate?cadre=C0007&as_of={AS_OF}&f.reviews.0.dissatisfied=10")]


@needs_chromium
@pytest.mark.parametrize("width,height", [(1366, 768), (390, 844)])
def test_every_page_fits_the_screen(server, width, height):
    """Each page at a laptop's 1366×768 and a phone's 390 px: nothing wider than the screen; screenshots kept."""
    driver = chrome(width, height)
    try:
        sign_in(driver, server.base, "qj", PASSWORD)
        for name, path in PAGES:
            driver.get(server.base + path)
            assert driver.execute_script("return document.documentElement.scrollWidth") <= width + 1, name
            screenshot(driver, f"workbench-{name}-{width}.png")
    finally:
        driver.quit()
