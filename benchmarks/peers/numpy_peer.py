"""The three rules in plain numpy (what the columnar engine should be close to)."""
import numpy as np


def evaluate(cols, p):
    d, d_ok = cols["latest_review.dissatisfied"]
    t, t_ok = cols["latest_review.total"]
    votes = d_ok & t_ok & (t > 0)
    three, three_ok = cols["three_month_check.result"]
    six, six_ok = cols["six_month_check.result"]
    admonish = (votes & (d * p["admonish_q"] > t * p["admonish_p"])) | (three_ok & (three == "ineffective"))
    demote = (votes & (d * p["demote_q"] > t * p["demote_p"])) | (six_ok & (six == "ineffective"))
    day, day_ok = cols["latest_basic_appraisal.date"]
    bar = day_ok & (day >= p["bar_from"]) & (day <= p["bar_to"])
    rank, rank_ok = cols["promotion.target_rank"]
    months, months_ok = cols["grassroots_experience"]
    applies = rank_ok & (rank >= p["county_deputy"])
    return {"admonish": admonish, "demote": demote, "bar": bar, "grassroots_applies": applies,
            "grassroots_met": months_ok & (months >= p["two_years"]),
            "grassroots_unmet": months_ok & (months < p["two_years"])}


def prepare(cols):
    """numpy compares strings fastest as fixed-width unicode."""
    out = dict(cols)
    for path in ("three_month_check.result", "six_month_check.result"):
        values, mask = cols[path]
        out[path] = (np.where(mask, values, "").astype("U16"), mask)
    return out
