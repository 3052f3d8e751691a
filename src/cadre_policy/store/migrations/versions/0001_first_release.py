"""Fact-store schema version 1, the first release: the baseline every later revision builds on.

Revision ID: 0001
"""
revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Nothing: a version-1 store already has these tables (a new store is made whole and stamped)."""
