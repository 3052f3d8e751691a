"""The HTML reports in headless Chromium (Debian's chromium + chromium-driver): what-if, structure, 资格审查 sheet.

Each page is opened in Chromium: no English UI words, the search finds a provision id and
says "没有匹配" for nonsense, and the page prints on A4 through Chromium's own print to PDF.
Screenshots and PDFs are kept as test artefacts in artifacts/. Skipped, with the reason
shown, when Chromium is not installed; `.ci/run` installs it so CI runs these tests.
"""
from __future__ import annotations

import base64
import re
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from browser import ARTIFACTS, ROOT, chrome, needs_chromium
from cadre_policy.cli import main
from cadre_policy.generate.population import generate
from cadre_policy.render.html import CSS, SEARCH
from cadre_policy.store.fact_store import FactStore
from conftest import SAMPLE, invoke

AS_OF = "2017-06-30"
# words of an English interface; codes and ids (with _ : . -) do not count
ENGLISH = ["Summary", "baseline", "draft", "Draft", "Outcome", "What-if", "Search", "changed", "cadres", "Overview",
           "fired", "active", "under", "met", "Findings", "Requirement", "Source", "Facts", "Reviewed", "matches",
           "eligible", "ineligible", "policy", "as of", "unit", "target", "Note", "because", "difference"]


def _cli(*args):
    result = CliRunner().invoke(main, ["--lang", "zh", *map(str, args)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result


@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("html")
    population = f"sqlite:///{tmp / 'pop.db'}"
    units, cadres = generate(800, 3, date(2017, 6, 30))
    with FactStore(population) as store:
        store.bulk_load(units, cadres)
    sample = f"sqlite:///{tmp / 'sample.db'}"
    assert invoke(sample, "facts", "import", SAMPLE).exit_code == 0
    out = {name: tmp / f"{name}.html" for name in ("whatif", "structure", "structure_today", "sheet")}
    _cli("--db", population, "whatif", "--policies", ROOT / "policies", "--draft", ROOT / "drafts" / "grassroots_3y.yaml",
         "--format", "html", "--output", out["whatif"], "--workers", "1")
    _cli("--db", sample, "structure", "--as-of", AS_OF, "--format", "html", "-o", out["structure"])
    _cli("--db", sample, "structure", "--as-of", "2026-12-01", "--format", "html", "-o", out["structure_today"])
    _cli("--db", sample, "check", "C0007", "--as-of", AS_OF, "--format", "html", "-o", out["sheet"])
    return out


@pytest.fixture(scope="module")
def driver():
    browser = chrome()
    yield browser
    browser.quit()


def test_the_pages_are_self_contained(pages):
    for path in pages.values():
        html = path.read_text(encoding="utf-8")
        for needle in ("http://", "https://", "<link", "src=", "style="):
            assert needle not in html.replace('xmlns="http://www.w3.org/2000/svg"', ""), (path.name, needle)
        assert '<html lang="zh-CN">' in html and "@page{size:A4" in html
        # one stylesheet and at most one script, the files' bytes: what the workbench's CSP allows by hash
        assert re.findall(r"<style>(.*?)</style>", html, re.S) == [CSS]
        assert re.findall(r"<script>(.*?)</script>", html, re.S) in ([], [SEARCH])


def _english_words(text: str) -> list[str]:
    return [w for w in ENGLISH if re.search(rf"(?<![\w:_.\-/]){re.escape(w)}(?![\w:_.\-/])", text)]


def _search(driver, text: str):
    from selenium.webdriver.common.by import By
    box = driver.find_element(By.ID, "search")
    box.clear()
    box.send_keys(text)
    driver.execute_script("arguments[0].dispatchEvent(new Event('input'))", box)


def _visible(driver, selector="[data-item]"):
    from selenium.webdriver.common.by import By
    return [el for el in driver.find_elements(By.CSS_SELECTOR, selector) if el.is_displayed()]


def _no_match_shown(driver) -> bool:
    from selenium.webdriver.common.by import By
    line = driver.find_element(By.ID, "no-match")
    return line.is_displayed() and line.text == "没有匹配"


def _keep(driver, name: str) -> Path:
    """A screenshot and Chromium's print of the page (A4, as the stylesheet asks) in artifacts/."""
    ARTIFACTS.mkdir(exist_ok=True)
    driver.execute_script("window.scrollTo(0, 0)")
    assert driver.save_screenshot(str(ARTIFACTS / f"{name}.png"))
    pdf = driver.execute_cdp_cmd("Page.printToPDF", {"preferCSSPageSize": True, "printBackground": True})
    path = ARTIFACTS / f"{name}.pdf"
    path.write_bytes(base64.b64decode(pdf["data"]))
    return path


def _pages_of(pdf: Path) -> int:
    """Pages of a PDF, each checked to be A4 (595.3 x 841.9 pt), read with pypdf: no system tool needed."""
    from pypdf import PdfReader
    reader = PdfReader(pdf)
    for page in reader.pages:
        width, height = float(page.mediabox.width), float(page.mediabox.height)
        assert abs(width - 595.3) < 2 and abs(height - 841.9) < 2, (width, height)     # A4
    return len(reader.pages)


def _open(driver, page: Path) -> str:
    """Open a report in the browser; its visible text, which must be Chinese throughout."""
    from selenium.webdriver.common.by import By
    driver.get(page.as_uri())
    text = driver.find_element(By.TAG_NAME, "body").text
    assert not _english_words(text), _english_words(text)
    return text


@needs_chromium
def test_whatif_page(pages, driver):
    from selenium.webdriver.common.by import By
    text = _open(driver, pages["whatif"])
    assert driver.title.startswith("政策测算：")
    assert text.index("概览") < text.index("各结论人数的差额") < text.index("汇总：各结论的人数")
    bars = driver.find_elements(By.CSS_SELECTOR, "#chart-outcomes rect")
    assert bars and all(b.size["height"] > 0 and b.size["width"] > 0 for b in bars)
    chart = driver.find_element(By.ID, "chart-outcomes")
    right = chart.location["x"] + chart.size["width"]
    for label in chart.find_elements(By.TAG_NAME, "text"):          # no label clipped at the chart's edge
        assert chart.location["x"] <= label.location["x"] and label.location["x"] + label.size["width"] <= right + 1
    assert driver.find_elements(By.CSS_SELECTOR, "#chart-units rect")
    rows = driver.find_elements(By.CSS_SELECTOR, "#summary tbody tr")
    assert len(rows) >= 10 and any("grassroots_development_needed" in r.text for r in rows)
    cadres = _visible(driver, "#changes .cadre")
    total = len(cadres)
    assert total > 2 and driver.find_element(By.ID, "shown").text == str(total)
    first_id = cadres[0].find_element(By.CSS_SELECTOR, ".who").text.split()[0]
    _search(driver, first_id)
    visible = _visible(driver, "#changes .cadre")
    assert len(visible) == 1 and first_id in visible[0].text and driver.find_element(By.ID, "shown").text == "1"
    _search(driver, "P003-1")                                        # a provision id printed on the cards
    assert 0 < len(_visible(driver, "#changes .cadre")) <= total and not _no_match_shown(driver)
    _search(driver, "zzqx-无此内容")
    assert not _visible(driver, "#changes .cadre") and _no_match_shown(driver)
    _search(driver, "")
    assert len(_visible(driver, "#changes .cadre")) == total and not _no_match_shown(driver)
    assert "结论改变" in text and "新不满足“有三年以上基层工作经历”" in driver.find_element(By.ID, "reach-sentence").text
    assert driver.find_elements(By.CSS_SELECTOR, "#reach tbody tr")
    assert _pages_of(_keep(driver, "whatif")) == 1          # the summary alone, as printed by default
    driver.find_element(By.ID, "print-detail").click()      # the officer asks for the detail too
    assert _pages_of(_keep(driver, "whatif_detail")) >= 2


@needs_chromium
def test_structure_page(pages, driver):
    from selenium.webdriver.common.by import By
    text = _open(driver, pages["structure"])
    assert text.index("概览") < text.index("各区域未达到的目标") < text.index("东湖区")
    assert driver.find_elements(By.CSS_SELECTOR, "#chart-regions rect")
    cards = _visible(driver)
    _search(driver, "P003-16")
    found = _visible(driver)
    assert found and len(found) < len(cards) and all("P003-16" in c.text for c in found)
    _search(driver, "zzqx-无此内容")
    assert not _visible(driver) and _no_match_shown(driver)
    _search(driver, "")
    assert _pages_of(_keep(driver, "structure")) == 1        # overview and chart; the targets when asked
    driver.find_element(By.ID, "print-detail").click()
    assert _pages_of(_keep(driver, "structure_detail")) >= 2
    driver.get(pages["structure_today"].as_uri())
    why = driver.find_element(By.ID, "why-empty").text
    assert "2026-12-01 没有有效的结构目标" in why and "2013-12-04" in why and "--as-of" in why


@needs_chromium
def test_cadre_sheet_is_one_a4_page(pages, driver):
    text = _open(driver, pages["sheet"])
    assert driver.title.startswith("干部资格审查表")
    assert "最近一次年度考核·等次为称职，不是优秀" in text
    assert "16/45，超过 1/3" in text and "“对测评“不满意”票超过三分之一" in text
    rows = _visible(driver)
    _search(driver, "P004-1")
    assert [r for r in _visible(driver)] and len(_visible(driver)) < len(rows)
    _search(driver, "zzqx-无此内容")
    assert _no_match_shown(driver)
    _search(driver, "")
    pdf = _keep(driver, "sheet")
    assert _pages_of(pdf) == 1          # the screenshot beside it in artifacts/ shows the page
