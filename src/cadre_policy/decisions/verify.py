"""Verifying a decision record: its stored result against its digest, its link in the keyed chain, and a
re-run on its stored facts and policy set; checking the whole chain and the anchors kept outside the database."""
from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from datetime import date

from cadre_policy.record.canonical import canonical_cadre, canonical_unit
from cadre_policy.i18n import _, using
from cadre_policy.decisions.digest import result_digest
from cadre_policy.decisions.store import GENESIS, KEYED, Record, RecordStore, chain_next


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
    problems = integrity(records, [record_id])[record_id]
    actual, facts = records.snapshot(record.facts_digest)
    if actual != record.facts_digest:
        problems.append(_("fact snapshot changed: recorded {recorded}, stored text now {actual}").format(
            recorded=record.facts_digest, actual=actual))
    policy_set = load(policies_dir or record.policy_path)
    if policy_set.digest != record.policy_digest:
        problems.append(_("policy set changed: recorded {recorded}, {path} is now {digest}").format(
            recorded=record.policy_digest, path=policies_dir or record.policy_path, digest=policy_set.digest))
        return Verdict(record.id, False, problems)
    with using(record.request.get("lang")):     # the result's titles are in the language it was recorded in
        result = _check(record, policy_set, facts) if record.kind == "check" else \
            _whatif(record, policy_set, facts, workers)
    digest = result_digest(result)
    if digest != record.result_digest:
        problems.append(_("result differs: recorded {recorded}, re-run gives {digest}").format(
            recorded=record.result_digest, digest=digest))
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
                                       engine=ask.get("engine", "durable"), near=ask.get("near"),
                                       scope=ask.get("scope"), scope_root=ask.get("scope_root"),
                                       reach_cadres=bool(ask.get("reach_cadres")))
            result = request.run(prepared, store, workers)
            try:
                doc = whatif_document(result, prepared)
            finally:
                result.close()
    if "reach" not in record.result:    # recorded before what-ifs reported their reach: compared without it
        doc.pop("reach", None)
    return doc


def _link_problem(row: dict, previous: str, key: bytes | None, keyed_seen: bool) -> str | None:
    """Why a record's chain value is wrong (None: it is right)."""
    chain = row["chain"]
    if chain.startswith(KEYED):
        if key is None:
            return _("record {id}: the records key is missing; its chain cannot be checked").format(id=row["id"])
        expected = chain_next(previous, row, key)
    elif keyed_seen:
        return _("record {id}: unkeyed chain value after keyed ones (rewritten without the key)").format(id=row["id"])
    else:
        expected = chain_next(previous, row, None)
    if expected != chain:
        return _("record {id}: chain broken (edited, or a record before it removed)").format(id=row["id"])
    return None


def integrity(records: RecordStore, record_ids) -> dict[int, list[str]]:
    """For each record: what is wrong with it as stored (its result against its digest, its chain link)."""
    from cadre_policy.decisions.store import Record
    key = records.key(create=False)
    out = {}
    for rid, (previous, row) in records.neighbours(record_ids).items():
        if row is None:
            out[rid] = [_("record {id} is missing").format(id=rid)]
            continue
        problems = []
        stored = Record.from_row_values(row)
        if result_digest(stored.result) != stored.result_digest:
            problems.append(_("record {id}: the stored result does not match its digest {digest} (edited after it "
                              "was recorded)").format(id=rid, digest=stored.result_digest))
        link = _link_problem(row, previous, key, previous.startswith(KEYED))
        if link:
            problems.append(link)
        out[rid] = problems
    return out


def verify_chain(records: RecordStore, anchors=()) -> list[str]:
    """Every break of the chain (an edited, removed or inserted record) and every anchor no longer matched;
    empty when whole. ``anchors``: (record id, chain value) pairs written down by `policy records anchor`."""
    problems, previous, keyed = [], GENESIS, False
    key = records.key(create=False)
    chains = {}
    for row in records.all_rows():
        values = dict(row._mapping)
        problem = _link_problem(values, previous, key, keyed)
        if problem:
            problems.append(problem)
        previous, keyed = values["chain"], keyed or values["chain"].startswith(KEYED)
        chains[values["id"]] = values["chain"]
    for rid, chain in anchors:
        if chains.get(rid) != chain:
            problems.append((_("record {id} of an anchor is missing (records removed)") if rid not in chains
                             else _("record {id} of an anchor is changed (records rewritten)")).format(id=rid))
    return problems


def anchor_line(records: RecordStore) -> str:
    """The head of the chain as one line for a file or the paper log: ``anchor <id> <chain> <count> <time>``."""
    import datetime as dt
    head = records.list(limit=1)
    at = dt.datetime.now(dt.timezone.utc).replace(microsecond=0, tzinfo=None).isoformat() + "Z"
    if not head:
        return f"anchor 0 {GENESIS} 0 {at}"
    return f"anchor {head[0].id} {head[0].chain} {records.count()} {at}"


def read_anchors(text: str, where: str) -> list[tuple[int, str]]:
    """The (record id, chain) pairs of anchor lines; a line that is not one is an error naming it."""
    from cadre_policy.errors import UserError
    out = []
    for number, line in enumerate(text.splitlines(), 1):
        parts = line.split()
        if not parts or line.startswith("#"):
            continue
        if len(parts) < 3 or parts[0] != "anchor" or not parts[1].isdigit() or len(parts[1]) > 18:
            raise UserError(_("{where}:{number}: not an anchor line (anchor ID CHAIN …)").format(where=where, number=number))
        if int(parts[1]):
            out.append((int(parts[1]), parts[2]))
    return out
