"""uvicorn's HTTP/1.1 protocol (h11) with a deadline for a request's head.

uvicorn closes a kept-alive connection idle for 5 s after a response, but a connection
that never sends a request, or sends its headers a byte at a time, stays open for ever:
enough of them take every file descriptor. Here a connection must have sent a whole
request head within HEAD_SECONDS of opening (or of its previous response), else it is
closed. A request being answered is never cut.
"""
from __future__ import annotations

import os

from uvicorn.protocols.http.h11_impl import H11Protocol

#: ``POLICY_SERVE_HEAD_SECONDS`` shortens or lengthens it (a number of seconds, at least 1).
HEAD_SECONDS = 10.0


def head_seconds() -> float:
    """The limit in force: the environment's, when it is a number of at least 1 second."""
    try:
        return max(1.0, float(os.environ.get("POLICY_SERVE_HEAD_SECONDS", HEAD_SECONDS)))
    except ValueError:
        return HEAD_SECONDS


class BoundedH11Protocol(H11Protocol):
    _head_timer = None

    def connection_made(self, transport) -> None:
        super().connection_made(transport)
        self._arm()

    def handle_events(self) -> None:
        super().handle_events()
        if self.cycle is not None and not self.cycle.response_complete:     # a request's head has arrived
            self._disarm()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing() and (self.cycle is None or self.cycle.response_complete):
            self._arm()

    def connection_lost(self, exc) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        self._disarm()
        self._head_timer = self.loop.call_later(head_seconds(), self._late)

    def _disarm(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _late(self) -> None:
        self._head_timer = None
        if not self.transport.is_closing() and (self.cycle is None or self.cycle.response_complete):
            self.transport.close()
