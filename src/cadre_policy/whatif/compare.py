"""Comparing one chunk of cadres under the policy set in force and under a draft (a worker's job).

Each worker compiles both policy sets once, derives and encodes each cadre once per scenario
(once for both when the draft changes nothing derivation or encoding depends on), runs both
engines and compares outcomes cheaply from the firings. Only for a cadre whose findings or
eligibility differ does it assemble the full results and the reasons on both sides.
"""
from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import date

from cadre_policy.language import model as m
from cadre_policy.language.posts import current_post
from cadre_policy.run.derive import params_read
from cadre_policy.run.evaluate import PolicyRunner, normalise_units
from cadre_policy.run.reasons import because
from cadre_policy.language.kleene import Evaluator
from cadre_policy.run.firings import closure_values
from cadre_policy.run.backends.python import holds
from cadre_policy.compile import ir
from cadre_policy.whatif.reach import Reach, transitions

NO_UNIT = "—"


@dataclass
class Job:
    """Everything a worker needs; built in the parent, handed to workers at fork."""
    db_url: str
    as_of: date
    engine: str
    baseline: m.PolicySet
    draft: m.PolicySet
    draft_overrides: dict = field(default_factory=dict)
    unit: str | None = None
    near: object = None            # a margin for near misses (explain.near), or None
    shortcut: bool = True          # skip the draft's engine run when it provably fires as the baseline did
    verify: float = 0.01           # columnar: the share of changed cadres durable_rules re-runs (1: every one)
    verify_least: int = 100        # ... and at least this many per partition (``run_whatif`` spreads the run's)
    reach_cadres: bool = False     # list the cadres of each transition of the reach (whatif.reach), not only count


def outcome_keys(outcome) -> list[str]:
    """Summary keys of one outcome summary: ``finding:CODE`` and ``promotion:ELIGIBILITY``."""
    codes, eligibility = outcome
    return [f"finding:{c}" for c in codes] + [f"{d}:{e}" for d, e in eligibility]


def derivation_key(pe: PolicyRunner) -> tuple:
    """What a cadre's derived scope depends on: the derived specs and the parameters they read."""
    names = {name for spec in pe.compiled.derived for name in params_read(spec)}
    params = tuple(sorted((n, repr(pe.compiled.parameters.get(n))) for n in names if n in pe.compiled.parameters))
    return tuple(pe.compiled.derived), params


def differing_tests(base: ir.CompiledSet, draft: ir.CompiledSet):
    """The tests whose formulas differ between two aligned compiled sets, or None when not aligned.

    Aligned: the same strata, the same tests in the same order asserting the same facts,
    and every differing formula reads only the cadre fact (no asserted-fact atom). Then,
    for a cadre whose encoded fact is the same on both sides, the draft's firings are the
    baseline's exactly when each differing test has the same truth value under both
    formulas (with the closure of what earlier strata asserted): the two engines' rule
    operators are then identical for that cadre, stratum by stratum, so they reach the
    same fixed point. The what-if shortcut checks that with the plain-Python evaluator
    of the intermediate form (the oracle both engines are tested against) instead of
    running the draft's rulesets.
    """
    if len(base.strata) != len(draft.strata):
        return None
    diffs = []
    for sb, sd in zip(base.strata, draft.strata):
        if sb.closure != sd.closure or len(sb.tests) != len(sd.tests):
            return None
        for tb, td in zip(sb.tests, sd.tests):
            if tb.key != td.key or tb.asserts != td.asserts:
                return None
            if tb.formula != td.formula:
                if ir.reads_asserted(tb.formula) or ir.reads_asserted(td.formula):
                    return None
                diffs.append((sb, tb.formula, td.formula))
    return diffs


def spooled(changes: list[dict]) -> list[tuple[str, str]]:
    """(unit, JSON line) of each changed cadre: serialised in the worker, so the parent, which all
    partitions pass through, only writes the lines to the spool and copies them into the report."""
    return [(change["unit"], json.dumps(change, ensure_ascii=False)) for change in changes]


def current_unit(doc: dict, as_of: date) -> str | None:
    """The unit of the current post on ``as_of`` (language.posts), where the counts attribute a cadre."""
    post = current_post(doc.get("posts", ()), as_of)
    return post.get("unit") if post else None


# ---- the worker ----------------------------------------------------------------------------
class Comparer:
    """Compiles baseline and draft once; compares chunks of cadres."""

    def __init__(self, job: Job, store=None):
        self.job = job
        self.base = PolicyRunner(job.baseline, job.as_of, job.engine, name="baseline")
        self.draft = PolicyRunner(job.draft, job.as_of, job.engine, overrides=job.draft_overrides, name="draft")
        self.share_scope = derivation_key(self.base) == derivation_key(self.draft)
        self.share_fact = self.share_scope and self.base.compiled.fields == self.draft.compiled.fields
        self.same_decider = self.base.decider == self.draft.decider
        self.diffs = differing_tests(self.base.compiled, self.draft.compiled) \
            if job.shortcut and self.share_fact else None
        self._store = store
        self._units = None
        self.near = _near_hook(job.near)
        self.because = because          # what explains a condition (the columnar comparer remembers it)
        self._decided: tuple = ({}, {})

    @property
    def store(self):
        if self._store is None:
            from cadre_policy.store.fact_store import FactStore
            self._store = FactStore(self.job.db_url)
        return self._store

    @property
    def units(self) -> dict:
        if self._units is None:
            self._units = normalise_units(self.store.units())
        return self._units

    def run(self, task) -> dict:
        """Task: ("range", first, last) or ("ids", [ids]) of cadres; returns counts and differences."""
        return self.compare(self.store.read(task), self.units)

    def compare(self, docs: list[dict], units: dict) -> dict:
        base, draft = self.base, self.draft
        counts = (Counter(), Counter())
        by_unit: dict = {}
        changes = []
        near = Counter()
        skipped = 0
        reach = Reach(self.job.reach_cadres)
        for doc in docs:
            scope_b, fact_b = base.facts(doc, units)
            if self.share_fact:
                scope_d, fact_d = scope_b, fact_b
            elif self.share_scope:
                scope_d, fact_d = scope_b, draft.encoder.encode(scope_b)
            else:
                scope_d, fact_d = draft.facts(doc, units)
            firings_b = base.engine.run(fact_b)
            if self.diffs is not None and self._same_firings(fact_b, firings_b):
                firings_d = firings_b
                skipped += 1
            else:
                firings_d = draft.engine.run(fact_d)
            decided_b = self._decide(0, firings_b)
            decided_d = decided_b if firings_d is firings_b and self.same_decider else self._decide(1, firings_d)
            out_b, out_d = decided_b.summary, decided_d.summary
            if decided_d is decided_b:
                out_d = out_b
            unit = current_unit(doc, self.job.as_of) or NO_UNIT
            moved = transitions(decided_b, decided_d) if decided_d is not decided_b else ()
            if moved:
                reach.add(moved, out_b != out_d, who=[(doc.get("id", ""), doc.get("name", ""), unit)])
            ucounts = by_unit.get(unit)
            if ucounts is None:
                ucounts = by_unit[unit] = (Counter(), Counter())
            keys_b = outcome_keys(out_b)
            keys_d = keys_b if out_d is out_b else outcome_keys(out_d)
            counts[0].update(keys_b)
            counts[1].update(keys_d)
            ucounts[0].update(keys_b)
            ucounts[1].update(keys_d)
            if self.near is not None:
                near.update(self.near(self, doc, (scope_b, fact_b, firings_b), (scope_d, fact_d, firings_d)))
            if out_b != out_d:
                changes.append(self.explain(doc, unit, units, (scope_b, fact_b, firings_b, out_b),
                                            (scope_d, fact_d, firings_d, out_d)))
        return {"n": len(docs), "counts": counts, "units": by_unit, "changes": spooled(changes), "near": near,
                "skipped": skipped, "reach": reach}

    def _decide(self, side: int, firings):
        """The outcome of one side's firings, decided once per distinct set of them."""
        memo = self._decided[side]
        found = memo.get(firings.fired)
        if found is None:
            if len(memo) > 10_000:
                memo.clear()
            found = memo[firings.fired] = (self.base, self.draft)[side].decider.decide(firings.fired)
        return found

    def _same_firings(self, fact: dict, firings) -> bool:
        """True when every differing test has the same value under both formulas (see differing_tests)."""
        asserted = firings.asserted
        for stratum, formula_b, formula_d in self.diffs:
            view = dict(fact, **{ir.CLOSURE: closure_values(stratum, asserted)}) if stratum.closure else fact
            if holds(formula_b, view, asserted) != holds(formula_d, view, asserted):
                return False
        return True

    # ---- reasons for one changed cadre ---------------------------------------------------
    def explain(self, doc, unit, units, side_b, side_d, because=None) -> dict:
        """The change record of one cadre from its document's scopes, firings and outcomes on both sides."""
        (scope_b, _, firings_b, out_b), (scope_d, _, firings_d, out_d) = side_b, side_d
        return self.explain_cadre(doc.get("id", ""), doc.get("name", ""), unit, units,
                                  (scope_b, firings_b, out_b), (scope_d, firings_d, out_d), because)

    def explain_cadre(self, cadre_id: str, name: str, unit, units, side_b, side_d, because=None) -> dict:
        """The change record of one cadre: each side is (scope, firings, outcome summary).

        The scope needs only the facts the rules' conditions read (``rule_paths``): the columnar
        what-if gathers those from its columns instead of deriving the cadre again.
        """
        (scope_b, firings_b, out_b), (scope_d, firings_d, out_d) = side_b, side_d
        because = because or self.because
        decided_b = self._decide(0, firings_b)
        decided_d = decided_b if firings_d is firings_b and self.same_decider else self._decide(1, firings_d)
        ev_b = _evaluator(self.base, firings_b)
        ev_d = _evaluator(self.draft, firings_d)
        status_b = {rule_id: ("active" if by is None else f"superseded by {by}") for rule_id, _code, by in decided_b.findings}
        status_d = {rule_id: ("active" if by is None else f"superseded by {by}") for rule_id, _code, by in decided_d.findings}
        outcomes = self.draft.policy_set.outcomes
        items = []
        codes_b, codes_d = out_b[0], out_d[0]
        for code in sorted(codes_b ^ codes_d):
            rules = []
            ids = [r.id for r in sorted(self.base.compiled.rules.values(), key=lambda r: r.order)
                   if r.kind == "finding" and r.code == code]
            ids += [r.id for r in sorted(self.draft.compiled.rules.values(), key=lambda r: r.order)
                    if r.kind == "finding" and r.code == code and r.id not in ids]
            for rule_id in ids:
                rb, rd = self.base.compiled.rules.get(rule_id), self.draft.compiled.rules.get(rule_id)
                sb = status_b.get(rule_id, "not fired") if rb else "not in force"
                sd = status_d.get(rule_id, "not fired") if rd else "not in force"
                if sb == sd and (rb is None or rd is None or rb == rd):
                    continue
                reasons = _pair(because(rb.when, scope_b, ev_b, deciding=False) if rb else None,
                                because(rd.when, scope_d, ev_d, deciding=False) if rd else None)
                for label, status in (("baseline", sb), ("draft", sd)):
                    if status.startswith("superseded"):
                        reasons.append({"kind": "superseded", "side": label, "by": status.split()[-1]})
                rule = rd or rb
                rules.append({"rule": rule.id, "provision": rule.provision, "title": rule.title,
                              "baseline": sb, "draft": sd, "reasons": reasons})
            items.append({"kind": "finding", "code": code,
                          "title": outcomes.findings.get(code, {}).get("title", code),
                          "change": "added" if code in codes_d else "removed", "rules": rules})
        elig_b, elig_d = dict(out_b[1]), dict(out_d[1])
        for det in sorted(set(elig_b) | set(elig_d)):
            if elig_b.get(det) == elig_d.get(det):
                continue
            reqs_b = _requirements(self.base, decided_b, det)
            reqs_d = _requirements(self.draft, decided_d, det)
            rules = []
            for rule_id in list(reqs_b) + [r for r in reqs_d if r not in reqs_b]:
                qb, qd = reqs_b.get(rule_id), reqs_d.get(rule_id)
                rb, rd = self.base.compiled.rules.get(rule_id), self.draft.compiled.rules.get(rule_id)
                sb = qb.result if qb else ("not applicable" if rb else "not in force")
                sd = qd.result if qd else ("not applicable" if rd else "not in force")
                if sb == sd or not (_decides(qb, elig_b.get(det)) or _decides(qd, elig_d.get(det))):
                    continue
                reasons = []
                for part in ("applies", "met"):
                    cb = getattr(rb, part) if rb else None
                    cd = getattr(rd, part) if rd else None
                    if cb is None and cd is None:
                        continue
                    reasons += [line for line in _pair(because(cb, scope_b, ev_b, deciding=False) if rb else None,
                                                       because(cd, scope_d, ev_d, deciding=False) if rd else None)
                                if line not in reasons]     # "only in force under ..." once per rule
                rule = rd or rb
                rules.append({"rule": rule.id, "provision": rule.provision, "title": rule.title,
                              "requirement": rule.code, "baseline": sb, "draft": sd, "reasons": reasons})
            items.append({"kind": "eligibility", "determination": det,
                          "title": outcomes.determinations.get(det, {}).get("title", det),
                          "baseline": elig_b.get(det, "none"), "draft": elig_d.get(det, "none"), "rules": rules})
        return {"cadre": cadre_id, "name": name, "unit": unit,
                "unit_name": (units.get(unit) or {}).get("name", unit),
                "baseline": {"findings": sorted(codes_b), **dict(out_b[1])},
                "draft": {"findings": sorted(codes_d), **dict(out_d[1])},
                "changes": items}


@dataclass(frozen=True)
class _Requirement:
    result: str
    strength: str


def _requirements(pe: PolicyRunner, decided, determination: str) -> dict:
    """rule id -> (result, strength) of each requirement of a determination, as ``assemble`` lists them."""
    return {rule_id: _Requirement(result, pe.compiled.rules[rule_id].strength)
            for det, rule_id, _code, result, _by in decided.requirements if det == determination}


def _decides(requirement, eligibility: str | None) -> bool:
    """Whether a requirement's result is one that made its side's eligibility what it is."""
    if requirement is None:
        return False
    deciding = {"ineligible": {("unmet", "required")}, "pending": {("unknown", "required"), ("unknown", "normally")},
                "exception_required": {("unmet", "normally"), ("waived", "required"), ("waived", "normally")},
                "eligible": {("met", "required"), ("met", "normally")}}
    return (requirement.result, requirement.strength) in deciding.get(eligibility, set())


def _evaluator(pe: PolicyRunner, firings) -> Evaluator:
    return Evaluator(pe.catalogue.resolve, pe.compiled.parameters, pe.as_of, firings.asserted, pe.param_specs)


def _pair(entries_b, entries_d) -> list[dict]:
    """Reasons as data: each comparison whose value, threshold or result differs between the sides.

    Each is ``{"kind": "comparison", "fact", "baseline": entry, "draft": entry}`` (an entry
    of :func:`~cadre_policy.run.reasons.because`, None on a side without the rule), or
    ``{"kind": "only_in", "side"}`` for a rule in force on one side only;
    :mod:`cadre_policy.render.reasons` phrases them.
    """
    if entries_b is None and entries_d is None:
        return []
    if entries_b is None or entries_d is None:
        side, entries = ("draft", entries_d) if entries_b is None else ("baseline", entries_b)
        return [{"kind": "only_in", "side": side}] + [
            {"kind": "comparison", "fact": e["fact"], "baseline": e if side == "baseline" else None,
             "draft": e if side == "draft" else None} for e in entries]
    same_shape = [(e["fact"], e["op"]) for e in entries_b] == [(e["fact"], e["op"]) for e in entries_d]
    if not same_shape:
        return ([{"kind": "comparison", "fact": e["fact"], "baseline": e, "draft": None} for e in entries_b]
                + [{"kind": "comparison", "fact": e["fact"], "baseline": None, "draft": e} for e in entries_d])
    return [{"kind": "comparison", "fact": eb["fact"], "baseline": eb, "draft": ed}
            for eb, ed in zip(entries_b, entries_d)
            if (eb.get("value"), eb.get("threshold"), eb.get("holds")) !=
            (ed.get("value"), ed.get("threshold"), ed.get("holds"))]


def _near_hook(margin):
    """Near misses (explain/near.py): which outcomes each cadre is within ``margin`` of, on each side.

    Returns None when no margin was asked for; else a function giving the keys to count
    for one cadre: ``baseline:CODE`` / ``draft:CODE`` for each outcome with a deciding
    threshold at most ``margin`` units away (votes, years, months, days), and
    ``baseline:*`` / ``draft:*`` once for a cadre with any. It needs the full results,
    so --near costs an assembly of every cadre on both sides.
    """
    if margin is None:
        return None
    from cadre_policy.explain.near import near_misses

    def keys(comparer, doc, side_b, side_d):
        out = []
        for label, pe, (scope, fact, firings) in (("baseline", comparer.base, side_b),
                                                  ("draft", comparer.draft, side_d)):
            misses = near_misses(pe, pe.assemble(doc, scope, fact, firings), margin)
            codes = {miss.outcome for miss in misses}
            out += [f"{label}:{code}" for code in codes] + ([f"{label}:*"] if codes else [])
        return out
    return keys
