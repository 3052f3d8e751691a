"""Lint of policy test files (``*.tests.yaml``) against the schema and the policy set.

The schema (``tests.schema.json``) checks the shape: each case's cadre against the fact
import schema (an unknown field is E102 with a did-you-mean), the accepted spellings of
results, eligibilities and statuses (E302). This module checks the names against the
policy set: finding and requirement codes (E203), the policy and the aggregate rule a
file or case names (E209, E204), the units posts refer to (E210), and that case names
are unique (W504), since ``policy test -k`` selects cases by name.
"""
from __future__ import annotations

from pathlib import Path

from cadre_policy.i18n import _
from cadre_policy.diagnostics import Diagnostic, suggest
from cadre_policy.language.model import PolicySet
from cadre_policy.load.policies import read_data_file, read_yaml_file, schema_diagnostics
from cadre_policy.parse.positions import Positions
from cadre_policy.parse.schemas import validator


def lint_cases_file(path: Path, policy_set: PolicySet) -> list[Diagnostic]:
    """Every diagnostic of one tests file, read against a checked policy set."""
    data, positions, problems, _text = read_yaml_file(path)
    if problems:
        return problems
    if not isinstance(data, dict):
        return [Diagnostic("E101", _("a tests file is a mapping with 'cases:' (a list)"), positions.at(()))]
    problems = schema_diagnostics(data, positions, validator("tests"))
    if not isinstance(data.get("cases"), list):
        return problems
    return problems + _Names(path, policy_set, positions).check(data)


class _Names:
    def __init__(self, path: Path, policy_set: PolicySet, positions: Positions):
        self.path = path
        self.ps = policy_set
        self.pos = positions
        self.out: list[Diagnostic] = []

    def error(self, code, message, path, suggestion=None):
        self.out.append(Diagnostic(code, message, self.pos.at(path), suggestion))

    def check(self, data: dict) -> list[Diagnostic]:
        policies = [p.id for p in self.ps.policies]
        if "policy" in data and data["policy"] not in policies:
            self.error("E209", _("unknown policy '{policy}'").format(
                policy=data['policy']), ("policy",), suggest(data["policy"], policies))
        base_units = self.units(data.get("units"), ("units",), default=True)
        structure = data.get("kind") == "structure"
        rule_ids = self._structure_rule_ids() if structure else set()
        names: dict[str, int] = {}
        for i, case in enumerate(data["cases"]):
            at = ("cases", i)
            if not isinstance(case, dict):
                continue      # the schema said what is wrong
            if "name" not in case:
                case = {**case, "name": f"case {i + 1}"}
            if case["name"] in names:
                self.error("W504", _("duplicate case name '{name}' (first in case {value}); `policy test -k` selects cases by name").format(
                    name=case['name'], value=names[case['name']] + 1), at + ("name",))
            names.setdefault(case["name"], i)
            if "as_of" not in case and "as_of" not in data:
                self.error("E101", _("'as_of' is required (in the case or at the top of the file)"), at)
            units = base_units | self.units(case.get("units"), at + ("units",))
            if structure:
                if "rule" in case and case["rule"] not in rule_ids:
                    self.error("E204", _("unknown aggregate rule id '{rule}'").format(
                        rule=case['rule']), at + ("rule",),
                               suggest(case["rule"], rule_ids))
                self._posts([(at + ("post",), case.get("post"))] +
                            [(at + ("cadres", j, "post"), c.get("post")) for j, c in _dicts(case.get("cadres"))] +
                            [(at + ("cadres", j, "posts", k), p) for j, c in _dicts(case.get("cadres"))
                             for k, p in _items(c.get("posts"))], units)
            else:
                self._expect(case.get("expect"), at + ("expect",))
                self._posts([(at + ("cadre", "posts", k), p)
                             for k, p in _items((case.get("cadre") or {}).get("posts"))], units)
        return self.out

    def _expect(self, expect, at) -> None:
        if not isinstance(expect, dict):
            return
        findings = self.ps.outcomes.findings
        for key in ("findings", "superseded"):
            for j, code in _items(expect.get(key)):
                if isinstance(code, str) and code not in findings:
                    self.error("E203", _("unknown finding code '{code}'").format(
                        code=code), at + (key, j), suggest(code, findings))
        requirements = self.ps.outcomes.requirements
        codes = expect.get("requirements")
        for code in codes if isinstance(codes, dict) else ():
            if code not in requirements:
                self.out.append(Diagnostic("E203", _("unknown requirement code '{code}'").format(code=code),
                                           self.pos.at(at + ("requirements", code), key=True),
                                           suggest(code, requirements)))

    def _posts(self, posts, units: set) -> None:
        for at, post in posts:
            if isinstance(post, dict) and isinstance(post.get("unit"), str) and post["unit"] not in units:
                self.error("E210", _("unknown unit '{unit}' (not among the file's units)").format(
                    unit=post['unit']), at + ("unit",),
                           suggest(post["unit"], units))

    def units(self, spec, at, default: bool = False) -> set[str]:
        """The unit ids a ``units:`` entry gives: a list, or a units file beside the tests file."""
        if spec is None and default:
            spec = "test_units.yaml" if (self.path.parent / "test_units.yaml").exists() else []
        if spec is None:
            return set()
        if isinstance(spec, str):
            file = self.path.parent / spec
            if not file.is_file():
                self.error("E003", _("no units file '{spec}' beside the tests file").format(spec=spec), at)
                return set()
            data, _positions, problems = read_data_file(file, "facts")
            self.out.extend(problems)
            spec = (data or {}).get("units") or []
        return {unit["id"] for _key, unit in _items(spec) if isinstance(unit, dict) and "id" in unit}

    def _structure_rule_ids(self) -> set[str]:
        from cadre_policy.aggregate import load_structure
        return {rule.id for rule in load_structure(self.ps).rules}


def _items(value) -> list:
    """(index, item) of a list; nothing for anything else (the schema reports it)."""
    return list(enumerate(value)) if isinstance(value, list) else []


def _dicts(value) -> list:
    """(index, item) of the mappings of a list."""
    return [(i, item) for i, item in _items(value) if isinstance(item, dict)]
