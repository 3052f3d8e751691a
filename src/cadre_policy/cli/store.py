"""`policy store`: settings an administrator makes for every user of the store (its default evaluation date)."""
from __future__ import annotations

import click

from cadre_policy.cli.common import Day, Failure, open_store
from cadre_policy.i18n import _


@click.group()
def store():
    """Settings of the store for every user: the default evaluation date."""


@store.command("set-date")
@click.argument("day", type=Day(), metavar="YYYY-MM-DD", required=False)
@click.option("--clear", is_flag=True, help="Clear the default date: pages and commands use today again.")
@click.pass_context
def set_date(ctx, day, clear):
    """Set the date pages and commands use when none is given (without a date: show it)."""
    from cadre_policy.store.settings import default_as_of, set_default_as_of
    if day is not None and clear:
        raise Failure(_("give a date or --clear, not both"))
    opened = open_store(ctx)
    if day is not None or clear:
        set_default_as_of(opened, day)
    current = default_as_of(opened)
    click.echo(_("default evaluation date of the store: {day}").format(day=current.isoformat()) if current
               else _("the store has no default evaluation date: pages and commands use today"))
