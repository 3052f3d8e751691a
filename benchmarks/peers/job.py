#!/usr/bin/env python3
"""A peer's whole what-if job, in its own process: read, evaluate both sides, list the changed.

    python benchmarks/peers/job.py duckdb|polars|numpy STORE.db DRAFT AS_OF OUT.jsonl

1. **Read** the columns the supervision rules need from a SQLite store, ADBC into Arrow (as
   the read floor of ``floor_bench.py`` does, but only these columns);
2. **evaluate** the rules of ``policies/supervision.yaml`` and ``appraisal.admonish`` (which
   gives the same finding, 诫勉谈话) on the baseline and on the draft, written from the rule
   texts in the peer's own tool (``{peer}_peer.job``), not with the product;
3. **list** every cadre whose supervision findings differ, with the values that decide them,
   one JSON object a line in OUT (``cadre``, ``added``, ``removed``, ``values``).

Prints the number of changed cadres. The drafts it knows are in ``DRAFTS``: a draft that
changes rules outside supervision (grassroots_3y needs the duration derivation and the whole
promotion eligibility) is not written here.
"""
from __future__ import annotations

import importlib
import json
import sys
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

RANKS = ("clerk", "deputy_section", "section", "deputy_county", "county", "deputy_prefecture", "prefecture")
#: supervision.yaml: its jurisdiction, ``reviewed_unit_kinds`` and ``review_cycle`` (years)
REGION = "清江县"
REVIEWED_KINDS = ("party_committee", "government", "department", "township", "organisation", "discipline",
                  "public_security")
CYCLE_YEARS = 5
#: Each side's parameters: the ratios as (p, q) for "超过 p/q"; whether supervision.demote is the draft's
#: (the ratio alone: no five-year cycle, no 6-month check); whether supervision.due is in force
BASELINE = {"admonish": (1, 3), "demote": (1, 2), "demote_ratio_only": False, "due": True}
DRAFTS = {
    "admonish_30pct": {**BASELINE, "admonish": (3, 10)},
    "replace_and_disable": {**BASELINE, "demote_ratio_only": True, "due": False},
}
CODES = {"admonish": "admonishment_talk", "demote": "demotion_or_removal", "due": "supervision_review_due"}
#: The columns each peer returns for its changed cadres (b_/d_: each side's finding), after ``cadre``
VALUES = ("review_date", "total", "dissatisfied", "three_month", "six_month", "appraisal", "post_start")

#: The SELECTs of the read: NULLs made values, since ADBC's SQLite driver types a column by its first rows
SELECTS = {
    "cadres": "SELECT id, COALESCE(management, '') AS management FROM cadres ORDER BY id",
    "units": "SELECT id, kind, COALESCE(region, '') AS region, COALESCE(parent, '') AS parent FROM units",
    "posts": "SELECT cadre_id, seq, unit_id, rank, principal, leadership, start_date, "
             "COALESCE(end_date, '9999-12-31') AS end_date FROM posts ORDER BY cadre_id, seq",
    "reviews": "SELECT cadre_id, seq, date, total, dissatisfied FROM reviews ORDER BY cadre_id, seq",
    "rectifications": "SELECT cadre_id, review_seq, stage, date, result FROM rectifications "
                      "ORDER BY cadre_id, review_seq, seq",
    "appraisals": "SELECT cadre_id, seq, grade, date FROM appraisals ORDER BY cadre_id, seq",
}
_DATES = ("date", "start_date", "end_date")


@dataclass(frozen=True)
class Spec:
    """What every peer is given besides the tables: the day, the cycle's first day, the units in
    the jurisdiction, and the two sides' parameters."""
    as_of: date
    cycle_start: date          # a review or a post start on or after it is "within five years"
    region_units: tuple[str, ...]
    baseline: dict
    draft: dict


def read(db: str | Path) -> dict[str, pa.Table]:
    """The needed columns, ADBC into Arrow; dates as date32."""
    import adbc_driver_sqlite.dbapi as adbc
    conn = adbc.connect(f"file:{db}?mode=ro", autocommit=False)
    cursor = conn.cursor()
    tables = {}
    for name, sql in SELECTS.items():
        cursor.execute(sql)
        table = cursor.fetch_arrow_table()
        for column in _DATES:
            if column in table.column_names:
                i = table.column_names.index(column)
                table = table.set_column(i, column, pc.cast(table[column], pa.date32()))
        tables[name] = table
    conn.close()
    return tables


def spec(tables: dict[str, pa.Table], draft: str, as_of: date) -> Spec:
    """A unit is in the region when it or a unit up its parent chain names it (language.md)."""
    units = tables["units"].to_pydict()
    region = dict(zip(units["id"], units["region"]))
    parent = dict(zip(units["id"], units["parent"]))

    def inside(unit: str) -> bool:
        seen = set()
        while unit and unit not in seen:
            if region.get(unit) == REGION:
                return True
            seen.add(unit)
            unit = parent.get(unit, "")
        return False
    try:
        start = as_of.replace(year=as_of.year - CYCLE_YEARS)
    except ValueError:                      # 29 February: the period ends on the 28th (民法典 第二百零三条)
        start = as_of.replace(year=as_of.year - CYCLE_YEARS, day=28)
    return Spec(as_of, start, tuple(u for u in units["id"] if inside(u)), BASELINE, DRAFTS[draft])


def lines(changed: pa.Table):
    """The JSON lines of a peer's changed cadres (sorted by id, so every peer writes the same bytes)."""
    for row in changed.sort_by("cadre").to_pylist():
        base = {k for k in CODES if row[f"b_{k}"]}
        other = {k for k in CODES if row[f"d_{k}"]}
        yield json.dumps({"cadre": row["cadre"], "added": sorted(CODES[k] for k in other - base),
                          "removed": sorted(CODES[k] for k in base - other),
                          "values": {k: str(row[k]) if isinstance(row[k], date) else row[k] for k in VALUES}},
                         ensure_ascii=False)


def main(argv: list[str]) -> int:
    peer, db, draft, as_of, out = argv
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    module = importlib.import_module(f"peers.{peer}_peer")
    tables = read(db)
    changed = module.job(tables, spec(tables, draft, date.fromisoformat(as_of)))
    count = 0
    with open(out, "w", encoding="utf-8") as f:
        for line in lines(changed):
            f.write(line + "\n")
            count += 1
    print(count)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
