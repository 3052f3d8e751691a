"""本单位干部核查一览 against a real `policy serve`: the cadres of a unit and below on a date, filtered,
sorted and paged; the export read back (the 说明 sheet names the date and the policy set); other units refused."""
from __future__ import annotations

import io
import re

import pytest
from openpyxl import load_workbook

from browser import chrome, needs_chromium, screenshot, sign_in
from serve_server import AS_OF, PASSWORD


def _ids(html: str) -> list[str]:
    return re.findall(r'class="cadre-link">(C\d+)<', html)


def test_a_unit_list_with_filters(workbench_server):
    client = workbench_server.client("qj")
    page = client.get(f"/units?as_of={AS_OF}")
    assert page.status_code == 200 and "本单位干部核查一览" in page.text
    every = _ids(page.text)
    # 清江县 only: its own 17, the cadres placed in its townships, and those moving in (C0061–C0063)
    assert len(every) == 28 and every == sorted(every) and "C0018" not in every
    assert "清江县龙泉镇党委书记" in page.text and "诫勉谈话" in page.text
    town = _ids(client.get(f"/units?unit=QJ-LQ&as_of={AS_OF}").text)
    assert town == ["C0007", "C0008", "C0017"]
    admonished = _ids(client.get(f"/units?as_of={AS_OF}&finding=admonishment_talk").text)
    assert admonished == ["C0007", "C0009", "C0012", "C0029", "C0040", "C0041", "C0062", "C0063"]
    pending = _ids(client.get(f"/units?as_of={AS_OF}&eligibility=pending").text)
    assert pending == ["C0017", "C0031", "C0063"]
    unmet = _ids(client.get(f"/units?as_of={AS_OF}&unmet=appraisal_excellent&rank=section").text)
    assert unmet and "C0007" in unmet and set(unmet) <= set(every)
    by_findings = _ids(client.get(f"/units?as_of={AS_OF}&sort=findings").text)
    assert set(by_findings) == set(every) and by_findings[0] in admonished
    assert client.get(f"/units?unit=BH-PC&as_of={AS_OF}").status_code == 403
    assert client.get(f"/units?unit=NOPE&as_of={AS_OF}").status_code == 404


def test_the_city_list_is_paged(workbench_server):
    client = workbench_server.client("admin")
    first = client.get(f"/units?unit=JL-PC&as_of={AS_OF}&size=20")          # 宜昌市: 36 cadres
    second = client.get(f"/units?unit=JL-PC&as_of={AS_OF}&size=20&page=2")
    assert 'id="pager"' in first.text and "size=20" in first.text          # the pager keeps the size
    ones, twos = _ids(first.text), _ids(second.text)
    assert len(ones) == 20 and len(twos) == 16 and not set(ones) & set(twos)
    assert 'id="pager"' not in client.get(f"/units?unit=JL-PC&as_of={AS_OF}").text    # 36 fit one page of 50


def test_the_export_has_the_list_and_a_note(workbench_server):
    client = workbench_server.client("qj")
    response = client.get(f"/units/export.xlsx?unit=QJ-PC&as_of={AS_OF}&finding=admonishment_talk")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["干部", "说明"]
    cadres = [[c.value for c in row] for row in book["干部"].iter_rows()]
    assert cadres[0][:3] == ["编号", "姓名", "现任职务"] and [r[0] for r in cadres[1:]] == ["C0007", "C0009", "C0012", "C0029", "C0040",
                                                                                             "C0041", "C0062", "C0063"]
    note = {row[0].value: row[1].value for row in book["说明"].iter_rows(min_row=2)}
    assert note["评估日期"] == AS_OF and note["政策集"].startswith("sha256:") and note["导出人"] == "qj"
    assert "admonishment_talk" in note["筛选条件"] and note["干部"] == 8 and note["单位"].startswith("中共清江县委")


@needs_chromium
@pytest.mark.parametrize("width,height", [(1366, 768), (390, 844)])
def test_the_unit_list_in_the_browser(workbench_server, width, height):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait
    driver = chrome(width, height)
    try:
        sign_in(driver, workbench_server.base, "qj", PASSWORD)
        driver.get(workbench_server.base + f"/units?as_of={AS_OF}")
        Select(driver.find_element(By.ID, "finding")).select_by_visible_text("诫勉谈话")
        driver.find_element(By.ID, "apply").click()
        WebDriverWait(driver, 30).until(lambda d: "finding=admonishment_talk" in d.current_url)
        assert driver.find_element(By.ID, "total").text == "8"
        assert "export.xlsx" in driver.find_element(By.ID, "export").get_attribute("href")
        table = driver.find_element(By.ID, "unit-list")
        # the table scrolls inside its box on a phone: the page itself is not wider than the screen
        assert driver.execute_script("return document.documentElement.scrollWidth") <= width + 1
        assert table.is_displayed()
        screenshot(driver, f"workbench-units-{width}.png")
    finally:
        driver.quit()


def _on_a_terminal(args: list[str], stream: str, env: dict | None = None) -> tuple[int, str]:
    """Run ``policy ARGS`` with ``stream`` (stdout or stderr) a pseudo-terminal: (exit status, what it showed)."""
    import os
    import pty
    import subprocess
    import sys
    main_fd, terminal = pty.openpty()
    where = {stream: terminal, "stdout" if stream == "stderr" else "stderr": subprocess.DEVNULL}
    done = subprocess.run([sys.executable, "-c", "from cadre_policy.cli import main; main()", *args], **where,
                          env={**os.environ, **(env or {})}, timeout=120)
    os.close(terminal)
    shown = b""
    try:
        while chunk := os.read(main_fd, 65536):
            shown += chunk
    except OSError:
        pass
    os.close(main_fd)
    return done.returncode, re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", shown.decode("utf-8", "replace")).replace("\r", "")


def test_check_all_shows_progress_on_a_terminal(sample_db, tmp_path):
    # stderr a terminal (a pseudo-terminal here), the list to a file: a progress bar, n/total cadres
    out = tmp_path / "all.txt"
    status, shown = _on_a_terminal(["--lang", "zh", "--db", sample_db, "check", "--all", "--as-of", AS_OF,
                                    "-o", str(out)], "stderr")
    assert status == 0
    assert "检查" in shown and "64/64" in shown and "C0007" in out.read_text(encoding="utf-8")


def test_records_are_filtered_and_exported(workbench_server):
    client = workbench_server.client("qj")
    csrf = client.headers["X-CSRF-Token"]
    client.post("/cadres/C0009/record", data={"csrf_token": csrf, "as_of": AS_OF})
    page = client.get("/records", params={"kind": "check", "cadre": "C0009"}).text
    assert "C0009" in page and "工作台" in page and "北京时间" in page
    assert "C0007 ·" not in page
    response = client.get("/records/export.xlsx", params={"kind": "check", "cadre": "C0009"})
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["纪实记录", "说明"]
    rows = [[c.value for c in row] for row in book["纪实记录"].iter_rows()]
    assert rows[0][:3] == ["编号", "时间（北京时间）", "操作人"] and all(r[2] == "qj" and "C0009" in r[5] for r in rows[1:])
    note = {row[0].value: row[1].value for row in book["说明"].iter_rows(min_row=2)}
    assert "cadre=C0009" in note["筛选条件"] and note["导出人"] == "qj"


def test_a_narrow_terminal_drops_codes_and_indents(sample_db):
    # a 60-column terminal (a pseudo-terminal with COLUMNS=60): no codes, every continuation line indented
    status, shown = _on_a_terminal(["--lang", "zh", "--db", sample_db, "check", "C0007", "--as-of", AS_OF],
                                   "stdout", {"COLUMNS": "60", "TERM": "dumb"})
    assert status == 0
    lines = shown.splitlines()
    assert "admonishment_talk" not in shown and "appraisal_excellent" not in shown
    quote = lines.index(next(line for line in lines if "依据" in line))
    assert lines[quote + 1].startswith("      ")                # the quote's second line keeps its indent


def test_an_empty_structure_report_offers_the_dates_in_force(workbench_server):
    client = workbench_server.client("admin")          # 白河县: under 宜昌's plan, in force 2013-12-04..2017-12-31
    page = client.get("/structure/report", params={"region": "白河县", "as_of": "2026-12-01"}).text
    why = page[page.index('id="why-empty"'):page.index("</p>", page.index('id="why-empty"'))]
    assert "没有有效的结构目标" in why and "--as-of" not in why
    day = re.search(r'as_of=(\d{4}-\d\d-\d\d)" target="_parent"', why).group(1)
    assert client.get(f"/structure/report?region=白河县&as_of={day}").text.count('id="why-empty"') == 0
