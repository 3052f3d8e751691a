"""Which documents bind a cadre, and which do not (``policy check --verbose``: 未适用)."""
from __future__ import annotations

from cadre_policy.language.jurisdiction import NATIONAL, binds
from cadre_policy.language.model import PolicySet


def jurisdiction_label(policy) -> str:
    """The regions a policy binds, as a reader sees them (全国 when it binds everyone)."""
    return policy.jurisdiction.label() if policy.jurisdiction is not None else NATIONAL


def unbound_documents(policy_set: PolicySet, scope: dict, in_force) -> list[tuple[str, str]]:
    """(document, jurisdiction) of every document with rules in force that binds the cadre neither at
    the current post's unit nor at the unit of the promotion; each document once, in file order.

    ``in_force(rule)`` tells whether a rule is in force on the evaluation date. A cadre whose unit
    is not known is not listed against any document: that is missing data, not "not bound".
    """
    place = scope.get("place") or {}
    management = (scope.get("cadre") or {}).get("management")
    out: list[tuple[str, str]] = []
    for policy in policy_set.policies:
        if not any(in_force(rule) for rule in policy.rules):
            continue
        answers = [binds(policy.jurisdiction, (place.get(key) or {}).get("regions")
                         if place.get(key) else None, management)
                   for key in ("unit", "promotion_unit")]
        if all(answer is False for answer in answers):
            entry = (policy.source.document, jurisdiction_label(policy))
            if entry not in out:
                out.append(entry)
    return out
