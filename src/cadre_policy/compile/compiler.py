"""Compile a checked policy set, for one evaluation date, into the intermediate form."""
from __future__ import annotations

from datetime import date
from fractions import Fraction

from cadre_policy.i18n import _
from cadre_policy.compile import ir
from cadre_policy.language import model as m
from cadre_policy.language import periods
from cadre_policy.language import types as t
from cadre_policy.errors import EvaluationError
from cadre_policy.language.jurisdiction import binding
from cadre_policy.language.parameters import kind_of, name_of, parameters_on
from cadre_policy.language.catalog import Catalogue
from cadre_policy.validate.strata import stratify
from cadre_policy.diagnostics import Diagnostic, PolicyRejected
from cadre_policy.language.values import COUNT_MAX, parse_fraction

MAX_FACT_FIELDS = 240   # durable_rules: about 253 properties per fact, nested ones included
#: A rule joining more asserted facts of its own stratum than this is moved one stratum later,
#: where it reads them as closure flags on the cadre fact instead of joining them: durable_rules
#: refuses the fact ("Could not assert fact") from 16 joined facts (benchmarks/durable_limits.py).
MAX_JOINED_FACTS = 8


class _Conditions:
    """Translates model conditions into (true-formula, false-formula) pairs."""

    def __init__(self, catalogue: Catalogue, params: dict, param_specs: dict, as_of: date, rule: m.Rule | None):
        self.catalogue = catalogue
        self.param_specs = param_specs
        self.params = params
        self.as_of = as_of
        self.rule = rule
        self.fields: dict[str, tuple] = {}

    # ---- fields the encoder must emit ------------------------------------------------
    def use(self, path: str, kind: t.Type) -> str:
        """Register a source path; returns its encoded path."""
        self._markers(path)
        if kind.name == "fraction":
            self.fields[f"{path}.n"] = (path, "num", kind)
            self.fields[f"{path}.d"] = (path, "den", kind)
            return path
        if kind.name == "record":
            self.fields[f"{path}._"] = (path, "marker", kind)
            return f"{path}._"
        self.fields[path] = (path, "value", kind)
        return path

    def _markers(self, path: str):
        parts = path.split(".")
        for i in range(1, len(parts)):
            prefix = ".".join(parts[:i])
            kind = self.catalogue.resolve(prefix)
            if kind is not None and kind.name == "record":
                self.fields[f"{prefix}._"] = (prefix, "marker", kind)

    # ---- values ------------------------------------------------------------------------
    def param(self, ref: m.ParamRef):
        name = name_of(ref, self.params)
        if name is None:
            raise EvaluationError(f"unknown parameter '{ref.name}'")
        if self.params[name] is None:
            raise EvaluationError(
                f"The parameter '{name}' requested by rule '{self.rule.id if self.rule else '?'}' has no "
                f"value on {self.as_of}; give it a dated value from that day or earlier")
        return self.params[name]

    def months(self, period: m.Period) -> int:
        amount = self.param(period.amount) if isinstance(period.amount, m.ParamRef) else period.amount.raw
        return amount * 12 if period.unit == "years" else amount

    def encode_const(self, raw, kind: t.Type):
        if kind.name == "date":
            return periods.day_number(raw if isinstance(raw, date) else date.fromisoformat(str(raw)))
        if kind.name == "rank":
            return t.RANKS.index(raw)
        if kind.name == "enum" and kind.ordered:
            return kind.values.index(raw)
        if kind.name == "duration":
            return periods.threshold(raw)
        return raw

    # ---- conditions -----------------------------------------------------------------------
    def pair(self, cond) -> tuple[object, object]:
        """(formula true when the condition holds, formula true when it fails)."""
        if isinstance(cond, m.All):
            pairs = [self.pair(c) for c in cond.items]
            return ir.conj(p[0] for p in pairs), ir.disj(p[1] for p in pairs)
        if isinstance(cond, m.Any):
            pairs = [self.pair(c) for c in cond.items]
            return ir.disj(p[0] for p in pairs), ir.conj(p[1] for p in pairs)
        if isinstance(cond, m.Not):
            yes, no = self.pair(cond.item)
            return no, yes
        if isinstance(cond, m.Asserted):
            return ir.Fact(f"{cond.kind}:{cond.name}"), _NotAsserted(f"{cond.kind}:{cond.name}")
        kind = self.catalogue.resolve(cond.subject) if not getattr(cond, "ratio_of", ()) else t.FRACTION
        if isinstance(cond, m.Present):
            path = self.use(cond.subject, kind)
            yes, no = ir.Exists(path, True), ir.Exists(path, False)
            return (yes, no) if cond.present else (no, yes)
        if isinstance(cond, m.Has):
            marker = f"{cond.subject}._"
            self.fields[marker] = (cond.subject, "marker", kind)
            flag = f"{cond.subject}.{cond.flag}"
            self.fields[flag] = (cond.subject, "flag", cond.flag)
            self._markers(cond.subject)
            return ir.Test(flag, "==", True), ir.conj([ir.Exists(marker), ir.Exists(flag, False)])
        if isinstance(cond, m.Within):
            path = self.use(cond.subject, kind)
            start = periods.day_number(periods.window_start(self.as_of, self.months(cond.period)))
            today = periods.day_number(self.as_of)
            return (ir.conj([ir.Test(path, ">=", start), ir.Test(path, "<=", today)]),
                    ir.disj([ir.Test(path, "<", start), ir.Test(path, ">", today)]))
        return self.compare(cond, kind)

    def compare(self, cond: m.Compare, kind: t.Type):
        if cond.ratio_of or kind.name == "fraction":
            return self.fraction(cond, kind)
        path = self.use(cond.subject, kind)
        value = cond.value
        if isinstance(value, m.FactRef):
            other_kind = self.catalogue.resolve(value.path)
            other = self.use(value.path, other_kind)
            guard = [ir.Exists(path), ir.Exists(other)]
            return (ir.conj(guard + [ir.TestField(path, cond.op, other)]),
                    ir.conj(guard + [ir.TestField(path, ir.NEGATE[cond.op], other)]))
        if isinstance(value, m.Period):
            raw = self.months(value)
        elif isinstance(value, m.ParamRef):
            raw = self.param(value)
            if kind.name == "duration":
                raw = raw * 12 if kind_of(value, self.param_specs) == "years" else raw
        else:
            raw = value.raw
        if cond.op in ("in", "not_in"):
            items = [self.encode_const(x, kind) for x in (raw if isinstance(raw, (list, tuple)) else [raw])]
            member = ir.disj(ir.Test(path, "==", x) for x in items)
            absent = ir.conj(ir.Test(path, "!=", x) for x in items)
            if not items:       # membership of an empty list: known to be false, when the fact is known
                member, absent = ir.FALSE, ir.Exists(path)
            return (member, absent) if cond.op == "in" else (absent, member)
        const = self.encode_const(raw, kind)
        return ir.Test(path, cond.op, const), ir.Test(path, ir.NEGATE[cond.op], const)

    def fraction(self, cond: m.Compare, kind: t.Type):
        value = cond.value
        raw = self.param(value) if isinstance(value, m.ParamRef) else parse_fraction(value.raw)
        frac = raw if not isinstance(raw, int) else parse_fraction(raw)
        if cond.ratio_of:
            a, b = (self.use(p, self.catalogue.resolve(p)) for p in cond.ratio_of)
            guard = [ir.Exists(a), ir.Exists(b), ir.Test(b, ">", 0)]
        else:
            self.use(cond.subject, kind)
            a, b = f"{cond.subject}.n", f"{cond.subject}.d"
            guard = [ir.Exists(a), ir.Exists(b)]
        yes, no = _bounded_comparison(frac, cond.op)
        return ir.conj(guard + [yes(a, b)]), ir.conj(guard + [no(a, b)])


def _bounded_comparison(frac: Fraction, op: str):
    """Builders of ``a/b op frac`` and its negation, exact for counts a, b up to COUNT_MAX.

    Cross-multiplying by a huge fraction (1/10**19) overflows the C engine's 64-bit integers.
    No fraction with denominator <= COUNT_MAX lies strictly between ``frac`` and ``low``, its
    nearest lower neighbour of that order (Farey), so ``a/b > frac`` is ``a/b > low`` for every
    count the store can hold, and every product stays below 2**62.
    """
    def linear(test_op, f=frac):
        return lambda a, b: ir.Linear(a, f.denominator, b, f.numerator, test_op)

    if frac.numerator <= COUNT_MAX and frac.denominator <= COUNT_MAX:
        return linear(op), linear(ir.NEGATE[op])
    low = _farey_floor(frac, COUNT_MAX)
    above = linear(">", low)        # a/b > frac, also a/b >= frac (no count ratio equals it)
    below = linear("<=", low)
    table = {">": (above, below), ">=": (above, below), "<": (below, above), "<=": (below, above),
             "==": (lambda a, b: ir.FALSE, lambda a, b: ir.TRUE),
             "!=": (lambda a, b: ir.TRUE, lambda a, b: ir.FALSE)}
    return table[op]


def _farey_floor(frac: Fraction, order: int) -> Fraction:
    """The largest fraction x/y <= ``frac`` with 0 < y <= ``order`` (``order`` itself above it)."""
    if frac >= order:
        return Fraction(order)
    near = frac.limit_denominator(order)
    if near <= frac:
        return near
    # the left neighbour x/y of near = u/v in the Farey sequence: u*y - v*x = 1, y as large as allowed
    u, v = near.numerator, near.denominator
    y = pow(u, -1, v) if v > 1 else order
    y += (order - y) // v * v
    return Fraction((u * y - 1) // v, y)


class _NotAsserted(ir.Fact):
    """Placeholder for 'not asserted' until strata are known."""


def _lower(formula, stratum_of_key: dict, stratum: int, closure: set):
    """Replace asserted-fact atoms: a join in the same stratum, a closure test for earlier ones."""
    if isinstance(formula, (ir.And, ir.Or)):
        items = [_lower(f, stratum_of_key, stratum, closure) for f in formula.items]
        return ir.conj(items) if isinstance(formula, ir.And) else ir.disj(items)
    if isinstance(formula, _NotAsserted):
        if formula.key not in stratum_of_key:
            return ir.TRUE
        closure.add(formula.key)
        return ir.Test(ir.closure_path(formula.key), "==", 0)
    if isinstance(formula, ir.Fact):
        if formula.key not in stratum_of_key:
            return ir.FALSE
        if stratum_of_key[formula.key] < stratum:
            closure.add(formula.key)
            return ir.Test(ir.closure_path(formula.key), "==", 1)
        return formula
    return formula


def compile_policy_set(policy_set: m.PolicySet, as_of: date, overrides: dict | None = None,
                       name: str = "policy") -> ir.CompiledSet:
    """Compile the rules in force on ``as_of`` into the intermediate form.

    Args:
        policy_set: a loaded and checked policy set.
        as_of: the evaluation date; parameters take the value in force that day.
        overrides: parameter values replacing those of the files (``--set``).
        name: a name for the compiled set (ruleset names derive from it).

    Raises:
        PolicyRejected: a cycle through negation (E402).
        EvaluationError: a parameter has no value on ``as_of``.
    """
    catalogue = Catalogue(policy_set.derived)
    params = parameters_on(policy_set, as_of, overrides)
    rules = [r for r in policy_set.rules if policy_set.in_force(r, as_of)]
    fields: dict = {}
    compiled: list[tuple[m.Rule, list[tuple[str, object, str | None]]]] = []
    for rule in rules:
        conds = _Conditions(catalogue, params, policy_set.parameters, as_of, rule)
        tests = []
        bound_yes, bound_no = conds.pair(binding(policy_set, rule))
        if rule.kind in ("finding", "derive"):
            key = f"{'finding' if rule.kind == 'finding' else 'derived'}:{rule.code}"
            tests.append(("fire", ir.conj([bound_yes, conds.pair(rule.when)[0]]), key))
        elif rule.kind == "exception":     # asserts nothing: the outcome decision reads whether it holds
            tests.append(("holds", ir.conj([bound_yes, conds.pair(rule.when)[0]]), None))
        else:
            applies_yes, applies_no = conds.pair(rule.applies) if rule.applies is not None else (ir.TRUE, ir.FALSE)
            # nothing to determine without a promotion in view: no post on the date and no open
            # nomination, or a post at the top of the ladder (defect 7 of issue 22)
            aimed_yes, aimed_no = conds.pair(m.Present("promotion.target_rank", True))
            applies_yes = ir.conj([bound_yes, aimed_yes, applies_yes])
            applies_no = ir.disj([bound_no, aimed_no, applies_no])
            met_yes, met_no = conds.pair(rule.met)
            unmet_yes = conds.pair(rule.unmet)[0] if rule.unmet is not None else met_no
            tests += [("applies", applies_yes, None), ("not_applies", applies_no, None),
                      ("met", met_yes, None), ("unmet", unmet_yes, None)]
        if rule.until is not None:
            conds.use(rule.until.fact, catalogue.resolve(rule.until.fact))
        fields.update(conds.fields)
        compiled.append((rule, tests))
    strata_of_rule, stuck = stratify(rules, MAX_JOINED_FACTS)
    if stuck:   # the checker reports these (E402); a set that skipped it is refused here
        by_id = {rule.id: rule for rule in rules}
        raise PolicyRejected([Diagnostic("E402", _("rule '{r}' depends on its own conclusion through 'not'; the rules cannot be ordered").format(
            r=r), by_id[r].loc) for r in stuck[:5]])
    producers: dict[str, int] = {}
    for rule, tests in compiled:
        for _kind, _value, key in tests:
            if key:
                producers[key] = max(producers.get(key, 0), strata_of_rule[rule.id])
    depth = max(strata_of_rule.values(), default=0) + 1
    strata = []
    for level in range(depth):
        closure: set = set()
        level_tests = []
        for rule, tests in compiled:
            if strata_of_rule[rule.id] != level:
                continue
            for test, formula, key in tests:
                lowered = _lower(formula, producers, level, closure)
                level_tests.append(ir.RuleTest(rule.id, test, lowered, key))
        for key in closure:
            fields[ir.closure_path(key)] = (key, "closure", None)
        strata.append(ir.Stratum(tuple(level_tests), tuple(sorted(closure))))
    if len(fields) > MAX_FACT_FIELDS:
        raise PolicyRejected([Diagnostic(
            "E404", _("the rules in force on {as_of} read {value} fields of the cadre fact; durable_rules handles at most about 250 properties per fact: split the policy set").format(
                as_of=as_of, value=len(fields)), rules[0].loc)])
    return ir.CompiledSet(name, as_of, strata, fields, _derived_order(policy_set, catalogue, fields, rules),
                          {r.id: r for r in rules}, params, policy_set)


def _derived_order(policy_set: m.PolicySet, catalogue: Catalogue, fields: dict, rules) -> list[m.Derived]:
    """The derived quantities the encoded fields need, each after those it depends on."""
    specs = policy_set.derived
    needed: list[m.Derived] = []
    seen: set[str] = set()

    def visit(name):
        if name in seen or name not in specs:
            return
        seen.add(name)
        spec = specs[name]
        for ref in sorted(spec.references()):
            visit(ref.split(".")[0])
        needed.append(spec)

    for source, *_rest in fields.values():
        if source:
            visit(str(source).split(".")[0])
    for rule in rules:
        if rule.until is not None:
            visit(rule.until.fact.split(".")[0])
    return needed
