"""`policy whatif`: a draft against the policy set in force over the whole population."""
from __future__ import annotations

import dataclasses
import os
import sys
from contextlib import contextmanager
from datetime import date

import click

from cadre_policy.cli.common import (Failure, Whole, as_of_option, engine_for, engine_option, load_policies,
                                     open_store, output_option, policies_option)
from cadre_policy.cli.output import open_output, quiet_broken_pipe


@contextmanager
def _progress_bar(enabled: bool):
    """A rich progress bar on stderr; yields a callback (done, total) or None."""
    if not enabled:
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
    progress = Progress(TextColumn("what-if"), BarColumn(), MofNCompleteColumn(), TextColumn("cadres"),
                        TimeRemainingColumn(), console=Console(file=sys.stderr), transient=True)
    with progress:
        task = progress.add_task("what-if", total=None)

        def advance(n, total):
            progress.update(task, total=total, advance=n)
        yield advance


@click.command()
@click.option("--draft", "draft_file", type=click.Path(dir_okay=False), metavar="FILE",
              help="A draft regulation (YAML overlay on the policy set in force).")
@click.option("--set", "sets", multiple=True, metavar="NAME=VALUE",
              help="Change a parameter in the draft, e.g. supervision.admonish_ratio=3/10 (repeatable).")
@as_of_option
@click.option("--unit", "unit_id", metavar="ID", help="Only cadres with a current post in this unit.")
@policies_option
@engine_option
@click.option("--workers", type=Whole(1),
              help="Worker processes (default: all cores; with --cluster local: the LocalCluster's, default 2).")
@click.option("--cluster", metavar="ADDRESS",
              help="Run the partitions on a Dask cluster: a scheduler address (tcp://host:8786), "
                   "or 'local' for a LocalCluster on this machine. Workers read the same --db.")
@click.option("--chunk-size", type=Whole(1), default=1000, show_default=True,
              help="Cadres read and evaluated per task.")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "csv", "html"]), default="text",
              show_default=True, help="text: the report to read; json: one document; csv: a table for "
                                      "spreadsheets; html: a page to print.")
@output_option
@click.option("--limit", type=Whole(), default=200, show_default=True,
              help="Text format: changed cadres listed (json/csv/html list all).")
@click.option("--near", "near_margin", type=Whole(), metavar="MARGIN",
              help="Also count cadres within MARGIN of a threshold (votes, years, months, days).")
@click.option("--no-shortcut", is_flag=True,
              help="Run the draft's engine for every cadre, even where it provably fires as the baseline.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
@click.pass_context
def whatif(ctx, draft_file, sets, as_of, unit_id, policies_dir, engine, workers, cluster, chunk_size, fmt, output,
           limit, near_margin, no_shortcut, quiet):
    """Compare a draft with the policy set in force over the whole population: who changes, and why."""
    from cadre_policy.diagnostics import PolicyRejected
    from cadre_policy.explain.titles import titled
    from cadre_policy.load.drafts import Draft, load_draft, parse_sets
    from cadre_policy.whatif.run import Job, run_whatif, structure_changes

    if not draft_file and not sets:
        raise Failure("give a draft (--draft FILE) and/or parameter changes (--set NAME=VALUE)")
    baseline = load_policies(policies_dir)
    if draft_file:
        if not os.path.isfile(draft_file):
            raise Failure(f"no such draft file: {draft_file}")
        draft_set, draft, diagnostics = load_draft(draft_file, baseline)
        for diagnostic in diagnostics:
            if diagnostic.severity == "error" or not quiet:
                click.echo(str(diagnostic), err=True)
        if draft_set is None:
            raise Failure(f"the draft {draft_file} has errors; run `policy lint {draft_file}`")
    else:
        draft_set = baseline
        draft = Draft("set", "参数调整 " + " ".join(sets), "(command line)", None)
    day = as_of if as_of else (draft.in_force.start if draft.in_force else date.today())
    if draft.in_force and not draft.in_force.holds(day):
        raise Failure(f"the draft is in force from {draft.in_force.start}"
                      f"{' to ' + str(draft.in_force.end) if draft.in_force.end else ''}; "
                      f"--as-of {day} is outside it")
    overrides, raws = parse_sets(draft_set, sets, day)
    baseline, draft_set = titled(baseline, day), titled(draft_set, day, overrides)
    if raws:
        draft = dataclasses.replace(draft, sets=raws)
    store = open_store(ctx)
    if unit_id is not None and unit_id not in store.units():
        raise Failure(f"unknown unit id: {unit_id}")
    job = Job(ctx.find_root().obj["db_url"], day, engine_for(engine, True), baseline, draft_set, overrides, unit_id,
              near_margin, shortcut=not no_shortcut)
    show = not quiet and sys.stderr.isatty()
    result = None
    try:
        with store.one_state():     # an import committing meanwhile: an error, never a torn mix
            with _progress_bar(show) as progress:
                result = run_whatif(job, store, workers, chunk_size, progress, cluster)
            result.structure = structure_changes(baseline, draft_set, store, day, overrides, unit_id)
        _write(result, draft, draft_set, fmt, output, limit)
    except PolicyRejected as error:
        raise PolicyRejected(error.diagnostics, "the draft cannot be compiled") from None
    finally:
        if result is not None:
            result.close()


def _write(result, draft, policy_set, fmt, output, limit):
    from rich.console import Console
    from cadre_policy.render.whatif import render_text, to_csv, to_json
    from cadre_policy.render.whatif_html import to_html
    try:
        with open_output(output, newline="") as out:
            if fmt == "json":
                to_json(result, draft, policy_set, out)
            elif fmt == "csv":
                to_csv(result, out)
            elif fmt == "html":
                to_html(result, draft, policy_set, out)
            else:
                console = Console(file=out, highlight=False, soft_wrap=True,
                                  force_terminal=None if out is sys.stdout else False)
                render_text(result, draft, policy_set, console, limit)
    except BrokenPipeError:             # `| head`: the reader is gone; say nothing more
        quiet_broken_pipe()
    if output:
        click.echo(f"{result.cadres} cadres, {result.changed} changed; written to {output}", err=True)
