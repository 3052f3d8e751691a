"""Evaluate one cadre: derive facts, run an engine, and assemble findings and requirements."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from functools import cached_property, partial
from typing import Callable

from cadre_policy.compile import ir
from cadre_policy.language import model as m
from cadre_policy.language import periods
from cadre_policy.run.engines import make_engine
from cadre_policy.run.firings import Firings
from cadre_policy.run.backends.python import field_value
from cadre_policy.language.catalog import Catalogue
from cadre_policy.compile.compiler import compile_policy_set
from cadre_policy.run.derive import Deriver
from cadre_policy.run.encode import Encoder
from cadre_policy.run.outcome import UNKNOWN, Decider
from cadre_policy.language.kleene import Evaluator, lookup
from cadre_policy.language.parameters import duration_months, months
from cadre_policy.language.walk import walk
from cadre_policy.language.jurisdiction import regions_of
from cadre_policy.run.reasons import because


@dataclass
class Finding:
    """A finding on a cadre, active or superseded, with its reasons computed when read."""
    code: str
    status: str                      # active | superseded
    rule: m.Rule
    explain: Callable = field(repr=False, compare=False)   # computes `because` when it is read
    until: date | None = None
    superseded_by: str | None = None

    @cached_property
    def because(self) -> list:
        """Each comparison of the rule's condition with its values (see engine.explain)."""
        return self.explain()


@dataclass
class Requirement:
    """A requirement's result for a cadre: met, unmet, unknown or waived."""
    code: str
    result: str                      # met | unmet | unknown | waived
    rule: m.Rule
    explain: Callable = field(repr=False, compare=False)
    waived_by: str | None = None     # the exception rule that waived an unmet requirement

    @property
    def strength(self) -> str:
        """required (应当) or normally (一般应当): a normally-required one unmet needs an exception."""
        return self.rule.strength

    @cached_property
    def because(self) -> list:
        return self.explain()


@dataclass
class CadreResult:
    """Everything one evaluation found about one cadre on one date."""
    cadre_id: str
    name: str
    as_of: date
    findings: list
    determinations: dict             # name -> {"target_rank", "eligibility", "requirements"}
    make_trace: Callable = field(repr=False, compare=False)
    scope: dict = field(repr=False, default_factory=dict)
    asserted: frozenset = frozenset()   # the findings and derived facts the rules asserted

    @cached_property
    def trace(self) -> list:
        """Every rule test that fired: (rule, test, matched fields and values, matched facts, asserted)."""
        return self.make_trace()

    def active_codes(self) -> list[str]:
        return sorted({f.code for f in self.findings if f.status == "active"})

    def superseded_codes(self) -> list[str]:
        return sorted({f.code for f in self.findings if f.status == "superseded"})

    def signature(self) -> tuple:
        """What two engines must agree on: findings, requirements and the trace."""
        findings = tuple(sorted((f.rule.id, f.code, f.status, f.superseded_by or "") for f in self.findings))
        reqs = tuple(sorted((d, r.rule.id, r.result) for d, det in self.determinations.items()
                            for r in det["requirements"]))
        elig = tuple(sorted((d, det["eligibility"]) for d, det in self.determinations.items()))
        return findings, reqs, elig, tuple(self.trace)


def normalise_units(units: dict) -> dict:
    """Units as the rules see them: a unit with no flags has an empty list of flags, and every
    unit lists the regions it lies in (``regions``: its own and those up its parent chain)."""
    return {uid: dict(u, flags=u.get("flags") or [], regions=regions_of(units, uid)) for uid, u in units.items()}



class PolicyRunner:
    """A policy set compiled for one evaluation date, with the engine that runs it."""

    def __init__(self, policy_set: m.PolicySet, as_of: date, engine: str = "durable",
                 overrides: dict | None = None, name: str = "policy"):
        self.policy_set = policy_set
        self.as_of = as_of
        self.compiled = compile_policy_set(policy_set, as_of, overrides, name)
        self.catalogue = Catalogue(policy_set.derived)
        self.deriver = Deriver(self.compiled.derived, self.catalogue, self.compiled.parameters,
                               policy_set.parameters, as_of, overrides)
        self.encoder = Encoder(self.compiled.fields)
        self.engine = make_engine(engine, self.compiled)
        self.decider = Decider.of(self.compiled, policy_set.outcomes)
        self.param_specs = policy_set.parameters      # a property that builds a dict: read once
        self._formulas = {t.key: t for s in self.compiled.strata for t in s.tests}

    def close(self) -> None:
        """Free the engine's resources (durable_rules' rulesets); the runner must not be used again."""
        close = getattr(self.engine, "close", None)
        if close is not None:
            close()

    def facts(self, doc: dict, units: dict) -> tuple[dict, dict]:
        """(scope of Python values, encoded engine fact) of one cadre."""
        scope = self.deriver.scope(doc, units)
        return scope, self.encoder.encode(scope)

    def evaluate(self, doc: dict, units: dict) -> CadreResult:
        """Evaluate one cadre document against the compiled rules."""
        scope, fact = self.facts(doc, units)
        firings = self.engine.run(fact)
        return self.assemble(doc, scope, fact, firings)

    # ---- assembling results ---------------------------------------------------------------
    def assemble(self, doc: dict, scope: dict, fact: dict, firings: Firings, because=because,
                 outcome=None) -> CadreResult:
        """The full result of one cadre (with reasons computed when read) from its firings.

        ``because``: what explains a condition (``run.reasons.because``, or a memo of it);
        ``outcome``: the decision of these firings when already made.
        """
        evaluator = Evaluator(self.catalogue.resolve, self.compiled.parameters, self.as_of, firings.asserted,
                              self.param_specs)
        outcome = outcome or self.decider.decide(firings.fired)
        rules = self.compiled.rules
        findings = []
        for rule_id, code, by in outcome.findings:
            rule = rules[rule_id]
            findings.append(Finding(code, "superseded" if by else "active", rule,
                                    partial(because, rule.when, scope, evaluator, rule.provision),
                                    self._until(rule, scope), by))
        determinations: dict = {}
        for name, rule_id, code, result, waived_by in outcome.requirements:
            rule = rules[rule_id]
            applies = (rule_id, "applies") in firings.fired
            cond = rule.met if result != UNKNOWN or applies else (rule.applies or rule.met)
            determinations.setdefault(name, {"requirements": []})["requirements"].append(
                Requirement(code, result, rule, partial(because, cond, scope, evaluator, rule.provision), waived_by))
        for name, value in outcome.eligibility:
            determinations[name]["eligibility"] = value
            if name == "promotion":
                determinations[name]["target_rank"] = lookup(scope, "promotion.target_rank")
        return CadreResult(doc.get("id", ""), doc.get("name", ""), self.as_of, findings, determinations,
                           partial(self._trace, firings, fact), scope, firings.asserted)

    def _until(self, rule: m.Rule, scope: dict) -> date | None:
        if rule.until is None:
            return None
        start = lookup(scope, rule.until.fact)
        if start is None:
            return None
        plus = rule.until.plus
        params = self.compiled.parameters
        length = duration_months(plus, params, self.policy_set.parameters) if isinstance(plus, m.ParamRef) \
            else months(plus, params)
        return periods.add_months(start, length)

    def _trace(self, firings: Firings, fact: dict) -> list:
        trace = []
        order = {r.id: r.order for r in self.compiled.rules.values()}
        for rule_id, test in sorted(firings.fired, key=lambda k: (order.get(k[0], 0), k[1])):
            rule_test = self._formulas[(rule_id, test)]
            values = {path: field_value(fact, path) for path in _paths(rule_test.formula)}
            matched = tuple(sorted((path, value) for path, value in values.items() if value is not None))
            facts = tuple(sorted(k for k in _facts(rule_test.formula) if k in firings.asserted))
            trace.append((rule_id, test, matched, facts, rule_test.asserts or ""))
        return trace


def _paths(formula):
    for node in walk(formula):
        if isinstance(node, (ir.Test, ir.Exists)):
            yield node.path
        elif isinstance(node, ir.TestField):
            yield node.path
            yield node.other
        elif isinstance(node, ir.Linear):
            yield node.a
            yield node.b


def _facts(formula):
    return (node.key for node in walk(formula) if isinstance(node, ir.Fact))
