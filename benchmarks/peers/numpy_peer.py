"""The three rules in plain numpy (what the columnar engine should be close to), and the whole
what-if job of the supervision drafts (``job``)."""
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


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


# ---- the whole job (benchmarks/peers/job.py): the supervision rules over the Arrow read ---------------

def _rows_of(table, ids):
    """Each row's cadre as an index into the sorted ``ids``."""
    return pc.index_in(table["cadre_id"], value_set=ids).to_numpy(zero_copy_only=False)


def _latest(owner, keep, *keys):
    """(cadres, rows): for each cadre, its kept row that sorts last by ``keys`` (most significant last)."""
    rows = np.flatnonzero(keep)
    order = rows[np.lexsort(tuple(k[rows] for k in keys) + (owner[rows],))]
    last = np.r_[owner[order][1:] != owner[order][:-1], True]
    return owner[order][last], order[last]


def _column(table, name):
    return table[name].to_numpy(zero_copy_only=False)


def _placed(n, cadres, values, fill):
    """A per-cadre column from the values of some cadres (``fill`` elsewhere)."""
    out = np.full(n, fill, dtype=values.dtype if fill is not None else object)
    out[cadres] = values
    return out


def job(tables, spec):
    from peers.job import RANKS, REVIEWED_KINDS
    day, start = np.datetime64(spec.as_of, "D"), np.datetime64(spec.cycle_start, "D")
    ids = tables["cadres"]["id"]
    n = len(ids)
    # the current post: held on the day; the highest rank, then the latest start, then the first listed
    posts = tables["posts"]
    owner = _rows_of(posts, ids)
    p_start, p_end = _column(posts, "start_date"), _column(posts, "end_date")
    rank = pc.index_in(posts["rank"], value_set=pa.array(RANKS)).to_numpy(zero_copy_only=False)
    who, row = _latest(owner, (p_start <= day) & (p_end >= day), -_column(posts, "seq"), p_start, rank)
    inside = _placed(n, who, pc.is_in(posts["unit_id"], value_set=pa.array(spec.region_units, pa.string()))
                     .to_numpy(zero_copy_only=False)[row], False)
    units = tables["units"]
    reviewed = pc.is_in(units["kind"], value_set=pa.array(REVIEWED_KINDS)).to_numpy(zero_copy_only=False)
    reviewed = reviewed[pc.index_in(posts["unit_id"], value_set=units["id"]).to_numpy(zero_copy_only=False)]
    post_start = _placed(n, who, p_start[row], np.datetime64("NaT"))
    due_base = ((_column(tables["cadres"], "management") == "county")
                & _placed(n, who, _column(posts, "principal")[row] == 1, False)
                & _placed(n, who, _column(posts, "leadership")[row] == 1, False)
                & _placed(n, who, reviewed[row], False) & (post_start < start))
    # the latest review and its latest 3- and 6-month checks
    reviews = tables["reviews"]
    r_owner, r_date = _rows_of(reviews, ids), _column(reviews, "date")
    who, row = _latest(r_owner, r_date <= day, _column(reviews, "seq"), r_date)
    review_date = _placed(n, who, r_date[row], np.datetime64("NaT"))
    review_seq = _placed(n, who, _column(reviews, "seq")[row], -1)
    total = _placed(n, who, _column(reviews, "total")[row], 0)
    dissatisfied = _placed(n, who, _column(reviews, "dissatisfied")[row], 0)
    checks = tables["rectifications"]
    c_owner, c_date = _rows_of(checks, ids), _column(checks, "date")
    c_stage, c_result = _column(checks, "stage"), _column(checks, "result")
    of_latest = (review_seq[c_owner] == _column(checks, "review_seq")) & (c_date <= day)
    stage = {}
    for name in ("three_month", "six_month"):
        who, row = _latest(c_owner, of_latest & (c_stage == name), c_date)
        stage[name] = _placed(n, who, c_result[row].astype(object), None)
    appraisals = tables["appraisals"]
    a_owner, a_date = _rows_of(appraisals, ids), _column(appraisals, "date")
    who, row = _latest(a_owner, a_date <= day, _column(appraisals, "seq"), a_date)
    appraisal = _placed(n, who, _column(appraisals, "grade")[row].astype(object), None)

    recent = review_date >= start                      # NaT compares False
    due_base &= ~recent
    votes = total > 0
    basic = appraisal == "basically_competent"

    def side(p):
        (ap, aq), (dp, dq) = p["admonish"], p["demote"]
        demote = votes & (dissatisfied * dq > total * dp)
        if not p["demote_ratio_only"]:
            demote = recent & (demote | (stage["six_month"] == "ineffective"))
        admonish = recent & ((votes & (dissatisfied * aq > total * ap)) | (stage["three_month"] == "ineffective"))
        return inside & ((admonish & ~demote) | basic), inside & demote, inside & due_base & p["due"]
    base, draft = side(spec.baseline), side(spec.draft)
    changed = np.flatnonzero(np.any([b != d for b, d in zip(base, draft)], axis=0))
    has_review = ~np.isnat(review_date[changed])

    def opt(values, mask):
        return pa.array(values, mask=~mask)
    return pa.table({
        "cadre": ids.take(pa.array(changed)),
        **{f"b_{k}": base[i][changed] for i, k in enumerate(("admonish", "demote", "due"))},
        **{f"d_{k}": draft[i][changed] for i, k in enumerate(("admonish", "demote", "due"))},
        "review_date": opt(review_date[changed], has_review), "total": opt(total[changed], has_review),
        "dissatisfied": opt(dissatisfied[changed], has_review),
        "three_month": stage["three_month"][changed], "six_month": stage["six_month"][changed],
        "appraisal": appraisal[changed],
        "post_start": opt(post_start[changed], ~np.isnat(post_start[changed])),
    })
