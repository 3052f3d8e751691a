"""Who is asking: session cookies (HttpOnly, SameSite=Strict) with CSRF tokens, bearer API tokens, login limits.

A session keeps the account's name and stamp (accounts.users.stamp), and the
account is read from the store on every request: a removed user, or one whose
password changed, is signed out at their next request; a new role or new units
apply at once.
"""
from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections import OrderedDict, deque
from dataclasses import dataclass, field

from fastapi import Request

from cadre_policy.i18n import _
from cadre_policy.accounts.users import Account
from cadre_policy.serve.problems import Problem

COOKIE = "policy_session"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
SESSION_SECONDS = 8 * 3600
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


@dataclass
class Session:
    name: str
    stamp: str
    csrf: str
    expires: float


@dataclass
class Sessions:
    """Signed-in browser sessions, in memory: a restart signs everyone out."""
    _by_id: dict = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def open(self, account: Account, stamp: str) -> tuple[str, Session]:
        sid = secrets.token_urlsafe(32)
        session = Session(account.name, stamp, secrets.token_urlsafe(32), time.time() + SESSION_SECONDS)
        with self._lock:
            now = time.time()
            for stale in [k for k, s in self._by_id.items() if s.expires < now]:
                del self._by_id[stale]
            self._by_id[sid] = session
        return sid, session

    def get(self, sid: str | None) -> Session | None:
        if not sid:
            return None
        with self._lock:
            session = self._by_id.get(sid)
            if session is not None and session.expires < time.time():
                del self._by_id[sid]
                return None
            return session

    def close(self, sid: str | None) -> None:
        with self._lock:
            self._by_id.pop(sid or "", None)

    def __len__(self) -> int:
        return len(self._by_id)


class LoginLimiter:
    """At most ``attempts`` failed logins per (client address, user name) in ``window`` seconds.

    An attempt is counted *before* the password is checked (and forgiven when it
    succeeds), so parallel guesses cannot all slip in during the slow argon2 check.
    At most ``keys`` pairs are remembered, the least recently used forgotten first,
    and names are cut to 64 characters (longer ones are never user names): the
    limiter's memory is bounded whatever is sent.
    """

    def __init__(self, attempts: int = 5, window: float = 300.0, keys: int = 10_000):
        self.attempts, self.window, self.keys = attempts, window, keys
        self._failures: OrderedDict[tuple, deque] = OrderedDict()
        self._lock = threading.Lock()

    def _recent(self, key, now) -> deque:
        failures = self._failures.get(key)
        if failures is None:
            failures = self._failures[key] = deque(maxlen=self.attempts)
            while len(self._failures) > self.keys:
                self._failures.popitem(last=False)
        self._failures.move_to_end(key)
        while failures and failures[0] < now - self.window:
            failures.popleft()
        return failures

    def attempt(self, client: str, name: str) -> float:
        """Count one attempt of this pair; raise 429 with Retry-After when it has used up its attempts.

        Returns the attempt's mark, for :meth:`succeeded`.
        """
        now = time.time()
        with self._lock:
            failures = self._recent((client, name[:64]), now)
            if len(failures) >= self.attempts:
                wait = int(failures[0] + self.window - now) + 1
                raise Problem(429, _("too many failed sign-ins; try again in {wait} s").format(wait=wait),
                              "name", headers={"Retry-After": str(wait)})
            failures.append(now)
            return now

    def succeeded(self, client: str, name: str, mark: float) -> None:
        """The attempt ``mark`` was right: forgive it (earlier failures stay counted)."""
        with self._lock:
            failures = self._failures.get((client, name[:64]))
            if failures is not None and mark in failures:
                failures.remove(mark)

    def __len__(self) -> int:
        return len(self._failures)


def client_of(request: Request) -> str:
    return request.client.host if request.client else "-"


def identify(request: Request) -> tuple[Account | None, Session | None, str]:
    """(account, browser session or None, channel "api" | "web") of a request, without enforcing anything.

    The account is read once per request (the guard in app.py asks first; the answer is kept).
    """
    known = getattr(request.state, "identity", None)
    if known is not None:
        return known
    request.state.identity = found = _identify(request)
    return found


def _identify(request: Request) -> tuple[Account | None, Session | None, str]:
    state = request.app.state.workbench
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        account = state.accounts.by_token(auth[7:].strip())
        if account is None:
            raise Problem(401, _("the API token is not valid"), "Authorization",
                          headers={"WWW-Authenticate": "Bearer"})
        return account, None, "api"
    sid = request.cookies.get(COOKIE)
    session = state.sessions.get(sid)
    if session is None:
        return None, None, "web"
    account = state.accounts.current(session.name, session.stamp)
    if account is None:                  # removed, or a new password: this session is over
        state.sessions.close(sid)
        return None, None, "web"
    request.state.account = account
    return account, session, "web"


def require_csrf(request: Request, session: Session | None, form_token: str | None = None) -> None:
    """A cookie-authenticated request that changes something must carry the session's CSRF token."""
    if session is None or request.method in SAFE_METHODS:
        return
    sent = form_token if form_token is not None else request.headers.get(CSRF_HEADER, "")
    if not hmac.compare_digest(sent or "", session.csrf):
        raise Problem(403, _("missing or wrong CSRF token; reload the page"), CSRF_HEADER,
                      kind="csrf")
