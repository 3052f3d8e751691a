"""`policy check`: which provisions apply to a cadre (or every cadre) on a date, and why."""
from __future__ import annotations

import json

import click

from cadre_policy.cli.common import (Failure, Whole, as_of_option, cli_actor, engine_for, engine_option, evaluation_day,
                                     load_policies, make_runner, open_store, policies_option)


@click.command()
@click.argument("cadre_id", required=False)
@click.option("--all", "all_cadres", is_flag=True, help="Every cadre, one line each, and a summary.")
@click.option("--unit", "unit_id", metavar="ID", help="With --all: only cadres with a current post in this unit.")
@as_of_option
@policies_option
@engine_option
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="text: the report to read; json: one document (with --all: one line per cadre).")
@click.option("--near", is_flag=True, help="Also show how far the cadre is from each deciding threshold.")
@click.option("--margin", type=Whole(), metavar="N",
              help="With --near: only thresholds at most N units away (votes, years, months, days).")
@click.option("--record", is_flag=True, help="Store a decision record (纪实) of this check in the database.")
@click.pass_context
def check(ctx, cadre_id, all_cadres, unit_id, as_of, policies_dir, engine, fmt, near, margin, record):
    """Which provisions apply to a cadre on a date, what follows, and why."""
    from rich.console import Console
    from cadre_policy.run.population import check_all, units_for
    from cadre_policy.render.check import render_text, to_json
    if not cadre_id and not all_cadres:
        raise Failure("give a CADRE_ID, or --all")
    if cadre_id and all_cadres:
        raise Failure(f"give a CADRE_ID or --all, not both (got {cadre_id} and --all)")
    if unit_id is not None and not all_cadres:
        raise Failure("--unit selects cadres for --all; with one CADRE_ID leave it out")
    if margin is not None and not near:
        raise Failure("--margin limits --near; add --near, or leave --margin out")
    from cadre_policy.explain.titles import titled
    if record and all_cadres:
        raise Failure("--record stores one cadre's check: give a CADRE_ID instead of --all")
    day = evaluation_day(as_of)
    policy_set = titled(load_policies(policies_dir), day)
    runner = make_runner(policy_set, day, engine_for(engine, all_cadres))
    store = open_store(ctx)
    console = Console(highlight=False, soft_wrap=True)
    units = units_for(runner, store)
    if not all_cadres:
        doc = store.cadre(cadre_id)
        if doc is None:
            raise Failure(f"unknown cadre id: {cadre_id}")
        result = runner.evaluate(doc, units)
        if record:
            from cadre_policy.records.decide import record_check
            from cadre_policy.render.check import to_json as check_json
            record_id = record_check(store, runner, doc, units, check_json(result, policy_set), actor=cli_actor(),
                                     channel="cli", request={"cadre": cadre_id, "as_of": day.isoformat(),
                                                             "engine": engine_for(engine, False)})
            click.echo(f"纪实 record {record_id}", err=True)
        misses = None
        if near:
            from cadre_policy.explain.near import near_misses
            misses = near_misses(runner, result, margin)
        if fmt == "json":
            out = to_json(result, policy_set)
            if misses is not None:
                out["near_misses"] = [miss.as_dict() for miss in misses]
            click.echo(json.dumps(out, ensure_ascii=False, indent=2))
        else:
            render_text(result, policy_set, console)
            if misses is not None:
                from cadre_policy.render.check import render_near
                render_near(misses, console)
        return
    if unit_id is not None and unit_id not in units:
        raise Failure(f"unknown unit id: {unit_id}")
    unit_targets = _unit_structure(policy_set, store, day, unit_id) if unit_id else None
    from collections import Counter
    counts, eligibility, total = Counter(), Counter(), 0
    with store.one_state():     # the lines above are void if an import committed meanwhile
        for result in check_all(runner, store, units, unit_id):
            _print_one(result, policy_set, fmt, unit_targets, console, counts, eligibility)
            total += 1
    if fmt == "text":
        console.print(f"\n{total} cadres on {day.isoformat()}; findings: " +
                      (", ".join(f"{code} {n}" for code, n in sorted(counts.items())) or "none") +
                      "; promotion: " + ", ".join(f"{k} {v}" for k, v in sorted(eligibility.items())))


def _print_one(result, policy_set, fmt, unit_targets, console, counts, eligibility) -> None:
    """One cadre's line of ``check --all``, counted into the summary."""
    from cadre_policy.render.check import summary_line, to_json
    counts.update(result.active_codes())
    if "promotion" in result.determinations:
        eligibility[result.determinations["promotion"]["eligibility"]] += 1
    if fmt == "json":
        out = to_json(result, policy_set)
        if unit_targets is not None:
            out["structure"] = unit_targets[1]      # the unit's missed team targets
        click.echo(json.dumps(out, ensure_ascii=False))
    else:
        line = summary_line(result, policy_set)
        if unit_targets:
            line.append(unit_targets[0])
        console.print(line)


def _unit_structure(policy_set, store, day, unit_id):
    """(text suffix, JSON list) of the targets missed by the instances a unit falls in."""
    from rich.text import Text
    from cadre_policy.aggregate import unit_structure
    missed = unit_structure(policy_set, store, day, unit_id)
    text = Text()
    if missed:
        text.append("  班子结构: " + "; ".join(f"{r.finding} {r.label} {r.figure} (目标 {r.target})" for r in missed),
                    style="magenta")
    return text, [{"rule": r.rule.id, "finding": r.finding, "instance": r.key, "label": r.label,
                   "figure": r.figure, "target": r.target, "status": r.status} for r in missed]
