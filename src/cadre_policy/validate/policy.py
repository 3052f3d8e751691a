"""Name and type checks of a loaded policy set (E2xx references, E3xx types, E4xx semantics)."""
from __future__ import annotations

from pathlib import Path

from cadre_policy.language import model as m
from cadre_policy.language import types as t
from cadre_policy.language.catalog import Catalogue
from cadre_policy.validate.strata import stratify
from cadre_policy.language.parameters import name_of
from cadre_policy.diagnostics import Diagnostic, Location, suggest, suggest_qualified
from cadre_policy.i18n import N_, _
from cadre_policy.language.values import PARAMETER_TYPES, literal_type, parse_fraction, parse_parameter

ORDER_OPS = {">", ">=", "<", "<="}


class Checker:
    """Checks every name and type in a policy set; collects diagnostics."""

    def __init__(self, policy_set: m.PolicySet):
        self.ps = policy_set
        self.diagnostics: list[Diagnostic] = []
        self.catalogue = Catalogue(policy_set.derived)
        self.parameters = policy_set.parameters
        self.derive_names = {r.code for r in policy_set.rules if r.kind == "derive"}
        self.used_parameters: set[str] = set()

    def error(self, code, message, loc, suggestion=None):
        self.diagnostics.append(Diagnostic(code, message, loc or Location(), suggestion))

    # ---- entry point -------------------------------------------------------------------
    def check(self) -> list[Diagnostic]:
        self._duplicates()
        self._jurisdictions()
        self._derived_cycles()
        for param in self.parameters.values():
            self._parameter(param)
        for derived in self.ps.derived.values():
            self._derived(derived)
        rule_ids = {r.id for r in self.ps.rules}
        for rule in self.ps.rules:
            self._rule(rule, rule_ids)
        self._strata()
        self._titles()
        self._exception_cycles()
        for name, param in self.parameters.items():
            if name not in self.used_parameters:
                self.error("W501", _("parameter '{name}' is not used by any rule").format(name=name), param.loc)
        return self.diagnostics

    def _jurisdictions(self):
        """Every policy says whom it binds (E408); a set binding several regions says why (W505)."""
        from cadre_policy.language.jurisdiction import national
        for policy in self.ps.policies:
            if policy.jurisdiction is None:
                self.error("E408", _("policy '{id}' does not say whom it binds: add 'jurisdiction: {{regions: [...]}}' (全国 for a national document)").format(
                    id=policy.id), Location(policy.file, 1, 1))
        regional = [p for p in self.ps.policies if p.jurisdiction is not None and not national(p.jurisdiction)]
        if len({p.jurisdiction.regions for p in regional}) > 1:
            for policy in regional:
                if not policy.jurisdiction.note:
                    others = sorted({r for p in regional for r in p.jurisdiction.regions} - set(policy.jurisdiction.regions))
                    self.error("W505", _("policy '{id}' binds {label} while the set also binds {items}: say why in 'jurisdiction: note'").format(
                        id=policy.id, label=policy.jurisdiction.label(), items='、'.join(others)),
                               policy.jurisdiction.loc)

    def _titles(self):
        """Every ``{name}`` in a rule's title or note, or an outcome's title, names a parameter."""
        from cadre_policy.language.titles import placeholders, resolve
        places = [(rule.policy, text, rule.loc) for rule in self.ps.rules for text in (rule.title, rule.note)]
        catalogue = Location(str(Path(self.ps.path) / "outcomes.yaml"))
        places += [("", entry.get("title", ""), catalogue)
                   for table in (self.ps.outcomes.findings, self.ps.outcomes.requirements) for entry in table.values()]
        for scope, text, loc in places:
            for name in placeholders(text):
                found = resolve(name, scope, self.parameters)
                if found:
                    self.used_parameters.add(found)
                    continue
                hint = suggest_qualified(name, self.parameters) if not scope else \
                    suggest(name, list(self.parameters) + [p.split(".", 1)[1] for p in self.parameters])
                self.error("E211", _("unknown parameter '{name}' named in the text '{text}'").format(
                    name=name, text=text), loc, hint)

    def _duplicates(self):
        for what, items in ((N_("policy id"), [(p.id, Location(p.file, 1, 1)) for p in self.ps.policies]),
                            (N_("rule id"), [(r.id, r.loc) for r in self.ps.rules]),
                            (N_("derived quantity"), [(d.name, d.loc) for p in self.ps.policies for d in p.derived])):
            seen = {}
            for name, loc in items:
                if name in seen:
                    self.error("E205", _("duplicate {what} '{name}' (first at {value})").format(
                        what=_(what), name=name, value=seen[name]), loc)
                else:
                    seen[name] = loc
        for d in self.ps.derived.values():
            if d.name in t.BUILTIN_FACTS or d.name in t.RECORD_LISTS:
                self.error("E205", _("derived quantity '{name}' hides the built-in fact of that name").format(
                    name=d.name), d.loc)

    # ---- declarations ----------------------------------------------------------------
    def _derived_cycles(self):
        specs = self.ps.derived

        def refs(spec):
            return {p.split(".")[0] for p in spec.references()} & set(specs)

        state: dict[str, int] = {}   # 1 visiting, 2 done

        def visit(name, trail):
            if state.get(name) == 2:
                return
            if state.get(name) == 1:
                cycle = trail[trail.index(name):] + [name]
                self.error("E403", _("derived quantities depend on each other in a cycle: {items}").format(
                    items=' -> '.join(cycle)),
                           specs[name].loc)
                return
            state[name] = 1
            for ref in sorted(refs(specs[name])):
                visit(ref, trail + [name])
            state[name] = 2

        for name in specs:
            visit(name, [])

    def _parameter(self, param: m.Parameter):
        for start, raw in param.values:
            try:
                parse_parameter(param.kind, raw)
            except ValueError as error:
                self.error("E303", _("parameter '{name}' on {start}: {error}").format(
                    name=param.name, start=start, error=error), param.loc)

    def _derived(self, d: m.Derived):
        if d.form in m.RECORD_FORMS:
            fields = self.catalogue.record_fields(d.source)
            if fields is None:
                self._unknown(d.source, d.loc, records=True)
                return
            if d.form in ("current", "duration") and d.source != "posts":
                self.error("E301", _("'{form}' ranges over posts, not '{source}'").format(
                    form=d.form, source=d.source), d.loc)
            if d.where is not None:
                self._condition(d.where, fields=fields)
            for name in d.distinct:
                self._subject_type(name, d.loc, fields)
            if d.form in ("some", "every") and d.satisfies is None:
                self.error("E101", _("'{form}' needs 'satisfies': the condition tested on each record's date").format(
                    form=d.form),
                           d.loc)
            if d.satisfies is not None:
                self._condition(d.satisfies)
        if d.form in ("elapsed", "age"):
            for path in (d.source if isinstance(d.source, tuple) else (d.source,)):
                self._expect_fact(path, "date", d.loc)
        for ref in (d.at, d.since):
            if ref:
                self._expect_fact(ref, "date", d.loc)
        if d.form == "ratio":
            for part in d.source:
                self._expect_fact(part, "integer", d.loc)
        if d.form == "steps":
            for part in d.source:
                self._expect_fact(part, "rank", d.loc)
        if d.form == "rank":
            self._rank_of(d.rank)
        if d.form == "year":
            for path in (d.source if isinstance(d.source, tuple) else (d.source,)):
                self._expect_fact(path, "date", d.loc)
        if d.form in m.ARITHMETIC:
            if len(d.operands) != 2:
                self.error("E103", _("'{form}' takes two operands [A, B], each a fact or a whole number").format(
                    form=d.form), d.loc)
            for part in d.operands:
                if isinstance(part, str):
                    self._expect_fact(part, "integer", d.loc)
                elif isinstance(part, bool) or not isinstance(part, int):
                    self.error("E301", _("'{form}': {part} is neither a fact nor a whole number").format(
                        form=d.form, part=repr(part)), d.loc)
        if d.form == "lookup":
            self._param_of(d.param, ("table",))
            if not isinstance(d.source, str):
                self.error("E103", _("'lookup' needs 'key': the fact whose value names the entry"), d.loc)
            elif self.catalogue.resolve(d.source) is None:
                self._unknown(d.source, d.loc)
        if d.form == "consecutive":
            fields = self.catalogue.record_fields(d.source) or {}
            by = fields.get(d.by)
            if by is None or by.name != "integer":
                self.error("E301", _("'consecutive' numbers the records by an integer field (by: year), not '{by}'").format(
                    by=d.by), d.loc)
            if not isinstance(d.n, int) or isinstance(d.n, bool) or d.n < 1:
                self.error("E103", _("'consecutive' needs 'count': how many consecutive values (1 or more)"), d.loc)
        if d.within is not None:
            self._period(d.within, self.catalogue.record_fields(d.source) if d.form == "count" else None)

    def _rank_of(self, ref: m.RankOf):
        self._expect_fact(ref.path, "rank", ref.loc)
        if ref.step and ref.level:
            self.error("E103", _("a rank is computed with 'step' or 'level', not both"), ref.loc)

    def _expect_fact(self, path, type_name, loc):
        kind = self.catalogue.resolve(path)
        if kind is None:
            self._unknown(path, loc)
        elif kind.name != type_name:
            self.error("E301", _("'{path}' is {kind}, a {type_name} is needed here").format(
                path=path, kind=kind, type_name=type_name), loc)

    def _unknown(self, path, loc, records=False, fields=None):
        if fields is not None:
            candidates = list(fields)
            self.error("E201", _("unknown field '{path}'").format(path=path), loc, suggest(path, candidates))
            return
        candidates = [p for p, _kind in self.catalogue.paths(include_records=records)]
        self.error("E201", _("unknown fact '{path}'").format(path=path), loc, suggest(path, candidates))

    # ---- rules --------------------------------------------------------------------------
    def _rule(self, rule: m.Rule, rule_ids: set):
        outcomes = self.ps.outcomes
        if rule.kind == "finding" and rule.code not in outcomes.findings:
            self.error("E203", _("unknown finding code '{code}'").format(
                code=rule.code), rule.loc, suggest(rule.code, outcomes.findings))
        if rule.kind == "requirement" and rule.code not in outcomes.requirements:
            self.error("E203", _("unknown requirement code '{code}'").format(code=rule.code), rule.loc,
                       suggest(rule.code, outcomes.requirements))
        if self.ps.provisions and rule.provision not in self.ps.provisions:
            self.error("E207", _("unknown provision '{id}' (not in provisions.yaml)").format(
                id=rule.provision), rule.loc,
                       suggest(rule.provision, self.ps.provisions))
        for target in rule.supersedes:
            if target == rule.id:
                self.error("E401", _("rule '{id}' supersedes itself").format(id=rule.id), rule.loc)
            elif target not in rule_ids:
                self.error("E204", _("unknown rule id '{id}' in supersedes").format(
                    id=target), rule.loc, suggest(target, rule_ids))
        for target in rule.exception_to:
            other = self.ps.rule(target)
            if other is None:
                self.error("E204", _("unknown rule id '{id}' in exception_to").format(
                    id=target), rule.loc, suggest(target, rule_ids))
            elif other.kind not in ("requirement", "exception"):
                self.error("E301", _("'{target}' is a {kind} rule; an exception waives requirements (or suspends another exception)").format(
                    target=target, kind=other.kind), rule.loc)
        for cond in (rule.when, rule.applies, rule.met, rule.unmet):
            if cond is not None:
                self._condition(cond)
                terms = max(dnf_terms(cond, False), dnf_terms(cond, True))
                if terms > MAX_DNF_TERMS:
                    self.error("E406", _("rule '{id}': its condition (or its negation) expands to {terms} alternatives; the rules engine runs at most {MAX_DNF_TERMS}: split the rule or derive parts of the condition first").format(
                        id=rule.id, terms=format(terms, ','), MAX_DNF_TERMS=format(MAX_DNF_TERMS, ',')), rule.loc)
        if rule.until is not None:
            self._expect_fact(rule.until.fact, "date", rule.until.loc)
            if isinstance(rule.until.plus, m.ParamRef):
                self._param_of(rule.until.plus, ("years", "months"))
            else:
                self._period(rule.until.plus)

    def _param_of(self, ref: m.ParamRef, kinds, policy: str | None = None) -> m.Parameter | None:
        param = self.lookup_parameter(ref)
        if param is None:
            return None
        if kinds and param.kind not in kinds:
            self.error("E301", _("parameter '{name}' is a {kind}; {items} is needed here").format(
                name=param.name, kind=param.kind, items=' or '.join(kinds)),
                       ref.loc)
        return param

    def lookup_parameter(self, ref: m.ParamRef) -> m.Parameter | None:
        """Resolve a parameter reference: the name in its own policy first, then the qualified name."""
        name = name_of(ref, self.parameters)
        if name is not None:
            self.used_parameters.add(name)
            return self.parameters[name]
        self.error("E202", _("unknown parameter '{name}'").format(
            name=ref.name), ref.loc, suggest(ref.name, list(self.parameters) + [
            p.split(".", 1)[1] for p in self.parameters]))
        return None

    def _period(self, period: m.Period, fields: dict | None = None):
        if isinstance(period.amount, m.ParamRef) and period.amount.key is not None:
            # a period read per record from a table parameter, by one of the record's fields
            self._param_of(period.amount, ("table",))
            if fields is None:
                self.error("E103", _("a period looked up by 'key' is read per record: only in a count's 'within'"),
                           period.loc)
            else:
                self._subject_type(period.amount.key, period.loc, fields)
        elif isinstance(period.amount, m.ParamRef):
            self._param_of(period.amount, (period.unit,))

    def _exception_cycles(self):
        """An exception may be the exception to another exception (Catala), never in a cycle."""
        graph = {r.id: [t for t in r.exception_to] for r in self.ps.rules if r.kind == "exception"}
        state: dict[str, int] = {}
        by_id = {r.id: r for r in self.ps.rules}

        def visit(rule_id, trail):
            if state.get(rule_id) == 2 or rule_id not in graph:
                return
            if state.get(rule_id) == 1:
                cycle = trail[trail.index(rule_id):] + [rule_id]
                self.error("E407", _("exceptions form a cycle: {items}").format(
                    items=' -> '.join(cycle)), by_id[rule_id].loc)
                return
            state[rule_id] = 1
            for target in graph[rule_id]:
                visit(target, trail + [rule_id])
            state[rule_id] = 2

        for rule_id in graph:
            visit(rule_id, [])

    def _strata(self):
        """Order the rules so that 'not' over a conclusion reads it only once it is final."""
        _order, stuck = stratify(self.ps.rules)
        by_id = {rule.id: rule for rule in self.ps.rules}
        for rule_id in stuck:
            self.error("E402", _("rule '{rule_id}' depends on its own conclusion through 'not': the rules cannot be ordered").format(
                rule_id=rule_id), by_id[rule_id].loc)

    # ---- conditions ------------------------------------------------------------------------
    def _condition(self, cond, fields: dict | None = None):
        if isinstance(cond, (m.All, m.Any)):
            for item in cond.items:
                self._condition(item, fields)
        elif isinstance(cond, m.Not):
            self._condition(cond.item, fields)
        elif isinstance(cond, m.Asserted):
            if fields is not None:
                self.error("E103", _("'{kind}:' cannot be used inside 'where'").format(kind=cond.kind), cond.loc)
            elif cond.kind == "finding" and cond.name not in self.ps.outcomes.findings:
                self.error("E203", _("unknown finding code '{code}'").format(code=cond.name), cond.loc,
                           suggest(cond.name, self.ps.outcomes.findings))
            elif cond.kind == "derived" and cond.name not in self.derive_names:
                self.error("E206", _("no rule derives '{name}'").format(
                    name=cond.name), cond.loc, suggest(cond.name, self.derive_names))
        elif isinstance(cond, m.Present):
            self._subject_type(cond.subject, cond.loc, fields)
        elif isinstance(cond, m.Has):
            kind = self._subject_type(cond.subject, cond.loc, fields)
            if kind is not None and kind.name != "flags":
                self.error("E301", _("'has' needs a list of flags; '{subject}' is {kind}").format(
                    subject=cond.subject, kind=kind), cond.loc)
        elif isinstance(cond, m.Within):
            kind = self._subject_type(cond.subject, cond.loc, fields)
            if kind is not None and kind.name != "date":
                self.error("E301", _("'within' needs a date; '{subject}' is {kind}").format(
                    subject=cond.subject, kind=kind), cond.loc)
            self._period(cond.period)
        elif isinstance(cond, m.Compare):
            self._compare(cond, fields)

    def _subject_type(self, path, loc, fields=None) -> t.Type | None:
        if fields is not None:
            head, *rest = path.split(".")
            kind = fields.get(head)
            for part in rest:
                kind = kind.fields.get(part) if kind is not None and kind.name == "record" else None
            if kind is None:
                self._unknown(path, loc, fields=fields)
            return kind
        kind = self.catalogue.resolve(path)
        if kind is None:
            self._unknown(path, loc)
        return kind

    def _compare(self, cond: m.Compare, fields):
        if cond.ratio_of:
            for part in cond.ratio_of:
                kind = self._subject_type(part, cond.loc, fields)
                if kind is not None and kind.name != "integer":
                    self.error("E301", _("a ratio divides integers; '{part}' is {kind}").format(
                        part=part, kind=kind), cond.loc)
            subject = t.FRACTION
        else:
            subject = self._subject_type(cond.subject, cond.loc, fields)
        if subject is None:
            return
        if subject.name in ("record", "records", "flags"):
            self.error("E301", _("'{subject}' is {subject2}; compare one of its fields").format(
                subject=cond.subject, subject2=subject), cond.loc)
            return
        if cond.op in ORDER_OPS and not subject.comparable_order:
            self.error("E304", _("'{word}' orders values, but '{subject}' is {subject2}").format(
                word=cond.word, subject=cond.subject, subject2=subject), cond.loc)
            return
        self._value(cond, subject, fields)

    def _value(self, cond: m.Compare, subject: t.Type, fields):
        value = cond.value
        if isinstance(value, m.RankOf):
            self._rank_of(value)
            if subject.name != "rank":
                self.error("E301", _("'{subject}' ({subject2}) is not a rank").format(
                    subject=cond.subject, subject2=subject), cond.loc)
            if fields is None:
                self.error("E103", _("a computed rank is a value inside 'where'; in a rule condition declare it as a derived quantity (rank:) and compare with {fact: NAME}"), value.loc)
            return
        if isinstance(value, m.FactRef):
            other = self._subject_type(value.path, value.loc)   # inside `where` too: a fact of the cadre
            if other is not None and _family(other) != _family(subject):
                self.error("E301", _("cannot compare '{subject}' ({subject2}) with '{path}' ({other})").format(
                    subject=cond.subject, subject2=subject, path=value.path, other=other),
                           cond.loc)
            return
        if isinstance(value, m.Period):
            if subject.name != "duration":
                self.error("E301", _("cannot compare '{subject}' ({subject2}) with a period of {unit}").format(
                    subject=cond.subject, subject2=subject, unit=value.unit),
                           cond.loc)
            self._period(value)
            return
        if isinstance(value, m.ParamRef):
            param = self._param_of(value, ())
            if param is None:
                return
            kind = PARAMETER_TYPES[param.kind]
            ok = {"fraction": subject.name == "fraction", "period": subject.name == "duration",
                  "integer": subject.name == "integer", "date": subject.name == "date",
                  "rank": subject.name == "rank", "table": False,       # a table: read through `lookup`
                  "text": subject.name in ("enum", "text")}[kind]
            if not ok:
                self.error("E301", _("cannot compare '{subject}' ({subject2}) with parameter '{name}' ({kind})").format(
                    subject=cond.subject, subject2=subject, name=param.name, kind=param.kind), cond.loc)
            elif kind == "text" and subject.values:
                for _start, raw in param.values:
                    for item in (raw if isinstance(raw, list) else [raw]):
                        self._member(item, subject, param.loc, cond.subject)
            return
        raw = value.raw
        if cond.op in ("in", "not_in"):
            if not isinstance(raw, list):
                self.error("E301", _("'{word}' needs a list of values").format(word=cond.word), cond.loc)
                return
            for item in raw:
                self._literal(item, subject, cond)
        else:
            if isinstance(raw, list):
                self.error("E301", _("'{word}' compares with one value; use 'in' for a list").format(
                    word=cond.word), cond.loc)
                return
            self._literal(raw, subject, cond)

    def _literal(self, raw, subject: t.Type, cond: m.Compare):
        natural = literal_type(raw)
        if natural == "fraction":
            try:
                parse_fraction(raw)
            except ValueError as error:     # 1/0, or more digits than an exact comparison allows
                self.error("E303", _("'{subject}': {error}").format(subject=cond.subject, error=error), cond.loc)
                return
        if subject.name in ("enum", "rank"):
            if not isinstance(raw, str):
                self.error("E301", _("cannot compare '{subject}' ({subject2}) with {raw} ({natural})").format(
                    subject=cond.subject, subject2=subject, raw=repr(raw), natural=t.type_word(natural)), cond.loc)
            else:
                self._member(raw, subject, cond.value.loc, cond.subject)
            return
        expected = {"integer": "integer", "boolean": "boolean", "fraction": "fraction", "date": "date",
                    "text": "text"}.get(subject.name)
        if subject.name == "fraction" and natural == "integer":
            return
        if subject.name == "text" and natural in ("date", "fraction"):
            return
        if expected != natural:
            self.error("E301", _("cannot compare '{subject}' ({subject2}) with {raw} ({natural})").format(
                subject=cond.subject, subject2=subject, raw=repr(raw), natural=t.type_word(natural)), cond.loc)

    def _member(self, raw, subject: t.Type, loc, path):
        if raw not in subject.values:
            self.error("E302", _("'{value}' is not a value of '{path}' ({values})").format(value=raw, path=path,
                                                                                 values=subject.values_text()), loc,
                       suggest(str(raw), subject.values))


#: Alternatives of one rule's condition in disjunctive normal form. durable_rules expands 'any'
#: inside 'all' into one alpha path each: 8,192 ran, 16,384 made it refuse the ruleset
#: (benchmarks/durable_limits.py); half the measured limit, checked for both engines alike.
MAX_DNF_TERMS = 4096


def dnf_terms(cond, negative: bool) -> int:
    """How many alternatives ``cond`` (or its negation) has in disjunctive normal form.

    A negated test counts two (absent, or the opposite test), as the compiler lowers it.
    """
    if isinstance(cond, (m.All, m.Any)):
        counts = [dnf_terms(item, negative) for item in cond.items]
        if isinstance(cond, m.All) != negative:
            product = 1
            for count in counts:
                product *= count
            return product
        return sum(counts)
    if isinstance(cond, m.Not):
        return dnf_terms(cond.item, not negative)
    if isinstance(cond, m.Compare) and cond.op == "in" and not negative and isinstance(
            getattr(cond.value, "raw", None), list):
        return max(1, len(cond.value.raw))
    return 2 if negative else 1


def _family(kind: t.Type) -> str:
    return "text" if kind.name in ("enum", "text") else kind.name


def check_policy_set(policy_set: m.PolicySet) -> list[Diagnostic]:
    """All name, type and semantic diagnostics of a loaded policy set."""
    return Checker(policy_set).check()


def check_condition(policy_set: m.PolicySet, cond) -> list[Diagnostic]:
    """Check one condition written outside the set (``policy eval``) as a rule's condition is checked."""
    checker = Checker(policy_set)
    checker._condition(cond)
    return checker.diagnostics
