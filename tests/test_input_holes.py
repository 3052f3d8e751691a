"""Input holes of issue 24: `--set` and the API's `set` validated as drafts are (an enumeration value the rules do not
know is refused, on the option; a draft's own is reported on the draft); import errors through the terminal escaper."""
from __future__ import annotations

from conftest import ROOT, SAMPLE, invoke


def test_set_refuses_an_unknown_enumeration_value(sqlite_url):
    assert invoke(sqlite_url, "facts", "import", SAMPLE).exit_code == 0
    refused = invoke(sqlite_url, "whatif", "--set", "grassroots_levels=moon", "--as-of", "2017-06-30", "-q",
                     "--policies", ROOT / "policies")
    assert refused.exit_code == 2
    assert "--set common.grassroots_levels: 'moon' is not a value of 'unit.level'" in refused.stderr
    fine = invoke(sqlite_url, "whatif", "--set", "grassroots_levels=township,village", "--as-of", "2017-06-30",
                  "-q", "--engine", "python", "--workers", "1", "--policies", ROOT / "policies")
    assert fine.exit_code == 0, fine.stderr


def test_a_drafts_unknown_enumeration_value_is_reported_on_the_draft(tmp_path):
    draft = tmp_path / "moon.yaml"
    draft.write_text("id: moon\ntitle: 月球\nin_force: {from: 2017-01-01}\nparameters:\n"
                     "  common.grassroots_levels: [township, moon]\n", encoding="utf-8")
    from cadre_policy.load.drafts import load_draft
    from cadre_policy.load.policyset import load
    _, _, diagnostics = load_draft(draft, load(str(ROOT / "policies")))
    found = [d for d in diagnostics if d.code == "E302"]
    assert found and all(str(d.location.file) == str(draft) for d in found), [str(d) for d in found]


def test_import_errors_from_a_csv_cell_cannot_drive_the_terminal(sqlite_url, tmp_path):
    sheet = tmp_path / "干部.csv"
    sheet.write_text("id,name,gender,birth_date\nX1,a,\x07\x1b]0;owned\x07moon,1970-01-01\n", encoding="utf-8")
    refused = invoke(sqlite_url, "facts", "import", sheet)
    assert refused.exit_code == 2
    assert "\x07" not in refused.stderr and "\x1b" not in refused.stderr
    assert "\\x07\\x1b]0;owned\\x07moon" in refused.stderr


def test_an_xlsx_zip_bomb_is_refused_unread(sqlite_url, tmp_path):
    import zipfile
    book = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(book, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as part:
            blank = b" " * 1_000_000
            for _ in range(64):
                part.write(blank)
    assert book.stat().st_size < 1_000_000
    refused = invoke(sqlite_url, "facts", "import", book)
    assert refused.exit_code == 2
    assert "part xl/worksheets/sheet1.xml unpacks" in refused.stderr and "not a real sheet" in refused.stderr


def test_merge_keys_are_refused_in_imports_as_documented(sqlite_url, tmp_path):
    merged = tmp_path / "merge.yaml"
    merged.write_text("cadres:\n  - id: M1\n    <<: {name: 合并, gender: male, birth_date: 1970-01-01, party: cpc}\n",
                      encoding="utf-8")
    refused = invoke(sqlite_url, "facts", "import", merged)
    assert refused.exit_code == 2 and "merge.yaml:3:5" in refused.stderr
    assert "merge keys (<<:) are not allowed in import files" in refused.stderr


def test_an_excel_date_cell_before_march_1900_is_refused():
    import datetime as dt
    import pytest
    from cadre_policy.intake.sheets.cells import CellError, read_date
    with pytest.raises(CellError, match="1900-02-29"):
        read_date(dt.datetime(1900, 2, 28), None)          # serial 59 or 60: openpyxl cannot tell
    assert read_date(dt.datetime(1900, 3, 1), None) == "1900-03-01"
    assert read_date("1900-02-28", None) == "1900-02-28"      # text is read as written


def test_two_imports_of_one_unit_at_once_end_in_one_line(server_urls, tmp_path):
    """PostgreSQL: an import inserts a unit another transaction inserted meanwhile (it commits while ours waits)."""
    import threading
    import time
    import pytest
    from sqlalchemy import create_engine, text
    url = server_urls["postgresql"]
    if not url:
        pytest.skip("PostgreSQL not configured: set POLICY_TEST_PG_URL")
    from cadre_policy.store.fact_store import FactStore
    from cadre_policy.store.models import metadata
    FactStore(url).close()
    units = tmp_path / "units.yaml"
    units.write_text("units:\n  - {id: RACE, name: 竞争单位, kind: township, level: township, region: 清江县}\n",
                     encoding="utf-8")
    engine = create_engine(url)
    try:
        other = engine.connect()
        other.begin()
        other.execute(text("INSERT INTO units (id, name, kind, level, region) "
                           "VALUES ('RACE', '竞争单位', 'township', 'township', '清江县')"))
        threading.Timer(3, lambda: (other.commit(), other.close())).start()
        started = time.monotonic()
        refused = invoke(url, "facts", "import", units)
        assert time.monotonic() - started >= 2.5            # it waited for the other transaction
        assert refused.exit_code == 2
        assert "another import was writing the same units or cadres at the same time" in refused.stderr
        assert "UNIQUE" not in refused.stderr.upper() and "Traceback" not in refused.stderr
    finally:
        metadata.drop_all(engine)
        engine.dispose()
