"""The reach of a draft: per requirement and per finding, the cadres whose result on it changes.

A draft's changed conclusions hide much of what it does: a cadre already ineligible for one
reason who now also fails a new age limit keeps the conclusion 不符合. The reach counts, for
each requirement code, every cadre whose result moves (met → unmet, unknown → met, not
applicable → unmet, …) and, for each finding code, every cadre for whom it appears or
disappears — whether or not the conclusion changes.

A transition is computed from two decided outcomes (``run.outcome.Outcome``): the columnar
what-if once per distinct pair of rows of firings, the per-cadre what-if once per cadre; so the
python, durable_rules and columnar engines give the same counts (tests/test_whatif_reach.py).
Its key is ``requirement:CODE:BEFORE:AFTER`` or ``finding:CODE:BEFORE:AFTER`` (``absent`` /
``active``); a partition's counts are ``{(key, conclusion changed): cadres}``, summed by the
parent over every partition however they ran (worker processes, a Dask cluster).
"""
from __future__ import annotations

import bisect
from collections import Counter

from cadre_policy.run.outcome import MET, UNKNOWN, UNMET, WAIVED

NONE = "not applicable"         # the requirement is not in force, or does not apply to the cadre
ABSENT, ACTIVE = "absent", "active"
# when several rules share a requirement code, the code's result is the first of these any has
_ORDER = (UNMET, UNKNOWN, WAIVED, MET)
#: cadres listed per transition in a report (all are counted)
LISTED = 1000


def requirement_results(outcome) -> dict:
    """Requirement code -> its result on the cadre (the worst over the rules of the code)."""
    out: dict = {}
    for _det, _rule_id, code, result, _by in outcome.requirements:
        known = out.get(code)
        if known is None or _ORDER.index(result) < _ORDER.index(known):
            out[code] = result
    return out


def transitions(before, after) -> tuple[str, ...]:
    """The keys of what moves between two outcomes of one cadre (``Outcome`` of each side)."""
    keys = []
    results_b, results_d = requirement_results(before), requirement_results(after)
    for code in sorted(set(results_b) | set(results_d)):
        was, now = results_b.get(code, NONE), results_d.get(code, NONE)
        if was != now:
            keys.append(f"requirement:{code}:{was}:{now}")
    codes_b, codes_d = before.summary[0], after.summary[0]
    for code in sorted(codes_b ^ codes_d):
        keys.append(f"finding:{code}:{ABSENT}:{ACTIVE}" if code in codes_d else f"finding:{code}:{ACTIVE}:{ABSENT}")
    return tuple(keys)


class Reach:
    """A partition's (or a whole run's) reach: counts per (transition, conclusion changed), and the cadres
    of each transition when asked for (``listing``: (cadre id, name, unit) each, at most ``LISTED`` a key)."""

    def __init__(self, listing: bool = False):
        self.counts: Counter = Counter()
        self.cadres: dict | None = {} if listing else None

    def add(self, keys: tuple, changed: bool, n: int = 1, who=()) -> None:
        """``n`` cadres moving on each of ``keys``; ``who`` lists them (an iterable of (id, name, unit))."""
        for key in keys:
            self.counts[(key, changed)] += n
        if self.cadres is not None and keys:
            who = list(who)
            for key in keys:
                self._list(key, who)

    def merge(self, other: "Reach | None") -> None:
        """Add a partition's reach."""
        if other is None:
            return
        self.counts.update(other.counts)
        if self.cadres is not None and other.cadres:
            for key, who in other.cadres.items():
                self._list(key, who)

    def _list(self, key: str, who) -> None:
        """Keep the ``LISTED`` first cadres by id of a transition, whatever order they came in."""
        mine = self.cadres.setdefault(key, [])
        for cadre in who:
            cadre = tuple(cadre)
            if len(mine) >= LISTED and cadre >= mine[-1]:
                continue
            bisect.insort(mine, cadre)
            if len(mine) > LISTED:
                mine.pop()

    def totals(self) -> Counter:
        """Cadres per transition key, whatever became of their conclusion."""
        out: Counter = Counter()
        for (key, _changed), n in self.counts.items():
            out[key] += n
        return out

    def rows(self) -> list[dict]:
        """One row per transition: kind, code, before, after, cadres, of which conclusion unchanged;
        newly unmet / newly found first, then the rest, each by code."""
        totals = self.totals()
        same = Counter({key: n for (key, changed), n in self.counts.items() if not changed})
        out = []
        for key, n in totals.items():
            kind, code, before, after = key.split(":")
            out.append({"key": key, "kind": kind, "code": code, "before": before, "after": after, "cadres": n,
                        "conclusion_unchanged": same.get(key, 0)})
        return sorted(out, key=lambda r: (_rank(r), r["kind"] != "requirement", r["code"], r["before"], r["after"]))

    def headline(self) -> list[tuple[str, str, int]]:
        """(kind of change, code, cadres) for what a summary states: per requirement code the cadres newly
        failing it and those no longer failing it; per finding code those it newly finds and those it no
        longer finds."""
        lines: Counter = Counter()
        for key, n in self.totals().items():
            kind, code, before, after = key.split(":")
            if kind == "requirement" and UNMET in (before, after):
                lines[("newly_unmet" if after == UNMET else "no_longer_unmet", code)] += n
            elif kind == "finding":
                lines[("newly_found" if after == ACTIVE else "no_longer_found", code)] += n
        order = ("newly_unmet", "newly_found", "no_longer_unmet", "no_longer_found")
        return sorted(((what, code, n) for (what, code), n in lines.items()),
                      key=lambda r: (order.index(r[0]), -r[2], r[1]))


def _rank(row: dict) -> int:
    if row["after"] in (UNMET, ACTIVE):
        return 0
    if row["before"] in (UNMET, ACTIVE):
        return 1
    return 2
