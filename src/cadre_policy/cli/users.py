"""`policy users`: the workbench's accounts (add, list, remove, passwd)."""
from __future__ import annotations

import click

from cadre_policy.cli.common import open_store


def _accounts(ctx):
    from cadre_policy.accounts.users import Accounts
    store = open_store(ctx)
    return store, Accounts(store.engine)


@click.group()
def users():
    """Workbench accounts: officers (viewer, author, admin) scoped to units."""


@users.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(["viewer", "author", "admin"]), default="viewer", show_default=True,
              help="viewer: read checks of their units; author: also drafts and what-if; admin: also users, imports.")
@click.option("--unit", "units", multiple=True, metavar="ID",
              help="A unit the user sees (with the units below it); repeatable; none: every unit.")
@click.password_option(help="The password (asked for when not given; or $POLICY_PASSWORD).",
                       envvar="POLICY_PASSWORD")
@click.pass_context
def add(ctx, name, role, units, password):
    """Add a user."""
    store, accounts = _accounts(ctx)
    account = accounts.add(name, password, role, units, store.units().keys())
    click.echo(f"added {account.name} ({account.role}; units: {', '.join(account.units) or 'all'})")


@users.command("list")
@click.pass_context
def list_users(ctx):
    """One line per user: name, role, units."""
    _, accounts = _accounts(ctx)
    for account in accounts.list():
        click.echo(f"{account.name}\t{account.role}\t{','.join(account.units) or '(all units)'}")


@users.command()
@click.argument("name")
@click.pass_context
def remove(ctx, name):
    """Remove a user and their API tokens (their decision records stay)."""
    _, accounts = _accounts(ctx)
    accounts.remove(name)
    click.echo(f"removed {name}")


@users.command()
@click.argument("name")
@click.password_option(envvar="POLICY_PASSWORD", help="The new password (asked for when not given; or $POLICY_PASSWORD).")
@click.pass_context
def passwd(ctx, name, password):
    """Set a user's password."""
    _, accounts = _accounts(ctx)
    accounts.set_password(name, password)
    click.echo(f"password of {name} changed")


@users.command()
@click.argument("name")
@click.option("--label", default="", help="What the token is for.")
@click.pass_context
def token(ctx, name, label):
    """Make an API token for a user (printed once; only its digest is stored)."""
    _, accounts = _accounts(ctx)
    click.echo(accounts.new_token(name, label))
