"""Making a decision on the record: a check or a what-if, with the facts it read, stored as a 纪实 record."""
from __future__ import annotations

from cadre_policy.decisions.store import RecordStore
from cadre_policy.i18n import language


def _asked(request: dict) -> dict:
    """The request as recorded: with the language its result was written in, so verify re-runs in it."""
    return {**request, "lang": language()}


def check_result(runner, doc: dict, units: dict) -> dict:
    """The JSON document of `policy check --format json` for one cadre document."""
    from cadre_policy.render.check import to_json
    return to_json(runner.evaluate(doc, units), runner.policy_set)


def units_read(doc: dict, units: dict) -> dict:
    """The units a check of ``doc`` reads: those of its posts, its recruitment and its nominations.

    The rules see units only through these records (run/derive.py), so they are the
    whole of the unit facts a check used.
    """
    ids = {p.get("unit") for p in doc.get("posts", ())}
    ids |= {n.get("target_unit") for n in doc.get("nominations", ())}
    ids.add((doc.get("recruitment") or {}).get("unit"))
    return {uid: units[uid] for uid in sorted(i for i in ids if i in units)}


def record_check(store, runner, doc: dict, units: dict, result: dict, *, actor: str, channel: str,
                 request: dict) -> int:
    """Store a check: the cadre's document and the units it read, as the rules saw them, are its facts."""
    return RecordStore(store.engine).append(kind="check", actor=actor, channel=channel, request=_asked(request),
                                            policy_set=runner.policy_set, facts=(units_read(doc, units), [doc]),
                                            result=result)


def population(store, unit: str | None, as_of) -> tuple[dict, list[dict]]:
    """The units and the cadres a what-if over ``unit`` (None: everyone) on ``as_of`` reads."""
    cadres = [doc for chunk in store.iter_cadre_chunks(unit=unit, as_of=as_of if unit else None) for doc in chunk]
    return store.units(), cadres


def record_whatif(store, prepared, result: dict, draft_text: str | None, *, actor: str, channel: str,
                  request: dict) -> int:
    """Store a what-if: the population it covered is its facts; the draft's text is kept to re-run it."""
    return RecordStore(store.engine).append(kind="whatif", actor=actor, channel=channel, request=_asked(request),
                                            policy_set=prepared.job.baseline,
                                            facts=population(store, prepared.job.unit, prepared.job.as_of), result=result,
                                            draft_text=draft_text)
