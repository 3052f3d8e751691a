"""Build groups and aggregate rules from a policy's raw ``groups:`` and ``structure:``.

The schema (``$defs/group``, ``$defs/aggregate_rule``) has already checked the keys;
here member conditions are parsed (their grammar is recursive and carries the
Chinese boundary words) and every problem is reported with its position.
"""
from __future__ import annotations

from datetime import date

from cadre_policy.i18n import _
from cadre_policy.language import model as m
from cadre_policy.diagnostics import Diagnostic
from cadre_policy.aggregate.model import BAND_WORD, AggregateRule, Band, CadreTest, Group, Held, PostTest

_MEASURE_KEYS = ("count", "share", "exists", "share_of_teams")
_LOGIC = ("all", "any", "not")


class _Parser:
    """Parses the structure part of one policy; collects diagnostics."""

    def __init__(self, policy: m.Policy, diagnostics: list):
        self.policy = policy
        self.pos = policy.positions
        self.diagnostics = diagnostics

    def loc(self, path):
        return self.pos.at(path) if self.pos is not None else m.Location(self.policy.file)

    def error(self, code, message, path):
        self.diagnostics.append(Diagnostic(code, message, self.loc(path)))

    # ---- values ----------------------------------------------------------------------
    def value(self, raw, path):
        if isinstance(raw, dict) and "param" in raw:
            return m.ParamRef(raw["param"], self.loc(path), self.policy.id)
        if isinstance(raw, dict) and set(raw) & {"years", "months"}:
            return self.period(raw, path)
        return m.Literal(raw, self.loc(path))

    def band(self, raw, path):
        if not isinstance(raw, dict) or set(raw) != {"from", "to"}:
            self.error("E103", _("'{BAND_WORD}' takes a band {{from: LOW, to: HIGH}}").format(
                BAND_WORD=BAND_WORD), path)
            return Band(m.Literal(0), m.Literal(0), self.loc(path))
        return Band(self.value(raw["from"], path + ("from",)), self.value(raw["to"], path + ("to",)),
                    self.loc(path))

    def period(self, raw, path):
        if not isinstance(raw, dict) or len(raw) != 1 or next(iter(raw)) not in ("years", "months"):
            self.error("E103", _("'within' takes a period: {years: N} or {months: N}"), path)
            return m.Period("years", m.Literal(0), self.loc(path))
        unit, amount = next(iter(raw.items()))
        return m.Period(unit, self.value(amount, path + (unit,)), self.loc(path))

    # ---- conditions ------------------------------------------------------------------
    def condition(self, raw, path, post_only: bool = False):
        """A member condition; ``post_only`` inside ``held:`` (fields of the held post)."""
        loc = self.loc(path)
        if isinstance(raw, list):
            return m.All(tuple(self.condition(c, path + (i,), post_only) for i, c in enumerate(raw)), loc)
        if not isinstance(raw, dict) or not raw:
            self.error("E103", _("a condition is a mapping or a list of conditions"), path)
            return m.All((), loc)
        logic = [k for k in _LOGIC + ("held",) if k in raw]
        if logic:
            key = logic[0]
            if set(raw) != {key}:
                self.error("E103", _("'{key}' stands alone in its condition; move {value} into a list").format(
                    key=key, value=sorted(set(raw) - {key})), path)
            inner = raw[key]
            if key == "not":
                return m.Not(self.condition(inner, path + ("not",), post_only), loc)
            if key == "held":
                if post_only:
                    self.error("E103", _("'held' cannot be nested inside 'held'"), path)
                return Held(self.condition(inner, path + ("held",), True), loc)
            if not isinstance(inner, list):
                self.error("E103", _("'{key}' takes a list of conditions").format(key=key), path + (key,))
                return m.All((), loc)
            cls = m.All if key == "all" else m.Any
            return cls(tuple(self.condition(c, path + (key, i), post_only) for i, c in enumerate(inner)), loc)
        subjects = [k for k in ("fact", "field") if k in raw]
        if not subjects:
            if post_only:   # `held: {principal: true, unit.kind: township}`: equality on each field
                return m.All(tuple(PostTest(str(k), "==", "eq", self.value(v, path + (k,)), self.loc(path + (k,)))
                                   for k, v in raw.items()), loc)
            self.error("E103", _("a comparison needs 'fact: cadre.FIELD' or 'field: POST-FIELD' and one operator"),
                       path)
            return m.All((), loc)
        words = [k for k in raw if k in m.OPERATORS or k in ("within", BAND_WORD)]
        if len(subjects) != 1 or len(words) != 1 or len(raw) != 2:
            self.error("E103", _("a comparison needs one subject (fact or field) and one operator (以上, 低于, eq, in, within, 左右, ...); found {value}").format(
                value=sorted(raw)), path)
            return m.All((), loc)
        subject, word = subjects[0], words[0]
        target = raw[subject]
        if word == "within":
            value, op = self.period(raw[word], path + (word,)), "within"
        elif word == BAND_WORD:
            value, op = self.band(raw[word], path + (word,)), "band"
        else:
            value, op = self.value(raw[word], path + (word,)), m.OPERATORS[word]
        if subject == "fact":
            if post_only:
                self.error("E103", _("inside 'held' use 'field:' (a field of the held post)"), path)
            if not isinstance(target, str) or not target.startswith("cadre."):
                self.error("E201", _("a member condition uses 'fact: cadre.FIELD' (found '{target}'); use 'field:' for the member's post").format(
                    target=target), path + ("fact",))
                return m.All((), loc)
            return CadreTest(target[len("cadre."):], op, word, value, loc)
        return PostTest(str(target), op, word, value, loc)

    # ---- declarations ------------------------------------------------------------------
    def group(self, name, raw) -> Group:
        path = ("groups", name)
        members = m.All((), self.loc(path + ("members",))) if raw["members"] is True \
            else self.condition(raw["members"], path + ("members",))
        return Group(name, raw["title"], members, raw["per"], self.policy.id, raw.get("note", ""), self.loc(path))

    def rule(self, raw, index, order) -> AggregateRule | None:
        path = ("structure", index)
        measures = [k for k in _MEASURE_KEYS if k in raw]
        if len(measures) != 1:
            self.error("E101", _("an aggregate rule has exactly one measure: count, share, exists or share_of_teams; found {value}").format(
                value=measures or 'none'), path)
            return None
        measure = measures[0]
        body = raw[measure]
        per = None
        if measure == "share_of_teams":
            per = body.get("per") if isinstance(body, dict) else None
            body = body.get("having") if isinstance(body, dict) else None
        condition = None if body is True else self.condition(body, path + (measure,) +
                                                             (("having",) if measure == "share_of_teams" else ()))
        words = [k for k in raw if k in m.OPERATORS or k == BAND_WORD]
        op = word = target = None
        if measure == "exists":
            if words:
                self.error("E101", _("'exists' needs no target: the target is at least one member"), path + (words[0],))
        elif len(words) != 1:
            self.error("E101", _("an aggregate rule compares its measure with one target: 以上, 不低于, 超过, 低于, 左右 ...; found {value}").format(
                value=words or 'none'), path)
            return None
        else:
            word = words[0]
            if word == BAND_WORD:
                op, target = "band", self.band(raw[word], path + (word,))
            else:
                op, target = m.OPERATORS[word], self.value(raw[word], path + (word,))
                if op not in (">=", ">", "<=", "<"):
                    self.error("E304", _("'{word}' does not compare a figure with a target; use 以上, 不低于, 超过, 低于, 以下 or 左右").format(
                        word=word), path + (word,))
        in_force = None
        if "in_force" in raw:
            end = raw["in_force"].get("to")
            in_force = m.InForce(date.fromisoformat(raw["in_force"]["from"]), date.fromisoformat(end) if end else None)
        return AggregateRule(raw["id"], raw["title"], raw["provision"], raw.get("section", ""), raw["quote"],
                             self.policy.id, raw["group"], measure, condition, op, word, target, raw["finding"],
                             per, raw.get("note", ""), in_force, order, self.loc(path))


def parse_policy(policy: m.Policy, order_start: int = 0) -> tuple[list[Group], list[AggregateRule], list[Diagnostic]]:
    """The groups and aggregate rules of one loaded policy, with the problems found.

    A policy without ``groups:`` or ``structure:`` gives empty lists.
    """
    diagnostics: list[Diagnostic] = []
    parser = _Parser(policy, diagnostics)
    groups = [parser.group(name, raw) for name, raw in (policy.groups or {}).items()]
    rules = [r for i, raw in enumerate(policy.structure or ())
             if (r := parser.rule(raw, i, order_start + i)) is not None]
    return groups, rules, diagnostics
