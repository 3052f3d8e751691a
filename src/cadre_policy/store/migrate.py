"""Schema migrations of the fact store, with Alembic (``store/migrations/versions``).

Each released schema version (``schema_meta.schema_version``, shown to users) is one Alembic
revision: ``RELEASES`` maps the one to the other. A store made before Alembic was used has no
``alembic_version`` table: it is stamped with the revision of its version first. A new store is
made whole from the models and stamped with the newest revision. ``policy facts upgrade`` runs
the revisions a store lacks, in one transaction where the database allows DDL in one (SQLite,
PostgreSQL; MariaDB commits each ALTER).

Alembic is imported inside the functions: it loads the DDL of every dialect (≈ 0.24 s), and
only a store being made or upgraded needs it, not every command that opens one.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from alembic.config import Config
    from sqlalchemy import Connection

#: Released schema version -> its Alembic revision.
RELEASES = {"1": "0001", "2": "0002", "3": "0003", "4": "0004", "5": "0005"}


def _config(conn: Connection) -> Config:
    from alembic.config import Config
    config = Config()
    config.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    config.attributes["connection"] = conn
    return config


def head() -> str:
    """The newest revision."""
    from alembic.script import ScriptDirectory
    return ScriptDirectory.from_config(_config(None)).get_current_head()


def current(conn: Connection) -> str | None:
    """The store's revision (None: not stamped yet)."""
    from alembic.runtime.migration import MigrationContext
    return MigrationContext.configure(conn).get_current_revision()


def stamp(conn: Connection, revision: str) -> None:
    """Record ``revision`` as the store's, running nothing."""
    from alembic import command
    command.stamp(_config(conn), revision)


def upgrade(conn: Connection) -> None:
    """Run every revision the store lacks (after stamping an unstamped store by its version)."""
    from alembic import command
    command.upgrade(_config(conn), "head")
