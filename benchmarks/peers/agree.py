"""Whether a peer's changed cadres (``job.py``'s JSON lines) are the product's (``policy whatif
--format json``), cadre by cadre: the same ids, the same findings added and removed, and the same
deciding values wherever the product's reasons state one."""
from __future__ import annotations

import json
from pathlib import Path

#: The product's reason facts and the peer's value that must equal their ``value``
_FACTS = {
    "latest_review.date": lambda v: v["review_date"],
    "latest_review.dissatisfied/latest_review.total":
        lambda v: None if v["total"] is None else f"{v['dissatisfied']}/{v['total']}",
    "three_month_check.result": lambda v: v["three_month"],
    "six_month_check.result": lambda v: v["six_month"],
    "current_post.start": lambda v: v["post_start"],
}


def product_changes(path: Path) -> dict[str, dict]:
    """cadre id → {added, removed, stated: {fact: value}} from a what-if JSON document."""
    out = {}
    for cadre in json.loads(Path(path).read_text(encoding="utf-8"))["changes"]:
        findings = [c for c in cadre["changes"] if c["kind"] == "finding"]
        stated = {}
        for change in findings:
            for rule in change["rules"]:
                for reason in rule.get("reasons", ()):
                    for side in ("baseline", "draft"):
                        entry = reason.get(side) if reason.get("kind") == "comparison" else None
                        if entry and entry["fact"] in _FACTS:
                            stated[entry["fact"]] = entry["value"]
        out[cadre["cadre"]] = {"added": sorted(c["code"] for c in findings if c["change"] == "added"),
                               "removed": sorted(c["code"] for c in findings if c["change"] == "removed"),
                               "stated": stated, "other": [c["kind"] for c in cadre["changes"] if c["kind"] != "finding"]}
    return out


def disagreements(product: Path, peer: Path, limit: int = 10) -> list[str]:
    """Every difference (the first ``limit`` of each kind), empty when they agree."""
    theirs = product_changes(product)
    ours = {row["cadre"]: row for row in map(json.loads, Path(peer).read_text(encoding="utf-8").splitlines())}
    out = [f"{c}: only the product ({theirs[c]['added']} added, {theirs[c]['removed']} removed)"
           for c in sorted(theirs.keys() - ours.keys())][:limit]
    out += [f"{c}: only the peer ({ours[c]['added']} added, {ours[c]['removed']} removed)"
            for c in sorted(ours.keys() - theirs.keys())][:limit]
    for cadre in sorted(theirs.keys() & ours.keys()):
        want, got = theirs[cadre], ours[cadre]
        if (want["added"], want["removed"]) != (got["added"], got["removed"]) or want["other"]:
            out.append(f"{cadre}: product {want['added']}/{want['removed']} {want['other']}, "
                       f"peer {got['added']}/{got['removed']}")
        out += [f"{cadre}: {fact} is {value!r} in the product, {_FACTS[fact](got['values'])!r} in the peer"
                for fact, value in want["stated"].items() if _FACTS[fact](got["values"]) != value]
    return out
