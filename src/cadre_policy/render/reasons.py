"""Reasons in words: each deciding comparison phrased from its data (fact, value, word, threshold).

``explain`` records what decided an outcome as data (a ``because`` entry: the fact, the
comparison word, the cadre's value, the threshold, whether it held); this module says it
the way an officer would: "最近一次监督评议·不满意票/总票数 16/45，超过 1/3", "最近一次年度考核·等次为称职，
不是优秀", never "称职 = 优秀 ✗". The words come from the catalogue, so English is on request.
"""
from __future__ import annotations

import re

from cadre_policy.i18n import N_, _, language
from cadre_policy.language.model import OPERATORS

# a threshold read from another fact: ``nomination.date = 2017-03-01`` (run/reasons.py)
_FACT_THRESHOLD = re.compile(r"([a-z_][a-z0-9_]*(?:\.[a-z_][a-z0-9_]*)*) = (.*)")

# for each operator: the word when the comparison holds, and when it does not
_WORDS = {
    ">=": (N_("at least"), N_("less than")), "<=": (N_("at most"), N_("more than")),
    ">": (N_("more than"), N_("not more than")), "<": (N_("less than"), N_("not less than")),
}
_DATE_WORDS = {
    "on_or_after": (N_("on or after"), N_("before")), "on_or_before": (N_("on or before"), N_("after")),
    "after": (N_("after"), N_("not after")), "before": (N_("before"), N_("not before")),
}


# Chinese words said after the number (2年以上), not before it (超过 2年)
_AFTER_THE_NUMBER = {"以上", "以下", "以内"}


def _is_chinese(word: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in word)


def _word(op: str, holds: bool) -> str:
    """The comparison in words: the author's Chinese word when it holds, else the operator's."""
    if op in _DATE_WORDS:
        return _(_DATE_WORDS[op][0 if holds else 1])
    if holds and _is_chinese(op) and language() != "en":
        return op
    return _(_WORDS[OPERATORS.get(op, op)][0 if holds else 1]) if OPERATORS.get(op, op) in _WORDS else op


def _threshold(fact: str, threshold, label, value_label) -> str:
    """The threshold in words: another fact by its label and value, an enumerated value by its label."""
    text = str(threshold)
    found = _FACT_THRESHOLD.fullmatch(text)
    if found:
        path, value = found.groups()
        # compared with the subject, so of its kind (a rank with a rank) unless its own field says more
        words = value_label(path, value)
        words = value_label(fact, value) if words == value else words
        return _("{fact} ({value})").format(fact=label(path), value=words)
    return value_label(fact, text)


def phrase(entry: dict, label=None, value_label=None) -> str:
    """One deciding comparison as a clause.

    Args:
        entry: a ``because`` entry (fact, op, value, threshold, holds).
        label: fact path → words (default: the path).
        value_label: (fact path, value) → words for an enumerated value (default: the value).
    """
    label = label or (lambda path: path)
    value_label = value_label or (lambda path, value: value)
    fact, op, holds = label(entry["fact"]), entry["op"], entry.get("holds")
    if op == "asserted":
        return (_("{fact}: concluded") if holds else _("{fact}: not concluded")).format(fact=fact)
    if op in ("present", "absent"):
        on_record = entry.get("value") is not None
        return (_("{fact}: on record") if on_record else _("{fact}: not on record")).format(fact=fact)
    if entry.get("value") is None:
        return _("{fact}: not on record, so it cannot be decided").format(fact=fact)
    value = value_label(entry["fact"], str(entry["value"]))
    raw = entry.get("threshold")
    threshold = _threshold(entry["fact"], raw, label, value_label) if raw is not None else raw
    if op in ("eq", "ne", "in", "not_in"):
        options = threshold if _FACT_THRESHOLD.fullmatch(str(raw)) else \
            "、".join(value_label(entry["fact"], part) for part in str(raw).split(", "))
        equal = (holds if op in ("eq", "in") else not holds) if holds is not None else None
        if op in ("eq", "ne"):
            template = _("{fact} is {value}") if equal else _("{fact} is {value}, not {threshold}")
        else:
            template = _("{fact} is {value}, one of {threshold}") if equal else \
                _("{fact} is {value}, none of {threshold}")
        return template.format(fact=fact, value=value, threshold=options)
    if op == "has":
        return (_("{fact} includes “{flag}”") if holds else _("{fact} does not include “{flag}”")).format(
            fact=fact, flag=value_label("flags", str(raw)))
    if op == "within":
        return (_("{fact} {value}, within {threshold}") if holds else
                _("{fact} {value}, not within {threshold}")).format(fact=fact, value=value, threshold=threshold)
    if holds is None:
        return _("{fact}: unknown").format(fact=fact)
    if holds and op in _AFTER_THE_NUMBER and language() != "en":
        return f"{fact} {value}，{threshold}{op}"
    return _("{fact} {value}, {word} {threshold}").format(fact=fact, value=value, word=_word(op, holds),
                                                         threshold=threshold)


def shown(entries: list[dict], finding: bool = False) -> list[dict]:
    """The entries a reader is shown: for a finding, the comparisons that made it (held, read through
    any ``not``); for a requirement, every deciding comparison."""
    if finding:
        return [b for b in entries if b.get("holds") is not None and b["holds"] != bool(b.get("negated"))]
    return list(entries)


def phrases(entries: list[dict], label=None, value_label=None, finding: bool = False) -> list[str]:
    """The clauses of a finding's or a requirement's reasons, as the CLI, the pages and the sheet say them."""
    return [phrase(entry, label, value_label) for entry in shown(entries, finding)]


def phrase_change(reason: dict, label=None, value_label=None) -> str:
    """A comparison that decides differently under the draft: both sides, in words."""
    kind = reason.get("kind")
    if kind == "only_in":
        return (_("the rule is in force only under the draft") if reason["side"] == "draft"
                else _("the rule is in force only under the policy in force"))
    if kind == "superseded":
        return (_("under the draft superseded by {rule}") if reason["side"] == "draft"
                else _("under the policy in force superseded by {rule}")).format(rule=reason["by"])
    base, draft = reason.get("baseline"), reason.get("draft")
    sides = []
    if base is not None:
        sides.append(_("in force: {clause}").format(clause=phrase(base, label, value_label)))
    if draft is not None:
        sides.append(_("draft: {clause}").format(clause=phrase(draft, label, value_label)))
    return _("; ").join(sides)


_STATES = {"active": N_("applies"), "not fired": N_("does not apply"), "fires": N_("applies"),
           "does not fire": N_("does not apply"), "not in force": N_("not in force"),
           "met": N_("fulfilled"), "unmet": N_("not fulfilled"), "unknown": N_("pending (records incomplete)"),
           "not applicable": N_("not applicable"), "none": N_("none"), "waived": N_("waived by an exception")}


def rule_state(state: str) -> str:
    """A rule's state on one side of a what-if (``active``, ``not fired``, ``superseded by R`` …) in words."""
    if state.startswith("superseded by "):
        return _("superseded by {rule}").format(rule=state.split()[-1])
    return _(_STATES[state]) if state in _STATES else state
