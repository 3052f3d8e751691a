"""Derive a cadre's facts as of a date: the one place records become rule inputs.

The input is a canonical cadre document (the import format, with ``datetime.date``
values) and the units by id. The output is a *scope*: a dict of Python values by
fact name (records as dicts, durations encoded as months * 32 + days, ratios as
``Ratio``), holding only records dated on or before the evaluation date.
"""
from __future__ import annotations

from bisect import bisect_right
from datetime import date, timedelta
from functools import partial

from cadre_policy.language import model as m
from cadre_policy.language import periods
from cadre_policy.language import types as t
from cadre_policy.language.kleene import Evaluator, Ratio, compile_predicate, lookup, rank_of
from cadre_policy.language.parameters import months, name_of
from cadre_policy.language.values import parse_parameter
from cadre_policy.language.walk import walk
from cadre_policy.language.posts import covers, current_post
from cadre_policy.record.canonical import highest_education



def _unit(units: dict, unit_id):
    unit = units.get(unit_id)
    if unit is None:
        return {"id": unit_id} if unit_id else None
    return unit


def _posts(doc: dict, units: dict, as_of: date) -> list[dict]:
    posts = []
    highest = -1
    previous_unit = None
    for raw in doc.get("posts", ()):
        if raw["start"] > as_of:
            continue
        post = dict(raw)
        rank = t.rank_index(post.get("rank"))
        post["promotion"] = highest >= 0 and rank > highest
        if previous_unit is not None:
            post["previous_unit"] = previous_unit
        highest = max(highest, rank)
        previous_unit = raw.get("unit")
        post["unit"] = _unit(units, raw.get("unit"))
        if covers(raw, as_of):
            post.pop("end", None)       # still held on the evaluation date
        posts.append(post)
    return posts


def rank_held(posts, day: date) -> str | None:
    """The highest rank among the posts held on ``day`` (None when none is held)."""
    ranks = [p.get("rank") for p in posts if covers(p, day)]
    return max(ranks, key=t.rank_index) if ranks else None


def _with_rank_held(sanction: dict, posts) -> dict:
    """A sanction with ``rank``: the highest rank held on its date (原任职务), absent when none was held."""
    rank = rank_held(posts, sanction["date"])
    return sanction if rank is None else dict(sanction, rank=rank)


def _dated(records, kind: str, as_of: date) -> list[dict]:
    field = t.RECORD_DATE[kind]
    return [r for r in records if r.get(field) is not None and r[field] <= as_of]


def base_scope(doc: dict, units: dict, as_of: date) -> dict:
    """The built-in facts and the record lists of one cadre on ``as_of``."""
    cadre = {k: v for k, v in doc.items() if not isinstance(v, (list, dict))}
    if doc.get("birth_date"):
        cadre["age"] = periods.completed_years(doc["birth_date"], as_of)
    scope: dict = {"cadre": cadre, "as_of": as_of}
    recruitment = doc.get("recruitment")
    if recruitment and recruitment.get("date") and recruitment["date"] <= as_of:
        scope["recruitment"] = dict(recruitment, unit=_unit(units, recruitment.get("unit")))
    scope["posts"] = _posts(doc, units, as_of)
    appraisals = [a if a.get("date") else dict(a, date=date(a["year"], 12, 31)) for a in doc.get("appraisals", ())]
    scope["appraisals"] = [a for a in appraisals if a["date"] <= as_of]
    reviews = []
    for review in _dated(doc.get("reviews", ()), "review", as_of):
        checks = review.get("rectification", ())
        dated = _dated(checks, "rectification", as_of)
        # copy a review only when the evaluation date hides some of its checks
        reviews.append(review if len(dated) == len(checks) and "rectification" in review
                       else dict(review, rectification=dated))
    scope["reviews"] = reviews
    for name, kind in (("polls", "poll"), ("opinions", "opinion"), ("assessments", "assessment"),
                       ("educations", "education")):
        scope[name] = _dated(doc.get(name, ()), kind, as_of)
    scope["sanctions"] = [_with_rank_held(s, doc.get("posts", ())) for s in _dated(doc.get("sanctions", ()),
                                                                                   "sanction", as_of)]
    full_time = highest_education(scope["educations"], "full_time")
    if full_time is not None:
        cadre["full_time_education"] = full_time
    scope["nominations"] = [dict(n, target_unit=_unit(units, n.get("target_unit")),
                                 exceptional=bool(n.get("exceptional")))     # 破格: false unless the record says so
                            for n in _dated(doc.get("nominations", ()), "nomination", as_of)]
    current = current_post(scope["posts"], as_of)
    latest = scope["nominations"][-1:]          # a later nomination replaces an earlier one
    open_nominations = [n for n in latest if not _fulfilled(n, scope["posts"])]
    promotion = {"nominated": bool(open_nominations)}
    if open_nominations:
        nomination = open_nominations[-1]
        scope["nomination"] = nomination
        promotion["target_rank"] = nomination.get("target_rank")
        if nomination.get("target_unit"):
            promotion["target_unit"] = nomination["target_unit"]
    elif current is not None and current.get("rank") in t.NEXT_RANK:
        promotion["target_rank"] = t.NEXT_RANK[current["rank"]]
    scope["promotion"] = {k: v for k, v in promotion.items() if v is not None}
    place = {}
    if current is not None and current.get("unit"):
        place["unit"] = place["promotion_unit"] = current["unit"]
    if promotion.get("target_unit"):
        place["promotion_unit"] = promotion["target_unit"]
    scope["place"] = place
    return scope


def _fulfilled(nomination: dict, posts: list[dict]) -> bool:
    """Whether a post at or above the nomination's target rank started on or after its date (the
    posts are those started by the evaluation date): a lateral move does not close a nomination."""
    target = t.rank_index(nomination.get("target_rank"))
    return target >= 0 and any(p["start"] >= nomination["date"] and t.rank_index(p.get("rank")) >= target
                               for p in posts)


def _merged_duration(posts: list[dict], on: date) -> int:
    """Cumulative time in posts, overlaps counted once, laid end to end from the first start."""
    # ``end`` is the last day held, counted whole: the range runs to the next day
    ranges = sorted((p["start"], min(p["end"] + timedelta(days=1) if p.get("end") else on, on))
                    for p in posts if p["start"] <= on)
    ranges = [(s, e) for s, e in ranges if e > s]
    if not ranges:
        return 0
    total = 0
    cur_start, cur_end = ranges[0]
    for start, end in ranges[1:]:
        if start <= cur_end:
            cur_end = max(cur_end, end)
        else:
            total += (cur_end - cur_start).days
            cur_start, cur_end = start, end
    total += (cur_end - cur_start).days
    first = ranges[0][0]
    return periods.encode_duration(first, first + timedelta(days=total))


class Deriver:
    """Computes the derived quantities of a compiled policy set for one cadre."""

    def __init__(self, specs: list[m.Derived], catalogue, params: dict, param_specs: dict, as_of: date,
                 overrides: dict | None = None):
        self.specs = specs
        self.overrides = overrides or {}      # --set values: in force on every date
        self.catalogue = catalogue
        self.as_of = as_of
        self.params = params
        self.param_specs = param_specs
        self._filters = {}
        self.record_evaluators = {}   # spec name -> the Evaluator its `where` was compiled with
        self.date_fields = {}      # the field that dates each spec's records
        self.window_starts = {}    # the first day of each spec's `within` window
        for spec in specs:
            source = catalogue.resolve(spec.source) if isinstance(spec.source, str) else None
            self.date_fields[spec.name] = t.RECORD_DATE.get(source.record if source else "", "date")
            if spec.within is not None and keyed_period(spec.within):
                # per record: the first day of the window of each entry of the table parameter
                table = table_of(spec.within.amount, params) or {}
                scale = 12 if spec.within.unit == "years" else 1
                self.window_starts[spec.name] = {key: periods.window_start(as_of, value * scale)
                                                 for key, value in table.items()}
            elif spec.within is not None:
                self.window_starts[spec.name] = periods.window_start(as_of, months(spec.within, params) or 0)
            if spec.where is not None:
                fields = catalogue.record_fields(spec.source) or {}
                evaluator = Evaluator(lambda path, fields=fields: _field_type(fields, path), params, as_of,
                                      param_specs=param_specs, fact_type=catalogue.resolve)
                self._filters[spec.name] = compile_predicate(spec.where, evaluator)
                self.record_evaluators[spec.name] = evaluator

        self._per_record = {spec.name for spec in specs if spec.form in ("some", "every")}
        self._steps = [(spec.name, self._step(spec)) for spec in specs]
        self._on_date: dict = {}   # (spec name, date) -> Deriver of what `satisfies` reads on that date
        # the parameters' dates of change: the values in force on a day depend only on how many
        # of them fall on or before it, so they are worked out once per such count
        self._changes = sorted({start for spec in param_specs.values() for start, _value in spec.values})
        self._params_on: dict = {}  # that count -> the parameter values in force

    def scope(self, doc: dict, units: dict) -> dict:
        """Every fact of one cadre on the evaluation date, derived quantities included."""
        scope = base_scope(doc, units, self.as_of)
        return self._derive(scope, doc, units)

    def _derive(self, scope: dict, doc: dict, units: dict) -> dict:
        for name, step in self._steps:
            value = step(scope, doc, units) if name in self._per_record else step(scope)
            if value is not None:
                scope[name] = value
        return scope

    def _step(self, spec: m.Derived):
        """A function computing one derived quantity from the scope, prepared once per compiled set."""
        as_of, form = self.as_of, spec.form
        if form in ("elapsed", "age"):
            measure = periods.encode_duration if form == "elapsed" else periods.completed_years
            sources = spec.source if isinstance(spec.source, tuple) else (spec.source,)
            at = spec.at

            def since_date(scope):
                start = next((d for d in (lookup(scope, s) for s in sources) if d is not None), None)
                end = lookup(scope, at) if at else as_of
                return measure(start, end) if start and end and start <= end <= as_of else None
            return since_date
        if form == "rank":
            ref = spec.rank
            return lambda scope: rank_of(ref, scope)
        if form == "year":
            sources = spec.source if isinstance(spec.source, tuple) else (spec.source,)

            def year(scope):
                day = next((d for d in (lookup(scope, s) for s in sources) if d is not None), None)
                return day.year if day is not None else None
            return year
        if form in m.ARITHMETIC:
            operate, operands = m.ARITHMETIC[form], spec.operands

            def arithmetic(scope):
                values = [lookup(scope, x) if isinstance(x, str) else x for x in operands]
                return None if None in values else operate(*values)
            return arithmetic
        if form == "lookup":
            table = table_of(spec.param, self.params)
            key_path = spec.source

            def entry(scope):
                key = lookup(scope, key_path)
                return None if key is None or table is None else table.get(entry_key(key))
            return entry
        if form == "steps":
            low, high = spec.source
            return lambda scope: t.rank_steps(lookup(scope, low), lookup(scope, high))
        if form == "ratio":
            numerator, denominator = spec.source

            def ratio(scope):
                n, d = lookup(scope, numerator), lookup(scope, denominator)
                return Ratio(n, d) if n is not None and d else None
            return ratio
        records_of = self._records_of(spec)
        field = self.date_fields[spec.name]
        if form == "latest":
            def latest(scope):
                best = None
                for record in records_of(scope) or ():
                    day = record.get(field)
                    if day is not None and (best is None or day >= best[field]):
                        best = record
                return best
            return latest
        if form == "first":
            def first(scope):
                dated = [r for r in records_of(scope) or () if r.get(field) is not None]
                return min(dated, key=lambda r: r[field]) if dated else None
            return first
        if form in ("some", "every"):
            return partial(self._quantified, spec, records_of, field)
        if form == "consecutive":
            return partial(self._consecutive, spec, self._filters.get(spec.name))
        if form == "current":
            return lambda scope: (lambda records: None if records is None else current_post(records, as_of))(
                records_of(scope))
        if form == "duration":
            at = spec.at

            def duration(scope):
                records = records_of(scope)
                on = lookup(scope, at) if at else as_of
                if records is None or on is None or not scope.get("posts"):
                    return None
                return _merged_duration(records, min(on, as_of))
            return duration
        return partial(self._count, spec, records_of, field)

    def _records_of(self, spec: m.Derived):
        source = spec.source
        matches = self._filters.get(spec.name)

        def records_of(scope):
            records = scope[source] if source in scope else lookup(scope, source)
            if records is None or matches is None:
                return records
            # a record whose filter is unknown (a field missing) is not counted as matching
            return [r for r in records if matches(r, scope) is True]
        return records_of

    def _quantified(self, spec: m.Derived, records_of, field: str, scope: dict, doc: dict, units: dict):
        """some: the earliest matching record whose date satisfies the condition (a record, or None
        when none does); every: True / False / None (unknown) over the matching records."""
        results = []
        for record in sorted((r for r in records_of(scope) or () if r.get(field) is not None),
                             key=lambda r: r[field]):
            result = self._holds_on(spec, record[field], doc, units)
            if spec.form == "some" and result is True:
                return record
            results.append(result)
        if spec.form == "some":
            return None
        return False if False in results else (None if None in results else True)

    def _holds_on(self, spec: m.Derived, day: date, doc: dict, units: dict):
        """Whether ``spec.satisfies`` holds with the cadre's facts derived as of ``day``."""
        key = (spec.name, day)
        deriver = self._on_date.get(key)
        if deriver is None:
            if len(self._on_date) > 4096:
                self._on_date.clear()
            names = derived_closure(spec.satisfies, self.catalogue.derived)
            specs = [s for s in self.specs if s.name in names]
            deriver = self._on_date[key] = Deriver(specs, self.catalogue, self.params, self.param_specs, day)
        scope = deriver.scope(doc, units)
        evaluator = Evaluator(self.catalogue.resolve, self.params_on(day), day, param_specs=self.param_specs)
        return evaluator.holds(spec.satisfies, scope)

    def params_on(self, day: date) -> dict:
        """The parameter values in force on ``day`` (a record's own date, for ``satisfies``), as OpenFisca
        reads a parameter at the instant of the period: an audit of a 2015 promotion applies the rule of
        2015, not a later draft's. Overrides (``--set``) hold on every date; a parameter with no value
        yet on ``day`` keeps the evaluation date's."""
        epoch = bisect_right(self._changes, day)
        found = self._params_on.get(epoch)
        if found is None:
            found = dict(self.params)
            for name, spec in self.param_specs.items():
                if name not in self.overrides:
                    value = parse_parameter(spec.kind, spec.raw_on(day))
                    if value is not None:
                        found[name] = value
            self._params_on[epoch] = found
        return found

    def _consecutive(self, spec: m.Derived, matches, scope: dict):
        """The record of the latest ``by`` value on record when it and the ``n - 1`` values before it,
        one after another, each have a record matching ``where``; None otherwise (a gap breaks the run)."""
        records = scope[spec.source] if spec.source in scope else lookup(scope, spec.source)
        numbered = [r for r in records or () if isinstance(r.get(spec.by), int)]
        if not numbered:
            return None
        last = max(r[spec.by] for r in numbered)
        held = {}
        for record in numbered:
            if matches is None or matches(record, scope) is True:
                held.setdefault(record[spec.by], record)
        for value in range(last, last - spec.n, -1):
            if value not in held:
                return None
        return held[last]

    def _count(self, spec: m.Derived, records_of, field: str, scope: dict) -> int | None:
        records = records_of(scope)
        if records is None or (spec.source == "posts" and not scope.get("posts")):
            return None      # no post on record: the career is unknown, as for durations
        if spec.within is not None and keyed_period(spec.within):
            starts, key = self.window_starts[spec.name], spec.within.amount.key
            records = [r for r in records if r.get(field) is not None and entry_key(lookup(r, key)) in starts
                       and r[field] >= starts[entry_key(lookup(r, key))]]
        elif spec.within is not None:
            start = self.window_starts[spec.name]
            records = [r for r in records if r.get(field) is not None and r[field] >= start]
        if spec.since:
            since = lookup(scope, spec.since)
            if since is None:
                return None
            records = [r for r in records if r.get(field) is not None and r[field] >= since]
        if spec.distinct:
            keys = {tuple(lookup(r, f) for f in spec.distinct) for r in records}
            return len({k for k in keys if None not in k})
        return len(records)


def keyed_period(period: m.Period) -> bool:
    """A period read per record from a table parameter (``{months: {param: NAME, key: FIELD}}``)."""
    return isinstance(period.amount, m.ParamRef) and period.amount.key is not None


def table_of(ref: m.ParamRef, params: dict) -> dict | None:
    """A table parameter's entries on the evaluation date (None when it has none then)."""
    name = name_of(ref, params)
    value = params.get(name) if name else None
    return value if isinstance(value, dict) else None


def entry_key(value) -> str | None:
    """The entry a value names in a table (keys are text: ``section``, ``party_probation``, ``2``)."""
    return None if value is None else str(value)


def params_read(spec: m.Derived) -> set[str]:
    """The parameters a derived quantity reads itself (its conditions, its window, its table)."""
    return {name for root in (*spec.conditions(), spec.within, spec.param)
            for node in walk(root) if isinstance(node, m.ParamRef) for name in node.candidates()}


def derived_closure(cond, derived: dict) -> set[str]:
    """The derived quantities a condition reads, with those they read in turn."""
    names: set[str] = set()
    todo = [p.split(".")[0] for p in m.condition_facts(cond)]
    while todo:
        name = todo.pop()
        if name in names or name not in derived:
            continue
        names.add(name)
        spec = derived[name]
        todo += [p.split(".")[0] for p in spec.references()]
    return names


def _field_type(fields: dict, path: str):
    head, *rest = path.split(".")
    kind = fields.get(head)
    for part in rest:
        kind = kind.fields.get(part) if kind is not None and kind.name == "record" else None
    return kind
