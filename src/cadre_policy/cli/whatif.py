"""`policy whatif`: a draft against the policy set in force over the whole population."""
from __future__ import annotations

import json
import os
import sys

import click

from cadre_policy.i18n import N_, _

from cadre_policy.run.engines import default_engine
from cadre_policy.cli.common import (Failure, progress_bar, Whole, as_of_option, binary_output, cli_actor, engine_option,
                                     load_policies, warn_outside_force,
                                     open_store, output_option, policies_option)
from cadre_policy.cli.output import open_output, quiet_broken_pipe


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
@click.option("--format", "fmt", type=click.Choice(["text", "json", "csv", "xlsx", "html"]), default="text",
              show_default=True, help="text: the report to read; json: one document; csv, xlsx: tables "
                                      "for spreadsheets; html: a page to print.")
@output_option
@click.option("--limit", type=Whole(), default=200, show_default=True,
              help="Text format: changed cadres listed (json/csv/html list all).")
@click.option("--near", "near_margin", type=Whole(), metavar="MARGIN",
              help="Also count cadres within MARGIN of a threshold (votes, years, months, days).")
@click.option("--no-shortcut", is_flag=True,
              help="Run the draft's engine for every cadre, even where it provably fires as the baseline.")
@click.option("--verify", is_flag=True,
              help="Columnar engine: run every changed cadre again through durable_rules and check its reasons "
                   "(by default a sample: 1 %, at least 100).")
@click.option("--reach-cadres", is_flag=True,
              help="List the cadres behind each figure of the reach (who newly fails a requirement, whom a finding "
                   "newly concerns), not only count them.")
@click.option("--diff-only", is_flag=True,
              help="Only say what the draft changes against the rules in force (parameters, rules, jurisdictions); "
                   "run nothing.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
@click.option("--record", is_flag=True, help="Store a decision record (纪实) of this what-if in the database.")
@click.pass_context
def whatif(ctx, draft_file, sets, as_of, unit_id, policies_dir, engine, workers, cluster, chunk_size, fmt, output,
           limit, near_margin, no_shortcut, verify, reach_cadres, diff_only, quiet, record):
    """Compare a draft with the policy set in force over the whole population: who changes, and why."""
    from cadre_policy.store.settings import default_as_of
    from cadre_policy.whatif import request
    from cadre_policy.render.whatif import document as whatif_document

    if not draft_file and not sets:
        raise Failure(_("give a draft (--draft FILE) and/or parameter changes (--set NAME=VALUE)"))
    baseline = load_policies(policies_dir)
    if draft_file and not os.path.isfile(draft_file):
        raise Failure(_("no such draft file: {path}").format(path=draft_file))
    store = open_store(ctx)
    db_url = ctx.find_root().obj["db_url"]
    engine = default_engine(engine, True)
    prepared = request.prepare(baseline, store, db_url, draft_path=draft_file, sets=sets,
                               as_of=as_of, default_day=default_as_of(store), unit=unit_id, engine=engine,
                               near=near_margin, shortcut=not no_shortcut, verify=verify,
                               reach_cadres=reach_cadres)
    warn_outside_force(prepared.job.baseline, prepared.job.as_of)
    if not quiet:
        for diagnostic in prepared.diagnostics:
            click.echo(str(diagnostic), err=True)
    if diff_only:
        from cadre_policy.render.comparison import comparison, to_text
        found = comparison(prepared.draft, prepared.draft_set, prepared.job.baseline, prepared.job.as_of)
        with open_output(output) as out:
            out.write(json.dumps(found, ensure_ascii=False, indent=1) + "\n" if fmt == "json" else to_text(found))
        return
    show = not quiet and sys.stderr.isatty()
    with progress_bar(show, N_("what-if")) as progress:
        result = request.run(prepared, store, workers, chunk_size, progress, cluster)
    try:
        if record:
            from cadre_policy.decisions.decide import record_whatif
            draft_text = open(draft_file, encoding="utf-8").read() if draft_file else None
            record_id = record_whatif(store, prepared, whatif_document(result, prepared), draft_text,
                                      actor=cli_actor(), channel="cli",
                                      request={"draft": draft_file, "set": list(sets), "as_of": str(prepared.job.as_of),
                                               "unit": unit_id, "engine": engine, "near": near_margin,
                                               "reach_cadres": reach_cadres})
            click.echo(_("纪实 record {id}").format(id=record_id), err=True)
        _write(result, prepared.draft, prepared.draft_set, fmt, output, limit, prepared.job.baseline, unit_id)
    finally:
        if result is not None:
            result.close()


def _write(result, draft, policy_set, fmt, output, limit, baseline=None, unit_id=None):
    from cadre_policy.render.tables import write_xlsx
    from cadre_policy.render.terminal import console_for
    from cadre_policy.render.whatif import about, render_text, sheets, to_csv, to_json
    from cadre_policy.render.whatif_html import to_html
    if fmt == "xlsx":
        binary_output(output)
    try:
        with open_output(output, binary=fmt == "xlsx", newline="") as out:
            if fmt == "json":
                to_json(result, draft, policy_set, out)
            elif fmt == "csv":
                to_csv(result, policy_set, out)
            elif fmt == "xlsx":
                write_xlsx(sheets(result, policy_set, about(result, draft, policy_set, baseline, cli_actor(), unit_id)), out)
            elif fmt == "html":
                to_html(result, draft, policy_set, out, baseline)
            else:
                render_text(result, draft, policy_set, console_for(out), limit)
    except BrokenPipeError:             # `| head`: the reader is gone; say nothing more
        quiet_broken_pipe()
    if output:
        click.echo(_("{cadres} cadres, {changed} changed; written to {path}").format(
            cadres=result.cadres, changed=result.changed, path=output), err=True)
