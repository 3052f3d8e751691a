"""Aggregate-rule test cases as data (``policies/structure.tests.yaml``), run through a real store.

A file has ``kind: structure``, the shared ``units:``, an ``as_of`` and ``cases:``.
Each case names one rule, the cadres (compactly: ``age`` for a birth date, ``post``
merged into the case's default ``post``, ``posts`` for earlier posts, ``count`` to
repeat an entry) and the expected status (and optionally the figure) of each
group instance::

    - name: 5人班子3人有乡镇正职经历（60%，达到）
      rule: structure.county_team_township_principal
      post: {unit: JX-PC, title: 县委常委, rank: deputy_county, principal: false, leadership: true, start: 2015-01-01}
      cadres:
        - {count: 3, posts: [{unit: JX-T1, title: 镇长, rank: section, principal: true, leadership: true,
                              start: 2005-01-01, end: 2010-01-01}]}
        - {count: 2}
      expect: {甲县: {status: met, figure: 3/5}}
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from dateutil.relativedelta import relativedelta

from cadre_policy.i18n import _
from cadre_policy.diagnostics import Diagnostic, Location
from cadre_policy.parse.positioned import load_yaml

_CADRE_KEYS = ("id", "name", "gender", "birth_date", "party", "ethnicity", "education", "native_region",
               "management", "reserve")


@dataclass
class StructureCase:
    file: str
    line: int
    name: str
    rule: str
    as_of: date
    units: list
    cadres: list
    expect: dict


@dataclass
class CaseOutcome:
    case: StructureCase
    differences: list = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.differences


def _cadres(raw_case: dict, as_of: date) -> list[dict]:
    default_post = raw_case.get("post")
    docs = []
    for spec in raw_case.get("cadres") or []:
        for _copy in range(int(spec.get("count", 1))):
            n = len(docs) + 1
            doc = {"id": f"T{n:04d}", "name": f"测试{n}", "gender": "male", "party": "cpc",
                   "birth_date": as_of - relativedelta(years=spec.get("age", 45)) - timedelta(days=100)}
            doc.update({k: spec[k] for k in _CADRE_KEYS if k in spec})
            if "id" in spec and spec.get("count", 1) != 1:
                doc["id"] = f"{spec['id']}-{n}"
            posts = list(spec.get("posts") or [])
            if default_post is not None or "post" in spec:
                posts.append({**(default_post or {}), **(spec.get("post") or {})})
            doc["posts"] = posts
            docs.append(doc)
    return docs


def load_structure_cases(path: Path) -> tuple[list[StructureCase], list[Diagnostic]]:
    """The cases of one structure tests file, with any problem reading it."""
    data, positions, problems = load_yaml(Path(path).read_text(encoding="utf-8"), str(path))
    if problems or not isinstance(data, dict) or data.get("kind") != "structure":
        return [], problems or [Diagnostic("E101", _("a structure tests file has 'kind: structure'"),
                                           Location(str(path), 1, 1))]
    cases = []
    for i, raw in enumerate(data.get("cases") or []):
        as_of = raw.get("as_of", data.get("as_of"))
        line = positions.at(("cases", i)).line
        cases.append(StructureCase(str(path), line, str(raw.get("name", f"case {i + 1}")), raw["rule"], as_of,
                                   list(raw.get("units", data.get("units") or [])), _cadres(raw, as_of),
                                   raw.get("expect") or {}))
    return cases, problems


def run_case(policy_set, case: StructureCase, store) -> CaseOutcome:
    """Load the case's units and cadres into an empty ``store``, evaluate, compare with ``expect``."""
    from cadre_policy.aggregate import evaluate_structure
    store.bulk_load(case.units, iter(case.cadres))
    report = evaluate_structure(policy_set, store, case.as_of)
    got = {r.key: r for r in report.results if r.rule.id == case.rule}
    outcome = CaseOutcome(case)
    if not any(r.rule.id == case.rule for r in report.results) and case.rule not in {
            r.id for r in _rules(policy_set)}:
        outcome.differences.append(f"unknown rule {case.rule}")
        return outcome
    for key, wanted in case.expect.items():
        wanted = wanted if isinstance(wanted, dict) else {"status": wanted}
        result = got.get(str(key))
        if result is None:
            outcome.differences.append(f"{key}: no result (instances: {', '.join(sorted(got)) or 'none'})")
            continue
        for attr in ("status", "figure"):
            if attr in wanted and str(wanted[attr]) != getattr(result, attr):
                outcome.differences.append(f"{key}: {attr} expected {wanted[attr]}, got {getattr(result, attr)}")
    return outcome


def _rules(policy_set):
    from cadre_policy.aggregate import load_structure
    return load_structure(policy_set).rules
