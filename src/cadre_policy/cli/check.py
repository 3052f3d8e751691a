"""`policy check`: which provisions apply to a cadre (or every cadre) on a date, and why."""
from __future__ import annotations

import json
import sys

import click

from cadre_policy.i18n import N_, _

from cadre_policy.run.engines import default_engine
from cadre_policy.cli.common import (Failure, Whole, as_of_option, binary_output, cli_actor, engine_option,
                                     evaluation_day, load_policies, make_runner, open_store, output_option, progress_bar,
                                     policies_option, warn_outside_force)
from cadre_policy.cli.output import open_output


@click.command()
@click.argument("cadre_id", required=False)
@click.option("--all", "all_cadres", is_flag=True, help="Every cadre, one line each, and a summary.")
@click.option("--unit", "unit_id", metavar="ID", help="With --all: only cadres with a current post in this unit.")
@as_of_option
@policies_option
@engine_option
@click.option("--format", "fmt", type=click.Choice(["text", "json", "jsonl", "csv", "xlsx", "html"]), default="text",
              show_default=True, help="text: the report to read; json: one document (with --all: the "
              "cadres and a summary); jsonl: a line per cadre; csv, xlsx: with --all; html: one cadre's printable "
              "资格审查 sheet.")
@output_option
@click.option("--near", is_flag=True, help="Also show how far the cadre is from each deciding threshold.")
@click.option("--margin", type=Whole(), metavar="N",
              help="With --near: only thresholds at most N units away (votes, years, months, days).")
@click.option("--record", is_flag=True, help="Store a decision record (纪实) of this check in the database.")
@click.option("--workers", type=Whole(1), help="With --all: worker processes (default: all cores).")
@click.option("--layout", type=click.Choice(["review", "appointment"]), default="review", show_default=True,
              help="With --format html: review: the 资格审查 sheet; appointment: the cadre in the layout of the "
                   "干部任免审批表, the 资格审查 conclusion attached.")
@click.option("--verbose", "-v", is_flag=True,
              help="Also list the documents in force that do not bind this cadre, with their jurisdictions.")
@click.pass_context
def check(ctx, cadre_id, all_cadres, unit_id, as_of, policies_dir, engine, fmt, output, near, margin, record,
          workers, layout, verbose):
    """Which provisions apply to a cadre on a date, what follows, and why."""
    from cadre_policy.run.population import units_for
    if not cadre_id and not all_cadres:
        raise Failure(_("give a CADRE_ID, or --all"))
    if cadre_id and all_cadres:
        raise Failure(_("give a CADRE_ID or --all, not both (got {id} and --all)").format(id=cadre_id))
    if unit_id is not None and not all_cadres:
        raise Failure(_("--unit selects cadres for --all; with one CADRE_ID leave it out"))
    if margin is not None and not near:
        raise Failure(_("--margin limits --near; add --near, or leave --margin out"))
    if layout != "review" and fmt != "html":
        raise Failure(_("--layout is a layout of --format html"))
    if all_cadres and fmt == "html":
        raise Failure(_("--format html is the sheet of one cadre; give a CADRE_ID"))
    if not all_cadres and fmt in ("jsonl", "csv", "xlsx"):
        raise Failure(_("--format {format} is for --all").format(format=fmt))
    from cadre_policy.language.titles import titled
    if record and all_cadres:
        raise Failure(_("--record stores one cadre's check: give a CADRE_ID instead of --all"))
    store = open_store(ctx)
    day = evaluation_day(as_of, store)
    policy_set = titled(load_policies(policies_dir), day)
    warn_outside_force(policy_set, day)
    runner = make_runner(policy_set, day, default_engine(engine, all_cadres))
    units = units_for(runner, store)
    if not all_cadres:
        _check_one(runner, store, units, cadre_id, policy_set, fmt, output, near, margin,
                   {"as_of": day.isoformat(), "engine": default_engine(engine, False)} if record else None, layout,
                   verbose)
        return
    if unit_id is not None and unit_id not in units:
        raise Failure(_("unknown unit id: {id}").format(id=unit_id))
    _check_all(runner, store, units, unit_id, policy_set, day, fmt, output, workers, ctx.find_root().obj["db_url"])


def _check_one(runner, store, units, cadre_id, policy_set, fmt, output, near, margin, record, layout="review",
               verbose=False):
    """One cadre: findings with reasons and sources, the promotion checklist; text, JSON or the HTML sheet.

    ``record`` (the request's day and engine) stores a decision record (纪实) of the check first.
    """
    from cadre_policy.render import check as render
    from cadre_policy.render.terminal import console_for
    doc = store.cadre(cadre_id)
    if doc is None:
        raise Failure(_("unknown cadre id: {id}").format(id=cadre_id))
    result = runner.evaluate(doc, units)
    if record is not None:
        from cadre_policy.decisions.decide import record_check
        record_id = record_check(store, runner, doc, units, render.to_json(result, policy_set), actor=cli_actor(),
                                 channel="cli", request={"cadre": cadre_id, **record})
        click.echo(_("纪实 record {id}").format(id=record_id), err=True)
    misses = None
    if near:
        from cadre_policy.explain.near import near_misses
        misses = near_misses(runner, result, margin)
    with open_output(output) as out:
        if fmt == "json":
            data = render.to_json(result, policy_set)
            if misses is not None:
                data["near_misses"] = [miss.as_dict() for miss in misses]
            out.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")
        elif fmt == "html" and layout == "appointment":
            from cadre_policy.render.appointment_form import appointment_form
            out.write(appointment_form(render.to_json(result, policy_set), doc, store.units()))
        elif fmt == "html":
            from cadre_policy.render.sheet import cadre_sheet
            out.write(cadre_sheet(render.to_json(result, policy_set), doc, store.units(), policy_set))
        else:
            console = console_for(out)
            render.render_text(result, policy_set, console)
            if verbose:
                render.render_unbound(result, policy_set, console)
            if misses is not None:
                render.render_near(misses, console, policy_set)


def _check_all(runner, store, units, unit_id, policy_set, day, fmt, output, workers, db_url):
    """``check --all``: a table and a summary table, or one JSON document, JSON Lines, CSV, XLSX.

    On the columnar engine, without --unit, the population is checked in columns on the worker
    pool (render/population.py), progress on stderr; else cadre by cadre from documents.
    """
    from cadre_policy.render import check as render
    from cadre_policy.render.tables import write_csv, write_xlsx
    from cadre_policy.render.terminal import console_for
    from cadre_policy.run.population import check_all
    missed = None
    if unit_id:
        from cadre_policy.aggregate import unit_structure
        missed = unit_structure(policy_set, store, day, unit_id)
    tally = render.Tally()
    in_columns = unit_id is None and runner.engine.name == "columnar"
    if in_columns:
        from cadre_policy.render.population import supported
        in_columns = supported(runner)
    # a bar on a terminal's stderr, unless JSON is streamed to that terminal as it is made
    show = sys.stderr.isatty() and not (fmt in ("json", "jsonl") and output in (None, "-") and sys.stdout.isatty())

    def results():
        with progress_bar(show and not in_columns, N_("checking")) as progress:
            total = store.count_cadres(unit_id, day if unit_id else None) if progress else 0
            for n, result in enumerate(check_all(runner, store, units, unit_id), start=1):
                row = render.population_row(result, policy_set)
                tally.add(row)
                if progress and (n % 200 == 0 or n == total):
                    progress(200 if n % 200 == 0 else n % 200, total)
                yield result, row
    if fmt in ("xlsx",):
        binary_output(output)
    # the output is void if an import committed meanwhile (one consistent state of the store)
    with store.one_state(), open_output(output, binary=fmt == "xlsx", newline="") as out, \
            progress_bar(sys.stderr.isatty() and in_columns, N_("checking")) as progress:
        if in_columns:
            parts = _in_columns(runner, store, units, day, tally, workers, db_url, progress)
        if in_columns and fmt in ("json", "jsonl"):
            if fmt == "json":
                header = {"as_of": day.isoformat(),
                          "policy_set": {"path": policy_set.path, "digest": policy_set.digest}, "unit": None}
                lines = (line for part in parts for line in part.lines())
                render.write_population_lines(out, header, lines, lambda: tally.as_dict(policy_set))
            else:
                for part in parts:
                    part.write_jsonl(out)
            return
        if in_columns:
            pairs = ((None, row) for part in parts for row in part.rows())
        else:
            pairs = results()
        if fmt == "json":
            header = {"as_of": day.isoformat(), "policy_set": {"path": policy_set.path, "digest": policy_set.digest},
                      "unit": None if unit_id is None else {"id": unit_id, "structure": _missed_json(missed)}}
            render.write_population_json(out, header, (render.to_json(r, policy_set) for r, _row in pairs),
                                         lambda: tally.as_dict(policy_set))
        elif fmt == "jsonl":
            for result, _row in pairs:
                doc = render.to_json(result, policy_set)
                if missed is not None:
                    doc["structure"] = _missed_json(missed)
                out.write(json.dumps(doc, ensure_ascii=False) + "\n")
        elif fmt in ("csv", "xlsx"):
            rows = [row for _r, row in pairs]
            if fmt == "csv":
                write_csv(render.population_sheets(rows, tally.as_dict(policy_set))[0], out)
            else:
                from cadre_policy.render.about import About
                about = About.of(policy_set, day, cli_actor(), scope=unit_id or "", count=(N_("Cadres"), len(rows)))
                write_xlsx(render.population_sheets(rows, tally.as_dict(policy_set), about), out)
        else:
            console = console_for(out)
            rows = [row for _r, row in pairs]
            if missed is not None:
                console.print(render.unit_team_text(unit_id, missed))
            console.print(render.population_table(rows))
            console.print()
            console.print(render.summary_table(tally.as_dict(policy_set), day.isoformat()))


def _in_columns(runner, store, units, day, tally, workers, db_url, progress):
    """Every partition of cadres checked in columns on the worker pool (``Checked``), tallied as they pass."""
    from cadre_policy.render.population import CheckJob, check_partitions
    from cadre_policy.whatif.parallel import default_workers
    job = CheckJob(db_url, runner.policy_set, day, units, store.generation())
    for part in check_partitions(job, store, workers or default_workers(), progress):
        for row, n in part.counted():
            tally.add(row, n)
        yield part


def _missed_json(missed) -> list[dict]:
    """The team targets a unit's instances miss, as JSON."""
    return [{"rule": r.rule.id, "finding": r.finding, "instance": r.key, "label": r.label,
             "figure": r.figure, "target": r.target, "status": r.status} for r in missed]
