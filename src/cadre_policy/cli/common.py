"""What every command shares: exit codes, the error boundary, the store, the policy set, options."""
from __future__ import annotations

import inspect
import os
import sys
from contextlib import contextmanager
from datetime import date
from functools import cache

import click

from cadre_policy import i18n
from cadre_policy.errors import UserError
from cadre_policy.i18n import _
from cadre_policy.run.engines import ENGINES

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2


class Failure(click.ClickException):
    """A user mistake or an unusable environment: one line on stderr, exit status 2."""

    exit_code = EXIT_USAGE


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def _sigterm_interrupts() -> None:
    """SIGTERM ends a command like Ctrl-C: its clean-up runs (no spool or temporary file is left),
    where the default action would end the process on the spot."""
    import signal
    try:
        signal.signal(signal.SIGTERM, _interrupt)
    except ValueError:      # not in the main thread (an embedding program): leave signals alone
        pass


def translate_click() -> None:
    """Click's own words (Usage, Options, Error, [default: …]) through the catalogue.

    Each click module looks its words up through the ``_`` (and ``ngettext``) it imported
    from :mod:`gettext`; pointing those at :mod:`cadre_policy.i18n` translates them from
    our one catalogue, without a second gettext domain installed on the machine.
    """
    import gettext
    for name, module in list(sys.modules.items()):
        if name.startswith("click") and getattr(module, "_", None) is gettext.gettext:
            module._ = i18n.gettext
        if name.startswith("click") and getattr(module, "ngettext", None) is gettext.ngettext:
            module.ngettext = i18n.ngettext


@contextmanager
def _translated(command: click.Command, params: list):
    """The help texts of a command and its options in the current language, while formatting."""
    saved = [(command, command.help, command.short_help)] + [(p, getattr(p, "help", None), None) for p in params]
    try:
        if command.help:
            command.help = _(inspect.cleandoc(command.help))
        if command.short_help:
            command.short_help = _(command.short_help)
        for param in params:
            if getattr(param, "help", None):
                param.help = _(param.help)
        yield
    finally:
        for target, help_text, short in saved:
            target.help = help_text
            if target is command:
                command.short_help = short


class TranslatedHelp:
    """Mixin for click commands: help texts are msgids, translated when the help is shown."""

    def collect_usage_pieces(self, ctx):
        # [OPTIONS] and COMMAND [ARGS]... are click's defaults, not marked for translation
        return [i18n.gettext(piece) if piece in ("[OPTIONS]", "COMMAND [ARGS]...") else piece
                for piece in super().collect_usage_pieces(ctx)]

    def get_help(self, ctx):
        with _translated(self, self.get_params(ctx)):
            return super().get_help(ctx)

    def get_short_help_str(self, limit: int = 45) -> str:
        with _translated(self, []):
            return super().get_short_help_str(limit)

    def get_help_option(self, ctx):
        with i18n.using("en"):      # made once: its help stays the msgid, translated when shown
            return super().get_help_option(ctx)

    def add_command(self, cmd, name=None):
        super().add_command(with_translated_help(cmd), name)


@cache
def _translating(cls: type) -> type:
    return type(cls.__name__, (TranslatedHelp, cls), {"__module__": cls.__module__, "__doc__": cls.__doc__})


def with_translated_help(command: click.Command) -> click.Command:
    """The command (and, for a group, its subcommands) with help shown in the current language.

    Commands are written with plain ``@click.command()``; the root group applies this to
    every command added to it, so no command can show untranslated help.
    """
    if not isinstance(command, TranslatedHelp):
        command.__class__ = _translating(type(command))
    for sub in getattr(command, "commands", {}).values():
        with_translated_help(sub)
    return command


def choose_language(args: list[str]) -> None:
    """Set the language from ``--lang`` before click parses anything, so ``--help`` is in it too.

    Without ``--lang`` the locale decides (a previous invocation in the same process does not).
    """
    i18n.set_language(None)
    for i, arg in enumerate(args):
        if arg == "--":
            break
        value = args[i + 1] if arg == "--lang" and i + 1 < len(args) else arg[7:] if arg.startswith("--lang=") else None
        if value in i18n.LANGUAGES:
            i18n.set_language(value)


class BoundaryGroup(TranslatedHelp, click.Group):
    """A click group that is the CLI's one error boundary.

    Any :class:`UserError` raised below it (a policy file with errors, an import
    rejected, an unknown id, a bad option) prints its detail lines and one summary line
    on stderr and exits 2; a database fault becomes ``database error: …``. No traceback
    reaches the user for either.
    """

    def make_context(self, info_name, args, parent=None, **extra):
        if parent is None:
            translate_click()
            choose_language(args)
        return super().make_context(info_name, args, parent, **extra)

    def invoke(self, ctx):
        from cadre_policy.store.errors import database_fault
        _sigterm_interrupts()
        try:
            return super().invoke(ctx)
        except UserError as exc:
            # whatever the text came from (a CSV cell, a sheet's name, a file name), it cannot drive the terminal
            for line in exc.details():
                click.echo(_printable(line), err=True)
            raise Failure(_printable(str(exc))) from None
        except Exception as exc:
            fault = database_fault(exc)
            if fault is None:
                raise
            raise Failure(fault) from None


def _printable(text: str) -> str:
    """``text`` with every control character but its line breaks shown as an escape."""
    from cadre_policy.render.terminal import safe
    return "\n".join(safe(line) for line in text.split("\n"))


def open_store(ctx: click.Context, upgrade: bool = False):
    """Open the fact store named by ``--db``/``$POLICY_DB``; it is closed when the command ends.

    Bad URLs, missing drivers, unreachable servers and schema-version mismatches are
    :class:`UserError` (exit 2). ``upgrade``: an older released schema is upgraded in place.
    """
    from cadre_policy.store.fact_store import FactStore
    root = ctx.find_root()
    store = FactStore(root.obj["db_url"], upgrade=upgrade)
    root.call_on_close(store.close)
    return store


def cli_actor() -> str:
    """Who made a decision record from the command line: ``cli:`` and the operating-system login."""
    import getpass
    try:
        return "cli:" + getpass.getuser()
    except (KeyError, OSError):
        return "cli:unknown"


def binary_output(output: str | None) -> None:
    """XLSX goes to a file, or to standard output only when that is not a terminal."""
    if output is None and sys.stdout.isatty():
        raise Failure(_("XLSX is not written to a terminal; give -o FILE.xlsx"))


def policy_dir(path: str | None) -> str:
    """The policy set to use: the option, else ./policies when present, else the shipped library."""
    from cadre_policy import data
    if path:
        return path
    return "policies" if os.path.isdir("policies") else str(data.POLICIES)


def load_policies(path: str | None):
    """The checked policy set; a set with errors is a :class:`UserError` listing every diagnostic."""
    from cadre_policy.diagnostics import PolicyRejected
    from cadre_policy.load.policyset import load
    directory = policy_dir(path)
    try:
        return load(directory)
    except PolicyRejected as exc:
        raise PolicyRejected(exc.diagnostics, _("the policy set {path} has errors; run `policy lint`").format(
            path=directory)) from None


def evaluation_day(value, store=None) -> date:
    """The ``--as-of`` date; when not given, the store's default date (`policy store set-date`), else today."""
    if value:
        return value
    if store is not None:
        from cadre_policy.store.settings import default_as_of
        return default_as_of(store) or date.today()
    return date.today()


def warn_outside_force(policy_set, day: date) -> None:
    """On stderr, when no document of the set is in force on ``day``: the dates covered, and how to choose one."""
    from cadre_policy.explain.coverage import outside_force
    sentence = outside_force(policy_set, day)
    if sentence:
        click.echo(sentence + _(" Choose one of them with --as-of."), err=True)


@contextmanager
def progress_bar(enabled: bool, label: str):
    """A rich progress bar on stderr, named ``label`` (a catalogue message); yields a callback
    (done, total) or None when not enabled (stderr is not a terminal, or --quiet)."""
    if not enabled:
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
    progress = Progress(TextColumn(i18n.gettext(label)), BarColumn(), MofNCompleteColumn(),
                        TextColumn(i18n.gettext("cadres")), TimeRemainingColumn(), console=Console(file=sys.stderr),
                        transient=True)
    with progress:
        task = progress.add_task(label, total=None)

        def advance(n, total):
            progress.update(task, total=total, advance=n)
        yield advance


def make_runner(policy_set, as_of: date, engine: str, **kwargs):
    """The policy set compiled for a date on the chosen engine."""
    from cadre_policy.run.evaluate import PolicyRunner
    return PolicyRunner(policy_set, as_of, engine, **kwargs)


class Day(click.ParamType):
    """A ``YYYY-MM-DD`` option in ASCII digits, inside the range the program computes with."""

    name = "date"

    def convert(self, value, param, ctx):
        from cadre_policy.language.values import parse_date
        if isinstance(value, date):
            return value
        try:
            return parse_date(value)
        except ValueError as exc:       # the reason, in the user's language: not a date / not in the calendar / out of range
            self.fail(str(exc), param, ctx)


class Whole(click.ParamType):
    """A whole number of at least ``minimum``, in ASCII digits (``int()`` also takes '٣')."""

    name = "integer"

    def __init__(self, minimum: int = 0):
        self.minimum = minimum

    def convert(self, value, param, ctx):
        from cadre_policy.language.values import parse_whole
        if isinstance(value, int):
            return value
        try:
            number = parse_whole(value)
        except ValueError as error:
            self.fail(str(error), param, ctx)
        if number < self.minimum:
            self.fail(_("{number} is less than {minimum}").format(number=number, minimum=self.minimum), param, ctx)
        return number


policies_option = click.option("--policies", "policies_dir", metavar="DIR", envvar="POLICY_DIR",
                               help="The policy set (default: ./policies).")
as_of_option = click.option("--as-of", "as_of", type=Day(), metavar="YYYY-MM-DD",
                            help="Evaluation date (default: the store's, set by `policy store set-date`; else today).")
engine_option = click.option("--engine", type=click.Choice(list(ENGINES)),
                             help="Which engine evaluates the compiled rules (default: columnar for the whole "
                                  "population, durable for one cadre).")


output_option = click.option("--output", "-o", type=click.Path(dir_okay=False), help="Write here instead of stdout.")
