"""`policy structure`: team and population targets."""
from __future__ import annotations

import json

import click

from cadre_policy.i18n import N_
from cadre_policy.cli.common import Whole, as_of_option, binary_output, cli_actor, evaluation_day, load_policies, open_store, output_option, \
    policies_option, warn_outside_force
from cadre_policy.cli.output import open_output


@click.command()
@click.option("--region", metavar="R", help="Only the teams and targets of this region (county) or city.")
@as_of_option
@policies_option
@click.option("--format", "fmt", type=click.Choice(["text", "json", "csv", "xlsx", "html"]), default="text", show_default=True,
              help="text: the report to read; json: one document; csv, xlsx: tables for "
              "spreadsheets; html: a page to print.")
@output_option
@click.option("--members", "members_limit", type=Whole(), default=50, show_default=True,
              help="Members listed per team or population (0: all); counts are never limited.")
@click.pass_context
def structure(ctx, region, as_of, policies_dir, fmt, output, members_limit):
    """Team and population targets: figure, target, met or not, and the members counted."""
    from cadre_policy.aggregate import evaluate_structure
    from cadre_policy.render.terminal import console_for
    from cadre_policy.render.structure import render_html, render_text, to_json
    from cadre_policy.language.titles import titled
    store = open_store(ctx)
    day = evaluation_day(as_of, store)
    policy_set = titled(load_policies(policies_dir), day)
    warn_outside_force(policy_set, day)
    report = evaluate_structure(policy_set, store, day, region, members_limit=members_limit or None)
    if fmt == "xlsx":
        binary_output(output)
    with open_output(output, binary=fmt == "xlsx", newline="") as out:
        if fmt in ("csv", "xlsx"):
            from cadre_policy.render.structure import sheets
            from cadre_policy.render.tables import write_csv, write_xlsx
            if fmt == "csv":
                write_csv(sheets(report, policy_set)[0], out)
            else:
                from cadre_policy.render.about import About
                scope = {"region": region or ""}
                write_xlsx(sheets(report, policy_set, About.of(policy_set, day, cli_actor(), filters=scope,
                                                               count=(N_("Targets"), len(report.results)))), out)
        elif fmt == "json":
            out.write(json.dumps(to_json(report, policy_set), ensure_ascii=False, indent=2) + "\n")
        elif fmt == "html":
            out.write(render_html(report, policy_set) + "\n")
        else:
            render_text(report, policy_set, console_for(out))
