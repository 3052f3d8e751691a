"""Alembic's environment for the fact store: the connection is the store's own, passed in by
``store/migrate.py`` (no alembic.ini, no URL of its own), inside the caller's transaction."""
from alembic import context

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=None, transactional_ddl=True)
with context.begin_transaction():
    context.run_migrations()
