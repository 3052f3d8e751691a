"""uvicorn's HTTP/1.1 protocol (h11) with a deadline for a request's head and a pace for its body.

uvicorn closes a kept-alive connection idle for 5 s after a response, but a connection
that never sends a request, or sends its headers a byte at a time, stays open for ever:
enough of them take every file descriptor. Here a connection must have sent a whole
request head within HEAD_SECONDS of opening (or of its previous response), else it is
closed. A body, once its head has come, must keep arriving: at least BODY_BYTES in each
window of HEAD_SECONDS, else the connection is closed (a byte every few seconds would
otherwise hold a worker's upload open for ever). A request being answered is never cut.
"""
from __future__ import annotations

import os

from uvicorn.protocols.http.h11_impl import H11Protocol

#: ``POLICY_SERVE_HEAD_SECONDS`` shortens or lengthens it (a number of seconds, at least 1).
HEAD_SECONDS = 10.0
#: the least a body must bring in each window: 16 KiB in 10 s is 13 kbit/s, slower than any real link
BODY_BYTES = 16 * 1024


def head_seconds() -> float:
    """The limit in force: the environment's, when it is a number of at least 1 second."""
    try:
        return max(1.0, float(os.environ.get("POLICY_SERVE_HEAD_SECONDS", HEAD_SECONDS)))
    except ValueError:
        return HEAD_SECONDS


class BoundedH11Protocol(H11Protocol):
    _head_timer = None
    _body_timer = None
    _received = 0              # bytes read from the connection so far
    _window_start = 0          # ... when the body's current window opened

    def data_received(self, data: bytes) -> None:
        self._received += len(data)
        super().data_received(data)

    def connection_made(self, transport) -> None:
        super().connection_made(transport)
        self._arm()

    def handle_events(self) -> None:
        super().handle_events()
        if self.cycle is not None and not self.cycle.response_complete:     # a request's head has arrived
            self._disarm("_head_timer")
            if self.cycle.more_body and self._body_timer is None:
                self._window_start = self._received
                self._body_timer = self.loop.call_later(head_seconds(), self._pace)

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

    def _disarm(self, *names: str) -> None:
        for name in names or ("_head_timer", "_body_timer"):
            timer = getattr(self, name)
            if timer is not None:
                timer.cancel()
                setattr(self, name, None)

    def _late(self) -> None:
        self._head_timer = None
        if not self.transport.is_closing() and (self.cycle is None or self.cycle.response_complete):
            self.transport.close()

    def _pace(self) -> None:
        """A body still coming: closed when its last window brought too little, else watched again."""
        self._body_timer = None
        if self.transport.is_closing() or self.cycle is None or not self.cycle.more_body:
            return
        if self._received - self._window_start < BODY_BYTES:
            self.transport.close()
            return
        self._window_start = self._received
        self._body_timer = self.loop.call_later(head_seconds(), self._pace)
