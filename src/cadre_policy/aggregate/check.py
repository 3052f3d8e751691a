"""Name and type checks of groups and aggregate rules (E2xx names, E3xx types)."""
from __future__ import annotations

from fractions import Fraction

from cadre_policy.i18n import _
from cadre_policy.language import model as m
from cadre_policy.language import types as t
from cadre_policy.diagnostics import Diagnostic, suggest
from cadre_policy.language.values import literal_type, parse_fraction
from cadre_policy.language.parameters import name_of
from cadre_policy.language.walk import walk
from cadre_policy.aggregate.model import AggregateRule, Band, CadreTest, Group, PostTest

#: What a member condition can read: the cadre record, and the member's (or the held) post.
CADRE_FIELDS = {k: v for k, v in t.CADRE.fields.items() if k not in ("id", "name")}
POST_FIELDS = {**{k: v for k, v in t.POST.fields.items() if k not in ("unit", "end", "promotion", "previous_unit")},
               **{f"unit.{k}": v for k, v in t.UNIT.fields.items() if k not in ("flags", "name", "parent")},
               "tenure": t.DURATION}    # time in the post up to the evaluation date (任现职时间)
_ORDER = {">=", ">", "<=", "<", "band"}


class StructureChecker:
    """Checks the references and types of the structure part of a policy set."""

    def __init__(self, policy_set: m.PolicySet, groups: list[Group], rules: list[AggregateRule]):
        self.ps = policy_set
        self.groups = groups
        self.rules = rules
        self.parameters = policy_set.parameters
        self.used_parameters: set[str] = set()
        self.diagnostics: list[Diagnostic] = []

    def error(self, code, message, loc, suggestion=None):
        self.diagnostics.append(Diagnostic(code, message, loc, suggestion))

    def check(self) -> list[Diagnostic]:
        self._duplicates()
        for group in self.groups:
            self._condition(group.members)
        by_name = {g.name: g for g in self.groups}
        for rule in self.rules:
            self._rule(rule, by_name)
        return self.diagnostics

    def _duplicates(self):
        seen = {}
        for group in self.groups:
            if group.name in seen:
                self.error("E205", _("duplicate group '{name}' (first at {value})").format(
                    name=group.name, value=seen[group.name]), group.loc)
            seen.setdefault(group.name, group.loc)
        seen = {r.id: r.loc for r in self.ps.rules}
        for rule in self.rules:
            if rule.id in seen:
                self.error("E205", _("duplicate rule id '{id}' (first at {value})").format(
                    id=rule.id, value=seen[rule.id]), rule.loc)
            seen.setdefault(rule.id, rule.loc)

    def _rule(self, rule: AggregateRule, groups: dict):
        group = groups.get(rule.group)
        if group is None:
            self.error("E208", _("unknown group '{group}'").format(
                group=rule.group), rule.loc, suggest(rule.group, groups))
        if rule.finding not in self.ps.outcomes.findings:
            self.error("E203", _("unknown finding code '{finding}'").format(finding=rule.finding), rule.loc,
                       suggest(rule.finding, self.ps.outcomes.findings))
        if self.ps.provisions and rule.provision not in self.ps.provisions:
            self.error("E207", _("unknown provision '{provision}' (not in provisions.yaml)").format(
                provision=rule.provision), rule.loc,
                       suggest(rule.provision, self.ps.provisions))
        if rule.condition is not None:
            self._condition(rule.condition)
        if rule.measure == "share_of_teams":
            if group is not None and group.per != "unit":
                self.error("E301", _("share_of_teams counts teams: group '{name}' must be 'per: unit'").format(
                    name=group.name), rule.loc)
            if rule.per not in ("region", "city", "all"):
                self.error("E101", _("share_of_teams needs 'per: region | city | all' (how teams are rolled up)"),
                           rule.loc)
        if rule.target is not None:
            kind = t.INTEGER if rule.measure == "count" else t.FRACTION
            for value in (rule.target.low, rule.target.high) if isinstance(rule.target, Band) else (rule.target,):
                self._value(value, kind, f"the {rule.measure} target")

    # ---- conditions -------------------------------------------------------------------
    def _condition(self, cond):
        for node in walk(cond):
            if isinstance(node, (CadreTest, PostTest)):
                self._test(node)

    def _test(self, test):
        fields = CADRE_FIELDS if isinstance(test, CadreTest) else POST_FIELDS
        label = f"cadre.{test.field}" if isinstance(test, CadreTest) else test.field
        kind = fields.get(test.field)
        if kind is None:
            names = [f"cadre.{k}" for k in fields] if isinstance(test, CadreTest) else list(fields)
            unknown = _("unknown fact '{label}'") if isinstance(test, CadreTest) else _("unknown post field '{label}'")
            self.error("E201", unknown.format(label=label), test.loc, suggest(label, names))
            return
        if test.op == "within":
            if kind.name != "date":
                self.error("E301", _("'within' needs a date; '{label}' is {kind}").format(
                    label=label, kind=kind), test.loc)
            amount = test.value.amount
            if isinstance(amount, m.ParamRef):
                self._param(amount, (test.value.unit,))
            elif not isinstance(amount.raw, int) or isinstance(amount.raw, bool):
                self.error("E301", _("a period is a whole number of {unit}").format(unit=test.value.unit), test.loc)
            return
        if kind.name == "duration" and test.op not in _ORDER - {"band"}:
            self.error("E304", _("'{word}' does not compare a duration; use 以上, 不满, ...").format(
                word=test.word), test.loc)
            return
        if test.op in _ORDER and not kind.comparable_order:
            self.error("E304", _("'{word}' orders values, but '{label}' is {kind}").format(
                word=test.word, label=label, kind=kind), test.loc)
            return
        if test.op == "band":
            for value in (test.value.low, test.value.high):
                self._value(value, kind, label)
        elif test.op in ("in", "not_in"):
            value = test.value
            if isinstance(value, m.ParamRef):
                self._param(value, ("enum",) if kind.name == "enum" else ("rank",) if kind.name == "rank" else ())
                param = self._lookup(value, quiet=True)
                if param is not None and kind.values:
                    for _day, raw in param.values:
                        for item in raw if isinstance(raw, list) else [raw]:
                            self._member(item, kind, label, param.loc)
            elif not isinstance(value.raw, list):
                self.error("E301", _("'{word}' needs a list of values").format(word=test.word), test.loc)
            else:
                for item in value.raw:
                    self._value(m.Literal(item, value.loc), kind, label)
        else:
            self._value(test.value, kind, label)

    def _value(self, value, kind: t.Type, label: str):
        if kind.name == "duration" or isinstance(value, m.Period):
            if not isinstance(value, m.Period) or kind.name != "duration":
                self.error("E301", _("{label} ({kind}) compares with a period {{years: N}} or {{months: N}}").format(
                    label=label, kind=kind),
                           value.loc)
            elif isinstance(value.amount, m.ParamRef):
                self._param(value.amount, (value.unit,))
            return
        if isinstance(value, m.ParamRef):
            wanted = {"integer": ("count", "years"), "fraction": ("ratio",), "date": ("date",),
                      "rank": ("rank",), "enum": ("enum",), "text": ("enum",)}.get(kind.name, ())
            self._param(value, wanted)
            return
        raw = value.raw
        if kind.name in ("enum", "rank"):
            self._member(raw, kind, label, value.loc)
            return
        natural = literal_type(raw)
        if kind.name == "fraction":
            ok = natural in ("fraction", "integer")
            if ok and not 0 <= parse_fraction(raw) <= Fraction(1):
                self.error("E303", _("a share is between 0 and 1; {raw} is not").format(raw=repr(raw)), value.loc)
        else:
            ok = natural == {"integer": "integer", "boolean": "boolean", "date": "date"}.get(kind.name, "text")
        if not ok:
            self.error("E301", _("cannot compare {label} ({kind}) with {raw} ({natural})").format(
                label=label, kind=kind, raw=repr(raw), natural=t.type_word(natural)), value.loc)

    def _member(self, raw, kind, label, loc):
        if raw not in kind.values:
            self.error("E302", _("'{raw}' is not a value of '{label}' ({items})").format(
                raw=raw, label=label, items=kind.values_text()), loc,
                       suggest(str(raw), kind.values))

    def _lookup(self, ref: m.ParamRef, quiet=False):
        name = name_of(ref, self.parameters)
        if name is not None:
            self.used_parameters.add(name)
            return self.parameters[name]
        if not quiet:
            self.error("E202", _("unknown parameter '{name}'").format(name=ref.name), ref.loc,
                       suggest(ref.name, list(self.parameters) + [p.split(".", 1)[1] for p in self.parameters]))
        return None

    def _param(self, ref: m.ParamRef, kinds):
        param = self._lookup(ref)
        if param is not None and kinds and param.kind not in kinds:
            self.error("E301", _("parameter '{name}' is a {kind}; {items} is needed here").format(
                name=param.name, kind=param.kind, items=' or '.join(kinds)),
                       ref.loc)
        return param


