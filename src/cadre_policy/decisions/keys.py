"""The key of the decision records' chain: kept outside the database, so rows rewritten in the
database cannot be re-chained to look whole.

Where it is (the first that applies):
1. the file named by ``$POLICY_RECORDS_KEY_FILE``;
2. a SQLite store: the file beside it, ``<database>.records-key``;
3. a PostgreSQL or MariaDB store: ``$XDG_CONFIG_HOME/cadre-policy/records-<host>-<port>-<database>.key``
   (``~/.config`` when unset) of the user that runs the server and the CLI.
The first record written makes the key (32 random bytes, hex, mode 0600). Keep a copy
with the department's paper log: without it the chain cannot be checked.
"""
from __future__ import annotations

import os
import re
import secrets
import threading
import time
from pathlib import Path

from cadre_policy.errors import UserError

ENV = "POLICY_RECORDS_KEY_FILE"
_memory: dict[str, bytes] = {}        # an in-memory SQLite store: a key for this process only
_lock = threading.Lock()


class RecordsKeyError(UserError):
    """The records key cannot be read or made."""


def key_path(url) -> Path | None:
    """Where the key of the store at SQLAlchemy ``url`` lives (None: an in-memory store)."""
    if os.environ.get(ENV):
        return Path(os.environ[ENV])
    if url.get_backend_name() == "sqlite":
        if url.database in (None, "", ":memory:"):
            return None
        return Path(url.database + ".records-key")
    base = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config") / "cadre-policy"
    name = re.sub(r"[^A-Za-z0-9_.-]", "_", f"{url.host or 'local'}-{url.port or ''}-{url.database or ''}")
    return base / f"records-{name}.key"


def records_key(url, create: bool = True) -> bytes | None:
    """The key of the store's chain; made when missing and ``create`` (else None when missing)."""
    path = key_path(url)
    with _lock:
        if path is None:
            return _memory.setdefault(str(url), secrets.token_bytes(32)) if create else _memory.get(str(url))
        for _attempt in range(50):
            try:
                text = path.read_text(encoding="ascii").strip()
            except FileNotFoundError:
                if not create:
                    return None
                _make(path)
                continue
            except OSError as exc:
                raise RecordsKeyError(f"cannot read the records key {path}: {exc.strerror}") from None
            if text:                         # another process may be writing it this instant
                try:
                    return bytes.fromhex(text)
                except ValueError:
                    raise RecordsKeyError(f"the records key {path} is not hex text") from None
            time.sleep(0.02)
        raise RecordsKeyError(f"the records key {path} stays empty")


def _make(path: Path) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return                               # another process made it first: read theirs
    except OSError as exc:
        raise RecordsKeyError(f"cannot make the records key {path}: {exc.strerror}") from None
    with os.fdopen(fd, "w", encoding="ascii") as out:
        out.write(secrets.token_hex(32) + "\n")
