"""`policy records`: the decision records (纪实) — list, show, verify, export."""
from __future__ import annotations

import json
import sys

import click

from cadre_policy.cli.common import EXIT_FINDINGS, EXIT_OK, open_store, output_option, policies_option
from cadre_policy.cli.output import open_output


def _records(ctx):
    from cadre_policy.decisions.store import RecordStore
    return RecordStore(open_store(ctx).engine)


@click.group()
def records():
    """Decision records of checks and what-ifs: who asked what, on which facts and policy set."""


@records.command("list")
@click.option("--actor", help="Only this user's records.")
@click.option("--kind", type=click.Choice(["check", "whatif"]), help="Only checks or only what-ifs.")
@click.option("--limit", type=click.IntRange(1), default=50, show_default=True, help="At most this many records.")
@click.pass_context
def list_records(ctx, actor, kind, limit):
    """Newest first: id, time (UTC), who, channel, kind, what was asked, result digest."""
    for r in _records(ctx).list(actor, kind, limit):
        asked = r.request.get("cadre") or r.request.get("draft") or " ".join(r.request.get("set") or []) or "input"
        click.echo(f"{r.id}\t{r.at.isoformat(timespec='seconds')}Z\t{r.actor}\t{r.channel}\t{r.kind}\t"
                   f"{asked}\t{r.request.get('as_of', '')}\t{r.result_digest[:19]}")


@records.command()
@click.argument("record_id", type=int)
@click.pass_context
def show(ctx, record_id):
    """One record in full, as JSON."""
    click.echo(json.dumps(_records(ctx).get(record_id).as_dict(), ensure_ascii=False, indent=2))


@records.command()
@click.argument("record_id", type=int, required=False)
@policies_option
@click.option("--chain", is_flag=True, help="Check the hash chain of every record instead.")
@click.pass_context
def verify(ctx, record_id, policies_dir, chain):
    """Re-run a record on its stored facts and policy set: reproduced or not, and why. Exit 1 when not."""
    from cadre_policy.cli.common import Failure
    from cadre_policy.decisions.verify import verify as verify_record, verify_chain
    store = _records(ctx)
    if chain:
        problems = verify_chain(store)
        for problem in problems:
            click.echo(problem)
        click.echo(f"chain of {store.count()} records: " + ("broken" if problems else "whole"))
        sys.exit(EXIT_FINDINGS if problems else EXIT_OK)
    if record_id is None:
        raise Failure("give a RECORD_ID, or --chain")
    verdict = verify_record(store, record_id, policies_dir)
    for problem in verdict.problems:
        click.echo(f"  {problem}")
    click.echo(f"record {record_id}: " + ("reproduced 结果一致" if verdict.reproduced else "NOT reproduced 结果不一致"))
    sys.exit(EXIT_OK if verdict.reproduced else EXIT_FINDINGS)


@records.command()
@output_option
@click.pass_context
def export(ctx, output):
    """Every record as JSON lines (oldest first), for archiving."""
    from cadre_policy.decisions.store import Record
    store = _records(ctx)
    with open_output(output) as out:
        for row in store.all_rows():
            out.write(json.dumps(Record.from_row(row).as_dict(), ensure_ascii=False, default=str) + "\n")
