"""What-if: evaluate a draft against the whole population beside the policy set in force.

The parent process cuts the store into ranges of cadre ids and streams them to worker
processes (``whatif.parallel``). Each worker compiles both policy sets once, reads its
chunks in bulk, derives and encodes each cadre once per scenario (once for both when
the draft changes nothing derivation or encoding depends on), runs both engines and
compares outcomes cheaply from the firings. Only for a cadre whose findings or
eligibility differ does it assemble the full results and the reasons on both sides.
Only counts and those differences come back to the parent, which spools them to a
temporary file: memory is bounded by the chunk size, not the population.
"""
from __future__ import annotations

import json
import os
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from datetime import date

from cadre_policy.language import model as m
from cadre_policy.language.posts import current_post
from cadre_policy.language.walk import walk
from cadre_policy.run.evaluate import PolicyRunner, normalise_units
from cadre_policy.run.outcome import ELIGIBILITY_VALUES
from cadre_policy.explain.reasons import because
from cadre_policy.language.kleene import Evaluator
from cadre_policy.run.backends import closure_values
from cadre_policy.run.backends.python import holds
from cadre_policy.whatif.parallel import default_workers, run_tasks
from cadre_policy.compile import ir

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


def outcome_keys(outcome) -> list[str]:
    """Summary keys of one outcome summary: ``finding:CODE`` and ``promotion:ELIGIBILITY``."""
    codes, eligibility = outcome
    return [f"finding:{c}" for c in codes] + [f"{d}:{e}" for d, e in eligibility]


def derivation_key(pe: PolicyRunner) -> tuple:
    """What a cadre's derived scope depends on: the derived specs and the parameters they read."""
    names = {name for spec in pe.compiled.derived for root in (*spec.conditions(), spec.within)
             for node in walk(root) if isinstance(node, m.ParamRef) for name in node.candidates()}
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

    @property
    def store(self):
        if self._store is None:
            from cadre_policy.facts.store import FactStore
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
            out_b = base.decider.decide(firings_b.fired).summary
            out_d = out_b if firings_d is firings_b and self.same_decider else \
                draft.decider.decide(firings_d.fired).summary
            unit = current_unit(doc, self.job.as_of) or NO_UNIT
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
                "skipped": skipped}

    def _same_firings(self, fact: dict, firings) -> bool:
        """True when every differing test has the same value under both formulas (see differing_tests)."""
        asserted = firings.asserted
        for stratum, formula_b, formula_d in self.diffs:
            view = dict(fact, **{ir.CLOSURE: closure_values(stratum, asserted)}) if stratum.closure else fact
            if holds(formula_b, view, asserted) != holds(formula_d, view, asserted):
                return False
        return True

    # ---- reasons for one changed cadre ---------------------------------------------------
    def explain(self, doc, unit, units, side_b, side_d) -> dict:
        (scope_b, fact_b, firings_b, out_b), (scope_d, fact_d, firings_d, out_d) = side_b, side_d
        res_b = self.base.assemble(doc, scope_b, fact_b, firings_b)
        res_d = self.draft.assemble(doc, scope_d, fact_d, firings_d)
        ev_b = _evaluator(self.base, firings_b)
        ev_d = _evaluator(self.draft, firings_d)
        status_b = {f.rule.id: ("active" if f.status == "active" else f"superseded by {f.superseded_by}")
                    for f in res_b.findings}
        status_d = {f.rule.id: ("active" if f.status == "active" else f"superseded by {f.superseded_by}")
                    for f in res_d.findings}
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
            reqs_b = {r.rule.id: r for r in res_b.determinations.get(det, {}).get("requirements", [])}
            reqs_d = {r.rule.id: r for r in res_d.determinations.get(det, {}).get("requirements", [])}
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
        return {"cadre": doc.get("id", ""), "name": doc.get("name", ""), "unit": unit,
                "unit_name": (units.get(unit) or {}).get("name", unit),
                "baseline": {"findings": sorted(codes_b), **dict(out_b[1])},
                "draft": {"findings": sorted(codes_d), **dict(out_d[1])},
                "changes": items}


def _decides(requirement, eligibility: str | None) -> bool:
    """Whether a requirement's result is one that made its side's eligibility what it is."""
    if requirement is None:
        return False
    deciding = {"ineligible": {("unmet", "required")}, "pending": {("unknown", "required"), ("unknown", "normally")},
                "exception_required": {("unmet", "normally"), ("waived", "required"), ("waived", "normally")},
                "eligible": {("met", "required"), ("met", "normally")}}
    return (requirement.result, requirement.strength) in deciding.get(eligibility, set())


def _evaluator(pe: PolicyRunner, firings) -> Evaluator:
    return Evaluator(pe.catalogue.resolve, pe.compiled.parameters, pe.as_of, firings.asserted,
                     pe.policy_set.parameters)


def _pair(entries_b, entries_d) -> list[dict]:
    """Reasons as data: each comparison whose value, threshold or result differs between the sides.

    Each is ``{"kind": "comparison", "fact", "baseline": entry, "draft": entry}`` (an entry
    of :func:`~cadre_policy.explain.reasons.because`, None on a side without the rule), or
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


# ---- the run ------------------------------------------------------------------------------------
@dataclass
class WhatIfResult:
    """Counts and the spooled differences of one what-if run."""
    as_of: date
    cadres: int
    counts: tuple                      # (baseline Counter, draft Counter) of summary keys
    units: dict                        # unit id -> (Counter, Counter)
    unit_names: dict
    spool: str                         # path of a JSON-lines file of changed cadres
    changed: int
    near: Counter | None = None
    seconds: float = 0.0
    workers: int = 1
    engine: str = "durable"
    shared_facts: bool = False
    changed_by_unit: Counter = field(default_factory=Counter)
    near_margin: object = None
    skipped: int = 0                   # draft engine runs skipped by the proven shortcut
    structure: list | None = None      # team and population targets whose status changes (see structure_changes)

    def changes(self):
        """Iterate the changed cadres (from the spool file)."""
        for line in self.lines():
            yield json.loads(line)

    def lines(self):
        """Each changed cadre as the JSON line it is spooled as (no newline)."""
        with open(self.spool, encoding="utf-8") as spool:
            for line in spool:
                yield line.rstrip("\n")

    def close(self) -> None:
        try:
            os.remove(self.spool)
        except OSError:
            pass

    def summary_rows(self, counts: tuple | None = None) -> list[tuple[str, int, int, int]]:
        """(key, baseline, draft, difference) for every finding code and eligibility value seen."""
        base, draft = counts or self.counts
        keys = sorted(set(base) | set(draft), key=_key_order)
        return [(k, base.get(k, 0), draft.get(k, 0), draft.get(k, 0) - base.get(k, 0)) for k in keys]


def _key_order(key: str):
    kind, _, value = key.partition(":")
    if kind == "finding":
        return (0, value)
    return (1, kind, ELIGIBILITY_VALUES.index(value) if value in ELIGIBILITY_VALUES else 9, value)


class UnitCounts:
    """Counts by unit summed over partitions: a partition gives unit -> (Counter, Counter), or, from
    the columnar comparer, ``("table", units, (keys, matrix) per side)``: a unit x key matrix,
    added here with numpy so the Counters are built once, at the end, not once per partition."""

    def __init__(self):
        self.index: dict = {}                 # unit -> row
        self.sides = ({}, {})                 # key -> counts by row
        self.plain: dict = {}

    def add(self, part) -> None:
        if not (isinstance(part, tuple) and part and part[0] == "table"):
            for unit, (cb, cd) in part.items():
                mine = self.plain.setdefault(unit, (Counter(), Counter()))
                mine[0].update(cb)
                mine[1].update(cd)
            return
        import numpy as np
        _, names, sides = part
        rows = np.array([self.index.setdefault(name, len(self.index)) for name in names], dtype=np.int64)
        for totals, (keys, matrix) in zip(self.sides, sides):
            for j, key in enumerate(keys):
                total = totals.get(key)
                if total is None or len(total) < len(self.index):
                    grown = np.zeros(max(len(self.index), 2 * len(total) if total is not None else 0), np.int64)
                    if total is not None:
                        grown[:len(total)] = total
                    total = totals[key] = grown
                total[rows] += matrix[:, j]

    def counters(self) -> dict:
        """unit -> (baseline Counter, draft Counter)."""
        import numpy as np
        names = list(self.index)
        out = {name: (Counter(), Counter()) for name in names}
        for side, totals in enumerate(self.sides):
            for key, total in totals.items():
                for row in np.flatnonzero(total).tolist():
                    out[names[row]][side][key] = int(total[row])
        for unit, (cb, cd) in self.plain.items():
            mine = out.setdefault(unit, (Counter(), Counter()))
            mine[0].update(cb)
            mine[1].update(cd)
        return out


def run_whatif(job: Job, store, workers: int | None = None, chunk_size: int = 1000,
               progress=None, cluster: str | None = None) -> WhatIfResult:
    """Evaluate baseline and draft over the store; counts in memory, differences spooled.

    With ``cluster`` (a Dask scheduler address, or ``local`` for a LocalCluster of ``workers``
    processes) the partitions run on Dask (whatif/cluster.py); the result is the same.
    """
    import time
    started = time.perf_counter()
    workers = workers or default_workers()
    # compiled here with the python engine only to validate and to report whether facts are shared;
    # durable_rules rulesets are made in the workers
    base = PolicyRunner(job.baseline, job.as_of, "python", name="baseline")
    draft = PolicyRunner(job.draft, job.as_of, "python", overrides=job.draft_overrides, name="draft")
    shared = derivation_key(base) == derivation_key(draft) and base.compiled.fields == draft.compiled.fields
    total = store.count_cadres(job.unit, job.as_of)
    unit_names = {uid: u.get("name", uid) for uid, u in store.units().items()}
    if job.engine == "columnar" and job.unit is None and job.near is None:
        from cadre_policy.whatif.columnar import PARTITION
        # read in columns: large partitions, but at least one per worker
        chunk_size = max(chunk_size, min(PARTITION, -(-total // workers)))
    tasks = store.chunks(job.unit, job.as_of, chunk_size)
    if total <= chunk_size * 4:
        tasks = list(tasks)
    if workers > 1:
        store.engine.dispose()          # no pooled connection crosses the fork
    counts = (Counter(), Counter())
    units = UnitCounts()
    near = Counter() if job.near is not None else None
    changed = n = skipped = 0
    changed_by_unit: Counter = Counter()
    comparer = Comparer
    if job.engine == "columnar":
        from cadre_policy.whatif.columnar import ColumnarComparer as comparer
    if cluster:
        from cadre_policy.whatif.cluster import ClusterRunner
        runner = ClusterRunner(cluster, workers)
        chunks = runner.run(tasks, comparer, (job,))
    else:
        runner, chunks = None, run_tasks(tasks, comparer, (job,), workers)
    fd, spool = tempfile.mkstemp(prefix="whatif-", suffix=".jsonl")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            for chunk in chunks:
                n += chunk["n"]
                skipped += chunk["skipped"]
                counts[0].update(chunk["counts"][0])
                counts[1].update(chunk["counts"][1])
                units.add(chunk["units"])
                if near is not None:
                    near.update(chunk["near"])
                for unit, line in chunk["changes"]:
                    out.write(line + "\n")
                    changed += 1
                    changed_by_unit[unit] += 1
                if progress is not None:
                    progress(chunk["n"], total)
    except BaseException:       # a worker failed, Ctrl-C, SIGTERM: no spool file survives the run
        os.remove(spool)
        raise
    if runner is not None:
        workers = runner.workers
    return WhatIfResult(job.as_of, n, counts, units.counters(), unit_names, spool, changed, near,
                        time.perf_counter() - started, workers, job.engine, shared, changed_by_unit, job.near, skipped)


def structure_changes(baseline: m.PolicySet, draft: m.PolicySet, store, as_of: date, overrides: dict,
                      unit: str | None = None) -> list[dict] | None:
    """The group instances whose target status differs between baseline and draft (None: no targets).

    Aggregates are grouped queries in the store's database, run once per side.
    """
    from cadre_policy.aggregate import evaluate_structure, load_structure
    mine, theirs = load_structure(baseline), load_structure(draft)
    if not mine.rules and not theirs.rules:
        return None
    if (mine.groups, mine.rules, mine.used_parameters) == (theirs.groups, theirs.rules, theirs.used_parameters) \
            and not overrides and baseline.derived == draft.derived \
            and all(baseline.parameters.get(p) == draft.parameters.get(p) for p in mine.used_parameters):
        return []       # the same rules over the same parameters and facts: no group can change
    base = evaluate_structure(baseline, store, as_of, unit=unit, members_limit=0)
    new = evaluate_structure(draft, store, as_of, unit=unit, overrides=overrides, members_limit=0)
    labels = {(r.rule.id, r.key): (r.rule.title, r.label, r.rule.finding) for r in base.results + new.results}
    out = []
    for rule_id, key, mine, theirs in base.changes(new):
        if (mine[2] if mine else None) == (theirs[2] if theirs else None):
            continue   # same status: a figure or target text changed but not the outcome
        title, label, finding = labels[(rule_id, key)]
        out.append({"rule": rule_id, "title": title, "instance": key, "label": label, "finding": finding,
                    "baseline": dict(zip(("figure", "target", "status"), mine)) if mine else None,
                    "draft": dict(zip(("figure", "target", "status"), theirs)) if theirs else None})
    return out
