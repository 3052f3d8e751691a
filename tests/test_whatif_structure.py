"""What-if covers structure targets: a draft changing a target shows which instances change status."""
import json

import pytest

from conftest import ROOT, SAMPLE, invoke


@pytest.fixture(scope="module")
def sample_db(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('wis') / 'facts.db'}"
    assert invoke(url, "facts", "import", SAMPLE).exit_code == 0
    return url


def test_raising_a_team_target_changes_exactly_the_team_at_the_old_boundary(sample_db):
    draft = ROOT / "drafts" / "team_township_80pct.yaml"
    result = invoke(sample_db, "whatif", "--draft", draft, "--quiet", "--format", "json")
    assert result.exit_code == 0, result.stderr
    changes = json.loads(result.stdout)["structure"]
    # 东湖区's team has 2 of 3 members with township-principal experience: 60% met, 80% not
    # (清江县, in 江苏省, is outside the 宜昌 plan's jurisdiction: its team is not counted)
    assert [(c["rule"], c["instance"], c["baseline"]["status"], c["draft"]["status"]) for c in changes] == [
        ("structure.county_team_township_principal", "东湖区", "met", "not_met")]
    assert changes[0]["baseline"]["figure"] == changes[0]["draft"]["figure"] == "2/3"


def test_an_individual_draft_changes_no_structure_target(sample_db):
    result = invoke(sample_db, "whatif", "--set", "supervision.admonish_ratio=3/10", "--as-of", "2017-06-30",
                    "--quiet", "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["structure"] == []
    text = invoke(sample_db, "whatif", "--draft", ROOT / "drafts" / "team_township_80pct.yaml", "--quiet").stdout
    assert "Structure targets that change status: 1" in text and "东湖区" in text and "清江县" not in text
