"""The `policy` command line: thin click commands over the pipeline's stages.

One module per command group; :mod:`cadre_policy.cli.common` holds what they share
and is the one place a :class:`~cadre_policy.errors.UserError` becomes exit status 2.
"""
import gc
from importlib import import_module

import click

from cadre_policy import i18n

from cadre_policy.cli.common import BoundaryGroup, with_translated_help

#: Each subcommand: its module under cadre_policy.cli and the click command in it.
COMMANDS = {"facts": ("facts", "facts"), "lint": ("lint", "lint"), "check": ("check", "check"),
            "eval": ("eval", "eval_command"), "structure": ("structure", "structure"),
            "test": ("policy_tests", "test_command"), "show": ("policy_tests", "show"), "whatif": ("whatif", "whatif"),
            "schema": ("editor", "schema"), "lsp": ("editor", "lsp"), "serve": ("serve", "serve"),
            "users": ("users", "users"), "records": ("records", "records"), "store": ("store", "store")}


class _Root(BoundaryGroup):
    """The `policy` group, importing a subcommand's module when the command is looked up: a command
    loads its own module, not the thirteen others' (and what they import)."""

    @property
    def commands(self) -> dict:
        for name in COMMANDS:           # the whole table: help, suggestions, whoever walks the commands
            self._load(name)
        return self._commands

    @commands.setter
    def commands(self, value: dict) -> None:
        self._commands = value

    def get_command(self, ctx, cmd_name):
        return self._load(cmd_name)

    def list_commands(self, ctx):
        return sorted(COMMANDS)

    def _load(self, name: str):
        if name not in self._commands and name in COMMANDS:
            module, attr = COMMANDS[name]
            command = getattr(import_module(f"cadre_policy.cli.{module}"), attr)
            _accept_global_options(command)
            self._commands[name] = with_translated_help(command)
        return self._commands.get(name)


@click.group(cls=_Root, context_settings={"help_option_names": ["-h", "--help"]})
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


__all__ = ["main"]
