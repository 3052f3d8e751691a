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


if __name__ == "__main__":
    main()
