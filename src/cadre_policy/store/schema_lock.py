"""Making tables from several processes at once: one after the other.

Two processes that open a new database together (the server and a command, two what-if
workers) both find its tables missing. PostgreSQL's DDL is transactional, but two CREATE
TABLEs of one name still collide; MariaDB commits each CREATE alone and refuses a table
another session is creating; SQLite runs a CREATE outside the transaction its driver opens
only for the INSERT after it. So whoever makes tables holds a database lock until it has
committed, and looks again when it has the lock.
"""
from __future__ import annotations

from typing import Callable

from sqlalchemy import func, select

_ADVISORY = 0x6361647266          # PostgreSQL advisory lock ids of schema making ("cadrf" + n)


def made_once(engine, name: str, n: int, make: Callable) -> None:
    """``make(conn)`` in one transaction, holding the lock ``name`` (PostgreSQL: advisory id ``n``)
    until it has committed, so whoever waited for it finds what it made."""
    dialect = engine.dialect.name
    with engine.connect() as conn:
        if dialect == "sqlite":
            conn.exec_driver_sql("BEGIN IMMEDIATE")           # the write lock, before the first CREATE
        elif dialect == "postgresql":
            conn.execute(select(func.pg_advisory_xact_lock(_ADVISORY + n)))
        else:
            conn.execute(select(func.get_lock(f"cadre_policy_{name}", 60)))
        try:
            make(conn)
            conn.commit()
        finally:
            if dialect in ("mysql", "mariadb"):              # a session's lock: released after the commit
                conn.rollback()
                conn.execute(select(func.release_lock(f"cadre_policy_{name}")))
                conn.commit()
