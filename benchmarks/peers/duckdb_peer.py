"""The supervision rules in DuckDB SQL over the Arrow read (``job.py``'s whole job)."""
import duckdb
import pyarrow as pa

from peers.job import RANKS, REVIEWED_KINDS


def _side(prefix: str, p: dict) -> str:
    """One side's three findings (``supervision.yaml``; demote supersedes admonish)."""
    (ap, aq), (dp, dq) = p["admonish"], p["demote"]          # 超过 p/q: d·q > t·p
    demote = f"(f.votes AND f.dissatisfied * {dq} > f.total * {dp})"
    if not p["demote_ratio_only"]:
        demote = f"(f.recent AND ({demote} OR f.six_month = 'ineffective'))"
    admonish = f"(f.recent AND (f.votes AND f.dissatisfied * {aq} > f.total * {ap} OR f.three_month = 'ineffective'))"
    due = "f.due_base" if p["due"] else "FALSE"
    return (f"f.inside AND ({demote} IS NOT TRUE AND {admonish} IS TRUE OR f.appraisal = 'basically_competent') "
            f"AS {prefix}_admonish, f.inside AND {demote} IS TRUE AS {prefix}_demote, "
            f"f.inside AND {due} IS TRUE AS {prefix}_due")


def job(tables, spec):
    con = duckdb.connect()
    for name, table in tables.items():
        con.register(name, table)
    con.register("region_units", pa.table({"id": pa.array(spec.region_units, pa.string())}))
    ranks = ", ".join(f"('{r}', {i})" for i, r in enumerate(RANKS))
    kinds = ", ".join(f"'{k}'" for k in REVIEWED_KINDS)
    sql = f"""
    WITH rank_order(rank, n) AS (VALUES {ranks}),
    cur AS (
        SELECT p.cadre_id, p.unit_id, p.principal, p.leadership, p.start_date FROM posts p JOIN rank_order USING (rank)
        WHERE p.start_date <= $as_of AND p.end_date >= $as_of
        QUALIFY row_number() OVER (PARTITION BY p.cadre_id ORDER BY rank_order.n DESC, p.start_date DESC, p.seq) = 1),
    rev AS (
        SELECT * FROM reviews WHERE date <= $as_of
        QUALIFY row_number() OVER (PARTITION BY cadre_id ORDER BY date DESC, seq DESC) = 1),
    checks AS (
        SELECT r.cadre_id,
               arg_max(r.result, r.date) FILTER (WHERE r.stage = 'three_month') AS three_month,
               arg_max(r.result, r.date) FILTER (WHERE r.stage = 'six_month') AS six_month
        FROM rectifications r JOIN rev ON r.cadre_id = rev.cadre_id AND r.review_seq = rev.seq
        WHERE r.date <= $as_of GROUP BY r.cadre_id),
    appr AS (
        SELECT cadre_id, arg_max(grade, date) AS appraisal FROM appraisals WHERE date <= $as_of GROUP BY cadre_id),
    facts AS (
        SELECT c.id AS cadre, rev.date AS review_date, rev.total, rev.dissatisfied, checks.three_month,
               checks.six_month, appr.appraisal, cur.start_date AS post_start,
               cur.unit_id IN (SELECT id FROM region_units) IS TRUE AS inside,
               rev.date >= $cycle_start IS TRUE AS recent, rev.total > 0 IS TRUE AS votes,
               (c.management = 'county' AND cur.principal = 1 AND cur.leadership = 1 AND units.kind IN ({kinds})
                AND cur.start_date < $cycle_start AND (rev.date IS NULL OR rev.date < $cycle_start)) AS due_base
        FROM cadres c LEFT JOIN cur ON cur.cadre_id = c.id LEFT JOIN units ON units.id = cur.unit_id
        LEFT JOIN rev ON rev.cadre_id = c.id LEFT JOIN checks ON checks.cadre_id = c.id
        LEFT JOIN appr ON appr.cadre_id = c.id),
    sides AS (SELECT f.*, {_side("b", spec.baseline)}, {_side("d", spec.draft)} FROM facts f)
    SELECT cadre, b_admonish, b_demote, b_due, d_admonish, d_demote, d_due, review_date, total, dissatisfied,
           three_month, six_month, appraisal, post_start
    FROM sides WHERE b_admonish <> d_admonish OR b_demote <> d_demote OR b_due <> d_due
    """
    out = con.sql(sql, params={"as_of": spec.as_of, "cycle_start": spec.cycle_start}).to_arrow_table()
    con.close()
    return out

