"""The `policy` command line: thin click commands over `engine` and `facts`."""
import click

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


if __name__ == "__main__":
    main()
