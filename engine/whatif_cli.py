"""The body of `policy whatif` (kept out of cli.py, which only declares the options)."""
from __future__ import annotations

import os
import sys
from contextlib import contextmanager, nullcontext
from datetime import date

import click


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


def run_whatif_command(ctx, *, draft_file, sets, as_of, unit_id, policies_dir, engine, workers, chunk_size, fmt,
                       output, limit, near_margin, quiet, shortcut=True):
    import cli
    from engine.compiler import EvaluationError
    from engine.diagnostics import PolicyError as PolicyFileError
    from engine.draft import Draft, DraftError, load_draft, parse_sets
    from engine.whatif import Job, run_whatif, structure_changes

    if not draft_file and not sets:
        raise cli.PolicyError("give a draft (--draft FILE) and/or parameter changes (--set NAME=VALUE)")
    baseline = cli.load_policies(policies_dir)
    if draft_file:
        if not os.path.isfile(draft_file):
            raise cli.PolicyError(f"no such draft file: {draft_file}")
        draft_set, draft, diagnostics = load_draft(draft_file, baseline)
        for diagnostic in diagnostics:
            if diagnostic.severity == "error" or not quiet:
                click.echo(str(diagnostic), err=True)
        if draft_set is None:
            raise cli.PolicyError(f"the draft {draft_file} has errors; run `policy lint {draft_file}`")
    else:
        draft_set = baseline
        draft = Draft("set", "参数调整 " + " ".join(sets), "(command line)", None)
    day = as_of.date() if as_of else (draft.in_force.start if draft.in_force else date.today())
    if draft.in_force and not draft.in_force.holds(day):
        raise cli.PolicyError(f"the draft is in force from {draft.in_force.start}"
                              f"{' to ' + str(draft.in_force.end) if draft.in_force.end else ''}; "
                              f"--as-of {day} is outside it")
    try:
        overrides, raws = parse_sets(draft_set, sets, day)
    except DraftError as error:
        raise cli.PolicyError(str(error)) from None
    if raws:
        import dataclasses
        draft = dataclasses.replace(draft, sets=raws)
    if near_margin is not None:
        try:
            near_margin = int(near_margin)
        except ValueError:
            raise cli.PolicyError(f"--near needs a whole number of units (votes, years, months, days), "
                                  f"not '{near_margin}'") from None
    store = cli.open_store(ctx)
    with cli.user_errors():
        if unit_id is not None and unit_id not in store.units():
            raise cli.PolicyError(f"unknown unit id: {unit_id}")
        job = Job(ctx.find_root().obj["db_url"], day, engine, baseline, draft_set, overrides, unit_id, near_margin,
                  shortcut)
        show = not quiet and sys.stderr.isatty()
        try:
            with _progress_bar(show) as progress:
                result = run_whatif(job, store, workers, chunk_size, progress)
            result.structure = structure_changes(baseline, draft_set, store, day, overrides, unit_id)
        except EvaluationError as error:
            raise cli.PolicyError(str(error)) from None
        except PolicyFileError as error:
            for diagnostic in error.diagnostics:
                click.echo(str(diagnostic), err=True)
            raise cli.PolicyError("the draft cannot be compiled") from None
    try:
        _write(result, draft, draft_set, fmt, output, limit)
    finally:
        result.close()


def _write(result, draft, policy_set, fmt, output, limit):
    import cli
    from rich.console import Console
    from engine.whatif_report import render_text, to_csv, to_json
    from engine.whatif_html import to_html
    tmp = f"{output}.tmp" if output else None
    try:
        with (open(tmp, "w", encoding="utf-8", newline="") if tmp else nullcontext(sys.stdout)) as out:
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
        if tmp:
            os.replace(tmp, output)
    except BrokenPipeError:             # `| head`: the reader is gone; say nothing more
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        sys.exit(1)
    except OSError as error:
        raise cli.PolicyError(f"cannot write {output}: {error.strerror or error}") from None
    finally:
        if tmp and os.path.exists(tmp):
            os.remove(tmp)
    if output:
        click.echo(f"{result.cadres} cadres, {result.changed} changed; written to {output}", err=True)
