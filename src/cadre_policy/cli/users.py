"""`policy users`: the workbench's accounts (add, list, remove, passwd)."""
from __future__ import annotations

import click

from cadre_policy.cli.common import open_store
from cadre_policy.i18n import _


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
    click.echo(_("added {name} ({role}; units: {units})").format(name=account.name, role=account.role,
                                                                  units=", ".join(account.units) or _("all")))


@users.command("list")
@click.pass_context
def list_users(ctx):
    """One line per user: name, role, units."""
    _store, accounts = _accounts(ctx)
    for account in accounts.list():
        click.echo(f"{account.name}\t{account.role}\t{','.join(account.units) or _('(all units)')}")


@users.command()
@click.argument("name")
@click.pass_context
def remove(ctx, name):
    """Remove a user and their API tokens (their decision records stay)."""
    _store, accounts = _accounts(ctx)
    accounts.remove(name)
    click.echo(_("removed {name}").format(name=name))


@users.command()
@click.argument("name")
@click.password_option(envvar="POLICY_PASSWORD", help="The new password (asked for when not given; or $POLICY_PASSWORD).")
@click.pass_context
def passwd(ctx, name, password):
    """Set a user's password (their sessions end)."""
    _store, accounts = _accounts(ctx)
    accounts.set_password(name, password)
    click.echo(_("password of {name} changed").format(name=name))


@users.command()
@click.argument("name")
@click.option("--role", type=click.Choice(["viewer", "author", "admin"]), required=True, help="The new role.")
@click.option("--unit", "units", multiple=True, metavar="ID",
              help="The units the user sees from now on (repeatable); not given: the units stay.")
@click.pass_context
def role(ctx, name, role, units):
    """Change a user's role (and units): it applies at their next request, in every session."""
    store, accounts = _accounts(ctx)
    account = accounts.set_role(name, role, units or None, store.units().keys())
    click.echo(_("{name}: {role}; units: {units}").format(name=account.name, role=account.role,
                                                          units=", ".join(account.units) or _("all")))


@users.command()
@click.argument("name")
@click.pass_context
def tokens(ctx, name):
    """One line per API token of a user: id, made, expires (UTC), label."""
    _store, accounts = _accounts(ctx)
    for t in accounts.tokens(name):
        expired = _(" (expired)") if t["expired"] else ""
        click.echo(f"{t['id']}\t{t['created']}\t{t['expires']}{expired}\t{t['label']}")


@users.command()
@click.argument("name")
@click.argument("token_id", type=click.IntRange(1))
@click.pass_context
def revoke(ctx, name, token_id):
    """Revoke an API token of a user (by the id `policy users tokens` shows); it stops working at once."""
    _store, accounts = _accounts(ctx)
    accounts.revoke_token(name, token_id)
    click.echo(_("token {id} of {name} revoked").format(id=token_id, name=name))


@users.command()
@click.argument("name")
@click.option("--label", default="", help="What the token is for.")
@click.pass_context
def token(ctx, name, label):
    """Make an API token for a user (printed once; only its digest is stored; it expires after 90 days)."""
    _store, accounts = _accounts(ctx)
    click.echo(accounts.new_token(name, label))
