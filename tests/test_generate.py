"""The synthetic population generator (generate/population.py) and `policy facts generate`."""
import datetime as dt
import io
import json
from collections import Counter
from itertools import islice

import jsonschema
import pytest
import yaml
from click.testing import CliRunner

from cadre_policy import cli, data
from cadre_policy.cli.common import EXIT_USAGE
from cadre_policy.generate.population import generate, write_json
from cadre_policy.language.types import RANKS

SCHEMA = data.schema("facts")
AS_OF = dt.date(2017, 6, 30)


def _iso(value):
    """The document as JSON would carry it: dates as ISO text (what the schema checks)."""
    if isinstance(value, dict):
        return {k: _iso(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_iso(v) for v in value]
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _population(n=300, seed=7, **kw):
    units, cadres = generate(n, seed, **kw)
    return units, list(cadres)


def _dates(doc):
    """Every date in a cadre document, with where it was found."""
    for key, value in doc.items():
        if isinstance(value, dt.date):
            yield key, value
        elif isinstance(value, dict):
            yield from _dates(value)
        elif isinstance(value, list):
            for item in value:
                if isinstance(item, dict):
                    yield from _dates(item)


def test_same_seed_gives_identical_output():
    assert _population(seed=11) == _population(seed=11)


def test_different_seed_gives_different_output():
    a, b = _population(seed=11), _population(seed=12)
    assert a[1] != b[1]
    assert [u["name"] for u in a[0]] != [u["name"] for u in b[0]]


def test_generation_does_not_touch_global_random_state():
    import random
    random.seed(5)
    expected = random.random()
    random.seed(5)
    _population(50)
    assert random.random() == expected


def test_documents_validate_against_the_import_schema():
    units, cadres = _population(400, seed=3)
    validator = jsonschema.Draft202012Validator(SCHEMA, format_checker=jsonschema.FormatChecker())
    errors = list(validator.iter_errors(_iso({"units": units, "cadres": cadres})))
    assert not errors, [f"{list(e.absolute_path)}: {e.message}" for e in errors[:5]]


def test_ids_unique_and_references_known():
    units, cadres = _population(400, seed=4)
    unit_ids = [u["id"] for u in units]
    assert len(unit_ids) == len(set(unit_ids))
    cadre_ids = [c["id"] for c in cadres]
    assert len(cadre_ids) == len(set(cadre_ids)) == 400
    known = set(unit_ids)
    assert all(u.get("parent") in known for u in units if "parent" in u)
    for c in cadres:
        refs = [p["unit"] for p in c["posts"]] + [n["target_unit"] for n in c["nominations"]]
        refs += [c["recruitment"]["unit"]] if "recruitment" in c else []
        assert set(refs) <= known, c["id"]


def test_region_names_unique_per_county():
    units, _ = generate(20_000, seed=1)
    regions = {u["region"]: u["id"].rsplit("-", 1)[0] for u in units if u["kind"] == "party_committee"}
    assert len(regions) == sum(1 for u in units if u["kind"] == "party_committee")


@pytest.mark.parametrize("as_of", [AS_OF, dt.date(2012, 1, 5)])
def test_records_dated_on_or_before_as_of_and_consistent(as_of):
    _, cadres = _population(500, seed=5, as_of=as_of)
    for c in cadres:
        for key, value in _dates(c):
            if key not in ("birth_date", "probation_end"):     # a probation may run on
                assert value <= as_of, (c["id"], key, value)
        starts = [p["start"] for p in c["posts"]]
        assert starts == sorted(starts), c["id"]
        assert all("end" not in p or p["end"] >= p["start"] for p in c["posts"]), c["id"]
        assert "end" not in c["posts"][-1], c["id"]  # the last post is current
        assert all(0 <= r["dissatisfied"] <= r["total"] for r in c["reviews"]), c["id"]
        assert all(0 <= p["approve"] <= p["total"] for p in c["polls"]), c["id"]


def test_distributions_are_plausible():
    _, cadres = _population(5000, seed=9)
    ranks = Counter(c["posts"][-1]["rank"] for c in cadres)
    low = sum(ranks[r] for r in RANKS[:3])
    assert low > 0.75 * len(cadres) and ranks["deputy_county"] > 0
    assert all(1 <= len(c["posts"]) <= 4 for c in cadres)
    grades = Counter(a["grade"] for c in cadres for a in c["appraisals"])
    assert grades["competent"] + grades["excellent"] > 0.85 * sum(grades.values())
    assert grades["basically_competent"] and grades["incompetent"]
    ratios = [r["dissatisfied"] / r["total"] for c in cadres for r in c["reviews"]]
    assert any(0.3 < x < 0.37 for x in ratios) and any(x > 0.5 for x in ratios)
    nominated = sum(1 for c in cadres if c["nominations"])
    assert 0.01 * len(cadres) < nominated < 0.08 * len(cadres)


def test_cadres_are_made_lazily():
    import tracemalloc
    tracemalloc.start()
    try:
        units, cadres = generate(2_000_000, seed=1)   # units are sized to N; cadres are not built
        first = list(islice(cadres, 3))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert [c["id"] for c in first] == ["C0000001", "C0000002", "C0000003"]
    assert peak < 40 * 2**20, f"peak {peak / 2**20:.0f} MiB"


def test_json_stream_is_one_valid_document():
    for n in (0, 1, 1000, 1001):
        units, cadres = generate(n, seed=2)
        buf = io.StringIO()
        assert write_json(buf, units, cadres) == n
        doc = json.loads(buf.getvalue())
        assert len(doc["cadres"]) == n and doc["units"]
    assert "\\u" not in buf.getvalue()  # Chinese written as UTF-8, not escaped


def test_cli_writes_json_and_yaml_that_import(tmp_path):
    runner = CliRunner()
    db = f"sqlite:///{tmp_path / 'g.db'}"
    for name in ("pop.json", "pop.yaml"):
        out = tmp_path / name
        result = runner.invoke(cli.main, ["facts", "generate", "--cadres", "120", "--seed", "4",
                                          "--output", str(out)])
        assert result.exit_code == 0, result.output
        assert "120 cadres" in result.output
    assert (json.loads((tmp_path / "pop.json").read_text(encoding="utf-8"))
            == _iso(yaml.safe_load((tmp_path / "pop.yaml").read_text(encoding="utf-8"))))
    result = runner.invoke(cli.main, ["--db", db, "facts", "import", str(tmp_path / "pop.json")])
    assert result.exit_code == 0, result.output
    assert "cadres: 120 added" in result.output


def test_cli_load_matches_the_written_file(tmp_path):
    runner = CliRunner()
    db = f"sqlite:///{tmp_path / 'g.db'}"
    out = tmp_path / "pop.json"
    result = runner.invoke(cli.main, ["--db", db, "facts", "generate", "--cadres", "150", "--seed", "8",
                                      "--load", "--output", str(out)])
    assert result.exit_code == 0, result.output
    assert "loaded into the store" in result.output
    # re-importing the same population changes nothing: the load and the file agree
    result = runner.invoke(cli.main, ["--db", db, "facts", "import", str(out)])
    assert result.exit_code == 0, result.output
    assert "cadres: 0 added, 0 updated, 150 unchanged" in result.output


def test_cli_refuses_yaml_for_large_populations(tmp_path):
    result = CliRunner().invoke(cli.main, ["facts", "generate", "--cadres", "1000000",
                                           "--output", str(tmp_path / "big.yaml")])
    assert result.exit_code == EXIT_USAGE
    assert "use a .json file" in result.output
    assert not (tmp_path / "big.yaml").exists()


def test_titles_follow_the_principal_flag():
    """Issue 22, defect 6: no 副局长 or 副县长 flagged as a principal, no deputy titled as the head."""
    units, cadres = generate(6_000, 7, AS_OF)
    kinds = {u["id"]: u["kind"] for u in units}
    principals = deputies = 0
    for doc in cadres:
        for post in doc["posts"]:
            if post["principal"]:
                principals += 1
                assert "副" not in post["title"], post
            elif post["leadership"] and post["rank"] != "clerk":
                deputies += 1
                assert "副" in post["title"] or post["title"] == "常委", post
            if kinds[post["unit"]] == "township" and post["principal"]:
                assert post["title"] == "镇党委书记"
    assert principals > 500 and deputies > 1000


def test_the_population_lies_in_several_jurisdictions():
    units, _ = generate(30_000, 7, AS_OF)
    by_id = {u["id"]: u for u in units}

    def chain(uid):
        out = []
        while uid:
            out.append(by_id[uid]["region"])
            uid = by_id[uid].get("parent")
        return out
    tops = {chain(u["id"])[-1] for u in units}
    assert tops == {"湖北省", "江苏省"}
    assert any(chain(u["id"])[-2:] == ["宜昌市", "湖北省"] for u in units if u["level"] == "township")
    assert any(chain(u["id"])[-2:] == ["清江县", "江苏省"] for u in units if u["level"] == "township")
