"""The fidelity defects of issue 22, each at its boundary, through the commands a user runs."""
from __future__ import annotations

import json

import pytest

from conftest import SAMPLE, invoke


@pytest.fixture(scope="module")
def sample_db(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('defects') / 'facts.db'}"
    assert invoke(url, "facts", "import", SAMPLE).exit_code == 0
    return url


# ---- 7. no determination without a post ---------------------------------------------------------
@pytest.mark.parametrize("engine", ["durable", "python", "columnar"])
def test_no_post_and_no_nomination_is_no_determination(sample_db, engine):
    # C0001 starts work in 1994 (no post on 1993-12-31), C0050 joins on 2015-07-15
    before = json.loads(invoke(sample_db, "check", "C0050", "--as-of", "2015-07-14", "--engine", engine,
                               "--format", "json").stdout)
    assert before["promotion"] is None
    first_day = json.loads(invoke(sample_db, "check", "C0050", "--as-of", "2015-07-15", "--engine", engine,
                                  "--format", "json").stdout)
    assert first_day["promotion"] is not None and first_day["promotion"]["target_rank"] == "deputy_section"
    text = invoke(sample_db, "--lang", "zh", "check", "C0050", "--as-of", "2015-07-14", "--engine", engine).stdout
    assert "提拔任用资格: 不适用（无现任职务，也无提名）" in text and "待定" not in text


def test_check_all_counts_no_eligibility_for_a_person_without_a_post(sample_db):
    doc = json.loads(invoke(sample_db, "check", "--all", "--as-of", "2015-07-14", "--format", "json").stdout)
    none = [c["cadre"] for c in doc["cadres"] if c["promotion"] is None]
    assert "C0050" in none
    pending = [c["cadre"] for c in doc["cadres"] if c["promotion"] and c["promotion"]["eligibility"] == "pending"]
    assert doc["summary"]["promotion"]["pending"] == len(pending) and "C0050" not in pending
