"""The officer's day in the browser (issue 23, "Done when"), real uvicorn and real Chromium, one session per width:

upload the filled roster template with one mistake (a Chinese error at its SHEET!CELL, nothing written), fix it
and upload again (written, with the time it took and a link to the cadre), open a unit's list with a filter and
export it to XLSX (the 说明 sheet names the date and the policy set), draft "诫勉谈话比例 1/3 → 1/4 from
2017-01-01" by the rule page's form, save it, see the diff, try it on one cadre in the case simulator, run it, leave the page, find the job again in
我的测算, and print its report's summary on one A4 page (Chrome's print-to-PDF, pages counted with pypdf).
Screenshots of each step: artifacts/walk-<step>-<width>.png.

On the sample store by default. ``POLICY_WALK_STORE=<database URL>`` points it at another store (a generated
population of 100,000: docs/performance.md); the walk adds its own account and, in a unit of that store, one
new cadre per width (ids WALK1366, WALK390). ``POLICY_WALK_WIDTHS=1366`` walks at one width only.
"""
from __future__ import annotations

import base64
import io
import os
import re
import time

import httpx
import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from browser import chrome, needs_chromium, screenshot, sign_in
from serve_server import AS_OF, PASSWORD, Server
from cadre_policy.cli import main

WALKER = "walker"
WIDTHS = {1366: 768, 390: 844}


def _cli(url: str, *args: str):
    return CliRunner().invoke(main, ["--db", url, *args], env={"POLICY_PASSWORD": PASSWORD})


@pytest.fixture(scope="module")
def walk(tmp_path_factory):
    """(the server, a unit of the store to place the new cadre in, the folder for files)."""
    from cadre_policy.store.fact_store import FactStore
    tmp = tmp_path_factory.mktemp("walk")
    url = os.environ.get("POLICY_WALK_STORE") or f"sqlite:///{tmp / 'walk.db'}"
    if not os.environ.get("POLICY_WALK_STORE"):
        from cadre_policy import data
        assert _cli(url, "facts", "import", str(data.SAMPLE / "city.yaml")).exit_code == 0
    added = _cli(url, "users", "add", WALKER, "--role", "admin")
    if added.exit_code != 0:                              # a store walked before: the same account again
        assert _cli(url, "users", "passwd", WALKER).exit_code == 0, added.output
    with FactStore(url) as store:
        units = store.units()
    unit = "QJ-LQ" if "QJ-LQ" in units else sorted(u for u, doc in units.items() if doc.get("parent"))[0]
    server = Server(url, tmp, engine=None)                 # the engines `policy serve` chooses by default
    yield server, unit, tmp
    server.stop()


def _roster(tmp, cadre: str, unit: str, birth: str):
    """The blank template (`policy facts template`) filled with one cadre and its post."""
    path = tmp / f"roster-{cadre}-{birth}.xlsx"          # chromedriver wants an ASCII path
    assert _cli("sqlite://", "facts", "template", "-o", str(path)).exit_code == 0
    book = load_workbook(path)
    book["干部"].append([cadre, "周试行", "女", birth, "中共党员", None, None, None, "汉族", "大学本科", None, "县管"])
    book["任职"].append([cadre, unit, "副镇长", "副科", "否", "是", None, None, "2015-03-01"])
    book["年度考核"].append([cadre, 2016, "优秀", "2017-01-15"])
    book.save(path)
    return path


def _pdf_pages(pdf: bytes) -> int:
    try:
        from pypdf import PdfReader
    except ImportError:
        return len(re.findall(rb"/Type\s*/Page[^s]", pdf))
    return len(PdfReader(io.BytesIO(pdf)).pages)


def _session(driver, base: str) -> httpx.Client:
    """An HTTP client holding the browser's session (for what a browser downloads rather than shows)."""
    client = httpx.Client(base_url=base, timeout=120)
    for cookie in driver.get_cookies():
        client.cookies.set(cookie["name"], cookie["value"])
    return client


@needs_chromium
@pytest.mark.parametrize("width", [w for w in WIDTHS if str(w) in os.environ.get("POLICY_WALK_WIDTHS", "1366,390")])
def test_the_officers_walk(walk, width):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.print_page_options import PrintOptions
    from selenium.webdriver.support import expected_conditions as seen
    from selenium.webdriver.support.ui import Select, WebDriverWait
    server, unit, tmp = walk
    cadre, started = f"WALK{width}", time.perf_counter()
    driver = chrome(width, WIDTHS[width])
    wait = WebDriverWait(driver, 600)

    def step(name: str) -> None:
        screenshot(driver, f"walk-{name}-{width}.png")
        assert driver.execute_script("return document.documentElement.scrollWidth") <= width + 1, name

    try:
        sign_in(driver, server.base, WALKER, PASSWORD)
        http = _session(driver, server.base)

        # 1. the filled template with one mistake: its place and a Chinese sentence, nothing written
        driver.get(server.base + "/import")
        driver.find_element(By.ID, "roster").send_keys(str(_roster(tmp, cadre, unit, "1985-02-30")))
        driver.find_element(By.ID, "preview-button").click()
        errors = wait.until(seen.presence_of_element_located((By.ID, "import-errors"))).text
        assert "干部!D2" in errors and "日期" in errors and "未写入任何数据" in driver.page_source
        assert http.get(f"/api/v1/cadres/{cadre}").status_code == 404
        step("import-error")

        # 2. fixed: the preview, then written, with the time it took and a link to the cadre
        driver.find_element(By.ID, "roster").send_keys(str(_roster(tmp, cadre, unit, "1985-02-28")))
        driver.find_element(By.ID, "preview-button").click()
        assert wait.until(seen.presence_of_element_located((By.ID, "cadres-added"))).text == "1"
        driver.find_element(By.ID, "confirm-button").click()
        done = wait.until(seen.presence_of_element_located((By.ID, "done-counts"))).text
        assert "新增 1" in done and "用时" in done
        step("import-done")
        driver.find_element(By.CSS_SELECTOR, f'#added-cadres a[href="/cadres/{cadre}"]').click()
        wait.until(seen.presence_of_element_located((By.ID, "cadre-title")))
        assert cadre in driver.find_element(By.ID, "cadre-title").text

        # 3. the unit's list with a filter, exported: the 说明 sheet names the date and the policy set
        driver.get(server.base + f"/units?unit={unit}&as_of={AS_OF}")
        Select(driver.find_element(By.ID, "eligibility")).select_by_value("eligible")
        driver.find_element(By.ID, "apply").click()
        wait.until(lambda d: "eligibility=eligible" in d.current_url)
        step("units")
        book = load_workbook(io.BytesIO(http.get(driver.find_element(By.ID, "export").get_attribute("href")).content))
        note = {row[0].value: row[1].value for row in book["说明"].iter_rows(min_row=2)}
        assert note["评估日期"] == AS_OF and note["政策集"].startswith("sha256:") and "eligible" in note["筛选条件"]

        # 4. 诫勉谈话比例 1/3 → 1/4 from 2017-01-01 by the rule page's form, saved, its diff
        driver.get(server.base + "/rules/supervision.admonish")
        form = driver.find_element(By.ID, "draft-supervision.admonish_ratio")
        form.find_element(By.NAME, "value").send_keys("1/4")
        driver.execute_script("arguments[0].value = '2017-01-01'", form.find_element(By.NAME, "start"))
        form.find_element(By.TAG_NAME, "button").click()
        wait.until(seen.presence_of_element_located((By.ID, "lint-ok")))
        name = driver.find_element(By.ID, "save-name")
        name.clear()
        name.send_keys(f"诫勉谈话比例四分之一（{width}）")
        step("draft-form")
        driver.find_element(By.ID, "save").click()
        comparison = wait.until(seen.presence_of_element_located((By.ID, "comparison"))).text
        assert "三分之一（1/3） → 四分之一（1/4），自2017年1月1日起" in comparison
        step("draft-diff")
        draft_page = driver.current_url

        # the case simulator from the draft: the new cadre, one fact changed, both sides with their reasons
        driver.find_element(By.ID, "simulate-cadre").send_keys(cadre)
        driver.execute_script("document.querySelector('#simulate-form [name=as_of]').value = arguments[0]", AS_OF)
        driver.find_element(By.CSS_SELECTOR, "#simulate-form button").click()
        Select(wait.until(seen.presence_of_element_located((By.NAME, "f.appraisals.0.grade")))).select_by_value(
            "competent")
        driver.find_element(By.ID, "recompute").click()
        assert "等次 优秀 → 称职" in wait.until(seen.presence_of_element_located((By.ID, "changed"))).text
        sides = [driver.find_element(By.ID, side).text for side in ("in-force", "draft-side")]
        assert all("提拔任用资格" in side for side in sides)
        if unit == "QJ-LQ":                                   # the sample's 清江县 asks for 优秀 (P004-1)
            assert all("✗ 不符合 考评实绩“优秀”" in side for side in sides)
        step("simulate")
        driver.get(draft_page)

        # 5. run it, leave the page at once, find the job again in 我的测算, open its report
        driver.find_element(By.ID, "edit-run").click()
        wait.until(seen.presence_of_element_located((By.ID, "lint-ok")))
        driver.execute_script("document.getElementById('as_of').value = arguments[0]", AS_OF)
        driver.find_element(By.ID, "run").click()
        wait.until(lambda d: d.find_element(By.ID, "job-status").text not in ("", "提交中…"))
        step("whatif-running")
        driver.get(server.base + "/")
        driver.get(server.base + "/whatif/jobs")
        row = f'#jobs tr[data-draft="诫勉谈话比例四分之一（{width}）.yaml"]'
        while "已完成" not in driver.find_element(By.CSS_SELECTOR, row).text:
            assert "失败" not in driver.find_element(By.CSS_SELECTOR, row).text
            time.sleep(1)
            driver.refresh()
        step("jobs")
        # its 导出 Excel: the 说明 sheet says what the draft changes, the date, who
        book = load_workbook(io.BytesIO(http.get(driver.find_element(By.CSS_SELECTOR, row + " .export-link")
                                                 .get_attribute("href")).content))
        note = {r[0].value: r[1].value for r in book["说明"].iter_rows(min_row=2)}
        assert "1/3" in note["草案调整内容"] and "1/4" in note["草案调整内容"] and note["评估日期"] == AS_OF
        driver.find_element(By.CSS_SELECTOR, row + " .report-link").click()
        wait.until(seen.presence_of_element_located((By.ID, "comparison")))
        assert "1/4" in driver.find_element(By.ID, "comparison").text
        step("report")                # the report too: its tables scroll in their box

        # 6. the report's summary prints on one A4 page (the detail only when 'print the detail too' is ticked)
        assert not driver.find_element(By.ID, "print-detail").is_selected()
        options = PrintOptions()
        options.page_width, options.page_height = 21.0, 29.7
        pages = _pdf_pages(base64.b64decode(driver.print_page(options)))
        assert pages == 1, f"the summary printed on {pages} pages"
    finally:
        driver.quit()
    print(f"\nwalk at {width} px: {time.perf_counter() - started:.1f} s, load average {os.getloadavg()[0]:.2f}")
