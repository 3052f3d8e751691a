"""The provision register (policies/provisions.yaml) against the policy library.

Reads the YAML with ``yaml.safe_load`` only, so these checks do not depend on the
engine. When the shared register (../shared/PROVISIONS.md) and the source documents
(../shared/seeds/) sit beside the repository, they are checked against too.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
POLICIES = REPO / "policies"
SHARED = REPO.parent / "shared"
PROVISIONS_MD = SHARED / "PROVISIONS.md"
SEEDS = SHARED / "seeds"
# The national regulation's clauses are kept beside the seeds, in one file of their own.
REGULATION = "REGULATION_2019.md"
NATIONAL = "NATIONAL_RULES.md"          # the national bars (issue 26): texts and readings

DATA_FILES = {"provisions.yaml", "outcomes.yaml", "test_units.yaml"}
KINDS = {"I", "T", "P", "N", "I+T"}
SCHEMA_LINE = "# yaml-language-server: $schema=../schemas/policy.schema.json"

# The outcome vocabulary is a contract (issue 5): reports and other tools depend on it.
FINDING_CODES = {
    "admonishment_talk", "demotion_or_removal", "removal_from_leadership", "promotion_barred",
    "promotion_vetoed", "grassroots_experience_insufficient", "grassroots_development_needed",
    "supervision_review_due", "exchange_required", "exchange_recommended", "rotation_due",
    "position_adjustment", "recruitment_exception",
}
REQUIREMENT_CODES = {
    "appraisal_excellent", "no_promotion_bar", "opinion_poll_passed", "grassroots_two_years",
    "department_opinions_clear",
    # 条例（2019）第八条、第九条 (issue 11)
    "work_years_five", "two_lower_level_posts", "rank_tenure", "education_level", "no_two_level_skip",
    "exceptional_allowed",
}
FINDING_CODES |= {"skip_level_promotion"}
FINDING_KINDS = {"action", "bar", "flag", "target", "exception"}

# Full-width punctuation and typographic quotes compared as their ASCII forms.
_PUNCT = str.maketrans({
    "，": ",", "；": ";", "：": ":", "（": "(", "）": ")", "！": "!", "？": "?",
    "“": '"', "”": '"', "‘": "'", "’": "'", "「": '"', "」": '"', "『": '"', "』": '"',
})
_ELISION = re.compile(r"…+|\.\.\.")


def normalise(text: str) -> str:
    """Drop whitespace and map full-width punctuation and quote marks to ASCII.

    >>> normalise("对测评“不满意”票 超过三分之一，")
    '对测评"不满意"票超过三分之一,'
    """
    return re.sub(r"\s+", "", text).translate(_PUNCT)


def quote_parts(quote) -> list[str]:
    """The passages of a quote: a list, or a string with elisions (…) between passages."""
    passages = quote if isinstance(quote, list) else [quote]
    return [p for q in passages for p in (s.strip() for s in _ELISION.split(q)) if p]


def _load(path: Path):
    with path.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def _register() -> list[dict]:
    data = _load(POLICIES / "provisions.yaml")
    return data["provisions"] if isinstance(data, dict) else data


def _policy_files() -> list[Path]:
    return sorted(p for p in POLICIES.glob("*.yaml")
                  if p.name not in DATA_FILES and not p.name.endswith(".tests.yaml"))


def _rules() -> list[tuple[Path, dict, dict]]:
    """(file, policy document, rule) for every rule of the library."""
    found = []
    for path in _policy_files():
        policy = _load(path)
        for rule in policy.get("rules") or []:
            found.append((path, policy, rule))
    return found


#: Documents whose text shared/ does not hold, so their quotes cannot be checked word for word:
#: the 2006 avoidance rule (DOMAIN.md gives 第五条 in English only). Each with the reason.
UNCHECKED = {"党政领导干部任职回避暂行规定": "shared/DOMAIN.md summarises 第五条 in English; no Chinese text is shipped"}


def _seed_text(name: str) -> str | None:
    """A source document, normalised: a seed file, the regulation's clauses (REGULATION_2019.md) or the
    national rules (NATIONAL_RULES.md); None for a document in :data:`UNCHECKED`."""
    if name in UNCHECKED:
        return None
    return normalise(((SHARED if name in (REGULATION, NATIONAL) else SEEDS) / name).read_text(encoding="utf-8"))


# ---- the register itself ----------------------------------------------------------------
def test_register_entries_are_complete():
    ids = []
    for entry in _register():
        assert {"id", "document", "section", "quote", "kind"} <= set(entry), entry
        assert re.fullmatch(r"P\d{3}-\d+|R2019-\d+-\d+|NAT-\d+|CSL-\d+-\d+|AV2006-\d+", entry["id"]), entry["id"]
        assert entry["kind"] in KINDS, entry
        if entry["id"].startswith("AV2006-"):          # issue 22: the 2006 avoidance rule
            assert entry["document"] == "党政领导干部任职回避暂行规定", entry
        elif entry["id"].startswith("R2019-"):
            assert entry["document"] == REGULATION, entry
        elif entry["id"].startswith(("NAT-", "CSL-")):
            assert entry["document"] == NATIONAL, entry
        else:
            assert entry["document"].startswith(entry["id"][1:4] + "_"), entry
        if entry["kind"] == "N":
            assert entry.get("not_encoded"), f"{entry['id']}: an N-kind entry says why it is not encoded"
        ids.append(entry["id"])
    assert len(ids) == len(set(ids)), "duplicate ids in provisions.yaml"
    assert {"P001-0", "P002-0"} <= set(ids), "documents 001 and 002 have one narrative entry each"


def test_every_provision_is_accounted_for():
    named = {rule["provision"] for _, _, rule in _rules()}
    # aggregate rules (issue 6) name their provisions under `structure:`
    named |= {rule["provision"] for path in _policy_files() for rule in _load(path).get("structure") or []}
    missing = []
    for entry in _register():
        if entry["id"] in named or entry.get("not_encoded"):
            continue
        if set(entry["kind"]) & {"T", "P"} and entry.get("pending") == "structure":
            continue   # team/population targets: the structure rules (issue 6)
        missing.append(entry["id"])
    assert not missing, f"provisions neither encoded nor explained: {missing}"


def test_every_id_of_the_shared_register_is_in_the_library():
    if not PROVISIONS_MD.exists():
        pytest.skip(f"{PROVISIONS_MD} not present")
    shared = set(re.findall(r"^\|\s*(P\d{3}-\d+)\s*\|", PROVISIONS_MD.read_text(encoding="utf-8"), re.M))
    assert shared, "no ids found in PROVISIONS.md"
    ours = {entry["id"] for entry in _register()}
    assert not shared - ours, f"missing from policies/provisions.yaml: {sorted(shared - ours)}"


def test_register_quotes_occur_in_their_documents():
    if not SEEDS.is_dir() or not (SHARED / REGULATION).exists():
        pytest.skip(f"{SEEDS} or {SHARED / REGULATION} not present")
    for entry in _register():
        text = _seed_text(entry["document"])
        if text is None:
            continue        # UNCHECKED says why
        for part in quote_parts(entry["quote"]):
            assert normalise(part) in text, f"{entry['id']}: quote not in {entry['document']}: {part}"


# ---- the rules against the register -----------------------------------------------------
def test_policy_files_start_with_the_schema_line():
    for path in _policy_files():
        first = path.read_text(encoding="utf-8").splitlines()[0]
        assert first == SCHEMA_LINE, f"{path.name}: first line should be {SCHEMA_LINE!r}"


def test_rules_cite_registered_provisions():
    register = {entry["id"]: entry for entry in _register()}
    seen = set()
    for path, _, rule in _rules():
        where = f"{path.name}: {rule.get('id')}"
        for key in ("id", "title", "provision", "section", "quote"):
            assert rule.get(key), f"{where}: missing {key}"
        assert rule["id"] not in seen, f"{where}: duplicate rule id"
        seen.add(rule["id"])
        assert rule["provision"] in register, f"{where}: provision {rule['provision']} not in the register"
        assert register[rule["provision"]]["kind"] != "N", f"{where}: cites an N-kind provision"


def test_rule_quotes_occur_in_their_documents():
    if not SEEDS.is_dir() or not (SHARED / REGULATION).exists():
        pytest.skip(f"{SEEDS} or {SHARED / REGULATION} not present")
    register = {entry["id"]: entry for entry in _register()}
    for path, policy, rule in _rules():
        document = register[rule["provision"]]["document"]
        source_file = (policy.get("source") or {}).get("file")
        if source_file:
            assert source_file == document, f"{path.name}: {rule['id']} cites {document}, the file is {source_file}"
        text = _seed_text(document)
        if text is None:
            continue        # UNCHECKED says why
        for part in quote_parts(rule["quote"]):
            assert normalise(part) in text, f"{path.name}: {rule['id']}: quote not in {document}: {part}"


# ---- the outcome catalogue ----------------------------------------------------------------
def test_outcome_catalogue_holds_the_contract():
    outcomes = _load(POLICIES / "outcomes.yaml")
    findings, requirements = outcomes["findings"], outcomes["requirements"]
    assert FINDING_CODES <= set(findings), f"missing finding codes: {FINDING_CODES - set(findings)}"
    assert REQUIREMENT_CODES <= set(requirements), f"missing requirements: {REQUIREMENT_CODES - set(requirements)}"
    for code, entry in findings.items():
        assert entry["kind"] in FINDING_KINDS and entry["title"], code
    for code, entry in requirements.items():
        assert entry["determination"] in outcomes["determinations"] and entry["title"], code
    assert findings["promotion_barred"]["kind"] == "bar"


def test_rules_conclude_catalogued_outcomes():
    outcomes = _load(POLICIES / "outcomes.yaml")
    for path, _, rule in _rules():
        if "finding" in rule:
            assert rule["finding"] in outcomes["findings"], f"{path.name}: {rule['id']}: {rule['finding']}"
        if "requirement" in rule:
            assert rule["requirement"] in outcomes["requirements"], f"{path.name}: {rule['id']}"


def test_each_policy_file_with_rules_has_tests():
    for path in _policy_files():
        if _load(path).get("rules"):
            tests = path.with_name(path.stem + ".tests.yaml")
            assert tests.exists(), f"{path.name} has no {tests.name}"
            assert _load(tests)["policy"] == _load(path)["id"]
