"""Who is asking: session cookies (HttpOnly, SameSite=Strict) with CSRF tokens, bearer API tokens, login limits."""
from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass, field

from fastapi import Request

from cadre_policy.accounts.users import Account
from cadre_policy.serve.problems import Problem

COOKIE = "policy_session"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
SESSION_SECONDS = 8 * 3600
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


@dataclass
class Session:
    account: Account
    csrf: str
    expires: float


@dataclass
class Sessions:
    """Signed-in browser sessions, in memory: a restart signs everyone out."""
    _by_id: dict = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def open(self, account: Account) -> tuple[str, Session]:
        sid = secrets.token_urlsafe(32)
        session = Session(account, secrets.token_urlsafe(32), time.time() + SESSION_SECONDS)
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

    def drop_user(self, name: str) -> None:
        """Sign a removed user out everywhere."""
        with self._lock:
            for sid in [k for k, s in self._by_id.items() if s.account.name == name]:
                del self._by_id[sid]


class LoginLimiter:
    """At most ``attempts`` failed logins per (client address, user name) in ``window`` seconds."""

    def __init__(self, attempts: int = 5, window: float = 300.0):
        self.attempts, self.window = attempts, window
        self._failures: dict[tuple, deque] = {}
        self._lock = threading.Lock()

    def _recent(self, key, now) -> deque:
        failures = self._failures.setdefault(key, deque())
        while failures and failures[0] < now - self.window:
            failures.popleft()
        return failures

    def check(self, client: str, name: str) -> None:
        """Raise 429 with Retry-After when this pair has used up its attempts."""
        now = time.time()
        with self._lock:
            failures = self._recent((client, name), now)
            if len(failures) >= self.attempts:
                wait = int(failures[0] + self.window - now) + 1
                raise Problem(429, f"登录失败次数过多，请 {wait} 秒后再试 too many failed logins; retry in {wait} s",
                              "name", headers={"Retry-After": str(wait)})

    def failed(self, client: str, name: str) -> None:
        with self._lock:
            self._recent((client, name), time.time()).append(time.time())

    def succeeded(self, client: str, name: str) -> None:
        with self._lock:
            self._failures.pop((client, name), None)


def client_of(request: Request) -> str:
    return request.client.host if request.client else "-"


def identify(request: Request) -> tuple[Account | None, Session | None, str]:
    """(account, browser session or None, channel "api" | "web") of a request, without enforcing anything."""
    state = request.app.state.workbench
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        account = state.accounts.by_token(auth[7:].strip())
        if account is None:
            raise Problem(401, "API 令牌无效 the API token is not valid", "Authorization",
                          headers={"WWW-Authenticate": "Bearer"})
        return account, None, "api"
    session = state.sessions.get(request.cookies.get(COOKIE))
    if session is None:
        return None, None, "web"
    return session.account, session, "web"


def require_csrf(request: Request, session: Session | None, form_token: str | None = None) -> None:
    """A cookie-authenticated request that changes something must carry the session's CSRF token."""
    if session is None or request.method in SAFE_METHODS:
        return
    sent = form_token if form_token is not None else request.headers.get(CSRF_HEADER, "")
    if not hmac.compare_digest(sent or "", session.csrf):
        raise Problem(403, "CSRF 令牌缺失或不符 missing or wrong CSRF token; reload the page", CSRF_HEADER,
                      kind="csrf")
