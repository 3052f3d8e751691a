"""Canonical JSON and SHA-256 digests of what a decision read and produced.

Canonical JSON: keys sorted, no insignificant whitespace, dates as ISO text, exact
fractions as ``"n/d"``; the same value always gives the same bytes, so equal
digests mean equal content.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from fractions import Fraction

#: Fields of a result that describe the run, not the decision (left out of its digest).
RUN_FIELDS = ("seconds", "workers", "draft_runs_skipped", "durable_rules_checked", "record")


def _plain(value):
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, Fraction):
        return f"{value.numerator}/{value.denominator}"
    if isinstance(value, (set, frozenset, tuple)):
        return sorted(value) if isinstance(value, (set, frozenset)) else list(value)
    raise TypeError(f"not JSON: {type(value).__name__}")


def canonical_json(value) -> str:
    """The canonical JSON text of a value.

    >>> canonical_json({"b": 1, "a": [__import__("datetime").date(2017, 6, 30)]})
    '{"a":["2017-06-30"],"b":1}'
    """
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=_plain)


def digest_text(text: str) -> str:
    """``sha256:`` and the hex digest of the UTF-8 text."""
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def digest_of(value) -> str:
    """The digest of a value's canonical JSON."""
    return digest_text(canonical_json(value))


def result_digest(result: dict) -> str:
    """The digest of a check or what-if JSON document without its run fields (time taken, workers)."""
    stable = {k: v for k, v in result.items() if k not in RUN_FIELDS}
    if isinstance(stable.get("changes"), list):     # what-if: chunk order is not part of the decision
        stable["changes"] = sorted(stable["changes"], key=canonical_json)
    return digest_of(stable)
