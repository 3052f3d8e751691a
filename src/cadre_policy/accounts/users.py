"""Accounts: officers and systems, their roles and units, passwords (argon2id) and API tokens.

A session holds an account's name and :func:`stamp`, never a copy of the account:
the server reads the account again on every request, so a removal or a new
password ends every session at once, and a role or unit change applies at the
next request. API tokens expire ``TOKEN_DAYS`` after they are made and can be
listed and revoked.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
import unicodedata
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, insert, select, update

from cadre_policy.errors import UserError
from cadre_policy.i18n import _
from cadre_policy.decisions.tables import ApiToken, User
from cadre_policy.decisions.store import ensure_schema

ROLES = ("viewer", "author", "admin")
ROLE_TITLES = {"viewer": "查阅", "author": "起草", "admin": "管理"}
MIN_PASSWORD = 8
TOKEN_DAYS = 90            # an API token's life; a new one is made with `policy users token`
_NAME_MARKS = "_.@-"          # besides letters (of any script, with their combining marks) and digits
_users = User.__table__
_tokens = ApiToken.__table__
_hasher = PasswordHasher()
_DUMMY = _hasher.hash("not a password of anyone")   # verified against for unknown names: same time taken


class AccountError(UserError):
    """A bad user name, role, password or unit; or an unknown user."""


@dataclass(frozen=True)
class Account:
    """A signed-in user: name, role, and the unit ids they are scoped to (empty: every unit)."""
    name: str
    role: str
    units: tuple = ()

    def may(self, role: str) -> bool:
        """Whether this account has ``role`` or a higher one."""
        return ROLES.index(self.role) >= ROLES.index(role)

    def as_dict(self) -> dict:
        return {"name": self.name, "role": self.role, "role_title": ROLE_TITLES[self.role], "units": list(self.units)}


def _account(row) -> Account:
    return Account(row.name, row.role, tuple(u for u in row.units.split(",") if u))


def stamp(row) -> str:
    """What a session is bound to: the account row's identity and password.

    A removed and re-added user has another id and creation time, a new password
    another hash: either way the old sessions no longer match.
    """
    text = f"{row.id}|{row.created.isoformat() if row.created else ''}|{row.password_hash}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None, microsecond=0)


class Accounts:
    """Users and tokens in the database of an SQLAlchemy engine."""

    def __init__(self, engine, token_days: int = TOKEN_DAYS):
        self.engine, self.token_days = engine, token_days
        ensure_schema(engine)

    def add(self, name: str, password: str, role: str, units=(), known_units=None) -> Account:
        """Create a user; ``known_units`` (the store's unit ids) rejects a unit that does not exist.

        The name is kept NFKC-normalised (full-width ＺＳ becomes ZS) and refused when it differs only in
        case from a user's (Admin beside admin): two names a reader cannot tell apart are one person."""
        name = user_name(name)
        _check_name(name)
        _check_role(role)
        _check_password(password)
        units = tuple(units)
        if known_units is not None:
            unknown = [u for u in units if u not in known_units]
            if unknown:
                raise AccountError(_("unknown unit id: {id}").format(id=", ".join(unknown)))
        with self.engine.begin() as conn:
            alike = [n for n in conn.execute(select(_users.c.name)).scalars() if n.casefold() == name.casefold()]
            if name in alike:
                raise AccountError(_("user {name} exists already").format(name=name))
            if alike:
                raise AccountError(_("user name {name} differs from the user {other} only in case or width: "
                                     "choose another").format(name=name, other=alike[0]))
            conn.execute(insert(_users), [{"name": name, "password_hash": _hasher.hash(password), "role": role,
                                           "units": ",".join(units), "created": _now()}])
        return Account(name, role, units)

    def list(self) -> list[Account]:
        with self.engine.connect() as conn:
            return [_account(r) for r in conn.execute(select(_users).order_by(_users.c.name))]

    def get(self, name: str) -> Account | None:
        name = user_name(name)
        with self.engine.connect() as conn:
            row = conn.execute(select(_users).where(_users.c.name == name)).first()
        return _account(row) if row else None

    def current(self, name: str, session_stamp: str) -> Account | None:
        """The account as it is now, if it still has the stamp a session was opened with (else None)."""
        with self.engine.connect() as conn:
            row = conn.execute(select(_users).where(_users.c.name == name)).first()
        if row is None or not hmac.compare_digest(stamp(row), session_stamp):
            return None
        return _account(row)

    def set_role(self, name: str, role: str, units=None, known_units=None) -> Account:
        """Change a user's role (and units, when given); it applies at their next request."""
        name = user_name(name)
        _check_role(role)
        values = {"role": role}
        if units is not None:
            units = tuple(units)
            unknown = [u for u in units if known_units is not None and u not in known_units]
            if unknown:
                raise AccountError(_("unknown unit id: {id}").format(id=", ".join(unknown)))
            values["units"] = ",".join(units)
        with self.engine.begin() as conn:
            if not conn.execute(update(_users).where(_users.c.name == name).values(**values)).rowcount:
                raise AccountError(_("unknown user: {name}").format(name=name))
        return self.get(name)

    def remove(self, name: str) -> None:
        """Remove a user and their tokens (their decision records stay)."""
        name = user_name(name)
        with self.engine.begin() as conn:
            row = conn.execute(select(_users.c.id).where(_users.c.name == name)).first()
            if row is None:
                raise AccountError(_("unknown user: {name}").format(name=name))
            conn.execute(delete(_tokens).where(_tokens.c.user_id == row.id))
            conn.execute(delete(_users).where(_users.c.id == row.id))

    def set_password(self, name: str, password: str) -> None:
        name = user_name(name)
        _check_password(password)
        with self.engine.begin() as conn:
            done = conn.execute(update(_users).where(_users.c.name == name)
                                .values(password_hash=_hasher.hash(password))).rowcount
        if not done:
            raise AccountError(_("unknown user: {name}").format(name=name))

    def authenticate(self, name: str, password: str) -> tuple[Account, str] | None:
        """(the account, its session stamp) when the password is right, else None (unknown names take as long)."""
        with self.engine.connect() as conn:
            row = conn.execute(select(_users).where(_users.c.name == user_name(name[:200])[:64])).first()
        try:
            _hasher.verify(row.password_hash if row else _DUMMY, password)
        except (VerificationError, InvalidHashError):
            return None
        return (_account(row), stamp(row)) if row else None

    def new_token(self, name: str, label: str = "") -> str:
        """A new API token for a user, shown once; only its SHA-256 is kept."""
        name = user_name(name)
        token = "cpt_" + secrets.token_urlsafe(32)
        with self.engine.begin() as conn:
            row = conn.execute(select(_users.c.id).where(_users.c.name == name)).first()
            if row is None:
                raise AccountError(_("unknown user: {name}").format(name=name))
            conn.execute(insert(_tokens), [{"user_id": row.id, "token_hash": _token_hash(token), "label": label[:100],
                                            "created": _now()}])
        return token

    def by_token(self, token: str) -> Account | None:
        """The account of a token that is neither revoked nor expired (else None)."""
        oldest = _now() - dt.timedelta(days=self.token_days)
        with self.engine.connect() as conn:
            row = conn.execute(select(_users).join(_tokens, _tokens.c.user_id == _users.c.id)
                               .where(_tokens.c.token_hash == _token_hash(token[:200]),
                                      _tokens.c.created > oldest)).first()
        return _account(row) if row else None

    def tokens(self, name: str) -> list[dict]:
        """A user's tokens: id, label, made, expires (UTC); never the token itself."""
        name = user_name(name)
        with self.engine.connect() as conn:
            user = conn.execute(select(_users.c.id).where(_users.c.name == name)).first()
            if user is None:
                raise AccountError(_("unknown user: {name}").format(name=name))
            rows = conn.execute(select(_tokens.c.id, _tokens.c.label, _tokens.c.created)
                                .where(_tokens.c.user_id == user.id).order_by(_tokens.c.id)).all()
        life = dt.timedelta(days=self.token_days)
        return [{"id": r.id, "label": r.label, "created": r.created.isoformat() + "Z",
                 "expires": (r.created + life).isoformat() + "Z", "expired": r.created + life <= _now()}
                for r in rows]

    def revoke_token(self, name: str, token_id: int) -> None:
        """Revoke one of a user's tokens (it stops working at once)."""
        name = user_name(name)
        with self.engine.begin() as conn:
            user = conn.execute(select(_users.c.id).where(_users.c.name == name)).first()
            done = user is not None and conn.execute(
                delete(_tokens).where(_tokens.c.id == token_id, _tokens.c.user_id == user.id)).rowcount
        if not done:
            raise AccountError(_("{name} has no token {id}").format(name=name, id=token_id))


def _token_hash(token: str) -> str:
    return "sha256:" + hashlib.sha256(token.encode("utf-8")).hexdigest()


def user_name(typed: str) -> str:
    """A user name as it is kept and looked up: NFKC-normalised (full-width letters and digits typed with a
    Chinese input method are the ASCII ones), without surrounding blanks."""
    return unicodedata.normalize("NFKC", typed or "").strip()


def _check_name(name: str) -> None:
    """1–64 letters of any script (张三, zhangsan), digits and _ . @ -; no spaces or control characters."""
    if not 1 <= len(name) <= 64 or any(
            not (unicodedata.category(c)[0] in "LM" or unicodedata.category(c) == "Nd" or c in _NAME_MARKS)
            for c in name) or unicodedata.category(name[0])[0] == "M":
        raise AccountError(_("bad user name “{name}”: 1–64 letters (Chinese or other), digits and _ . @ -, "
                             "without spaces").format(name=name))


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise AccountError(_("unknown role “{role}”: one of {roles}").format(role=role, roles=", ".join(ROLES)))


def _check_password(password: str) -> None:
    if len(password or "") < MIN_PASSWORD:
        raise AccountError(_("the password needs at least {n} characters").format(n=MIN_PASSWORD))
