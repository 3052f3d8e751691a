"""`policy records`: the decision records (纪实) — list, show, verify, anchor, export."""
from __future__ import annotations

import json
import sys

import click

from cadre_policy.cli.common import EXIT_FINDINGS, EXIT_OK, open_store, output_option, policies_option
from cadre_policy.cli.output import open_output
from cadre_policy.i18n import _
from cadre_policy.render.times import beijing


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
    """Newest first: id, time (Beijing), who, channel, kind, what was asked, date, result digest."""
    from cadre_policy.render.records import CHANNELS, KINDS
    for r in _records(ctx).list(actor, kind, limit):
        asked = r.request.get("cadre") or r.request.get("draft") or " ".join(r.request.get("set") or []) or _("posted facts")
        click.echo(f"{r.id}\t{beijing(r.at)}\t{r.actor}\t{_(CHANNELS.get(r.channel, r.channel))}\t"
                   f"{_(KINDS.get(r.kind, r.kind))}\t{asked}\t{r.request.get('as_of', '')}\t{r.result_digest[:19]}")


RECORD_ID = click.IntRange(1, 2 ** 63 - 1)


@records.command()
@click.argument("record_id", type=RECORD_ID)
@click.pass_context
def show(ctx, record_id):
    """One record in full, as JSON, with ``integrity``: whether it is as it was recorded. Exit 1 when not."""
    from cadre_policy.decisions.verify import integrity
    store = _records(ctx)
    shown = store.get(record_id).as_dict()
    problems = integrity(store, [record_id])[record_id]
    shown["integrity"] = {"intact": not problems, "problems": problems}
    click.echo(json.dumps(shown, ensure_ascii=False, indent=2))
    for problem in problems:
        click.echo(_("warning: {problem}").format(problem=problem), err=True)
    sys.exit(EXIT_FINDINGS if problems else EXIT_OK)


@records.command()
@click.argument("record_id", type=RECORD_ID, required=False)
@policies_option
@click.option("--chain", is_flag=True, help="Check the keyed chain of every record instead.")
@click.option("--anchor", "anchors", type=click.Path(dir_okay=False, exists=True), multiple=True,
              help="With --chain: a file of anchor lines (`policy records anchor`); each must still match.")
@click.pass_context
def verify(ctx, record_id, policies_dir, chain, anchors):
    """Check a record as stored (its result against its digest, its chain link) and re-run it on its stored
    facts and policy set: reproduced or not, and why. Exit 1 when not."""
    from cadre_policy.cli.common import Failure
    from cadre_policy.decisions.verify import read_anchors, verify as verify_record, verify_chain
    store = _records(ctx)
    if chain:
        pairs = []
        for path in anchors:
            with open(path, encoding="utf-8", errors="replace") as text:
                pairs += read_anchors(text.read(), path)
        problems = verify_chain(store, pairs)
        for problem in problems:
            click.echo(problem)
        verdict = _("chain of {n} records: broken") if problems else _("chain of {n} records: whole")
        checked = _("; {n} anchors checked").format(n=len(pairs)) if anchors else ""
        click.echo(verdict.format(n=store.count()) + checked)
        sys.exit(EXIT_FINDINGS if problems else EXIT_OK)
    if anchors:
        raise Failure(_("--anchor goes with --chain"))
    if record_id is None:
        raise Failure(_("give a RECORD_ID, or --chain"))
    verdict = verify_record(store, record_id, policies_dir)
    for problem in verdict.problems:
        click.echo(f"  {problem}")
    click.echo((_("record {id}: reproduced") if verdict.reproduced else _("record {id}: NOT reproduced")).format(
        id=record_id))
    sys.exit(EXIT_OK if verdict.reproduced else EXIT_FINDINGS)


@records.command()
@click.option("--append", "append_to", type=click.Path(dir_okay=False),
              help="Also append the line to this file (keep it, or its copy, outside the database's reach).")
@click.pass_context
def anchor(ctx, append_to):
    """Print the head of the chain as one line (anchor ID CHAIN COUNT TIME) for the paper log or a file.

    `policy records verify --chain --anchor FILE` then shows records removed or rewritten since."""
    from cadre_policy.decisions.verify import anchor_line
    line = anchor_line(_records(ctx))
    if append_to:
        from cadre_policy.cli.output import append_line
        append_line(append_to, line)
    click.echo(line)          # the line as `verify --anchor` reads it back; what it says, on stderr
    _anchor, record_id, _chain, count, at = line.split()
    click.echo(_("the head of the chain: record {id} of {count}, at {time} (Beijing time); keep the line above "
                 "outside the database (the paper log, a file)").format(id=record_id, count=count, time=beijing(at)),
               err=True)


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
