"""The three rules as one polars expression per output (lazy, over a DataFrame), and the whole
what-if job of the supervision drafts (``job``)."""
import polars as pl


def prepare(cols):
    data = {}
    for path, (values, mask) in cols.items():
        series = pl.Series(path, values.tolist() if values.dtype == object else values)
        data[path] = pl.select(pl.when(pl.Series(mask)).then(series).otherwise(None)).to_series()
    return pl.DataFrame(data)


def evaluate(frame, p):
    d, t = pl.col("latest_review.dissatisfied"), pl.col("latest_review.total")
    votes = d.is_not_null() & t.is_not_null() & (t > 0)
    rank, months = pl.col("promotion.target_rank"), pl.col("grassroots_experience")
    applies = rank.is_not_null() & (rank >= p["county_deputy"])
    day = pl.col("latest_basic_appraisal.date")
    out = frame.select(
        admonish=(votes & (d * p["admonish_q"] > t * p["admonish_p"])).fill_null(False)
        | (pl.col("three_month_check.result") == "ineffective").fill_null(False),
        demote=(votes & (d * p["demote_q"] > t * p["demote_p"])).fill_null(False)
        | (pl.col("six_month_check.result") == "ineffective").fill_null(False),
        bar=((day >= p["bar_from"]) & (day <= p["bar_to"])).fill_null(False),
        grassroots_applies=applies.fill_null(False),
        grassroots_met=(months >= p["two_years"]).fill_null(False),
        grassroots_unmet=(months < p["two_years"]).fill_null(False),
    )
    return {name: out[name].to_numpy() for name in out.columns}


# ---- the whole job (benchmarks/peers/job.py): the supervision rules over the Arrow read ---------------

def _latest(frame, by):
    """Each cadre's row that sorts last by ``by``."""
    return frame.sort(["cadre_id", *by]).group_by("cadre_id", maintain_order=True).last()


def _side(p, recent, votes, d, t):
    (ap, aq), (dp, dq) = p["admonish"], p["demote"]
    demote = (votes & (d * dq > t * dp)).fill_null(False)
    if not p["demote_ratio_only"]:
        demote = recent & (demote | (pl.col("six_month") == "ineffective").fill_null(False))
    admonish = recent & ((votes & (d * aq > t * ap)).fill_null(False)
                         | (pl.col("three_month") == "ineffective").fill_null(False))
    inside = pl.col("inside")
    return (inside & ((admonish & ~demote) | (pl.col("appraisal") == "basically_competent").fill_null(False)),
            inside & demote, inside & pl.col("due_base") & p["due"])


def job(tables, spec):
    from peers.job import RANKS, REVIEWED_KINDS
    frames = {name: pl.from_arrow(table) for name, table in tables.items()}
    day, start = spec.as_of, spec.cycle_start
    ranks = pl.DataFrame({"rank": list(RANKS), "rank_n": list(range(len(RANKS)))})
    current = _latest(frames["posts"].filter((pl.col("start_date") <= day) & (pl.col("end_date") >= day))
                      .join(ranks, on="rank").with_columns(first=-pl.col("seq")), ["rank_n", "start_date", "first"])
    review = _latest(frames["reviews"].filter(pl.col("date") <= day), ["date", "seq"])
    checks = (frames["rectifications"].filter(pl.col("date") <= day)
              .join(review.select("cadre_id", review_seq="seq"), on=["cadre_id", "review_seq"]))
    appraisal = _latest(frames["appraisals"].filter(pl.col("date") <= day), ["date", "seq"])
    units = frames["units"].select(unit_id="id", kind="kind")
    facts = (frames["cadres"].rename({"id": "cadre_id"})
             .join(current.select("cadre_id", "unit_id", "principal", "leadership", post_start="start_date"),
                   on="cadre_id", how="left")
             .join(units, on="unit_id", how="left")
             .join(review.select("cadre_id", review_date="date", total="total", dissatisfied="dissatisfied"),
                   on="cadre_id", how="left")
             .join(_latest(checks.filter(pl.col("stage") == "three_month"), ["date"])
                   .select("cadre_id", three_month="result"), on="cadre_id", how="left")
             .join(_latest(checks.filter(pl.col("stage") == "six_month"), ["date"])
                   .select("cadre_id", six_month="result"), on="cadre_id", how="left")
             .join(appraisal.select("cadre_id", appraisal="grade"), on="cadre_id", how="left"))
    recent = (pl.col("review_date") >= start).fill_null(False)
    facts = facts.with_columns(
        inside=pl.col("unit_id").is_in(list(spec.region_units)).fill_null(False),
        due_base=((pl.col("management") == "county") & (pl.col("principal") == 1) & (pl.col("leadership") == 1)
                  & pl.col("kind").is_in(list(REVIEWED_KINDS)) & (pl.col("post_start") < start)).fill_null(False)
        & ~recent)
    d, t = pl.col("dissatisfied"), pl.col("total")
    votes = t > 0
    names = ("admonish", "demote", "due")
    sides = facts.with_columns(
        **{f"b_{k}": e for k, e in zip(names, _side(spec.baseline, recent, votes, d, t))},
        **{f"d_{k}": e for k, e in zip(names, _side(spec.draft, recent, votes, d, t))})
    changed = sides.filter(pl.any_horizontal([pl.col(f"b_{k}") != pl.col(f"d_{k}") for k in names]))
    return changed.select(cadre="cadre_id", **{c: c for c in (*(f"b_{k}" for k in names), *(f"d_{k}" for k in names),
                                                             "review_date", "total", "dissatisfied", "three_month",
                                                             "six_month", "appraisal", "post_start")}).to_arrow()
