"""The what-if HTML report, opened in headless Chromium (Debian's chromium + chromium-driver).

Skipped, with the reason shown, when Chromium is not installed; `.ci/run` installs it
so CI runs this test. The screenshot is kept as a test artefact: artifacts/whatif.png.
"""
from __future__ import annotations

from datetime import date

import pytest
from click.testing import CliRunner

from browser import ROOT, chrome, needs_chromium, screenshot
from cadre_policy.cli import main
from cadre_policy.facts.generate import generate
from cadre_policy.facts.store import FactStore


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("html")
    url = f"sqlite:///{tmp / 'pop.db'}"
    units, cadres = generate(800, 3, date(2017, 6, 30))
    with FactStore(url) as store:
        store.bulk_load(units, cadres)
    out = tmp / "whatif.html"
    result = CliRunner().invoke(main, ["--db", url, "whatif", "--policies", str(ROOT / "policies"),
                                       "--draft", str(ROOT / "drafts" / "grassroots_3y.yaml"),
                                       "--format", "html", "--output", str(out), "--workers", "1"])
    assert result.exit_code == 0, result.output
    return out


def test_the_page_is_self_contained(report):
    html = report.read_text(encoding="utf-8")
    assert "<table id=\"summary\"" in html and "<svg id=\"chart-outcomes\"" in html
    for needle in ("http://", "https://", "<link", "src="):
        assert needle not in html.replace('xmlns="http://www.w3.org/2000/svg"', ""), needle


@needs_chromium
def test_the_page_in_headless_chromium(report):
    from selenium.webdriver.common.by import By

    driver = chrome()
    try:
        driver.get(report.as_uri())
        assert driver.title.startswith("What-if:")
        rows = driver.find_elements(By.CSS_SELECTOR, "#summary tbody tr")
        assert len(rows) >= 10
        assert any("grassroots_development_needed" in r.text for r in rows)
        bars = driver.find_elements(By.CSS_SELECTOR, "#chart-outcomes rect")
        assert bars and all(b.size["height"] > 0 for b in bars)
        assert driver.find_elements(By.CSS_SELECTOR, "#chart-units rect")
        cadres = driver.find_elements(By.CSS_SELECTOR, "#changes .cadre")
        total = len(cadres)
        assert total > 2
        shown = driver.find_element(By.ID, "shown")
        assert shown.text == str(total)
        # search: one cadre's id leaves exactly that cadre visible; clearing shows all again
        first_id = cadres[0].find_element(By.CSS_SELECTOR, ".who").text.split()[0]
        box = driver.find_element(By.ID, "search")
        box.send_keys(first_id)
        visible = [c for c in cadres if c.is_displayed()]
        assert len(visible) == 1 and first_id in visible[0].text
        assert shown.text == "1"
        box.clear()
        box.send_keys("yichang_grassroots")      # a rule id: matches through the reasons
        assert 0 < len([c for c in cadres if c.is_displayed()]) <= total
        box.clear()
        driver.execute_script("arguments[0].dispatchEvent(new Event('input'))", box)
        assert len([c for c in cadres if c.is_displayed()]) == total
        driver.execute_script("window.scrollTo(0, 0)")
        screenshot(driver, "whatif.png")
    finally:
        driver.quit()
