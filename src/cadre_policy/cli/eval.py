"""`policy eval`: one fact or one condition of one cadre on a date, its value and why (like `opa eval`)."""
from __future__ import annotations

import click

from cadre_policy.i18n import _
from cadre_policy.cli.common import (Failure, as_of_option, evaluation_day, load_policies, make_runner,
                                     open_store, policies_option)


@click.command("eval")
@click.argument("expression")
@click.option("--cadre", "cadre_id", required=True, metavar="ID", help="The cadre whose facts are read.")
@as_of_option
@policies_option
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="text: the value and why; json: the same as one document.")
@click.pass_context
def eval_command(ctx, expression, cadre_id, as_of, policies_dir, fmt):
    """Evaluate EXPRESSION for one cadre: a fact path (cadre.age, latest_appraisal.grade, a derived
    quantity) or a condition in YAML ('{fact: cadre.age, 超过: 45}'); print the value and why."""
    import json

    from cadre_policy.language.titles import titled
    from cadre_policy.run.population import units_for
    from cadre_policy.render.check import fact_label, value_label
    from cadre_policy.render.reasons import phrase
    from cadre_policy.run.expression import evaluate
    store = open_store(ctx)
    day = evaluation_day(as_of, store)
    policy_set = titled(load_policies(policies_dir), day)
    runner = make_runner(policy_set, day, "python")
    doc = store.cadre(cadre_id)
    if doc is None:
        raise Failure(_("unknown cadre id: {id}").format(id=cadre_id))
    answer = evaluate(runner, expression, doc, units_for(runner, store))
    if fmt == "json":
        click.echo(json.dumps(answer, ensure_ascii=False, indent=2, default=str))
        return
    click.echo(f"{answer['expression']} = {answer['value']}")
    if answer.get("title"):
        click.echo(_("  {title} ({form})").format(title=answer["title"], form=answer["form"]))
    label = fact_label(policy_set)
    for entry in answer.get("because", ()):
        click.echo(f"  {phrase(entry, label, value_label)}")
    for entry in answer.get("reads", ()):
        click.echo(f"  {entry['fact']} = {entry['value'] if entry['value'] is not None else _('not on record')}")
