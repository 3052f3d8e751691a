"""The three rules as OpenFisca variables (vectorised formulas over one entity, the cadre)."""
import numpy as np
from openfisca_core.entities import build_entity
from openfisca_core.periods import YEAR
from openfisca_core.simulations import SimulationBuilder
from openfisca_core.taxbenefitsystems import TaxBenefitSystem
from openfisca_core.variables import Variable

Cadre = build_entity(key="cadre", plural="cadres", label="cadre", is_person=True)
INPUTS = {"dissatisfied": int, "total": int, "votes_known": bool, "three_ineffective": bool,
          "six_ineffective": bool, "bar_day": int, "bar_known": bool, "target_rank": int, "rank_known": bool,
          "months": int, "months_known": bool}
P: dict = {}
PERIOD = "2017"


def _input(name, kind):
    return type(name, (Variable,), {"value_type": kind, "entity": Cadre, "definition_period": YEAR,
                                   "label": name})


def _formula(name, body):
    def formula(cadre, period):
        return body(cadre, period)
    return type(name, (Variable,), {"value_type": bool, "entity": Cadre, "definition_period": YEAR,
                                   "label": name, "formula": formula})


def _votes(c, period):
    return c("votes_known", period) * (c("total", period) > 0)


OUTPUTS = {
    "admonish": lambda c, t: (_votes(c, t) * (c("dissatisfied", t) * P["admonish_q"] > c("total", t) * P["admonish_p"]))
    + c("three_ineffective", t),
    "demote": lambda c, t: (_votes(c, t) * (c("dissatisfied", t) * P["demote_q"] > c("total", t) * P["demote_p"]))
    + c("six_ineffective", t),
    "bar": lambda c, t: c("bar_known", t) * (c("bar_day", t) >= P["bar_from"]) * (c("bar_day", t) <= P["bar_to"]),
    "grassroots_applies": lambda c, t: c("rank_known", t) * (c("target_rank", t) >= P["county_deputy"]),
    "grassroots_met": lambda c, t: c("months_known", t) * (c("months", t) >= P["two_years"]),
    "grassroots_unmet": lambda c, t: c("months_known", t) * (c("months", t) < P["two_years"]),
}


def system():
    tbs = TaxBenefitSystem([Cadre])
    for name, kind in INPUTS.items():
        tbs.add_variable(_input(name, kind))
    for name, body in OUTPUTS.items():
        tbs.add_variable(_formula(name, body))
    return tbs


def prepare(cols):
    """The inputs as OpenFisca variables, and the tax-benefit system (built once, outside the timing)."""
    d, d_ok = cols["latest_review.dissatisfied"]
    t, t_ok = cols["latest_review.total"]
    three, three_ok = cols["three_month_check.result"]
    six, six_ok = cols["six_month_check.result"]
    day, day_ok = cols["latest_basic_appraisal.date"]
    rank, rank_ok = cols["promotion.target_rank"]
    months, months_ok = cols["grassroots_experience"]
    return system(), {"dissatisfied": d, "total": t, "votes_known": d_ok & t_ok,
            "three_ineffective": three_ok & (three == "ineffective"), "six_ineffective": six_ok & (six == "ineffective"),
            "bar_day": day, "bar_known": day_ok, "target_rank": rank, "rank_known": rank_ok, "months": months,
            "months_known": months_ok}


def evaluate(prepared, p):
    """A fresh simulation (its results are memoised) with the inputs set, and the six outputs calculated."""
    tbs, inputs = prepared
    P.update(p)
    builder = SimulationBuilder()
    builder.create_entities(tbs)
    builder.declare_person_entity("cadre", np.arange(len(inputs["total"])).astype(str))
    simulation = builder.build(tbs)
    for name, values in inputs.items():
        simulation.set_input(name, PERIOD, values)
    return {name: np.asarray(simulation.calculate(name, PERIOD), dtype=bool) for name in OUTPUTS}
