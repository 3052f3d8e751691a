"""The `policy` command line: thin click commands over `engine` and `facts`."""
import os
import sys
from contextlib import contextmanager

import click
from sqlalchemy.exc import SQLAlchemyError

from facts.errors import FactsError, ImportRejected
from facts.store import FactStore

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2


@click.group()
@click.option("--db", "db_url", envvar="POLICY_DB", default="sqlite:///policy.db", show_default=True,
              help="Database URL of the fact store (else $POLICY_DB).")
@click.pass_context
def main(ctx, db_url):
    """Rules as code for cadre personnel policy."""
    ctx.ensure_object(dict)
    ctx.obj["db_url"] = db_url


@main.group()
def facts():
    """The cadre fact store: import, export, show, list."""


# --- facts: import, export, show, list -------------------------------------------------------

class PolicyError(click.ClickException):
    """A user mistake or an unusable environment: one line on stderr, exit status 2."""

    exit_code = EXIT_USAGE


@contextmanager
def user_errors():
    """Turn fact-store and database errors raised inside a command into :class:`PolicyError`."""
    try:
        yield
    except FactsError as exc:
        raise PolicyError(str(exc)) from None
    except SQLAlchemyError as exc:
        detail = str(getattr(exc, "orig", None) or exc).strip().splitlines() or [type(exc).__name__]
        raise PolicyError(f"database error: {detail[0]}") from None


def open_store(ctx: click.Context) -> FactStore:
    """Open the fact store named by ``--db``/``$POLICY_DB``; it is closed when the command ends.

    Bad URLs, missing drivers, unreachable servers and schema-version mismatches
    become a one-line error with exit status 2.
    """
    root = ctx.find_root()
    with user_errors():
        store = FactStore(root.obj["db_url"])
    root.call_on_close(store.close)
    return store


@facts.command("import")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.pass_context
def facts_import(ctx, files):
    """Validate import files (YAML or JSON) completely, then upsert them in one transaction."""
    from facts.importer import import_files
    store = open_store(ctx)
    with user_errors():
        try:
            result = import_files(store, list(files))
        except ImportRejected as exc:
            for issue in exc.issues:
                click.echo(str(issue), err=True)
            raise
    for kind, counts in (("units", result.units), ("cadres", result.cadres)):
        click.echo(f"{kind}: {counts.added} added, {counts.updated} updated, "
                   f"{counts.unchanged} unchanged")


@facts.command("export")
@click.option("--format", "fmt", type=click.Choice(["yaml", "json"]), default="yaml", show_default=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="Write here instead of stdout.")
@click.pass_context
def facts_export(ctx, fmt, output):
    """Write the whole store in the import format."""
    from facts.exporter import export_store
    store = open_store(ctx)
    with user_errors():
        if output is None:
            export_store(store, sys.stdout, fmt)
            return
        tmp = f"{output}.tmp"
        try:
            with open(tmp, "w", encoding="utf-8", newline="\n") as out:
                export_store(store, out, fmt)
            os.replace(tmp, output)  # never leave a half-written export under the real name
        except OSError as exc:
            raise PolicyError(f"cannot write {output}: {exc.strerror or exc}") from None
        finally:
            if os.path.exists(tmp):
                os.remove(tmp)


@facts.command("show")
@click.argument("cadre_id")
@click.pass_context
def facts_show(ctx, cadre_id):
    """Show one cadre's record with Chinese labels."""
    from rich.console import Console
    from facts.render import cadre_lines, emit
    store = open_store(ctx)
    with user_errors():
        doc = store.cadre(cadre_id)
        if doc is None:
            raise PolicyError(f"unknown cadre id: {cadre_id}")
        emit(Console(highlight=False), cadre_lines(doc, store.units()))


@facts.command("list")
@click.option("--unit", "unit_id", metavar="ID", help="Only cadres with a current post in this unit.")
@click.pass_context
def facts_list(ctx, unit_id):
    """One line per cadre: id, name, current post, unit, rank."""
    from rich.console import Console
    from facts.render import emit, list_line
    store = open_store(ctx)
    with user_errors():
        units = store.units()
        if unit_id is not None and unit_id not in units:
            raise PolicyError(f"unknown unit id: {unit_id}")
        console = Console(highlight=False)
        for chunk in store.iter_cadre_chunks(unit=unit_id):
            emit(console, (list_line(doc, units, unit_id) for doc in chunk))


@facts.command("generate")
@click.option("--cadres", "n", type=click.IntRange(0), required=True, help="How many cadres.")
@click.option("--seed", type=int, default=0, show_default=True, help="Random seed (same seed, same data).")
@click.option("--as-of", "as_of", type=click.DateTime(["%Y-%m-%d"]), default="2017-06-30",
              show_default=True, help="No record is dated after this day.")
@click.option("--output", "-o", type=click.Path(dir_okay=False),
              help="Write the import format here (.json streamed; .yaml for small N only).")
@click.option("--load", is_flag=True, help="Bulk-load into the store at --db (ids must be new).")
@click.pass_context
def facts_generate(ctx, n, seed, as_of, output, load):
    """Generate a synthetic population; without --output or --load, JSON goes to stdout."""
    import time
    from facts.generate import YAML_MAX, JsonWriter, generate, tee, write_yaml
    t0 = time.perf_counter()
    units, cadres = generate(n, seed, as_of.date())
    yaml_out = output is not None and output.endswith((".yaml", ".yml"))
    if yaml_out and (load or n > YAML_MAX):
        raise PolicyError(f"YAML output is for small populations without --load "
                          f"(at most {YAML_MAX} cadres); use a .json file")
    to_stdout = output is None and not load
    out = sys.stdout if to_stdout else (open(output, "w", encoding="utf-8") if output else None)
    try:
        if yaml_out:
            count = write_yaml(out, units, cadres)
        else:
            writer = JsonWriter(out, units) if out else None
            stream = tee(cadres, writer.add) if writer else cadres
            with user_errors():
                count = open_store(ctx).bulk_load(units, stream) if load else sum(1 for _ in stream)
            if writer:
                writer.close()
    finally:
        if out is not None and not to_stdout:
            out.close()
    secs = time.perf_counter() - t0
    where = ", ".join(filter(None, [output and f"written to {output}", load and "loaded into the store"]))
    click.echo(f"{count} cadres, {len(units)} units in {secs:.1f} s ({count / max(secs, 1e-9):,.0f} "
               f"cadres/s){', ' + where if where else ''}", err=to_stdout)


# --- policies: lint, check, test, show, facts fields ---------------------------------------

def _policy_dir(path):
    from engine.policyset import DEFAULT_POLICIES
    if path:
        return path
    return "policies" if os.path.isdir("policies") else str(DEFAULT_POLICIES)


policies_option = click.option("--policies", "policies_dir", metavar="DIR", envvar="POLICY_DIR",
                               help="The policy set (default: ./policies).")
as_of_option = click.option("--as-of", "as_of", type=click.DateTime(["%Y-%m-%d"]), metavar="YYYY-MM-DD",
                            help="Evaluation date (default: today).")
engine_option = click.option("--engine", type=click.Choice(["durable", "python"]), default="durable",
                             show_default=True, help="Which engine evaluates the compiled rules.")


def load_policies(path):
    """The checked policy set, or the diagnostics on stderr and exit 2."""
    from engine.diagnostics import PolicyError as PolicyFileError
    from engine.policyset import load
    try:
        return load(_policy_dir(path))
    except PolicyFileError as exc:
        for diagnostic in exc.diagnostics:
            click.echo(str(diagnostic), err=True)
        raise PolicyError(f"the policy set {_policy_dir(path)} has errors; run `policy lint`") from None


def _as_of(value):
    from datetime import date
    return value.date() if value else date.today()


def make_engine(policy_set, as_of, engine, **kwargs):
    """Compile the policy set for a date; a parameter with no value then is a user error."""
    from engine.compiler import EvaluationError
    from engine.evaluate import PolicyEngine
    try:
        return PolicyEngine(policy_set, as_of, engine, **kwargs)
    except EvaluationError as exc:
        raise PolicyError(str(exc)) from None


@main.command()
@click.argument("paths", nargs=-1, type=click.Path())
def lint(paths):
    """Check policy files: YAML, schema, names, types, strata. Exit 1 on errors."""
    from pathlib import Path
    from engine.policyset import lint as lint_set
    targets = [Path(p) for p in paths] or [Path(_policy_dir(None))]
    errors = 0
    shown = 0
    from engine.draft import is_draft_file, lint_drafts
    drafts = [p for p in targets if p.is_file() and is_draft_file(p)]
    targets = [p for p in targets if p not in drafts]
    for diagnostic in lint_drafts(drafts, _policy_dir(None)):   # drafts: checked against the set in force
        click.echo(str(diagnostic))
        shown += 1
        errors += diagnostic.severity == "error"
    for directory in sorted({p if p.is_dir() else p.parent for p in targets}):
        only = {str(p) for p in targets if not p.is_dir()}
        _, diagnostics = lint_set(directory)
        for diagnostic in diagnostics:
            if only and diagnostic.location.file not in only:
                continue
            click.echo(str(diagnostic))
            shown += 1
            errors += diagnostic.severity == "error"
    click.echo(f"{errors} error(s), {shown - errors} warning(s)", err=True)
    sys.exit(EXIT_FINDINGS if errors else EXIT_OK)


@main.command()
@click.argument("cadre_id", required=False)
@click.option("--all", "all_cadres", is_flag=True, help="Every cadre, one line each, and a summary.")
@click.option("--unit", "unit_id", metavar="ID", help="With --all: only cadres with a current post in this unit.")
@as_of_option
@policies_option
@engine_option
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--near", is_flag=True, help="Also show how far the cadre is from each deciding threshold.")
@click.option("--margin", type=click.IntRange(0), metavar="N",
              help="With --near: only thresholds at most N units away (votes, years, months, days).")
@click.pass_context
def check(ctx, cadre_id, all_cadres, unit_id, as_of, policies_dir, engine, fmt, near, margin):
    """Which provisions apply to a cadre on a date, what follows, and why."""
    import json
    from rich.console import Console
    from engine.checking import check_all, units_for
    from engine.report import render_text, summary_line, to_json
    if not cadre_id and not all_cadres:
        raise PolicyError("give a CADRE_ID, or --all")
    policy_set = load_policies(policies_dir)
    day = _as_of(as_of)
    evaluator = make_engine(policy_set, day, engine)
    store = open_store(ctx)
    console = Console(highlight=False, soft_wrap=True)
    with user_errors():
        units = units_for(evaluator, store)
        if not all_cadres:
            doc = store.cadre(cadre_id)
            if doc is None:
                raise PolicyError(f"unknown cadre id: {cadre_id}")
            result = evaluator.evaluate(doc, units)
            misses = None
            if near:
                from engine.near import near_misses
                misses = near_misses(evaluator, result, margin)
            if fmt == "json":
                out = to_json(result, policy_set)
                if misses is not None:
                    out["near_misses"] = [miss.as_dict() for miss in misses]
                click.echo(json.dumps(out, ensure_ascii=False, indent=2))
            else:
                render_text(result, policy_set, console)
                if misses is not None:
                    from engine.report import render_near
                    render_near(misses, console)
            return
        if unit_id is not None and unit_id not in units:
            raise PolicyError(f"unknown unit id: {unit_id}")
        unit_targets = _unit_structure(policy_set, store, day, unit_id) if unit_id else None
        from collections import Counter
        counts, eligibility, total = Counter(), Counter(), 0
        for result in check_all(evaluator, store, units, unit_id):
            total += 1
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
        if fmt == "text":
            console.print(f"\n{total} cadres on {day.isoformat()}; findings: " +
                          (", ".join(f"{code} {n}" for code, n in sorted(counts.items())) or "none") +
                          "; promotion: " + ", ".join(f"{k} {v}" for k, v in sorted(eligibility.items())))


# --- structure: team and population targets (issue 6) ----------------------------------------

def _structure_errors():
    """Structure problems the user can act on: one line, exit 2."""
    from engine.compiler import EvaluationError
    from engine.structure import StructureError
    return (EvaluationError, StructureError)


def _unit_structure(policy_set, store, day, unit_id):
    """(text suffix, JSON list) of the targets missed by the instances a unit falls in."""
    from rich.text import Text
    from engine.structure import unit_structure
    try:
        missed = unit_structure(policy_set, store, day, unit_id)
    except _structure_errors() as exc:
        raise PolicyError(str(exc)) from None
    text = Text()
    if missed:
        text.append("  班子结构: " + "; ".join(f"{r.finding} {r.label} {r.figure} (目标 {r.target})" for r in missed),
                    style="magenta")
    return text, [{"rule": r.rule.id, "finding": r.finding, "instance": r.key, "label": r.label,
                   "figure": r.figure, "target": r.target, "status": r.status} for r in missed]


@main.command()
@click.option("--region", metavar="R", help="Only the teams and targets of this region (county) or city.")
@as_of_option
@policies_option
@click.option("--format", "fmt", type=click.Choice(["text", "json", "html"]), default="text", show_default=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="Write here instead of stdout.")
@click.option("--members", "members_limit", type=click.IntRange(0), default=50, show_default=True,
              help="Members listed per team or population (0: all); counts are never limited.")
@click.pass_context
def structure(ctx, region, as_of, policies_dir, fmt, output, members_limit):
    """Team and population targets: figure, target, met or not, and the members counted."""
    import json
    from rich.console import Console
    from engine.structure import evaluate_structure
    from engine.structure.render import render_html, render_text, to_json
    policy_set = load_policies(policies_dir)
    day = _as_of(as_of)
    store = open_store(ctx)
    with user_errors():
        try:
            report = evaluate_structure(policy_set, store, day, region, members_limit=members_limit or None)
        except _structure_errors() as exc:
            raise PolicyError(str(exc)) from None
    try:
        out = open(output, "w", encoding="utf-8", newline="\n") if output else sys.stdout
    except OSError as exc:
        raise PolicyError(f"cannot write {output}: {exc.strerror or exc}") from None
    try:
        if fmt == "json":
            out.write(json.dumps(to_json(report, policy_set), ensure_ascii=False, indent=2) + "\n")
        elif fmt == "html":
            out.write(render_html(report, policy_set) + "\n")
        else:
            render_text(report, policy_set, Console(file=out, highlight=False, soft_wrap=True,
                                                    no_color=output is not None))
    finally:
        if output:
            out.close()


@main.command("test")
@click.argument("paths", nargs=-1, type=click.Path(exists=True))
@policies_option
@engine_option
@click.option("--coverage", is_flag=True, help="List the rules no case makes fire.")
def test_command(paths, policies_dir, engine, coverage):
    """Run the policy test cases (*.tests.yaml). Exit 1 when any fails."""
    from engine.testing import run_files, uncovered
    directory = _policy_dir(policies_dir)
    policy_set = load_policies(directory)
    results, problems = run_files(policy_set, paths or [directory], engine)
    for problem in problems:
        click.echo(str(problem), err=True)
    for result in results:
        if not result.passed:
            click.echo(f"FAIL {result.case.file}:{result.case.line}: {result.case.name}")
            for difference in result.differences:
                click.echo(f"    {difference}")
    passed = sum(r.passed for r in results)
    if coverage:
        for location, rule_id, provision in uncovered(policy_set, results):
            click.echo(f"UNCOVERED {location}: {rule_id} ({provision}) no case exercises it")
    click.echo(f"PASS: {passed}/{len(results)}")
    sys.exit(EXIT_OK if passed == len(results) and not problems else EXIT_FINDINGS)


@main.command()
@click.argument("rule_id")
@as_of_option
@policies_option
def show(rule_id, as_of, policies_dir):
    """A rule as a Chinese sentence, with the parameter values in force on --as-of."""
    from engine.diagnostics import suggest
    from engine.sentence import rule_sentence
    policy_set = load_policies(policies_dir)
    rule = policy_set.rule(rule_id)
    if rule is None:
        hint = suggest(rule_id, [r.id for r in policy_set.rules])
        raise PolicyError(f"unknown rule id: {rule_id}" + (f" (did you mean '{hint}'?)" if hint else ""))
    click.echo(rule_sentence(policy_set, rule, _as_of(as_of)))


@main.command()
@click.option("--draft", "draft_file", type=click.Path(dir_okay=False), metavar="FILE",
              help="A draft regulation (YAML overlay on the policy set in force).")
@click.option("--set", "sets", multiple=True, metavar="NAME=VALUE",
              help="Change a parameter in the draft, e.g. supervision.admonish_ratio=3/10 (repeatable).")
@as_of_option
@click.option("--unit", "unit_id", metavar="ID", help="Only cadres with a current post in this unit.")
@policies_option
@engine_option
@click.option("--workers", type=click.IntRange(1), help="Worker processes (default: all cores).")
@click.option("--chunk-size", type=click.IntRange(1), default=1000, show_default=True,
              help="Cadres read and evaluated per task.")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "csv", "html"]), default="text",
              show_default=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="Write here instead of stdout.")
@click.option("--limit", type=click.IntRange(0), default=200, show_default=True,
              help="Text format: changed cadres listed (json/csv/html list all).")
@click.option("--near", "near_margin", metavar="MARGIN",
              help="Also count cadres within MARGIN of a threshold (needs engine/near.py).")
@click.option("--no-shortcut", is_flag=True,
              help="Run the draft's engine for every cadre, even where it provably fires as the baseline.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
@click.pass_context
def whatif(ctx, draft_file, sets, as_of, unit_id, policies_dir, engine, workers, chunk_size, fmt, output,
           limit, near_margin, no_shortcut, quiet):
    """Compare a draft with the policy set in force over the whole population: who changes, and why."""
    from engine.whatif_cli import run_whatif_command
    run_whatif_command(ctx, draft_file=draft_file, sets=sets, as_of=as_of, unit_id=unit_id,
                       policies_dir=policies_dir, engine=engine, workers=workers, chunk_size=chunk_size,
                       fmt=fmt, output=output, limit=limit, near_margin=near_margin, quiet=quiet,
                       shortcut=not no_shortcut)


@facts.command("fields")
@policies_option
def facts_fields(policies_dir):
    """Every fact and derived quantity a rule can use, with its type."""
    from engine.catalog import Catalogue
    policy_set = load_policies(policies_dir)
    catalogue = Catalogue(policy_set.derived)
    for path, kind in catalogue.paths(include_records=True):
        title = policy_set.derived[path].title if path in policy_set.derived else ""
        click.echo(f"{path:<48} {str(kind):<40} {title}".rstrip())


if __name__ == "__main__":
    main()
