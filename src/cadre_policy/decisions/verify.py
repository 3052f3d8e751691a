"""Verifying a decision record: re-run it on its stored facts and policy set; check the hash chain."""
from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from datetime import date

from cadre_policy.record.canonical import canonical_cadre, canonical_unit
from cadre_policy.i18n import using
from cadre_policy.decisions.digest import result_digest
from cadre_policy.decisions.store import GENESIS, Record, RecordStore, chain_next


@dataclass
class Verdict:
    """Whether a record is reproduced, and every reason it is not."""
    record: int
    reproduced: bool
    problems: list[str] = field(default_factory=list)
    digest: str | None = None          # the re-run result's digest

    def as_dict(self) -> dict:
        return {"record": self.record, "reproduced": self.reproduced, "problems": self.problems,
                "result_digest": self.digest}


def verify(records: RecordStore, record_id: int, policies_dir=None, workers: int = 1) -> Verdict:
    """Re-run a record on its fact snapshot with the policy set it names.

    Not reproduced when the stored snapshot no longer has its recorded digest, the
    policy set found at the record's path (or ``policies_dir``) has another digest, or
    the re-run result's digest differs from the recorded one.
    """
    from cadre_policy.load.policyset import load
    record = records.get(record_id)
    problems = []
    actual, facts = records.snapshot(record.facts_digest)
    if actual != record.facts_digest:
        problems.append(f"fact snapshot changed: recorded {record.facts_digest}, stored text now {actual}")
    policy_set = load(policies_dir or record.policy_path)
    if policy_set.digest != record.policy_digest:
        problems.append(f"policy set changed: recorded {record.policy_digest}, "
                        f"{policies_dir or record.policy_path} is now {policy_set.digest}")
        return Verdict(record.id, False, problems)
    with using(record.request.get("lang")):     # the result's titles are in the language it was recorded in
        result = _check(record, policy_set, facts) if record.kind == "check" else \
            _whatif(record, policy_set, facts, workers)
    digest = result_digest(result)
    if digest != record.result_digest:
        problems.append(f"result differs: recorded {record.result_digest}, re-run gives {digest}")
    return Verdict(record.id, not problems, problems, digest)


def _check(record: Record, policy_set, facts: dict) -> dict:
    from cadre_policy.decisions.decide import check_result
    from cadre_policy.run.evaluate import PolicyRunner
    from cadre_policy.language.titles import titled
    day = date.fromisoformat(record.request["as_of"])
    runner = PolicyRunner(titled(policy_set, day), day, record.request.get("engine", "durable"))
    return check_result(runner, canonical_cadre(facts["cadres"][0]), facts["units"])


def _whatif(record: Record, policy_set, facts: dict, workers: int) -> dict:
    """The what-if again, on a scratch SQLite store loaded with the snapshot."""
    from cadre_policy.store.fact_store import FactStore
    from cadre_policy.scratch import write_text
    from cadre_policy.whatif import request
    from cadre_policy.render.whatif import document as whatif_document
    ask = record.request
    with tempfile.TemporaryDirectory(prefix="policy-verify-") as tmp:
        url = f"sqlite:///{os.path.join(tmp, 'snapshot.db')}"
        with FactStore(url) as store:
            store.bulk_load([canonical_unit(u) for u in facts["units"].values()],
                            (canonical_cadre(c) for c in facts["cadres"]))
            draft_path = None
            if record.draft_text is not None:
                draft_path = os.path.join(tmp, "draft.yaml")
                write_text(draft_path, record.draft_text)
            prepared = request.prepare(policy_set, store, url, draft_path=draft_path,
                                       draft_display=ask.get("draft") or "draft.yaml", sets=ask.get("set") or (),
                                       as_of=date.fromisoformat(ask["as_of"]), unit=ask.get("unit"),
                                       engine=ask.get("engine", "durable"), near=ask.get("near"))
            result = request.run(prepared, store, workers)
            try:
                return whatif_document(result, prepared)
            finally:
                result.close()


def verify_chain(records: RecordStore) -> list[str]:
    """Every break of the hash chain (an edited, removed or inserted record); empty when whole."""
    problems, previous = [], GENESIS
    for row in records.all_rows():
        values = dict(row._mapping)
        expected = chain_next(previous, values)
        if expected != values["chain"]:
            problems.append(f"record {values['id']}: chain broken (edited, or a record before it removed)")
        previous = values["chain"]
    return problems
