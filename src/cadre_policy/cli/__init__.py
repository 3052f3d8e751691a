"""The `policy` command line: thin click commands over the pipeline's stages.

One module per command group; :mod:`cadre_policy.cli.common` holds what they share
and is the one place a :class:`~cadre_policy.errors.UserError` becomes exit status 2.
"""
import gc

import click

from cadre_policy import i18n

from cadre_policy.cli.check import check
from cadre_policy.cli.common import BoundaryGroup
from cadre_policy.cli.editor import lsp, schema
from cadre_policy.cli.eval import eval_command
from cadre_policy.cli.facts import facts
from cadre_policy.cli.lint import lint
from cadre_policy.cli.policy_tests import show, test_command
from cadre_policy.cli.records import records
from cadre_policy.cli.serve import serve
from cadre_policy.cli.store import store
from cadre_policy.cli.structure import structure
from cadre_policy.cli.users import users
from cadre_policy.cli.whatif import whatif


@click.group(cls=BoundaryGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--db", "db_url", envvar="POLICY_DB", default="sqlite:///policy.db", show_default=True, metavar="URL",
              help="Database URL of the fact store (else $POLICY_DB).")
@click.version_option(package_name="cadre-policy", prog_name="policy", message="%(prog)s %(version)s")
@click.option("--lang", type=click.Choice(i18n.LANGUAGES), expose_value=False, is_eager=True,
              help="Language of the output: zh (Chinese, the default) or en (else from LC_ALL/LANG).")
@click.pass_context
def main(ctx, db_url):
    """Rules as code for cadre personnel policy."""
    if not gc.get_freeze_count():
        # what the imports made lives as long as the process: left to the collector, it is scanned again
        # and again (a full collection in every command, a third of `check ID`'s own CPU); once per process
        gc.freeze()
    ctx.ensure_object(dict)
    ctx.obj["db_url"] = db_url


def _db_after_subcommand(ctx, _param, value):
    if value is not None:
        ctx.find_root().obj["db_url"] = value


def _accept_global_options(command: click.Command) -> None:
    """``--db`` after the subcommand too (``policy check C0007 --db URL``), as before it."""
    command.params.append(click.Option(["--db"], metavar="URL", expose_value=False, callback=_db_after_subcommand,
                                       help="Database URL of the fact store (as `policy --db`)."))
    for sub in getattr(command, "commands", {}).values():
        _accept_global_options(sub)


for command in (facts, lint, check, eval_command, structure, test_command, show, whatif, schema, lsp, serve,
                users, records, store):
    _accept_global_options(command)
    main.add_command(command)

__all__ = ["main"]
