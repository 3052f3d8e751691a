"""`policy facts …`: the cadre fact store (import, export, template, show, list, generate, fields)."""
from __future__ import annotations


from pathlib import Path

import click

from cadre_policy.i18n import _

from cadre_policy.cli.common import (Day, Whole, binary_output, Failure, as_of_option, evaluation_day, load_policies, open_store,
                                     output_option, policies_option)
from cadre_policy.cli.output import open_output


@click.group()
def facts():
    """The cadre fact store: import, export, template, show, list, generate, fields."""


@facts.command("import")
@click.argument("files", nargs=-1, required=True, type=click.Path())
@click.option("--reader", type=click.Choice(["calamine", "openpyxl"]), default=None,
              help="XLSX reader: calamine (the default when installed) is much faster and holds one sheet "
                   "at a time; openpyxl streams row by row (the default without calamine).")
@click.option("--cadre", "cadre_id", metavar="ID",
              help="A text file (.txt) is the 简历 of this cadre: its lines become the cadre's posts.")
@click.option("--check", is_flag=True, help="With a 简历: print every line's reading and problem; write nothing.")
@click.option("--titles", "titles_file", type=click.Path(exists=True, dir_okay=False), metavar="FILE",
              help="With a 简历: the department's title table (title -> rank, principal, leadership).")
@click.option("--resumes", is_flag=True,
              help="The file is a sheet (XLSX, CSV) of 简历: columns 干部编号 and 简历, a cadre a row.")
@click.pass_context
def facts_import(ctx, files, reader, cadre_id, check, titles_file, resumes):
    """Validate import files completely, then upsert them in one transaction.

    FILES are YAML or JSON import files, XLSX workbooks, CSV files (one per sheet, named
    by the sheet: 干部.csv, 任职.csv …) or folders of such CSV files; or one text file, the
    简历 of the cadre --cadre (--check: show how it reads, write nothing).
    """
    if any(str(f).lower().endswith(".txt") for f in files) or cadre_id or check or resumes:
        _import_resume(ctx, list(files), cadre_id, check, titles_file, resumes)
        return
    from cadre_policy.intake.sheets import import_paths, is_sheet_path
    from cadre_policy.intake.streaming import import_files
    files = list(files)
    if any(is_sheet_path(f) for f in files):
        report = import_paths(open_store(ctx), files, reader)
        result = report.result
    else:
        report, result = None, import_files(open_store(ctx), files)
    for kind, counts in (("units", result.units), ("cadres", result.cadres)):
        click.echo(_("{kind}: {added} added, {updated} updated, {unchanged} unchanged").format(
            kind=_(kind), added=counts.added, updated=counts.updated, unchanged=counts.unchanged))
    if report and report.year_month_births:
        click.echo(_("birth dates with year and month only (taken as the 1st): {n} cadres").format(
            n=report.year_month_births))
    for header, n in (report.month_only.items() if report else ()):
        click.echo(_("{field} with year and month only (taken as the 1st): {n}").format(field=header, n=n))
    if report and report.blank_rows:
        click.echo(_("blank rows skipped: {n}").format(n=report.blank_rows))


@facts.command("upgrade")
@click.pass_context
def facts_upgrade(ctx):
    """Upgrade the store's schema in place to this program's version (back it up first)."""
    from cadre_policy.store.fact_store import SCHEMA_VERSION
    store = open_store(ctx, upgrade=True)
    click.echo(_("database {url}: fact-store schema version {version}").format(url=store.url, version=SCHEMA_VERSION))


def _import_resume(ctx, files: list, cadre_id, check: bool, titles_file, resumes: bool) -> None:
    from cadre_policy.intake.resume import import_resume, import_resume_sheet, titles
    if resumes:
        if len(files) != 1 or not str(files[0]).lower().endswith((".xlsx", ".csv")) or cadre_id:
            raise Failure(_("--resumes reads one sheet (.xlsx or .csv) of 简历, without --cadre"))
        rows = import_resume_sheet(open_store(ctx), files[0], titles(titles_file), check)
        for row_cadre, cell, readings in rows:
            click.echo(f"{files[0]}:{cell}: {row_cadre}")
            _print_readings(f"    {_('line')} ", readings)
        lines = sum(len(readings) for _cadre, _cell, readings in rows)
        problems = sum(len(r.problems) for _cadre, _cell, readings in rows for r in readings)
        if check:
            click.echo(_("{lines} lines, {problems} problems; nothing written (--check)").format(
                lines=lines, problems=problems))
        else:
            click.echo(_("{n} cadres' posts written from their 简历").format(n=len(rows)))
        return
    if len(files) != 1 or not str(files[0]).lower().endswith(".txt") or not cadre_id:
        raise Failure(_("a 简历 is one text file (.txt) with --cadre ID"))
    readings = import_resume(open_store(ctx), files[0], cadre_id, titles(titles_file), check)
    _print_readings(f"{files[0]}:", readings)
    problems = sum(len(r.problems) for r in readings)
    if check:
        click.echo(_("{lines} lines, {problems} problems; nothing written (--check)").format(
            lines=len(readings), problems=problems))
    else:
        click.echo(_("{cadre}: {n} posts written from the 简历").format(cadre=cadre_id, n=len(readings)))


def _print_readings(prefix: str, readings) -> None:
    """Each line of a 简历 with its reading and its problems."""
    for r in readings:
        post = r.post or {}
        reading = (f"{r.start or '?'} ~ {r.end or _('now')}  {r.unit_name or '?'} ({r.unit or '?'})  {r.title or '?'}"
                   f"  {post.get('rank', '?')}") if r.start else ""
        click.echo(f"{prefix}{r.line}: {r.text}")
        if reading:
            click.echo(f"    {reading}")
        for problem in r.problems:
            click.echo(f"    ! {problem}")


_EXTENSION_FORMATS = {".xlsx": "xlsx", ".json": "json", ".yaml": "yaml", ".yml": "yaml"}


@facts.command("export")
@click.option("--format", "fmt", type=click.Choice(["yaml", "json", "xlsx", "csv"]),
              help="xlsx: one workbook; csv: a folder (-o) with one file per sheet. "
                   "Default: from the extension of -o (.xlsx, .json, .yaml), else yaml.")
@output_option
@click.pass_context
def facts_export(ctx, fmt, output):
    """Write the whole store in the import format, or as spreadsheets in the template's layout."""
    # `-o book.xlsx` without --format once wrote YAML into book.xlsx, which no reader opens
    fmt = fmt or _EXTENSION_FORMATS.get(Path(output or "").suffix.lower(), "yaml")
    store = open_store(ctx)
    if fmt in ("yaml", "json"):
        from cadre_policy.intake.exporter import export_store
        with open_output(output) as out:
            export_store(store, out, fmt)
        return
    from cadre_policy.intake.sheets.writer import rows, write_csv_folder, write_xlsx
    data = rows(store.units().values(), store.iter_cadre_chunks())
    if fmt == "csv":
        if output is None:
            raise Failure(_("CSV export writes a folder; give -o FOLDER"))
        write_csv_folder(output, data, lambda path: open_output(path, newline=""))
        return
    binary_output(output)
    with open_output(output, binary=True) as out:
        write_xlsx(out, data)


@facts.command("template")
@output_option
def facts_template(output):
    """Write an empty workbook to fill in: every sheet, drop-downs, date columns, a 说明 sheet."""
    from cadre_policy.intake.sheets.writer import write_xlsx
    binary_output(output)
    with open_output(output, binary=True) as out:
        write_xlsx(out, ())


@facts.command("show")
@click.argument("cadre_id")
@click.pass_context
def facts_show(ctx, cadre_id):
    """Show one cadre's record with Chinese labels."""
    from rich.console import Console
    from cadre_policy.render.facts import cadre_lines, emit
    store = open_store(ctx)
    doc = store.cadre(cadre_id)
    if doc is None:
        raise Failure(_("unknown cadre id: {id}").format(id=cadre_id))
    emit(Console(highlight=False), cadre_lines(doc, store.units()))


@facts.command("list")
@click.option("--unit", "unit_id", metavar="ID", help="Only cadres with a post in this unit on the --as-of day.")
@as_of_option
@click.pass_context
def facts_list(ctx, unit_id, as_of):
    """One line per cadre: id, name, current post, unit, rank."""
    from rich.console import Console
    from cadre_policy.render.facts import emit, list_line
    store = open_store(ctx)
    units = store.units()
    if unit_id is not None and unit_id not in units:
        raise Failure(_("unknown unit id: {id}").format(id=unit_id))
    day = evaluation_day(as_of, store)
    console = Console(highlight=False)
    for chunk in store.iter_cadre_chunks(unit=unit_id, as_of=day):
        emit(console, (list_line(doc, units, day, unit_id) for doc in chunk))


@facts.command("generate")
@click.option("--cadres", "n", type=Whole(), required=True, help="How many cadres.")
@click.option("--seed", type=int, default=0, show_default=True, help="Random seed (same seed, same data).")
@click.option("--as-of", "as_of", type=Day(), default="2017-06-30",
              show_default=True, help="No record is dated after this day.")
@click.option("--output", "-o", type=click.Path(dir_okay=False),
              help="Write the import format here (.json streamed; .yaml for small N only).")
@click.option("--load", is_flag=True, help="Bulk-load into the store at --db (ids must be new).")
@click.pass_context
def facts_generate(ctx, n, seed, as_of, output, load):
    """Generate a synthetic population; without --output or --load, JSON goes to stdout."""
    import time
    from contextlib import nullcontext
    from cadre_policy.generate.population import YAML_MAX, JsonWriter, generate, tee, write_yaml
    t0 = time.perf_counter()
    units, cadres = generate(n, seed, as_of)
    yaml_out = output is not None and output.endswith((".yaml", ".yml"))
    if yaml_out and (load or n > YAML_MAX):
        raise Failure(_("YAML output is for small populations without --load (at most {n} cadres); "
                        "use a .json file").format(n=YAML_MAX))
    to_stdout = output is None and not load
    with (open_output(output) if output or to_stdout else nullcontext(None)) as out:
        if yaml_out:
            count = write_yaml(out, units, cadres)
        else:
            writer = JsonWriter(out, units) if out else None
            stream = tee(cadres, writer.add) if writer else cadres
            count = open_store(ctx).bulk_load(units, stream) if load else sum(1 for _doc in stream)
            if writer:
                writer.close()
    secs = time.perf_counter() - t0
    where = [_("written to {path}").format(path=output)] if output else []
    where += [_("loaded into the store")] if load else []
    click.echo(_("{cadres} cadres, {units} units in {seconds:.1f} s ({rate:,.0f} cadres/s)").format(
        cadres=count, units=len(units), seconds=secs, rate=count / max(secs, 1e-9))
        + "".join(_(", ") + w for w in where), err=to_stdout)


@facts.command("fields")
@policies_option
def facts_fields(policies_dir):
    """Every fact and derived quantity a rule can use, with its type."""
    from cadre_policy.language.catalog import Catalogue
    policy_set = load_policies(policies_dir)
    catalogue = Catalogue(policy_set.derived)
    for path, kind in catalogue.paths(include_records=True):
        title = policy_set.derived[path].title if path in policy_set.derived else ""
        click.echo(f"{path:<48} {str(kind):<40} {title}".rstrip())
