"""A client-side read timeout for PostgreSQL.

The server's ``statement_timeout`` cannot fire when the network between program and
server stalls (a frozen proxy or firewall keeps the sockets open): libpq would wait
for the answer forever, and TCP keepalives are answered by the middlebox. So each
statement is watched from the client too: if no answer has come ``seconds`` after it
was sent (the statement timeout and the connect timeout together, so the server's own
timeout fires first whenever it can), the connection's socket is shut down, the
driver's wait ends with an error, and the command says so in one line.
"""
from __future__ import annotations

import os
import socket
import threading

from sqlalchemy import event

from cadre_policy.store.errors import StoreUnavailableError

_KEY = "cadre_policy.watchdog"


def watch(engine, seconds: float) -> None:
    """Watch every statement of a PostgreSQL (psycopg) engine."""
    event.listen(engine, "before_cursor_execute", lambda conn, *_: _start(conn, seconds))
    event.listen(engine, "after_cursor_execute", lambda conn, *_: _stop(conn))
    event.listen(engine, "handle_error", _failed)


def _start(conn, seconds: float) -> None:
    try:
        fd = conn.connection.dbapi_connection.pgconn.socket
    except Exception:                        # not psycopg, or no socket yet: nothing to watch
        return
    state = {"fired": False}
    timer = threading.Timer(seconds, _cut, (fd, state))
    timer.daemon = True
    conn.info[_KEY] = (timer, state, seconds)
    timer.start()


def _stop(conn) -> dict | None:
    found = conn.info.pop(_KEY, None)
    if found is None:
        return None
    timer, state, seconds = found
    timer.cancel()
    return dict(state, seconds=seconds)


def _cut(fd: int, state: dict) -> None:
    state["fired"] = True
    try:
        sock = socket.socket(fileno=os.dup(fd))
    except OSError:
        return
    try:
        sock.shutdown(socket.SHUT_RDWR)      # wakes the driver's wait; the connection is discarded
    except OSError:
        pass
    finally:
        sock.close()


def _failed(context) -> None:
    conn = context.connection
    state = _stop(conn) if conn is not None else None
    if state and state["fired"]:
        raise StoreUnavailableError(f"the database did not answer within {state['seconds']:g} s "
                                    "(the network to it stalled?); nothing was written") from None
