"""One what-if request, from a draft and ``--set`` changes to the JSON report: shared by the CLI and the server."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date

from cadre_policy.diagnostics import Diagnostic, PolicyRejected
from cadre_policy.errors import UserError
from cadre_policy.language.titles import titled
from cadre_policy.i18n import _
from cadre_policy.language import model as m
from cadre_policy.load.drafts import Draft, load_draft, parse_sets
from cadre_policy.whatif.run import Job, WhatIfResult, run_whatif, structure_changes


class WhatIfRequestError(UserError):
    """A what-if that cannot run as asked (a date outside the draft's force, an unknown unit)."""

    def __init__(self, message: str, field: str):
        super().__init__(message)
        self.field = field


@dataclass
class Prepared:
    """A what-if ready to run: the job, the draft as reported, its policy set and its warnings."""
    job: Job
    draft: Draft
    draft_set: m.PolicySet
    diagnostics: list[Diagnostic]
    structure_unit: str | None = None      # the unit whose team, region and city targets are compared


def prepare(baseline: m.PolicySet, store, db_url: str, *, draft_path=None, draft_display: str | None = None,
            sets=(), as_of: date | None = None, unit: str | None = None, engine: str = "durable",
            near=None, shortcut: bool = True, verify: bool = False, scope=None,
            scope_root: str | None = None, reach_cadres: bool = False, default_day: date | None = None) -> Prepared:
    """Load the draft against the baseline and check the request.

    ``reach_cadres`` lists the cadres of each transition of the reach (``whatif.reach``), not only
    their counts. ``scope`` (unit ids; the server's officer's units and those below) keeps the
    population to the cadres in those units on the day; ``unit`` must then be one of
    them. ``scope_root`` is the unit the structure targets are compared for. ``default_day`` (the
    store's default date) is the date when ``as_of`` is not given and the draft is in force on it;
    else the draft's first day.

    Raises:
        PolicyRejected: the draft has errors (every diagnostic attached).
        DraftError: a ``--set`` change names an unknown parameter or a value that does not fit.
        WhatIfRequestError: the date is outside the draft's force, or the unit is unknown.
    """
    diagnostics: list[Diagnostic] = []
    if draft_path is not None:
        draft_set, draft, diagnostics = load_draft(draft_path, baseline, draft_display)
        if draft_set is None:
            raise PolicyRejected(diagnostics, _("the draft {path} has errors; run `policy lint {path}`").format(
                path=draft_display or draft_path))
    else:
        draft_set = baseline
        draft = Draft("set", _("Parameter changes") + " " + " ".join(sets), _("(command line)"), None)
    if as_of is None and default_day is not None and (draft.in_force is None or draft.in_force.holds(default_day)):
        as_of = default_day
    day = as_of or (draft.in_force.start if draft.in_force else date.today())
    if draft.in_force and not draft.in_force.holds(day):
        span = (_("from {start} to {end}") if draft.in_force.end else _("from {start}")).format(
            start=draft.in_force.start, end=draft.in_force.end)
        raise WhatIfRequestError(_("the draft is in force {span}; --as-of {day} is outside it").format(
            span=span, day=day), "as_of")
    overrides, raws = parse_sets(draft_set, sets, day)
    baseline, draft_set = titled(baseline, day), titled(draft_set, day, overrides)   # titles follow parameters
    if raws:
        draft = dataclasses.replace(draft, sets=raws)
    if unit is not None and unit not in store.units():
        raise WhatIfRequestError(_("unknown unit id: {id}").format(id=unit), "unit")
    structure_unit = unit
    if scope is not None:
        scope = tuple(sorted(scope))
        if unit is not None and unit not in scope:
            raise WhatIfRequestError(_("the unit {id} is outside your units").format(id=unit), "unit")
        if unit is None:
            unit, structure_unit = scope, scope_root
    job = Job(db_url, day, engine, baseline, draft_set, overrides, unit, near, shortcut=shortcut,
              reach_cadres=reach_cadres)
    if verify:          # durable_rules re-runs every changed cadre, not a sample
        job = dataclasses.replace(job, verify=1.0)
    return Prepared(job, draft, draft_set, diagnostics, structure_unit)


def run(prepared: Prepared, store, workers: int | None = None, chunk_size: int = 1000,
        progress=None, cluster=None) -> WhatIfResult:
    """Run the what-if over the store (on a Dask ``cluster`` when given), structure targets included.

    Close the result after use.
    """
    job = prepared.job
    result = None
    try:
        with store.one_state():     # an import committing meanwhile: an error, never a torn mix
            result = run_whatif(job, store, workers, chunk_size, progress, cluster)
            scoped_without_root = not isinstance(job.unit, (str, type(None))) and prepared.structure_unit is None
            result.structure = None if scoped_without_root else structure_changes(
                job.baseline, prepared.draft_set, store, job.as_of, job.draft_overrides, prepared.structure_unit)
    except BaseException as error:
        if result is not None:
            result.close()          # no spool file left behind
        if isinstance(error, PolicyRejected):
            raise PolicyRejected(error.diagnostics, _("the draft cannot be compiled")) from None
        raise
    return result
