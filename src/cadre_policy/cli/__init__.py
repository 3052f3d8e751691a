"""The `policy` command line: thin click commands over the pipeline's stages.

One module per command group; :mod:`cadre_policy.cli.common` holds what they share
and is the one place a :class:`~cadre_policy.errors.UserError` becomes exit status 2.
"""
import click

from cadre_policy.cli.check import check
from cadre_policy.cli.common import Group
from cadre_policy.cli.editor import lsp, schema
from cadre_policy.cli.facts import facts
from cadre_policy.cli.lint import lint
from cadre_policy.cli.policy_tests import show, test_command
from cadre_policy.cli.structure import structure
from cadre_policy.cli.whatif import whatif


@click.group(cls=Group)
@click.option("--db", "db_url", envvar="POLICY_DB", default="sqlite:///policy.db", show_default=True,
              help="Database URL of the fact store (else $POLICY_DB).")
@click.pass_context
def main(ctx, db_url):
    """Rules as code for cadre personnel policy."""
    ctx.ensure_object(dict)
    ctx.obj["db_url"] = db_url


for command in (facts, lint, check, structure, test_command, show, whatif, schema, lsp):
    main.add_command(command)

__all__ = ["main"]
