"""The three rules as one polars expression per output (lazy, over a DataFrame)."""
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
